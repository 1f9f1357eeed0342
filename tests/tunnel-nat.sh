#!/bin/bash
# pp-tunnel through NATs: the lab's internet (mosquitto over TLS, coturn)
# and four hosts and four viewers, one behind each kind of NAT (none,
# full-cone, port-restricted, symmetric). Every one of the 16 pairs
# transfers a file identical by SHA-256 over the path expected for it:
# UDP punched through the NATs wherever that can work, TURN only where it
# cannot (a symmetric NAT facing a symmetric or port-restricted one). The
# hosts' ticket addresses are 10.x inside their NATs, so the direct path
# fails and ICE connects; a host with a public address would be reached
# directly, so for those PP_TUNNEL_NO_DIRECT=1 makes ICE do it.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/tunnel-lib.sh"
. "$top_srcdir/tests/lab/lab.sh"
need_root
need pp-tunnel ip iptables mosquitto turnserver certtool sha256sum timeout
plan 48

lab_nat || bail "the lab's internet did not start"
kinds=(none full-cone port-restricted symmetric)
for k in "${kinds[@]}"; do
	l=${k//-/_}
	lab_nat_node "h_$l" "$k" || bail "host behind $k"
	lab_nat_node "v_$l" "$k" || bail "viewer behind $k"
done
at_exit tunnel_stop_ns

head -c 2000000 /dev/urandom > "$TEST_TMP/f"
want=$(sha "$TEST_TMP/f")
turn="turn://$LAB_TURN_USER:$LAB_TURN_PASS@$LAB_SERVER_IP:3478?transport=udp"
net=(--rendezvous-ca "$LAB_CA_FILE" --stun "$LAB_STUN")

# expected HOST_KIND VIEWER_KIND: the path's words in the connect line.
expected() {
	case "$1 $2" in
	"symmetric symmetric"|"symmetric port-restricted"|"port-restricted symmetric")
		echo "relayed through" ;;
	"none none") echo "UDP, no NAT between" ;;
	*) echo "UDP punched through NAT" ;;
	esac
}

for hk in "${kinds[@]}"; do
	h=h_${hk//-/_}
	ns=LAB_NS_$h
	tunnel_listen_ns "${!ns}" "$h" --rendezvous "$LAB_MQTTS_URL" "${net[@]}" \
		--turn "$turn" -- cat "$TEST_TMP/f"
	hpid=$tunnel_pid
	direct=
	[ "$hk" = none ] && direct=PP_TUNNEL_NO_DIRECT=1
	for vk in "${kinds[@]}"; do
		v=v_${vk//-/_}
		vns=LAB_NS_$v
		name="$hk-$vk"
		ip netns exec "${!vns}" env $direct timeout 60 pp-tunnel connect \
			"$tunnel_ticket" "${net[@]}" --timeout 20 < /dev/null \
			> "$TEST_TMP/$name.out" 2> "$TEST_TMP/$name.err"
		rc=$?
		is "$rc" 0 "host behind $hk, viewer behind $vk: exit 0"
		[ "$rc" = 0 ] || diag "$(cat "$TEST_TMP/$name.err")"
		is "$(sha "$TEST_TMP/$name.out")" "$want" "host behind $hk, viewer behind $vk: 2 MB identical"
		like "$(grep connected "$TEST_TMP/$name.err")" \
			"connected through the rendezvous .*path $(expected "$hk" "$vk")" \
			"host behind $hk, viewer behind $vk: path $(expected "$hk" "$vk")"
	done
	kill -TERM "$hpid"
	timeout 10 tail --pid="$hpid" -f /dev/null
done
