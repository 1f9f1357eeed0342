#!/bin/bash
# --status-fd of pp-tunnel listen and connect, on loopback with no
# rendezvous: each event in its documented form, with the facts the human
# lines also give (the port, the viewer, the bytes), and the fd check.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/tunnel-lib.sh"
need pp-tunnel ticket-test timeout head
plan 18

head -c 300000 /dev/urandom > "$TEST_TMP/f"
EV=$TEST_TMP/host.events

# The host: ready once the ticket is out, with the ticket and the port.
tunnel_listen host --max-viewers 1 --status-fd 3 -- sh -c 'cat "$0"; cat > /dev/null' "$TEST_TMP/f" 3> "$EV"
port=$(ticket-test addrs "$tunnel_ticket" | head -n 1 | sed 's/.*://')
ok "listen: ready, with the ticket it printed and its port" wait_for 5 grep -qx "ready ticket=$tunnel_ticket port=$port" "$EV"

# A viewer that stays (its stdin a FIFO held open) until we let it go.
mkfifo "$TEST_TMP/in1"
pp-tunnel connect "$tunnel_ticket" --status-fd 4 < "$TEST_TMP/in1" > "$TEST_TMP/v1.out" \
	2> "$TEST_TMP/v1.err" 4> "$TEST_TMP/v1.events" &
v1=$!
track_pid "$v1"
exec 5> "$TEST_TMP/in1"
ok "connect: connected" wait_for 10 grep -q '^connected ' "$TEST_TMP/v1.events"
like "$(cat "$TEST_TMP/v1.events")" '^connected path=direct addr=(127\.0\.0\.1|\[::1\]|[0-9.]+|\[[0-9a-f:]+\]):[0-9]+ family=IPv[46] rtt_ms=[0-9]+\.[0-9] via=direct$' \
	"...with the path, address, family, RTT and how"
addr=$(sed -n 's/^connected .*addr=\([^ ]*\) .*/\1/p' "$TEST_TMP/v1.events")
like "$(cat "$TEST_TMP/v1.err")" "^pp-tunnel: connected to $addr " "...the address the human line names"
ok "listen: viewer-arrived" wait_for 10 grep -q '^viewer-arrived ' "$EV"
A=$(grep '^viewer-arrived ' "$EV")
like "$A" '^viewer-arrived id=[^ ]+ addr=[^ ]+:[0-9]+ path=direct family=IPv[46] rtt_ms=[0-9]+\.[0-9] via=direct$' \
	"...with its id, address, path, family, RTT and how"
id=$(sed -n 's/^viewer-arrived id=\([^ ]*\) .*/\1/p' <<< "$A")
like "$(cat "$tunnel_log")" "viewer $id arrived" "...the id the host's log names"

# The host is full: the second viewer is refused, and both sides say so.
tunnel_connect full "$tunnel_ticket" --status-fd 3 < /dev/null 3> "$TEST_TMP/full.events"
is "$tunnel_rc" 75 "a viewer of a full host exits 75"
is "$(cat "$TEST_TMP/full.events")" "ended status=75 reason=full" "...connect: ended status=75 reason=full"
ok "listen: viewer-refused reason=full" wait_for 5 grep -Eqx 'viewer-refused id=[^ ]+ reason=full' "$EV"

# The first viewer leaves: viewer-left with what went each way.
exec 5>&-
wait "$v1"
is "$?" 0 "the first viewer exits 0"
is "$(grep -v '^connected ' "$TEST_TMP/v1.events")" "ended status=0 reason=done" "...connect: ended status=0 reason=done"
ok "listen: viewer-left" wait_for 10 grep -q "^viewer-left id=$id " "$EV"
like "$(grep '^viewer-left ' "$EV")" "^viewer-left id=$id reason=left bytes=300000 received=0 seconds=[0-9]+\\.[0-9]\$" \
	"...with its reason, the bytes sent and received, and how long"

# A wrong secret: refused on both sides, in words a program can match.
wrong=$(ticket-test resecret "$tunnel_ticket")
tunnel_connect wrong "$wrong" --status-fd 3 < /dev/null 3> "$TEST_TMP/wrong.events"
is "$(cat "$TEST_TMP/wrong.events")" "ended status=77 reason=refused" "a wrong secret: ended status=77 reason=refused"
ok "listen: viewer-refused reason=secret" wait_for 5 grep -Eqx 'viewer-refused id=[^ ]+ reason=secret' "$EV"

# Nobody there: connect ends with its reason (no rendezvous to try).
kill -TERM "$tunnel_pid"
wait "$tunnel_pid"
tunnel_connect gone "$tunnel_ticket" --rendezvous none --timeout 2 --status-fd 3 < /dev/null 3> "$TEST_TMP/gone.events"
like "$(cat "$TEST_TMP/gone.events")" '^ended status=69 reason=(no-host|timeout)$' "a host that is gone: ended status=69, and why"

# The fd must be open.
pp-tunnel connect "$tunnel_ticket" --status-fd 9 < /dev/null 2> "$TEST_TMP/bad.err"
is "$?" 64 "--status-fd of a closed fd: exit 64"
