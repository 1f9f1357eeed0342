#!/bin/bash
# A consumer that stops reading is skipped forward, then dropped, while
# another keeps getting every byte the producer writes; and the fanout
# serving its standard input hands on the stream byte for byte.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/fanout-lib.sh"
need gst-launch-1.0 ffmpeg ffprobe python3
plan 11

S=$TEST_TMP/fan.sock
P=$TEST_TMP/producer
LOG=$TEST_TMP/fan.log
make_producer "$P"

# Noise does not compress: the stream really runs at about 2 Mbit/s, so
# the stopped consumer's socket buffer fills within a second or so.
COPY=$TEST_TMP/produced.ts PATTERN=snow KBPS=2000 \
	pp-fanout serve --socket "$S" --linger 0 --drop-after 4 -- "$P" 2> "$LOG" &
FAN=$!
track_pid $FAN
wait_for 10 test -S "$S" || bail "pp-fanout did not start"

pp-fanout attach --socket "$S" > "$TEST_TMP/fast.ts" & FAST=$!
track_pid $FAST
wait_for 20 grows "$TEST_TMP/fast.ts" 50000 || bail "no data"
pp-fanout attach --socket "$S" > "$TEST_TMP/slow.ts" & SLOW=$!
track_pid $SLOW
wait_for 20 grows "$TEST_TMP/slow.ts" 50000 || bail "no data for the second consumer"
kill -STOP $SLOW
ok "the stopped consumer is skipped forward to a keyframe" \
	wait_for 30 grep -q "consumer 2 is [0-9]* ms behind: skipped to the latest keyframe" "$LOG"
ok "and dropped when it stays behind for --drop-after 4 s" \
	wait_for 30 grep -q "consumer 2 left: stayed behind for more than 4000 ms ([1-9][0-9]* skips)" "$LOG"
like "$(grep -c 'consumer 1 left\|consumer 1 is' "$LOG")" '^0$' "the reading consumer was neither skipped nor dropped"
kill -CONT $SLOW
ok "the dropped consumer sees EOF once it reads again" wait_for 10 dead $SLOW
wait $SLOW
is "$?" 0 "...and its attach exits 0"
sleep 1
kill $FAST; wait $FAST
ok "the producer stops with the last consumer" wait_for 10 grep -q "stopped: it" "$LOG"

# The reading consumer got one unbroken piece of what the producer wrote:
# after the PAT and PMT it was given first, a byte-exact substring of the
# producer's output, as long as what the producer wrote meanwhile.
read -r off got produced < <(python3 - "$TEST_TMP/fast.ts" "$TEST_TMP/produced.ts" <<'EOF'
import sys
got = open(sys.argv[1], 'rb').read()[376:]
prod = open(sys.argv[2], 'rb').read()
off = prod.find(got[:188 * 8])
same = off >= 0 and prod[off:off + len(got)] == got
print(off if same else -1, len(got), len(prod) - max(off, 0))
EOF
)
diag "fast consumer: $got bytes, from offset $off of the producer's output; the producer wrote $produced bytes from there"
ok "the reading consumer got an unbroken, byte-exact run of the stream" test "$off" -ge 0
ok "...at the producer's rate (at least 80% of what it wrote meanwhile)" \
	test $((got * 100)) -ge $((produced * 80))
ok "...and it decodes from its start" starts_clean "$TEST_TMP/fast.ts"

# --- serving stdin: the stream goes through unchanged ----------------------
record_ts "$TEST_TMP/rec.ts" 1 || bail "cannot record a stream"
mkfifo "$TEST_TMP/in"
pp-fanout serve --socket "$TEST_TMP/s2.sock" < "$TEST_TMP/in" 2> "$TEST_TMP/fan2.log" &
FAN2=$!
track_pid $FAN2
exec 7> "$TEST_TMP/in"	# the fanout's stdin stays open until we close it
wait_for 10 test -S "$TEST_TMP/s2.sock"
pp-fanout attach --socket "$TEST_TMP/s2.sock" > "$TEST_TMP/h.ts" 7>&- & H=$!
track_pid $H
wait_for 10 grep -q joined "$TEST_TMP/fan2.log"
cat "$TEST_TMP/rec.ts" >&7
exec 7>&-
wait $H
wait $FAN2
is "$?" 0 "at the end of its stdin the fanout serves what is left and exits 0"
ok "a consumer of stdin gets the recording byte for byte" cmp "$TEST_TMP/rec.ts" "$TEST_TMP/h.ts"
