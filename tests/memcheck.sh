#!/bin/bash
# valgrind memcheck over a whole session: pp-fanout serving a live test
# stream, pp-tunnel listen running pp-fanout attach for a viewer, pp-tunnel
# connect piping into pp-bridge, and curl playing the part of the player.
# Every pp-* process runs under valgrind; each must end with no invalid
# access, no use of uninitialised memory and no leak (definitely or
# indirectly lost). tests/valgrind.supp lists the only exceptions.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/fanout-lib.sh"
need valgrind gst-launch-1.0 ffprobe curl

# Valgrind cannot run programs built with AddressSanitizer (the
# sanitizer build leaves this test out and checks the same its own way).
if ldd "$(command -v pp-fanout)" | grep -q libasan; then
	bail "a sanitizer build: valgrind cannot run it"
fi
plan 15

private_xdg
P=$TEST_TMP/producer
make_producer "$P"
S=$XDG_RUNTIME_DIR/fanout.sock
VG="valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --track-origins=yes --error-exitcode=99 --child-silent-after-fork=yes --suppressions=$top_srcdir/tests/valgrind.supp --log-file=$TEST_TMP/vg-%q{VG_NAME}-%p.log"

# The producer gets 6 s of stream, then the chain ends by itself.
VG_NAME=fanout-serve SECONDS_LEFT=6 $VG pp-fanout serve --socket "$S" \
	--no-keyframe-signal -- "$P" 2> "$TEST_TMP/serve.log" &
SERVE=$!
track_pid $SERVE
ok "pp-fanout serve is up under valgrind" wait_for 30 test -S "$S"

VG_NAME=tunnel-listen $VG pp-tunnel listen --port 0 --rendezvous none -- \
	env VG_NAME=fanout-attach $VG pp-fanout attach --socket "$S" \
	> "$TEST_TMP/ticket" 2> "$TEST_TMP/listen.log" &
LISTEN=$!
track_pid $LISTEN
ok "pp-tunnel listen prints a ticket" wait_for 30 grep -qs '^pp1' "$TEST_TMP/ticket"
T=$(head -n 1 "$TEST_TMP/ticket")

{ VG_NAME=tunnel-connect $VG pp-tunnel connect "$T" --timeout 30 \
	2> "$TEST_TMP/connect.log"; echo $? > "$TEST_TMP/connect.rc"; } |
	{ VG_NAME=bridge $VG pp-bridge --player none > "$TEST_TMP/url" \
	2> "$TEST_TMP/bridge.log"; echo $? > "$TEST_TMP/bridge.rc"; } &
VIEW=$!
track_pid $VIEW
ok "pp-bridge prints its URL" wait_for 30 test -s "$TEST_TMP/url"
timeout 60 curl -s -o "$TEST_TMP/got.ts" "$(head -n 1 "$TEST_TMP/url")"
is "$?" 0 "curl reads the stream to its end"
ok "the viewer chain ends" wait_for 60 dead "$VIEW"
is "$(cat "$TEST_TMP/connect.rc" 2>/dev/null)" 0 "pp-tunnel connect exits 0"
is "$(cat "$TEST_TMP/bridge.rc" 2>/dev/null)" 0 "pp-bridge exits 0"
like "$(ffprobe -v error -show_entries stream=codec_name -of csv=p=0 "$TEST_TMP/got.ts" 2>&1 | sort -u | grep . | tr '\n' ' ')" \
	'^aac h264 $' "what arrived is H.264 and AAC"

# The host side stays up for the next viewer: stop it as a user would.
kill -TERM $LISTEN
ok "pp-tunnel listen exits on SIGTERM" wait_for 60 dead $LISTEN
wait $LISTEN
is "$?" 0 "...with status 0"
kill -TERM $SERVE
ok "pp-fanout serve exits on SIGTERM" wait_for 60 dead $SERVE
wait $SERVE
is "$?" 0 "...with status 0"

# One log per process; valgrind's summary in each.
logs=$(ls "$TEST_TMP"/vg-*.log 2>/dev/null | sed 's/.*vg-\(.*\)-[0-9]*\.log$/\1/' | sort -u | grep . | tr '\n' ' ')
is "$logs" "bridge fanout-attach fanout-serve tunnel-connect tunnel-listen " \
	"each of the five processes ran under valgrind"
errors=$(grep -h 'ERROR SUMMARY' "$TEST_TMP"/vg-*.log | grep -v ' 0 errors' )
is "$errors" "" "no process had a memcheck error"
[ -z "$errors" ] || diag "$(grep -v '^==[0-9]*== *$' "$TEST_TMP"/vg-*.log | head -n 80)"
lost=$(grep -h -E '(definitely|indirectly) lost: [1-9]' "$TEST_TMP"/vg-*.log)
is "$lost" "" "no process leaked"
for f in "$TEST_TMP"/vg-*.log; do
	diag "$(basename "$f"): $(grep -E 'in use at exit|ERROR SUMMARY' "$f" | sed 's/^==[0-9]*== //' | tr '\n' ' ')"
done
