#!/bin/bash
# How pp-encode stops when the stream cannot be finished: a reader that
# keeps the pipe open but reads nothing more is not an error (exit 0 and a
# note, within the 5 s deadline); a second signal stops at once.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/encode-lib.sh"
need pp-encode
plan 6

# ends PID: waits for PID to end (bounded against hangs: 15 s); its status
# in $rc, 255 when it did not end.
ends() {
	rc=255
	wait_gone "$1" 15 || return 1
	wait "$1"
	rc=$?
}

# The reader: this shell holds the FIFO open and never reads from it.
mkfifo "$TEST_TMP/fifo"
exec 8<>"$TEST_TMP/fifo"
pp-encode --source test --no-audio --max-size 320x180 >"$TEST_TMP/fifo" \
    2>"$TEST_TMP/stall.err" &
pid=$!
track_pid $pid
wait_for 60 grep -q '^pp-encode: source' "$TEST_TMP/stall.err" ||
    bail "pp-encode did not start: $(tail -n 3 "$TEST_TMP/stall.err")"
sleep 2	# far more than the pipe holds
kill -TERM $pid
ok "a stalled reader: SIGTERM still ends pp-encode" ends $pid
is "$rc" 0 "exit 0: nobody misses the end of the stream"
like "$(tail -n 1 "$TEST_TMP/stall.err")" '^pp-encode: the reader stopped reading, so the stream could not be finished; stopped$' \
    "it says why the stream is unfinished"
exec 8<&-

# A second signal does not wait for the stream to finish.
exec 8<>"$TEST_TMP/fifo"
pp-encode --source test --no-audio --max-size 320x180 >"$TEST_TMP/fifo" \
    2>"$TEST_TMP/twice.err" &
pid=$!
track_pid $pid
wait_for 60 grep -q '^pp-encode: source' "$TEST_TMP/twice.err" ||
    bail "pp-encode did not start: $(tail -n 3 "$TEST_TMP/twice.err")"
sleep 2
kill -TERM $pid
sleep 0.5
kill -TERM $pid
ok "a second SIGTERM ends it" ends $pid
is "$rc" 0 "exit 0"
like "$(cat "$TEST_TMP/twice.err")" 'stopping without finishing the stream' "saying so"
exec 8<&-
