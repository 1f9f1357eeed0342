#!/bin/bash
# pp-publish against real servers on loopback, started here in the test's
# own directory: nginx with its RTMP module (and its HLS output), nginx's
# stream module as a TLS terminator for RTMPS, and srt-live-transmit as an
# SRT listener. What the servers received is read back with ffprobe and
# ffmpeg. One pp-encode (a small test pattern) feeds every publisher
# through pp-fanout, as the host does; then `pixelpass host --publish`
# serves nginx and a ticket viewer at once. Costs about 95 s (2 shared cores).
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/frontend-lib.sh"
. "$top_srcdir/tests/publish-lib.sh"
need pixelpass pp-tunnel pp-publish pp-fanout pp-encode nginx srt-live-transmit ffprobe ffmpeg openssl curl python3
need_nginx_modules
plan 40

private_xdg
cd "$TEST_TMP" || bail "no temp dir"

read -r RTMP HTTP TLS SRT SRT2 DEAD <<< "$(free_ports 6)"
KEY=goodkey4711
PASS=correcthorse1

# nginx-rtmp: publishing is allowed to a stream named like $KEY only (the
# on_publish check of its http server), and written out as HLS.
nginx_rtmp_block "$RTMP" "$HTTP" | nginx_rtmp_conf "$HTTP" "$KEY"

# publisher NAME ARGS...: pp-fanout attach | pp-publish ARGS through a
# FIFO, so that PUB is pp-publish's own pid and `wait` gives its status;
# its stderr in NAME.err, its events in NAME.ev.
publisher() {
	local name=$1
	shift
	mkfifo "$name.fifo"
	: > "$name.err"
	: > "$name.ev"
	pp-fanout attach --socket "$S" > "$name.fifo" 2> "$name.attach" &
	track_pid $!
	pp-publish --status-fd 3 "$@" < "$name.fifo" 3> "$name.ev" 2> "$name.err" &
	PUB=$!
	track_pid $PUB
}

# --- usage ----------------------------------------------------------------------
pp-publish < /dev/null 2> usage.err
is "$?" 64 "no URL: exit 64"
pp-publish ftp://127.0.0.1/x < /dev/null 2> scheme.err
is "$?" 69 "an ftp:// URL: exit 69"
like "$(cat scheme.err)" "^pp-publish: ftp: not a URL pp-publish sends to" "...saying which schemes it takes"
pp-publish --passphrase "$PASS" rtmp://127.0.0.1/live/x < /dev/null 2> usage2.err
is "$?" 64 "--passphrase with an RTMP URL: exit 64"

# --- stdin is read while no server is there --------------------------------------
# A few seconds of stream twice, 2 s apart, more than a pipe holds: it is all read
# and pp-publish ends at its end, although nothing ever listened.
timeout 4 pp-encode --source test --max-size 320x240 --fps 15 --bitrate 800 > rec.ts 2> rec.err
[ "$(stat -c %s rec.ts)" -gt 65536 ] || bail "4 s of pp-encode wrote $(stat -c %s rec.ts) bytes"
start=$SECONDS
{ cat rec.ts; sleep 2; cat rec.ts; } | timeout 20 pp-publish --status-fd 3 "rtmp://127.0.0.1:$DEAD/live/$KEY" 3> dead.ev 2> dead.err
is "$?" 0 "no server: the whole input read, exit 0 at its end"
ok "...in under 5 s ($((SECONDS - start)) s)" test $((SECONDS - start)) -lt 5
like "$(head -1 dead.err)" "rtmp://127\.0\.0\.1:$DEAD/live/\*\*\*: .*[Cc]onnection refused.*; retrying in 1 s" \
	"...the attempt's line says the connection was refused ($(head -1 dead.err))"

# --- one encoder for all the publishers --------------------------------------------
S=$TEST_TMP/fan.sock
pp-fanout serve --socket "$S" --linger 30 -- \
	pp-encode --source test --max-size 320x240 --fps 15 --bitrate 500 --keyint 1 2> fanout.err &
FAN=$!
track_pid $FAN
wait_for 10 test -S "$S" || bail "pp-fanout did not start"

