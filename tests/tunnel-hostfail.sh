#!/bin/bash
# A viewer is told when the host's capture or encoder fails: pp-fanout
# serve hands its producer's failure to its consumers (an event packet),
# pp-fanout attach exits 69 with the reason, pp-tunnel listen closes that
# viewer with QUIC_APP_HOST_FAILED and the reason, and pp-tunnel connect
# exits 69 saying it. A producer that ends well, and a host that stops,
# still end the viewer with 0.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/fanout-lib.sh"
. "$top_srcdir/tests/tunnel-lib.sh"
need pp-fanout pp-tunnel pp-encode pp-capture ffprobe
plan 17

private_xdg
cd "$TEST_TMP" || bail "no temp dir"

# host NAME PRODUCER...: pp-fanout serve with that producer, and
# pp-tunnel listen -- pp-fanout attach in front of it.
host() {
	local name=$1
	shift
	pp-fanout serve --socket "$TEST_TMP/$name.sock" -- "$@" 2> "$name-fan.log" &
	track_pid $!
	fan_pid=$!
	wait_for 10 test -S "$TEST_TMP/$name.sock" || bail "pp-fanout did not start"
	tunnel_listen "$name" -- pp-fanout attach --socket "$TEST_TMP/$name.sock"
}

# A producer that streams 2 s, then fails with a reason.
cat > failing <<'EOF2'
#!/bin/sh
timeout -s INT 2 pp-encode --source test --max-size 320x240 --bitrate 500 --fps 15
echo "fake-capture: the screen went away" >&2
exit 3
EOF2
chmod +x failing

# --- pp-fanout attach on its own ---------------------------------------------
pp-fanout serve --socket "$TEST_TMP/a.sock" -- ./failing 2> a-fan.log &
track_pid $!
wait_for 10 test -S "$TEST_TMP/a.sock" || bail "pp-fanout did not start"
timeout 60 pp-fanout attach --socket "$TEST_TMP/a.sock" > a.ts 2> a.err
is "$?" 69 "pp-fanout attach: exit 69 when the producer failed"
is "$(wc -l < a.err)" 1 "...with one line"
like "$(cat a.err)" '^pp-fanout: the producer failed: fake-capture: the screen went away \(exit 3\)$' "...giving the producer's reason"
ok "...after the stream it had ($(size a.ts) bytes)" test "$(size a.ts)" -gt 20000
like "$(ffprobe -v error -show_entries stream=codec_name -of csv=p=0 a.ts | sort -u | tr '\n' ' ')" 'h264' "...which is still a stream a player reads"

# --- through pp-tunnel -------------------------------------------------------
host fail ./failing
tunnel_connect v1 "$tunnel_ticket" < /dev/null
is "$tunnel_rc" 69 "the viewer of a host whose encoder fails exits 69"
is "$(wc -l < v1.err)" 2 "...with one line besides the one of how it connected"
like "$(tail -n 1 v1.err)" "^pp-tunnel: the host's stream failed: pp-fanout: the producer failed: fake-capture: the screen went away \(exit 3\)$" "...the host's reason"
ok "...after the stream it had" test "$(size v1.out)" -gt 20000
like "$(cat "$tunnel_log")" "the command .*failed" "the host's log says the viewer's command failed"

# A capture that cannot open its display: pp-encode says why, pp-capture
# passes its status on.
host x11 env DISPLAY=:93 pp-capture --source x11 --no-audio -- pp-encode
tunnel_connect v2 "$tunnel_ticket" < /dev/null
is "$tunnel_rc" 69 "a host whose X display cannot be opened: the viewer exits 69"
like "$(tail -n 1 v2.err)" "^pp-tunnel: the host's stream failed: pp-fanout: the producer failed: pp-encode: cannot open X display :93" "...saying so"

# --- a producer that ends well, a host that stops -----------------------------
host good sh -c 'exec timeout --preserve-status -s INT 2 pp-encode --source test --max-size 320x240 --bitrate 500 --fps 15'
tunnel_connect v3 "$tunnel_ticket" < /dev/null
is "$tunnel_rc" 0 "a producer that ends well: the viewer exits 0"
unlike "$(cat v3.err)" 'failed' "...saying nothing failed"

host stop pp-encode --source test --max-size 320x240 --bitrate 500 --fps 15
timeout 60 pp-tunnel connect "$tunnel_ticket" < /dev/null > v4.out 2> v4.err &
V4=$!
wait_for 30 grows v4.out 20000
kill -TERM "$tunnel_pid"
wait $V4
is "$?" 0 "a host that stops sharing: the viewer exits 0"
like "$(cat v4.err)" 'the host stopped sharing' "...saying so"
unlike "$(cat v4.err)" 'failed' "...not that something failed"
