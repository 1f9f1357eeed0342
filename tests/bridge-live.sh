#!/bin/bash
# mpv kept live (data/pixelpass-live.lua): pp-bridge passes the script to
# the mpv it starts and prints it in the command it suggests; leaves it
# out when it is not installed; and a real mpv (no video or audio output)
# whose stream stalls for 2 s and then comes all at once, as after a
# network stall, plays faster until it is live, then at normal speed
# again, and says so in its log. The stream: 10 s of pp-encode's test
# source, written to pp-bridge as it would come live once mpv is
# playing, but for the stall. About 25 s.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/encode-lib.sh"
need pp-bridge pp-encode mpv ffprobe python3
plan 9

private_xdg
export PULSE_SERVER="unix:$TEST_TMP/no-such-socket"
SCRIPT=$PP_DATADIR/pixelpass-live.lua
ok "the script is in the data directory the tests use" test -f "$SCRIPT"

# The command pp-bridge suggests carries the script; without it installed
# (another data directory) the option is left out, not left dangling.
echo | pp-bridge --player none > /dev/null 2> "$TEST_TMP/none.err"
like "$(cat "$TEST_TMP/none.err")" "play it with: mpv --profile=low-latency --cache=no --title=pixelpass --script=$SCRIPT http://" \
	"--player none suggests mpv with the script"
echo | PP_DATADIR=$TEST_TMP/nowhere pp-bridge --player none > /dev/null 2> "$TEST_TMP/none2.err"
like "$(cat "$TEST_TMP/none2.err")" "play it with: mpv --profile=low-latency --cache=no --title=pixelpass http://" \
	"...and without it when the script is not there"

encode_for 10 "$TEST_TMP/talk.ts" "$TEST_TMP/encode.err" -- --source test --max-size 320x240 --bitrate 500 ||
	bail "pp-encode made no stream: $(cat "$TEST_TMP/encode.err")"
dur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$TEST_TMP/talk.ts")
diag "the stream: $(stat -c %s "$TEST_TMP/talk.ts") bytes, $dur s"

# pace FILE SECS GO: FILE as a live source sends it (its bytes spread
# evenly over SECS), once the file GO exists, but for a stall: nothing
# from 3 s to 5 s, then those 2 s at once.
pace() {
	python3 - "$@" <<'PY'
import os, sys, time
data = open(sys.argv[1], "rb").read()
secs, go = float(sys.argv[2]), sys.argv[3]
for _ in range(600):
    if os.path.exists(go):
        break
    time.sleep(0.1)
rate = len(data) / secs
out = sys.stdout.buffer
sent, start = 0, time.monotonic()
while sent < len(data):
    t = time.monotonic() - start
    if 3 <= t < 5:
        time.sleep(0.02)
        continue
    due = min(len(data), int(rate * t) // 188 * 188)
    if due > sent:
        out.write(data[sent:due]); out.flush()
        sent = due
    time.sleep(0.02)
PY
}

pace "$TEST_TMP/talk.ts" "$dur" "$TEST_TMP/go" | pp-bridge --player mpv --status-fd 3 \
	--player-args "--vo=null --ao=null --msg-level=pixelpass_live=info" \
	3> "$TEST_TMP/events" > "$TEST_TMP/url" 2> "$TEST_TMP/bridge.err" &
track_pid $!
ok "pp-bridge starts mpv" wait_for 15 grep -q '^player-started ' "$TEST_TMP/events"
line=$(grep -m 1 '^player-started ' "$TEST_TMP/events")
pid=$(printf '%s\n' "$line" | sed -n 's/.* pid=\([0-9]*\).*/\1/p')
log=$(printf '%s\n' "$line" | sed -n 's/.* log=\([^ ]*\).*/\1/p')
track_pid "$pid"
like "$(tr '\0' ' ' < "/proc/$pid/cmdline")" "--script=$SCRIPT " "...with the script"
# The stream starts once mpv has asked for it, so that the stall is one
# it plays through.
wait_for 30 grep -q '^pp-bridge: client [0-9]*: playing' "$TEST_TMP/bridge.err" ||
	diag "mpv did not connect: $(tail -n 3 "$TEST_TMP/bridge.err")"
: > "$TEST_TMP/go"
ok "mpv plays to the end of the stream and quits" wait_for 30 eval "! kill -0 $pid 2> /dev/null"
behind=$(sed -n 's/^\[pixelpass_live\] \([0-9.]*\) s behind live: catching up *$/\1/p' "$log" | head -n 1)
diag "mpv's log: $(grep pixelpass_live "$log" | tr "\n" " ")"
ok "mpv fell behind in the stall and caught up (${behind:-no line} s behind)" \
	awk -v b="${behind:-0}" 'BEGIN { exit !(b >= 0.5) }'
# (mpv ends each line of a script's with a space.)
ok "...then played at normal speed again" \
	eval "sed -n '/catching up *\$/,\$p' '$log' | grep -q '^\[pixelpass_live\] live again *\$'"
is "$(grep -c '^\[pixelpass_live\]' "$log")" 2 "...and said so once each way"
