#!/bin/bash
# pp-tunnel with several viewers: two at once both get the file; with
# --max-viewers 2 the third is refused with 75 while the two go on (a
# viewer with another secret does not believe that refusal), and a place
# that frees up is taken again.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/tunnel-lib.sh"
need pp-tunnel ticket-test sha256sum head timeout
plan 13

head -c 20000000 /dev/urandom > "$TEST_TMP/f"
want=$(sha "$TEST_TMP/f")

tunnel_listen both -- cat "$TEST_TMP/f"
tunnel_connect a "$tunnel_ticket" < /dev/null &
pa=$!
tunnel_connect b "$tunnel_ticket" < /dev/null &
pb=$!
wait "$pa"; ra=$?
wait "$pb"; rb=$?
is "$ra $rb" "0 0" "two viewers at once both exit 0"
is "$(sha "$TEST_TMP/a.out")" "$want" "the first got the file"
is "$(sha "$TEST_TMP/b.out")" "$want" "the second got the file"
wait_for 5 test "$(grep -c 'left after' "$tunnel_log")" -eq 2
is "$(grep -c 'arrived' "$tunnel_log")" 2 "the host logged two arrivals"

# The cap. Each viewer's stdin is a FIFO this test holds open, so the two
# first stay connected; CMD greets, then waits for the viewer's EOF.
tunnel_listen capped --max-viewers 2 -- sh -c 'echo hello; cat > /dev/null'
mkfifo "$TEST_TMP/in1" "$TEST_TMP/in2"
tunnel_connect c1 "$tunnel_ticket" < "$TEST_TMP/in1" &
p1=$!
track_pid "$p1"
tunnel_connect c2 "$tunnel_ticket" < "$TEST_TMP/in2" &
p2=$!
track_pid "$p2"
exec 5> "$TEST_TMP/in1" 6> "$TEST_TMP/in2"
ok "two viewers are connected" wait_for 10 grep -q hello "$TEST_TMP/c1.out" "$TEST_TMP/c2.out"
wait_for 10 test "$(cat "$TEST_TMP/c1.out" "$TEST_TMP/c2.out" | grep -c hello)" -eq 2

tunnel_connect c3 "$tunnel_ticket" < /dev/null
is "$tunnel_rc" 75 "the third viewer exits 75"
like "$(cat "$TEST_TMP/c3.err")" '^pp-tunnel: host is full \(2/2 viewers\)' "saying the host is full (2/2 viewers)"
is "$(wc -c < "$TEST_TMP/c3.out")" 0 "and got no byte"
# To a viewer with another secret that host is an impostor: its "full"
# carries no tag that viewer can check, so it is not believed.
tunnel_connect c5 "$(ticket-test resecret "$tunnel_ticket")" < /dev/null
is "$tunnel_rc" 77 "a \"full\" from a host that did not prove the secret: 77, not 75"
like "$(cat "$TEST_TMP/c5.err")" 'did not prove it holds this ticket.s secret' "saying it did not prove the secret"
unlike "$(cat "$TEST_TMP/c5.err")" 'host is full' "not that the host is full"

exec 5>&-
wait "$p1"; r1=$?
exec 6>&-
wait "$p2"; r2=$?
is "$r1 $r2" "0 0" "the two first viewers were not disturbed and end with 0"

tunnel_connect c4 "$tunnel_ticket" < /dev/null
is "$tunnel_rc $(cat "$TEST_TMP/c4.out")" "0 hello" "once they left, a new viewer gets in"
