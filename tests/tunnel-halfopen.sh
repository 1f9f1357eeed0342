#!/bin/bash
# Anyone who can send UDP to the host cannot lock viewers out: QUIC
# Initials from forged addresses (Initial-shaped junk, and a real viewer's
# Initial replayed) from thousands of addresses and ports get a stateless
# Retry and no state, while a viewer with the ticket connects and gets the
# whole stream; a sender with one real address that answers the Retry
# holds at most 8 half-open connections. The host says so in one line per
# 10 s, and in a turned-away status event. Everything runs in the test's
# own network namespace, on its loopback.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/tunnel-lib.sh"

need_root
need ip python3
python3 -c 'import cryptography' 2> /dev/null || bail "python3-cryptography is not installed"
plan 12

NS=pphalf-$$
ip netns add "$NS" || bail "cannot make a network namespace"
at_exit "ip netns delete $NS"
at_exit 'pids=$(ip netns pids '"$NS"'); [ -n "$pids" ] && kill $pids; sleep 1'
ip netns exec "$NS" ip link set lo up
at_exit tunnel_stop_ns
flood() { ip netns exec "$NS" python3 "$top_srcdir/tests/quic-flood.py" "$@"; }

head -c 2000000 /dev/urandom > "$TEST_TMP/data"
tunnel_listen_ns "$NS" host --port 0 --max-viewers 4 --status-fd 3 \
	-- cat "$TEST_TMP/data" 3> "$TEST_TMP/events"
T=$tunnel_ticket
wait_for 10 grep -qs '^ready ' "$TEST_TMP/events" || bail "no ready event"
PORT=$(sed -n 's/^ready .*port=\([0-9]*\).*/\1/p' "$TEST_TMP/events")

# viewer NAME: a viewer with the ticket, in the namespace.
viewer() {
	ip netns exec "$NS" timeout 20 pp-tunnel connect "$T" --rendezvous none \
		< /dev/null > "$TEST_TMP/$1.out" 2> "$TEST_TMP/$1.err"
}

# A real viewer's first Initial, to replay.
flood capture "$PORT" 15 "$TEST_TMP/initial" 2> "$TEST_TMP/capture.err" &
CAPTURE=$!
track_pid $CAPTURE
sleep 0.5
viewer first
is "$?:$(sha "$TEST_TMP/first.out")" "0:$(sha "$TEST_TMP/data")" "a first viewer gets the whole stream"
wait $CAPTURE
ok "its first Initial was captured" test -s "$TEST_TMP/initial"

# Forged senders, 800 a second for 8 s, from a fresh 127.x.y.z and port
# each; before Retry, 256 of them filled the host for 10 s.
flood spoof "$PORT" 800 8 "$TEST_TMP/initial" > "$TEST_TMP/spoof.out" 2>&1 &
SPOOF=$!
track_pid $SPOOF
sleep 2
viewer during
is "$?:$(sha "$TEST_TMP/during.out")" "0:$(sha "$TEST_TMP/data")" \
	"a viewer with the ticket connects during the flood and gets the whole stream"
like "$(cat "$TEST_TMP/during.err")" '^pp-tunnel: connected to 127\.0\.0\.1:' "...on the direct path"
wait $SPOOF
read -r sent sent_bytes back back_bytes < <(sed -n \
	's/^sent \([0-9]*\) (\([0-9]*\) bytes) in .* s, \([0-9]*\) answers (\([0-9]*\) bytes)$/\1 \2 \3 \4/p' \
	"$TEST_TMP/spoof.out")
ok "the flood sent thousands of Initials ($sent)" test "${sent:-0}" -ge 3000
ok "the host answered each with one datagram at most ($back for $sent)" \
	test "${back:-9999999}" -le "$sent"
ok "...and sent back a tenth of the bytes at most ($back_bytes for $sent_bytes)" \
	test "$((${back_bytes:-9999999} * 10))" -le "${sent_bytes:-0}"
wait_for 15 grep -qs '^turned-away ' "$TEST_TMP/events"
retry=$(sed -n 's/^turned-away retry=\([0-9]*\) .*/\1/p' "$TEST_TMP/events" | head -n 1)
ok "a turned-away event counts the Retries nobody answered ($retry of $sent)" \
	test "${retry:-0}" -ge $((sent * 9 / 10)) -a "${retry:-0}" -le "$sent"
like "$(grep 'turned away' "$tunnel_log")" \
	'^pp-tunnel: turned away in the last 10 s, first datagrams from new addresses that [0-9]+ never answered the Retry \(an unproven address\)$' \
	"...and the host says so, in one line for the whole flood"

# One real address answering the Retry from 12 ports: 8 half-open at most.
flood hold "$PORT" 12 "$TEST_TMP/initial" > "$TEST_TMP/hold.out" 2>&1
like "$(cat "$TEST_TMP/hold.out")" '^admitted [1-8] of 12$' "one address holds at most 8 half-open connections"
viewer after
is "$?:$(sha "$TEST_TMP/after.out")" "0:$(sha "$TEST_TMP/data")" \
	"a viewer from another address connects while they are held"
wait_for 15 grep -qs '^turned-away .*per-address=[1-9]' "$TEST_TMP/events"
like "$(grep '^turned-away .*per-address=[1-9]' "$TEST_TMP/events")" 'per-address=[4-9] ' \
	"the host turned the others away for their address"
