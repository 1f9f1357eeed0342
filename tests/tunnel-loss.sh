#!/bin/bash
# pp-tunnel through 2% random packet loss each way: a private network
# namespace whose loopback drops UDP at random (nftables), so QUIC's loss
# recovery, retransmissions from the kept send buffers, and STOP_SENDING
# all run. Files arrive identical by SHA-256.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/tunnel-lib.sh"
need_root
need pp-tunnel ip nft sha256sum head timeout
plan 9

ns=pp-loss-$$
ip netns add "$ns" || bail "cannot make a network namespace"
# Teardown, even on failure: the hosts in the namespace, then it.
at_exit "tunnel_stop_ns; ip netns delete $ns"
ip -n "$ns" link set lo up
ip netns exec "$ns" nft -f - <<'NFT' || bail "nftables refused the loss rule"
table inet pploss {
	chain input {
		type filter hook input priority 0; policy accept;
		meta l4proto udp numgen random mod 1000 < 20 drop
	}
}
NFT
# Everything below runs inside the namespace, whose only interface is lo.
inns() { ip netns exec "$ns" "$@"; }

head -c 20000000 /dev/urandom > "$TEST_TMP/f"
want=$(sha "$TEST_TMP/f")

tunnel_listen_ns "$ns" h1 -- cat "$TEST_TMP/f"
t=$tunnel_ticket
inns timeout 120 pp-tunnel connect "$t" < /dev/null > "$TEST_TMP/v1.out" 2> "$TEST_TMP/v1.err"
is "$?" 0 "host to viewer through loss: exit 0"
is "$(sha "$TEST_TMP/v1.out")" "$want" "20 MB host to viewer, identical"

# The host's CMD ignores its stdin and exits: the viewer's upload is
# stopped (STOP_SENDING), the download still completes.
inns timeout 120 pp-tunnel connect "$t" < "$TEST_TMP/f" > "$TEST_TMP/v2.out" 2> "$TEST_TMP/v2.err"
is "$?" 0 "a viewer uploading to a CMD that does not read: exit 0"
is "$(sha "$TEST_TMP/v2.out")" "$want" "and the download is whole"

tunnel_listen_ns "$ns" h2 -- sh -c "cat > '$TEST_TMP/up'"
inns timeout 120 pp-tunnel connect "$tunnel_ticket" < "$TEST_TMP/f" > /dev/null 2> "$TEST_TMP/v3.err"
is "$?" 0 "viewer to host through loss: exit 0"
ok "the host's CMD finished" wait_for 10 test "$(stat -c %s "$TEST_TMP/up" 2>/dev/null)" = 20000000
is "$(sha "$TEST_TMP/up")" "$want" "20 MB viewer to host, identical"

tunnel_listen_ns "$ns" h3 -- cat
inns timeout 120 pp-tunnel connect "$tunnel_ticket" < "$TEST_TMP/f" > "$TEST_TMP/v4.out" 2> "$TEST_TMP/v4.err"
is "$?" 0 "both ways at once through loss: exit 0"
is "$(sha "$TEST_TMP/v4.out")" "$want" "20 MB echoed back, identical"

