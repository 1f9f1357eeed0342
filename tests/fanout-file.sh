#!/bin/bash
# pp-fanout serve < talk.ts: a recording is played to its consumers at its
# own pace (its PCR), from the first join on, so viewers who attach later
# watch it live rather than finding it over; and the pp-fanout(1) example
# that shares a recording through pp-tunnel to two viewers.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/fanout-lib.sh"
. "$top_srcdir/tests/tunnel-lib.sh"
need pp-fanout pp-tunnel gst-launch-1.0 ffprobe ffmpeg
plan 12

private_xdg
cd "$TEST_TMP" || bail "no temp dir"
record_ts talk.ts 10 || bail "gst-launch cannot record a test file"

# duration FILE: its length in whole seconds, by ffprobe.
duration() {
	ffprobe -v error -show_entries format=duration -of csv=p=0 "$1" | cut -d. -f1
}

S=$TEST_TMP/talk.sock
start=$SECONDS
pp-fanout serve --socket "$S" < talk.ts 2> serve.log &
FAN=$!
track_pid $FAN
wait_for 10 test -S "$S" || bail "pp-fanout did not start"
sleep 1
ok "nobody attached after 1 s: the recording waits" alive $FAN
pp-fanout attach --socket "$S" > a.ts & A=$!
track_pid $A
sleep 3
ok "3 s after the first join the recording is still playing" alive $FAN
pp-fanout attach --socket "$S" > b.ts & B=$!
track_pid $B
wait_for 30 dead $FAN
ok "serve ends with the recording" dead $FAN
wait $FAN
is "$?" 0 "...exit 0"
took=$((SECONDS - start))
ok "...after about its 10 s, not at once (took ${took} s)" test "$took" -ge 9
wait $A $B
ok "the first consumer gets a clean start" starts_clean a.ts
ok "...and the whole recording ($(duration a.ts) s)" test "$(duration a.ts)" -ge 9
ok "the second, joining 3 s later, starts clean too" starts_clean b.ts
d=$(duration b.ts)
ok "...live: it gets the rest, not the whole (${d} s)" test "${d:-0}" -ge 3 -a "${d:-0}" -le 8

# --- pp-fanout(1) EXAMPLES: a recording to several viewers, live --------------
pp-fanout serve --socket "${XDG_RUNTIME_DIR:-/tmp}/talk.sock" < talk.ts 2> ex.log &
EX=$!
track_pid $EX
wait_for 10 test -S "${XDG_RUNTIME_DIR:-/tmp}/talk.sock" || bail "pp-fanout did not start"
tunnel_listen ex -- pp-fanout attach --socket "${XDG_RUNTIME_DIR:-/tmp}/talk.sock"
tunnel_connect v1 "$tunnel_ticket" < /dev/null &
V1=$!
sleep 2
tunnel_connect v2 "$tunnel_ticket" < /dev/null
wait $V1
ok "example: the first viewer gets the recording from its start" starts_clean v1.out
ok "...the second, two seconds later, a clean start too" starts_clean v2.out
ok "...both to the end" test "$(duration v1.out)" -ge 9 -a "$(duration v2.out)" -ge 6
