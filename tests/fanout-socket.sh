#!/bin/bash
# pp-fanout serve and a socket that is already there: a live one is never
# taken over, even when its server runs in another network namespace
# (/proc/net/unix does not list it there), and a stale one is replaced.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/fanout-lib.sh"
need_root
need pp-fanout ip gst-launch-1.0
plan 7

P=$TEST_TMP/producer
make_producer "$P"
S=$TEST_TMP/fan.sock
NS=pp-fansock-$$
ip netns add "$NS" || bail "cannot make a network namespace"
at_exit "ip netns delete $NS"

ip netns exec "$NS" pp-fanout serve --socket "$S" -- "$P" 2> "$TEST_TMP/other.log" &
OTHER=$!
track_pid $OTHER
wait_for 10 test -S "$S" || bail "pp-fanout made no socket: $(cat "$TEST_TMP/other.log")"
ok "/proc/net/unix here does not list the other namespace's listener" eval '! grep -q " $S\$" /proc/net/unix'
pp-fanout serve --socket "$S" -- "$P" < /dev/null 2> "$TEST_TMP/second.err"
is "$?" 75 "a second server on a socket that is live in another namespace: exit 75"
like "$(cat "$TEST_TMP/second.err")" 'another pp-fanout is serving on this socket' "...saying so, and leaving it"
timeout 3 pp-fanout attach --socket "$S" > "$TEST_TMP/a.ts" 2> /dev/null
ok "the first server still serves on it" test "$(stat -c %s "$TEST_TMP/a.ts")" -gt 10000

kill -KILL $OTHER
wait $OTHER 2> /dev/null
pp-fanout serve --socket "$S" -- "$P" < /dev/null 2> "$TEST_TMP/third.log" &
track_pid $!
ok "once that server is gone, the stale socket is replaced" wait_for 10 grep -q 'replaced the stale socket' "$TEST_TMP/third.log"

# Out of descriptors: said once, no spinning on the listener.
S2=$TEST_TMP/few.sock
(ulimit -n 24; exec pp-fanout serve --socket "$S2" < <(sleep 30)) 2> "$TEST_TMP/few.log" &
FEW=$!
track_pid $FEW
wait_for 10 test -S "$S2" || bail "pp-fanout made no socket: $(cat "$TEST_TMP/few.log")"
T0=$(awk '{ print $14 + $15 }' "/proc/$FEW/stat")
python3 - "$S2" <<'PY'
import socket, sys, time
socks = []
for _ in range(40):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    socks.append(s)
time.sleep(3)
PY
T1=$(awk '{ print $14 + $15 }' "/proc/$FEW/stat")
is "$(grep -c 'new connections wait until a descriptor is free' "$TEST_TMP/few.log")" 1 "out of descriptors: said once"
ok "...and no spinning: $((T1 - T0)) ticks of CPU in 3 s" test $((T1 - T0)) -lt 50
