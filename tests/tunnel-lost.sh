#!/bin/bash
# pp-tunnel when a side vanishes: a viewer killed mid-stream (the host's
# CMD gets EOF, the host serves the next viewer); a host killed mid-stream
# (the viewer exits 69); a stuck reader (memory stays bounded).
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/tunnel-lib.sh"
need pp-tunnel head timeout
plan 9

# Short idle timeouts, so that a vanished peer is noticed within seconds.
export PP_TUNNEL_IDLE_TIMEOUT=3

tunnel_listen host -- sh -c "cat > /dev/null; echo done >> '$TEST_TMP/marker'"
pp-tunnel connect "$tunnel_ticket" < /dev/zero > /dev/null 2> "$TEST_TMP/v1.err" &
v1=$!
track_pid "$v1"
wait_for 10 grep -q arrived "$tunnel_log"
sleep 1
kill -KILL "$v1"
ok "the host's CMD got EOF after the viewer was killed" wait_for 20 test -s "$TEST_TMP/marker"
like "$(cat "$tunnel_log")" 'viewer .* vanished: no packet for 3 s' "the host says the viewer vanished"
tunnel_connect v2 "$tunnel_ticket" < /dev/null
is "$tunnel_rc" 0 "the host serves the next viewer"
wait_for 10 test "$(wc -l < "$TEST_TMP/marker")" -eq 2
is "$(wc -l < "$TEST_TMP/marker")" 2 "whose CMD ran to its end too"

# A viewer that does not read: its stdout is a FIFO nobody reads. Both
# sides' memory stays bounded by the flow-control windows and the send
# buffer (a few MB), though the host's CMD has endless data.
tunnel_listen host2 -- cat /dev/zero
mkfifo "$TEST_TMP/stuck"
exec 7<> "$TEST_TMP/stuck"
pp-tunnel connect "$tunnel_ticket" < /dev/null > "$TEST_TMP/stuck" 2> "$TEST_TMP/v3.err" &
v3=$!
track_pid "$v3"
wait_for 10 grep -q arrived "$tunnel_log"
sleep 3
rss() { awk '/^VmRSS/ { print int($2 / 1024) }' "/proc/$1/status"; }
hr=$(rss "$tunnel_pid")
vr=$(rss "$v3")
diag "resident memory with a stuck reader: host $hr MB, viewer $vr MB"
ok "the host's memory stays bounded ($hr MB)" test "$hr" -lt 64
ok "the viewer's memory stays bounded ($vr MB)" test "$vr" -lt 64

# The host killed while it sends: the viewer ends with 69 and a clear line.
kill -KILL "$tunnel_pid"
timeout 30 tail --pid="$v3" -f /dev/null
wait "$v3"
is "$?" 69 "a viewer whose host was killed exits 69"
like "$(cat "$TEST_TMP/v3.err")" 'lost the connection to .*: no packet for 3 s' "saying it lost the connection"
is "$(wc -l < "$TEST_TMP/v3.err")" 2 "the connect line and that one only"
exec 7<&-