# --- the server started late -------------------------------------------------------
publisher late "rtmp://127.0.0.1:$RTMP/live/$KEY"
LATE=$PUB
wait_for 10 grep -q '^retry in_s=1$' late.ev
ok "no server yet: a retry event" grep -q '^retry in_s=1$' late.ev
start_nginx "$RTMP"
wait_for 20 grep -q '^connected ' late.ev
like "$(grep '^connected ' late.ev)" "^connected url=rtmp://127\.0\.0\.1:$RTMP/live/\*\*\*$" \
	"nginx started late: connected after a retry, the key redacted in the event"
like "$(grep 'connected to' late.err)" "^pp-publish: connected to rtmp://127\.0\.0\.1:$RTMP/live/\*\*\*$" \
	"...and said so on stderr"

# --- what nginx serves -----------------------------------------------------------
RURL=rtmp://127.0.0.1:$RTMP/live/$KEY
is "$(served_codecs "$RURL")" "aac h264 " "RTMP played back from nginx: H.264 and AAC (FLV has no place for the host clock)"
n=$(served_frames "$RURL" 20)
is "$n" 20 "...and 20 video frames of it decode"
HURL=http://127.0.0.1:$HTTP/hls/$KEY.m3u8
wait_for 15 curl -sf -o /dev/null "$HURL"
is "$(served_codecs "$HURL")" "aac h264 " "nginx's HLS: H.264 and AAC"
n=$(served_frames "$HURL" 10)
is "$n" 10 "...and 10 video frames of it decode"

# --- a refused key ---------------------------------------------------------------
publisher bad "rtmp://127.0.0.1:$RTMP/live/wrongkey99"
BAD=$PUB
wait_for 15 grep -q 'retrying in 2 s' bad.err
like "$(head -1 bad.err)" "^pp-publish: rtmp://127\.0\.0\.1:$RTMP/live/\*\*\*: .*'publish' cmd failed: connection closed remotely.*; retrying in 1 s$" \
	"a key nginx refuses: a line saying the publish was refused, and the retry"
like "$(sed -n 2p bad.err)" "; retrying in 2 s$" "...the next one after twice the wait"
ok "...and pp-publish goes on" kill -0 "$BAD"
like "$(grep -m1 '^disconnected ' bad.ev)" "^disconnected reason=.*publish.* was_connected=0$" \
	"...a disconnected event with the reason, never connected"
ok "...while the good publisher still publishes" test "$(served_codecs "$RURL")" = "aac h264 "
kill -TERM "$BAD"

# --- RTMPS through a TLS terminator ------------------------------------------------
tls_terminator "$TLS" "$RTMP"
publisher untrusted "rtmps://127.0.0.1:$TLS/live/${KEY}tls"
wait_for 10 grep -q 'retrying' untrusted.err
like "$(head -1 untrusted.err)" "rtmps://127\.0\.0\.1:$TLS/live/\*\*\*: .*TLS certificate" \
	"rtmps to a self-signed server without --ca-file: refused for its certificate"
kill -TERM "$PUB"
publisher tls --ca-file cert.pem "rtmps://127.0.0.1:$TLS/live/${KEY}tls"
TLSPUB=$PUB
wait_for 15 grep -q '^connected ' tls.ev
ok "with --ca-file cert.pem: connected" grep -q "^connected url=rtmps://127.0.0.1:$TLS/live/\*\*\*$" tls.ev
is "$(served_codecs "rtmp://127.0.0.1:$RTMP/live/${KEY}tls")" "aac h264 " "...and nginx serves H.264 and AAC from it"
kill -TERM "$TLSPUB"

