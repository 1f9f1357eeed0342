#!/bin/bash
# pp-fanout with a real GStreamer producer: consumers joining at different
# times each start cleanly, the producer runs only while someone is
# attached, it is restarted after it dies, the socket is guarded.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/fanout-lib.sh"
need gst-launch-1.0 ffmpeg ffprobe
plan 42

S=$TEST_TMP/fan.sock
P=$TEST_TMP/producer
make_producer "$P"

# --- usage and a missing fanout -------------------------------------------
pp-fanout serve --socket "$S" --linger soon 2> "$TEST_TMP/err"
is "$?" 64 "a bad --linger value: exit 64"
like "$(cat "$TEST_TMP/err")" '^pp-fanout: --linger soon: invalid' "...with one line naming the option"
pp-fanout attach --socket "$S" > /dev/null 2> "$TEST_TMP/err"
is "$?" 69 "attach with nobody serving: exit 69"
like "$(cat "$TEST_TMP/err")" 'no pp-fanout is serving' "...saying so"

# --- three consumers joining at different times -----------------------------
LOG=$TEST_TMP/fan.log
pp-fanout serve --socket "$S" --linger 0 -- "$P" 2> "$LOG" &
FAN=$!
track_pid $FAN
ok "the socket appears" wait_for 10 test -S "$S"
is "$(stat -c %a "$S")" 600 "the socket is private (0600)"
sleep 0.5
is "$(producer_pids "$LOG")" "" "no producer runs before anyone attaches"

pp-fanout attach --socket "$S" > "$TEST_TMP/a.ts" & A=$!
track_pid $A
ok "consumer A gets data" wait_for 20 grows "$TEST_TMP/a.ts" 30000
PROD=$(producer_pids "$LOG")
ok "the producer runs while A is attached ($PROD)" alive "$PROD"
pp-fanout attach --socket "$S" > "$TEST_TMP/b.ts" & B=$!
track_pid $B
ok "consumer B, joining later, gets data" wait_for 20 grows "$TEST_TMP/b.ts" 30000
pp-fanout attach --socket "$S" > "$TEST_TMP/c.ts" & C=$!
track_pid $C
ok "consumer C, joining later still, gets data" wait_for 20 grows "$TEST_TMP/c.ts" 30000
kill $A $B $C
wait $A; ra=$?; wait $B; rb=$?; wait $C; rc=$?
is "$ra $rb $rc" "0 0 0" "the attach processes exit 0 on SIGTERM"
for x in a b c; do
	ok "consumer ${x^^}: PAT, PMT, a keyframe, 15 frames without a decoding error" \
		starts_clean "$TEST_TMP/$x.ts"
done
is "$(producer_pids "$LOG" | wc -l)" 1 "one producer served the three of them"
ok "the producer is stopped once the last consumer left (--linger 0)" wait_for 15 dead "$PROD"
like "$(cat "$LOG")" "the producer \\(pid $PROD\\) stopped: it (was killed by signal 15|exited with status 0)" \
	"the fanout logs how it stopped"
like "$(grep -c 'joined' "$LOG")" '^3$' "three joins logged"

# --- the socket of a live fanout is left alone ------------------------------
pp-fanout serve --socket "$S" -- "$P" 2> "$TEST_TMP/err"
is "$?" 75 "a second fanout on the same socket: exit 75"
like "$(cat "$TEST_TMP/err")" "^pp-fanout: $S: another pp-fanout is serving on this socket" "...with a clear line"
is "$(grep -c 'joined' "$LOG")" 3 "the live fanout did not see a consumer"
is "$(producer_pids "$LOG" | wc -l)" 1 "...nor start its producer"

# --- a producer that dies: its consumers are told, restarted on the next join
pp-fanout attach --socket "$S" > "$TEST_TMP/d.ts" 2> "$TEST_TMP/d.err" & D=$!
track_pid $D
ok "the live fanout still serves" wait_for 20 grows "$TEST_TMP/d.ts" 30000
PROD2=$(producer_pids "$LOG" | tail -1)
kill -KILL "$PROD2"
ok "its consumer gets EOF when the producer dies" wait_for 10 dead $D
wait $D
is "$?" 69 "...and attach exits 69: the producer failed"
like "$(cat "$TEST_TMP/d.err")" "^pp-fanout: the producer failed: .* was killed by signal 9 \\(Killed\\)$" "...saying how, in one line"
ok "the fanout logs how the producer ended" \
	wait_for 5 grep -q "the producer (pid $PROD2) ended by itself: it was killed by signal 9" "$LOG"
ok "what D got before that still starts clean" starts_clean "$TEST_TMP/d.ts"
pp-fanout attach --socket "$S" > "$TEST_TMP/e.ts" & E=$!
track_pid $E
ok "the next consumer gets data" wait_for 20 grows "$TEST_TMP/e.ts" 30000
PROD3=$(producer_pids "$LOG" | tail -1)
ok "...from a new producer ($PROD3)" test "$PROD3" != "$PROD2" -a -n "$PROD3"

# --- SIGTERM: producer stopped, socket removed, exit 0 ----------------------
kill -TERM $FAN
wait $FAN
is "$?" 0 "SIGTERM: the fanout exits 0"
ok "...having stopped the producer" wait_for 10 dead "$PROD3"
ok "...and removed its socket" test ! -e "$S"
ok "...and its consumer got EOF" wait_for 10 dead $E

# --- a stale socket is replaced; --linger keeps the producer a while --------
LOG2=$TEST_TMP/fan2.log
# A socket file nobody listens on, as a fanout killed with SIGKILL leaves.
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$S"
pp-fanout serve --socket "$S" --linger 2 -- "$P" 2> "$LOG2" &
FAN=$!
track_pid $FAN
ok "a stale socket file is replaced" wait_for 10 grep -q "replaced the stale socket" "$LOG2"
pp-fanout attach --socket "$S" > "$TEST_TMP/f.ts" & F=$!
track_pid $F
wait_for 20 grows "$TEST_TMP/f.ts" 10000
kill $F; wait $F
pp-fanout attach --socket "$S" > "$TEST_TMP/g.ts" & G=$!
track_pid $G
ok "after the stale socket, consumers are served" wait_for 20 grows "$TEST_TMP/g.ts" 10000
is "$(producer_pids "$LOG2" | wc -l)" 1 "a consumer back within --linger reuses the running producer"
PROD=$(producer_pids "$LOG2")
kill $G; wait $G
ok "the producer stops once --linger 2 has passed" wait_for 15 dead "$PROD"
like "$(cat "$LOG2")" "no consumer for 2 s: stopping the producer" "...as logged"

# --- --no-keyframe-signal: a producer that SIGUSR1 would kill ---------------
LOG3=$TEST_TMP/fan3.log
DEFAULT_USR1=1 pp-fanout serve --socket "$TEST_TMP/s3.sock" --no-keyframe-signal -- "$P" 2> "$LOG3" &
FAN3=$!
track_pid $FAN3
wait_for 10 test -S "$TEST_TMP/s3.sock"
pp-fanout attach --socket "$TEST_TMP/s3.sock" > "$TEST_TMP/i.ts" & I=$!
track_pid $I
wait_for 20 grows "$TEST_TMP/i.ts" 20000
pp-fanout attach --socket "$TEST_TMP/s3.sock" > "$TEST_TMP/j.ts" & J=$!
track_pid $J
ok "with --no-keyframe-signal, a second join leaves such a producer alone" \
	wait_for 20 grows "$TEST_TMP/j.ts" 20000
kill $I $J; wait $I $J
unlike "$(cat "$LOG3")" "ended by itself" "...it was not killed"
