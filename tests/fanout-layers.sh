#!/bin/bash
# pp-fanout serving pp-encode --layers 2: each consumer gets a plain
# stream with one video stream (the top layer, or the one it asks for
# with attach --layer), the sound, and nothing a player would stumble
# on: ffprobe sees one H.264 stream of that layer's size, every frame of
# it is that size, and ffmpeg decodes it with no error.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/encode-lib.sh"
need pp-fanout pp-encode ffmpeg ffprobe python3 vlc setpriv
plan 22

S=$TEST_TMP/fan.sock
EV=$TEST_TMP/fan.events
pp-fanout serve --socket "$S" --linger 0 --status-fd 3 -- \
	pp-encode --source test --max-size 640x360 --keyint 1 --layers 2 \
	3> "$EV" 2> "$TEST_TMP/fan.log" &
track_pid $!
wait_for 10 test -S "$S" || bail "pp-fanout did not start"

# streams_of FILE: "TYPE PID [WxH]" of each stream ffprobe finds.
streams_of() {
	ffprobe -v error -show_entries stream=codec_type,id,width,height \
	    -of json "$1" | python3 -c '
import json, sys
for s in json.load(sys.stdin)["streams"]:
    size = " %dx%d" % (s["width"], s["height"]) if s["codec_type"] == "video" else ""
    print("%s %s%s;" % (s["codec_type"], s["id"], size), end="")'
}
# frame_sizes FILE: each size its decoded pictures have, with counts.
frame_sizes() {
	ffprobe -v error -select_streams v -show_entries frame=width,height \
	    -of json "$1" | python3 -c '
import collections, json, sys
n = collections.Counter("%dx%d" % (f["width"], f["height"])
    for f in json.load(sys.stdin)["frames"])
print(" ".join("%s=%d" % kv for kv in sorted(n.items())))'
}

timeout 6 pp-fanout attach --socket "$S" > "$TEST_TMP/top.ts" &
TOP=$!
sleep 1
timeout 5 pp-fanout attach --socket "$S" --layer 1 > "$TEST_TMP/low.ts" &
LOW=$!
wait $TOP $LOW

is "$(streams_of "$TEST_TMP/top.ts")" "video 0x41 640x360;audio 0x42;data 0x44;" \
	"the default consumer: one video stream, the top layer's size, the sound and the host clock"
like "$(frame_sizes "$TEST_TMP/top.ts")" '^640x360=[0-9]+$' "...every picture that size"
is "$(decode_errors "$TEST_TMP/top.ts")" "" "...and it decodes with no error"
is "$(streams_of "$TEST_TMP/low.ts")" "video 0x41 320x180;audio 0x42;data 0x44;" \
	"attach --layer 1: one video stream, half the size, on the same PID; the sound and the host clock"
sizes=$(frame_sizes "$TEST_TMP/low.ts")
like "$sizes" '^320x180=[0-9]+$' "...every picture that size ($sizes)"
ok "...at the stream's rate (at least 90 pictures in 4 s)" \
	test "${sizes#*=}" -ge 90
is "$(decode_errors "$TEST_TMP/low.ts")" "" "...and it decodes with no error"
da=$(stream_duration "$TEST_TMP/low.ts" a)
dv=$(stream_duration "$TEST_TMP/low.ts" v)
ok "...its sound as long as its pictures ($da s, $dv s)" near "${da:-0}" "${dv:-99}" 0.5
ok "a consumer-layer event for each" \
	wait_for 5 grep -qx 'consumer-layer id=2 layer=1 reason=asked' "$EV"
grep -qx 'consumer-layer id=1 layer=0 reason=start' "$EV"
ok "...the default one's reason start" test $? = 0
like "$(cat "$TEST_TMP/fan.log")" "consumer 2 starts on layer 1 of 2" "...and a log line"

# A consumer that asks later moves at the next keyframe of that layer:
# one stream, two sizes, decoded across the change with no error, and
# no picture nor sound lost or twice there.
python3 - "$S" "$TEST_TMP/moved.ts" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
out = open(sys.argv[2], 'wb')
def read_for(secs):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        s.settimeout(max(0.01, end - time.monotonic()))
        try:
            out.write(s.recv(65536))
        except socket.timeout:
            pass
read_for(2.5)
s.sendall(b"layer 1\n")
# The next keyframe is within 2 s of stream; a loaded machine makes them
# slower to come.
read_for(8)
PY
sizes=$(frame_sizes "$TEST_TMP/moved.ts")
like "$sizes" '^320x180=[0-9]+ 640x360=[0-9]+$' "asked later: the top layer's pictures, then the second's ($sizes)"
is "$(streams_of "$TEST_TMP/moved.ts")" "video 0x41 640x360;audio 0x42;data 0x44;" "...in one video stream"
is "$(decode_errors "$TEST_TMP/moved.ts")" "" "...decoded across the move with no error"
ok "...at a keyframe of the second layer, said" \
	wait_for 5 grep -qx 'consumer-layer id=3 layer=1 reason=asked' "$EV"
# Pictures every 1/30 s across the move: none lost, none twice.
gaps=$(ffprobe -v error -select_streams v -show_entries frame=pts -of csv=p=0 "$TEST_TMP/moved.ts" |
	awk 'NR > 1 && $1 != "" { d = $1 - p; if (d < 2000 || d > 4000) bad++ } $1 != "" { p = $1 } END { print bad + 0 }')
is "$gaps" 0 "...with a picture every 1/30 s across it"
is "$(cc_jumps "$TEST_TMP/moved.ts")" "" "...and the continuity counters carried on across it"

# VLC plays that stream to its end across the move: its video output
# takes the second size, and its decoder says no error.
chmod 0644 "$TEST_TMP/moved.ts"
nobody_prefix
timeout 60 "${AS_NOBODY[@]}" vlc -I dummy --vout dummy --aout dummy -vv --play-and-exit "$TEST_TMP/moved.ts" \
	< /dev/null > "$TEST_TMP/vlc.log" 2>&1
is "$?" 0 "VLC plays the moved stream to its end"
sizes=$(sed -n 's/.*main video output debug: original format .* vsz \([0-9]*x[0-9]*\),.*/\1/p' "$TEST_TMP/vlc.log" | uniq | tr '\n' ' ')
is "$sizes" "640x360 320x180 " "...showing the top layer's size, then the second's"
is "$(grep -E 'decoder error|packetizer error|corrupt' "$TEST_TMP/vlc.log")" "" "...with no decoder error"
is "$(grep 'discontinuity' "$TEST_TMP/vlc.log")" "" "...and no discontinuity seen by its demuxer"

like "$(pp-fanout serve --socket "$S" --layer 1 2>&1)" "--layer is for attach" \
	"serve --layer: a usage error"