# --- the server killed mid-stream, and back ---------------------------------------
# A viewer of the same fanout, as a ticket's viewer is, meanwhile.
pp-fanout attach --socket "$S" > p2p.ts 2> p2p.err &
P2P=$!
track_pid $P2P
wait_for 10 test -s p2p.ts
kill -KILL "$NGINX"
wait "$NGINX" 2> /dev/null
wait_for 15 grep -q '^disconnected .*was_connected=1$' late.ev
ok "nginx killed: disconnected, was_connected=1" grep -q '^disconnected .*was_connected=1$' late.ev
at_kill=$(stat -c %s p2p.ts)
sleep 2
ok "...while the fanout's other viewer goes on getting the stream" test "$(stat -c %s p2p.ts)" -gt "$at_kill"
start_nginx "$RTMP"
wait_for 20 test "$(grep -c '^connected ' late.ev)" -ge 2
is "$(grep -c '^connected ' late.ev)" 2 "nginx back: connected again"
is "$(served_codecs "$RURL")" "aac h264 " "...and it serves H.264 and AAC again"
kill "$P2P"
reap "$P2P"
ok "...and that viewer's stream decodes, the outage included" decodes p2p.ts

# --- SIGTERM ---------------------------------------------------------------------
kill -TERM "$LATE"
ok "SIGTERM: pp-publish ends within 5 s" wait_gone "$LATE" 5
reap "$LATE"
is "$?" 0 "...with exit status 0"

# --- SRT, with a passphrase ----------------------------------------------------------
srt-live-transmit -q "srt://127.0.0.1:$SRT?mode=listener&passphrase=$PASS" file://con \
	> srt.ts 2> srt.err &
track_pid $!
sleep 0.5
publisher srt --passphrase "$PASS" "srt://127.0.0.1:$SRT"
SRTPUB=$PUB
wait_for 15 grep -q '^connected ' srt.ev
ok "SRT with the listener's passphrase: connected" grep -q "^connected url=srt://127.0.0.1:$SRT$" srt.ev
wait_for 15 test "$(stat -c %s srt.ts)" -gt 60000
kill -TERM "$SRTPUB"
is "$(served_codecs srt.ts)" "aac h264 klv " "...the listener received the TS as it is: H.264, AAC and pp-encode's host clock"
srt-live-transmit -q "srt://127.0.0.1:$SRT2?mode=listener&passphrase=$PASS" file://con \
	> srt2.ts 2> srt2.err &
track_pid $!
sleep 0.5
publisher srtbad --passphrase wrong-horse-2 "srt://127.0.0.1:$SRT2"
wait_for 15 grep -q 'retrying' srtbad.err
like "$(head -1 srtbad.err)" "srt://127\.0\.0\.1:$SRT2: .*Incorrect passphrase.*; retrying in 1 s" \
	"a wrong passphrase: the line says so"
is "$(stat -c %s srt2.ts)" 0 "...and the listener got nothing"
kill -TERM "$PUB"

# --- pixelpass host --publish --------------------------------------------------------
# The host serves nginx and a viewer with the ticket at once; a URL it
# cannot use ends that publish alone, in one line.
fe_host host --source test --no-audio --rendezvous none --bitrate 500 --fps 15 \
	--publish "rtmp://127.0.0.1:$RTMP/live/${KEY}host" --publish ftp://127.0.0.1/x
wait_for 20 grep -q 'publishing to' host.log
like "$(grep 'publishing to' host.log)" "^pixelpass: publishing to rtmp://127\.0\.0\.1:$RTMP/live/\*\*\*$" \
	"pixelpass host --publish URL: says it publishes, the key redacted"
is "$(served_codecs "rtmp://127.0.0.1:$RTMP/live/${KEY}host")" "h264 " "...nginx serves the host's stream"
timeout 5 pp-tunnel connect "$fe_ticket" > viewer.ts 2> viewer.err
ok "...while a viewer with the ticket gets it too" decodes viewer.ts
like "$(grep 'not publishing' host.log)" "^pixelpass: not publishing \(status 69\): ftp: not a URL pp-publish sends to" \
	"--publish ftp://...: one line, exit 69 of that publish"
ok "...and the host goes on" kill -0 "$fe_pid"
fe_stop "$fe_pid"
is "$fe_rc" 0 "the host stopped by SIGTERM: exit 0"

# --- secrets ------------------------------------------------------------------------
sleep 0.5
unlike "$(cat ./*.err ./*.ev host.log)" "$KEY|$PASS|wrongkey99|wrong-horse-2" \
	"no stream key and no passphrase in any message or event"
