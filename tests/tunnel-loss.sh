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
# Teardown, even on failure: the hosts in the namespace (ip netns exec
# forks, so they are not our children), then the namespace.
netns_teardown() {
	local f
	for f in "$TEST_TMP"/h?.pid; do
		[ -s "$f" ] && kill -TERM "$(cat "$f")" 2>/dev/null
	done
	for f in "$TEST_TMP"/h?.pid; do
		[ -s "$f" ] && timeout 10 tail --pid="$(cat "$f")" -f /dev/null
	done
	ip netns delete "$ns" 2>/dev/null
}
at_exit netns_teardown
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
# inns_listen NAME ARGS...: pp-tunnel listen in the namespace, in the
# background; its pid is tracked (ip netns exec forks, so not $!).
inns_listen() {
	local name=$1
	shift
	inns sh -c 'echo $$ > "$0"; exec pp-tunnel listen "$@"' "$TEST_TMP/$name.pid" "$@" \
		> "$TEST_TMP/$name.ticket" 2> "$TEST_TMP/$name.log" &
	track_pid $!
	wait_for 10 grep -qs '^pp1' "$TEST_TMP/$name.ticket" || bail "no ticket"
}

head -c 20000000 /dev/urandom > "$TEST_TMP/f"
want=$(sha "$TEST_TMP/f")

inns_listen h1 -- cat "$TEST_TMP/f"
t=$(cat "$TEST_TMP/h1.ticket")
inns timeout 120 pp-tunnel connect "$t" < /dev/null > "$TEST_TMP/v1.out" 2> "$TEST_TMP/v1.err"
is "$?" 0 "host to viewer through loss: exit 0"
is "$(sha "$TEST_TMP/v1.out")" "$want" "20 MB host to viewer, identical"

# The host's CMD ignores its stdin and exits: the viewer's upload is
# stopped (STOP_SENDING), the download still completes.
inns timeout 120 pp-tunnel connect "$t" < "$TEST_TMP/f" > "$TEST_TMP/v2.out" 2> "$TEST_TMP/v2.err"
is "$?" 0 "a viewer uploading to a CMD that does not read: exit 0"
is "$(sha "$TEST_TMP/v2.out")" "$want" "and the download is whole"

inns_listen h2 -- sh -c "cat > '$TEST_TMP/up'"
inns timeout 120 pp-tunnel connect "$(cat "$TEST_TMP/h2.ticket")" < "$TEST_TMP/f" > /dev/null 2> "$TEST_TMP/v3.err"
is "$?" 0 "viewer to host through loss: exit 0"
ok "the host's CMD finished" wait_for 10 test "$(stat -c %s "$TEST_TMP/up" 2>/dev/null)" = 20000000
is "$(sha "$TEST_TMP/up")" "$want" "20 MB viewer to host, identical"

inns_listen h3 -- cat
inns timeout 120 pp-tunnel connect "$(cat "$TEST_TMP/h3.ticket")" < "$TEST_TMP/f" > "$TEST_TMP/v4.out" 2> "$TEST_TMP/v4.err"
is "$?" 0 "both ways at once through loss: exit 0"
is "$(sha "$TEST_TMP/v4.out")" "$want" "20 MB echoed back, identical"

