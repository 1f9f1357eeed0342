#!/bin/bash
# A viewer that holds the ticket but sends junk up the stream: the host
# ignores it and keeps serving the others; what pixelpass writes is
# private (the fanout's socket, the ticket file), even under a permissive
# umask; and the secret appears in no log, even verbose ones.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/fanout-lib.sh"
need gst-launch-1.0 ffprobe python3
plan 11

private_xdg
umask 022
P=$TEST_TMP/producer
make_producer "$P"
S=$XDG_RUNTIME_DIR/fanout.sock
export PP_VERBOSE=1

KBPS=2000 pp-fanout serve --socket "$S" -- "$P" 2> "$TEST_TMP/serve.log" &
SERVE=$!
track_pid $SERVE
ok "pp-fanout serve is up" wait_for 10 test -S "$S"
is "$(stat -c %a "$S")" 600 "its socket is private (0600) under umask 022"

pp-tunnel listen --port 0 --rendezvous none --ticket-file "$TEST_TMP/ticket" \
	-- pp-fanout attach --socket "$S" > /dev/null 2> "$TEST_TMP/listen.log" &
LISTEN=$!
track_pid $LISTEN
ok "pp-tunnel listen writes the ticket file" wait_for 10 grep -qs '^pp1' "$TEST_TMP/ticket"
is "$(stat -c %a "$TEST_TMP/ticket")" 600 "the ticket file is private (0600) under umask 022"
T=$(head -n 1 "$TEST_TMP/ticket")

# 20 MB of junk up the stream, while another viewer watches.
head -c 20000000 /dev/urandom |
	timeout 15 pp-tunnel connect "$T" > "$TEST_TMP/junk.ts" 2> "$TEST_TMP/junk.err" &
JUNK=$!
track_pid $JUNK
timeout 30 pp-tunnel connect "$T" < /dev/null 2> "$TEST_TMP/good.err" |
	head -c 1000000 > "$TEST_TMP/good.ts"
is "$(size "$TEST_TMP/good.ts")" 1000000 "a viewer beside the junk sender gets 1 MB of stream"
like "$(ffprobe -v error -show_entries stream=codec_name -of csv=p=0 "$TEST_TMP/good.ts" 2>&1 | sort -u | grep . | tr '\n' ' ')" \
	'^aac h264 $' "...H.264 and AAC"
wait $JUNK
ok "the junk sender got the stream as well" grep -q . "$TEST_TMP/junk.ts"
ok "the host's processes are still up" kill -0 $LISTEN $SERVE
like "$(cat "$TEST_TMP/listen.log")" 'left after .*received ([0-9.]+ MB|[0-9]{3}\.[0-9] kB)' \
	"the host took the junk (and dropped it)"

# The secret: the ticket's first 16 bytes, as hex and as the ticket's
# own base32 (its first 25 characters after the prefix).
hex=$(python3 -c 'import base64,sys; t=sys.argv[1][3:].upper(); print(base64.b32decode(t + "=" * (-len(t) % 8))[:16].hex())' "$T")
b32=${T:3:25}
logs=$(cat "$TEST_TMP"/*.log "$TEST_TMP"/*.err)
unlike "$logs" "$hex|$b32" "no log holds the secret, in hex or base32"
unlike "$logs" "$T" "no log holds the ticket"
