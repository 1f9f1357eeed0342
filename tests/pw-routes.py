#!/usr/bin/env python3
"""pw-routes.py: reads pw-dump's JSON on stdin and prints, for every
audio output stream, "APP -> SINK" (the node.name it is linked to), and
"node NAME" for every pixelpass_* node, sorted."""
import json
import sys

# pw-dump may print more than one array when the graph changes while it
# runs: later entries update earlier ones, null info means removed.
text, pos, objs = sys.stdin.read(), 0, {}
dec = json.JSONDecoder()
while True:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    if pos >= len(text):
        break
    arr, pos = dec.raw_decode(text, pos)
    for o in arr:
        if o.get("info") is None and o.get("type") is None:
            objs.pop(o.get("id"), None)
        else:
            objs[o["id"]] = o
objs = list(objs.values())
nodes = {o["id"]: o for o in objs if o.get("type") == "PipeWire:Interface:Node"}
def props(o):
    return (o.get("info") or {}).get("props") or {}
out, seen = [], set()
for o in objs:
    if o.get("type") != "PipeWire:Interface:Link":
        continue
    i = o.get("info") or {}
    src, dst = nodes.get(i.get("output-node-id")), nodes.get(i.get("input-node-id"))
    if not src or not dst or props(src).get("media.class") != "Stream/Output/Audio":
        continue
    # One line per stream and sink, not per channel.
    if (src["id"], dst["id"]) not in seen:
        seen.add((src["id"], dst["id"]))
        out.append("%s -> %s" % (props(src).get("application.name"), props(dst).get("node.name")))
for o in nodes.values():
    name = props(o).get("node.name", "")
    if name.startswith("pixelpass_"):
        out.append("node " + name)
print("\n".join(sorted(out)))
