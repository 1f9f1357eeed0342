#!/bin/bash
# A media server that stops reading (nginx-rtmp stopped with SIGSTOP, on
# loopback, in the test's own directory) is skipped forward by pp-fanout
# like any slow viewer, or dropped by pp-publish when its connection
# times out: pp-publish's memory stays bounded, a viewer of
# the same fanout keeps getting the whole stream, and when the server
# reads again it serves the stream again. It runs in a network namespace
# of its own whose TCP buffers are at most 128 kB, so that a stopped
# server holds a fraction of a second of the stream, not the seconds that
# loopback's autotuned buffers take (the time to the skip varied from 13 s
# to over 30 s with them). Costs about 20 s.
. "$top_srcdir/tests/libtest.sh"
if [ -z "${PP_SLOW_NETNS:-}" ]; then
	need_root
	NS=pp-pubslow-$$
	ip netns add "$NS" || bail "cannot make a network namespace"
	at_exit "ip netns delete $NS"
	ip -n "$NS" link set lo up &&
		ip netns exec "$NS" sysctl -q -w net.ipv4.tcp_rmem="4096 65536 131072" \
		net.ipv4.tcp_wmem="4096 65536 131072" || bail "cannot set the namespace's TCP buffers"
	ip netns exec "$NS" env PP_SLOW_NETNS=1 "$BASH" "$0"
	exit
fi
. "$top_srcdir/tests/fanout-lib.sh"
. "$top_srcdir/tests/publish-lib.sh"
need pp-publish pp-fanout nginx gst-launch-1.0 ffprobe ffmpeg curl python3
need_nginx_modules
plan 7

cd "$TEST_TMP" || bail "no temp dir"
read -r RTMP HTTP <<< "$(free_ports 2)"
KEY=slowkey42
nginx_rtmp_block "$RTMP" "$HTTP" | nginx_rtmp_conf "$HTTP" "$KEY"
start_nginx "$RTMP"
URL=rtmp://127.0.0.1:$RTMP/live/$KEY

# Noise at 4 Mbit/s: the stopped server's socket buffers fill in seconds.
S=$TEST_TMP/fan.sock
make_producer producer
PATTERN=snow KBPS=4000 pp-fanout serve --socket "$S" --linger 0 -- ./producer 2> fan.log &
track_pid $!
wait_for 10 test -S "$S" || bail "pp-fanout did not start"
mkfifo pub.fifo
pp-fanout attach --socket "$S" > pub.fifo 2> pub.attach &
track_pid $!
pp-publish --status-fd 3 "$URL" < pub.fifo 3> pub.ev 2> pub.err &
PUB=$!
track_pid $PUB
wait_for 20 grep -q '^connected ' pub.ev || bail "pp-publish did not connect: $(cat pub.err)"
pp-fanout attach --socket "$S" > viewer.ts 2> viewer.err &
VIEWER=$!
track_pid $VIEWER
wait_for 10 grows viewer.ts 100000 || bail "the viewer got nothing"

kill -STOP "$NGINX"
at_stop=$(size viewer.ts)
t0=$SECONDS
# Whichever comes first: the fanout skips the publisher that stopped
# reading, or the publisher's RTMP connection times out (rtmp2sink), and
# it reads and drops its input while it connects again.
held_up() {
	grep -q "consumer 1 is [0-9]* ms behind: skipped to the latest keyframe" fan.log ||
		grep -q '^disconnected .*was_connected=1' pub.ev
}
ok "the stopped server: pp-fanout skips pp-publish forward, or pp-publish drops the connection" \
	wait_for 40 held_up
diag "$(grep -m 1 'skipped to the latest keyframe' fan.log) $(grep -m 1 '^disconnected' pub.ev)"
rss=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$PUB/status")
sleep 3
rss2=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$PUB/status")
diag "pp-publish's RSS: $rss kB when first skipped, $rss2 kB 3 s later; $((SECONDS - t0)) s stopped"
ok "...while pp-publish holds what it could not send in bounded memory (RSS $rss2 kB, under 100 MB)" \
	test "$rss2" -lt 100000
got=$(( $(size viewer.ts) - at_stop ))
# 4 Mbit/s for the seconds the server was stopped, with room for the
# encoder's rate control.
ok "...and the other viewer kept getting the stream ($got bytes in $((SECONDS - t0)) s)" \
	test "$got" -ge $(( (SECONDS - t0) * 4000000 / 8 * 6 / 10 ))
like "$(grep -c 'consumer 2 is\|consumer 2 left' fan.log)" '^0$' "...never skipped itself"

kill -CONT "$NGINX"
# A client reading it from nginx now gets pictures that decode.
served() { [ "$(served_codecs "$URL")" = "aac h264 " ]; }
ok "the server reads again: it serves H.264 and AAC from pp-publish again" wait_for 30 served
ok "...pp-publish still running" kill -0 "$PUB"
kill "$VIEWER"
reap "$VIEWER"
ok "...and the viewer's stream decodes from its start" starts_clean viewer.ts
