#!/bin/bash
# pp-tunnel's refusals and errors: a wrong secret gets not one byte and 77;
# a damaged ticket 65 at once, also when the checksum holds but its URL is
# malformed; no host 69 naming the addresses; a rendezvous option that is
# not MQTT 64.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/tunnel-lib.sh"
need pp-tunnel ticket-test timeout
plan 24

tunnel_listen host -- echo secret stream
good=$tunnel_ticket

# The host's port is taken: a second host on it is told so.
port=$(ticket-test addrs "$good" | head -n 1 | sed 's/.*://')
pp-tunnel listen --rendezvous none --port "$port" -- cat > /dev/null 2> "$TEST_TMP/port.err"
is "$?" 75 "a port in use exits 75"
like "$(cat "$TEST_TMP/port.err")" "UDP port $port is in use" "saying the port is in use"

# A valid ticket (good checksum) with another secret.
wrong=$(ticket-test resecret "$good")
like "$wrong" '^pp1' "ticket-test made a ticket with another secret"
tunnel_connect wrong "$wrong" < /dev/null
is "$tunnel_rc" 77 "a wrong secret exits 77"
is "$(wc -c < "$TEST_TMP/wrong.out")" 0 "a wrong secret gets not one byte"
like "$(cat "$TEST_TMP/wrong.err")" "refused this ticket's secret" "and says the host refused the secret"
wait_for 5 grep -q refused "$tunnel_log"
like "$(cat "$tunnel_log")" 'viewer .* refused: it did not prove' "the host logs the refusal"

# The host goes on: the right ticket still works.
tunnel_connect good "$good" < /dev/null
is "$tunnel_rc" 0 "the right ticket works after a wrong one"
is "$(cat "$TEST_TMP/good.out")" "secret stream" "and gets the stream"

# Damaged: one character changed, one missing; before any network, so
# never the 30 s timeout (timeout 10 only bounds a hang).
last=${good: -1}
[ "$last" = a ] && other=b || other=a
timeout 10 pp-tunnel connect --timeout 30 "${good%?}$other" > "$TEST_TMP/d.out" 2> "$TEST_TMP/d.err"
is "$?" 65 "a changed character exits 65"
like "$(cat "$TEST_TMP/d.err")" '^pp-tunnel: ticket is damaged' "and says the ticket is damaged"
is "$(wc -l < "$TEST_TMP/d.err")" 1 "in one line"
timeout 10 pp-tunnel connect --timeout 30 "${good:0:20}${good:21}" 2> "$TEST_TMP/d2.err"
is "$?" 65 "a missing character exits 65"
timeout 10 pp-tunnel connect "hello" 2> /dev/null
is "$?" 65 "junk exits 65"
# A sound checksum around a URL no host could have written, one that
# would clear the terminal if it were printed.
esc=$(ticket-test url "$(printf 'mqtt://x\033[2J')" "$good")
timeout 10 pp-tunnel connect "$esc" > /dev/null 2> "$TEST_TMP/esc.err"
is "$?" 65 "a sound ticket with a malformed rendezvous URL exits 65"
is "$(cat "$TEST_TMP/esc.err")" "$(cat "$TEST_TMP/d.err")" "...as a damaged ticket, and the URL is not printed"

# No host: first a host that is stopped (SIGSTOP: its sockets stay bound
# and silent), then one that is gone (ICMP port unreachable).
kill -STOP "$tunnel_pid"
tunnel_connect nohost "$good" --timeout 2 < /dev/null
kill -CONT "$tunnel_pid"
is "$tunnel_rc" 69 "no answer within --timeout exits 69"
msg=$(cat "$TEST_TMP/nohost.err")
like "$msg" '^pp-tunnel: no answer within 2 s' "it says nothing answered"
missing=
for a in $(ticket-test addrs "$good"); do
	case $msg in *"$a"*) ;; *) missing="$missing $a" ;; esac
done
is "$missing" "" "it names every address it tried"
kill -TERM "$tunnel_pid"
wait "$tunnel_pid"
is "$?" 0 "listen exits 0 on SIGTERM"
tunnel_connect gone "$good" --timeout 5 < /dev/null
is "$tunnel_rc" 69 "a host that is gone exits 69"
like "$(cat "$TEST_TMP/gone.err")" "127\.0\.0\.1:[0-9]+" "naming the addresses"

# A rendezvous that is not MQTT is a usage error, before any network.
pp-tunnel listen --rendezvous http://broker.example -- cat 2> "$TEST_TMP/r.err" > /dev/null
is "$?" 64 "--rendezvous that is not mqtt:// or mqtts:// exits 64"
like "$(cat "$TEST_TMP/r.err")" 'not mqtt://HOST\[:PORT\], mqtts://HOST\[:PORT\] or none' "saying why"
