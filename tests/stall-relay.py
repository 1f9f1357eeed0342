#!/usr/bin/env python3
"""stall-relay.py AFTER PAUSE: copies stdin to stdout, but from AFTER
seconds on holds what it reads for PAUSE seconds, then passes it all on
at once: a network stall and the burst that ends it."""
import os
import sys
import time

after, pause = float(sys.argv[1]), float(sys.argv[2])
start = time.monotonic()
held = []
stalled = False
while True:
    data = os.read(0, 65536)
    if not data:
        break
    now = time.monotonic() - start
    if after <= now < after + pause:
        if not stalled:
            print("stall-relay: holding", file=sys.stderr, flush=True)
            stalled = True
        held.append(data)
        continue
    if held:
        print("stall-relay: burst of %d bytes" % sum(map(len, held)),
              file=sys.stderr, flush=True)
        os.write(1, b"".join(held))
        held = []
    os.write(1, data)
if held:
    os.write(1, b"".join(held))
