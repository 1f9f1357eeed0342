#!/bin/bash
# --status-fd of pp-fanout serve and pp-bridge: the event lines a frontend
# reads instead of the human messages, each in its documented form, and
# the fd checks.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/fanout-lib.sh"
need pp-fanout pp-bridge gst-launch-1.0 mpv
plan 19

private_xdg
P=$TEST_TMP/producer
make_producer "$P"
S=$TEST_TMP/fan.sock
EV=$TEST_TMP/fanout.events

# unescape VALUE: a value as the events write it, decoded.
unescape() { printf '%b' "${1//%/\\x}"; }

pp-fanout serve --socket "$S" --status-fd 3 -- "$P" 3> "$EV" 2> "$TEST_TMP/fanout.log" &
track_pid $!
ok "pp-fanout: ready, once the socket takes consumers" wait_for 10 grep -qx "ready socket=$S" "$EV"
timeout 3 pp-fanout attach --socket "$S" > "$TEST_TMP/a.ts" 2> /dev/null
ok "consumer-joined, with its number and the count" wait_for 5 grep -qx 'consumer-joined id=1 attached=1' "$EV"
like "$(grep '^producer-started' "$EV")" '^producer-started pid=[0-9]+$' "producer-started, with the producer's pid"
PID=$(sed -n 's/^producer-started pid=//p' "$EV")
like "$(cat "$TEST_TMP/fanout.log")" "started the producer $P \\(pid $PID\\)" "...the pid the log names"
ok "consumer-left, with its reason, bytes and skips" wait_for 5 grep -Eq '^consumer-left id=1 reason=[^ ]+ bytes=[1-9][0-9]* skips=0$' "$EV"
ok "producer-exited: stopped by the fanout, status and an empty reason" \
	wait_for 10 grep -Eqx "producer-exited pid=$PID status=[0-9]+ stopped=yes reason=" "$EV"
like "$(unescape "$(sed -n 's/^consumer-left .*reason=\([^ ]*\) .*/\1/p' "$EV")")" ' ' "a reason with spaces is escaped, and decodes"

# A producer that fails: its reason, escaped.
printf '#!/bin/sh\necho "pp-encode: no such encoder" >&2\nexit 3\n' > "$TEST_TMP/fail"
chmod +x "$TEST_TMP/fail"
rm -f "$S"
pp-fanout serve --socket "$S" --status-fd 5 -- "$TEST_TMP/fail" 5> "$TEST_TMP/fail.events" 2> /dev/null &
track_pid $!
wait_for 10 test -S "$S"
timeout 5 pp-fanout attach --socket "$S" > /dev/null 2>&1
ok "a failed producer: producer-exited with its status and stopped=no" wait_for 5 grep -q '^producer-exited pid=[0-9]* status=3 stopped=no reason=' "$TEST_TMP/fail.events"
R=$(sed -n 's/^producer-exited .*reason=\([^ ]*\)$/\1/p' "$TEST_TMP/fail.events")
like "$(unescape "$R")" '^pp-encode: no such encoder' "...and the line its consumers were told"

# Input that leaves consumers with nothing is said, once: a producer that
# sends nothing, and one whose bytes are not MPEG-TS (no keyframe).
printf '#!/bin/sh\nexec sleep 30\n' > "$TEST_TMP/mute"
printf '#!/bin/sh\nfor i in $(seq 150); do head -c 20000 /dev/urandom; sleep 0.2; done\n' > "$TEST_TMP/noise"
chmod +x "$TEST_TMP/mute" "$TEST_TMP/noise"
for k in mute noise; do
	pp-fanout serve --socket "$TEST_TMP/$k.sock" --status-fd 3 -- "$TEST_TMP/$k" \
		3> "$TEST_TMP/$k.events" 2> "$TEST_TMP/$k.log" &
	track_pid $!
	wait_for 10 test -S "$TEST_TMP/$k.sock"
	timeout 25 pp-fanout attach --socket "$TEST_TMP/$k.sock" > /dev/null 2>&1 &
done
ok "a producer that sends nothing: said after 10 s" wait_for 20 grep -q 'the producer has sent nothing for 10 s' "$TEST_TMP/mute.log"
is "$(grep -c '^input-stalled seconds=10$' "$TEST_TMP/mute.events")" 1 "...and as one input-stalled event"
ok "bytes that are not MPEG-TS: said, with what came" wait_for 20 grep -Eq 'the producer has sent no keyframe for 10 s \([0-9]+ bytes, [0-9]+ whole packets\): new consumers cannot start' "$TEST_TMP/noise.log"
is "$(grep -c '^input-no-keyframe seconds=10$' "$TEST_TMP/noise.events")" 1 "...and as one input-no-keyframe event"
sleep 2
is "$(grep -c 'sent nothing\|no keyframe' "$TEST_TMP/mute.log" "$TEST_TMP/noise.log" | awk -F: '{ n += $2 } END { print n }')" 2 "each said once, not every second"

# pp-bridge: ready with the URL, player-started with the pid and the log.
SECONDS_LEFT=4 "$P" 2> /dev/null | pp-bridge --player mpv --player-args "--vo=null --ao=null" --status-fd 4 \
	4> "$TEST_TMP/bridge.events" > "$TEST_TMP/url" 2> "$TEST_TMP/bridge.log" &
BR=$!
track_pid $BR
ok "pp-bridge: ready url=, the URL it printed" wait_for 10 eval 'grep -qx "ready url=$(head -n 1 "$TEST_TMP/url")" "$TEST_TMP/bridge.events"'
ok "player-started, with the player, its pid and its log" wait_for 10 grep -Eq '^player-started player=mpv pid=[0-9]+ log=/' "$TEST_TMP/bridge.events"
MPV=$(sed -n 's/^player-started player=mpv pid=\([0-9]*\) .*/\1/p' "$TEST_TMP/bridge.events")
at_exit "kill $MPV 2> /dev/null"
is "$(cat "/proc/$MPV/comm" 2> /dev/null)" mpv "...the pid of mpv"

# The fd must be there, and not one of the standard three.
pp-fanout serve --socket "$TEST_TMP/x.sock" --status-fd 9 < /dev/null 2> "$TEST_TMP/bad.err"
is "$?" 64 "--status-fd of a closed fd: exit 64"
like "$(cat "$TEST_TMP/bad.err")" '^pp-fanout: --status-fd 9: not an open file descriptor' "...saying so"
wait $BR
