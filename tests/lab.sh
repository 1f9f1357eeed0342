#!/bin/bash
# The network lab does what tests and benchmarks rely on: the wire delays,
# drops and shapes as told; each NAT kind maps and filters UDP as that kind
# does; mosquitto and coturn answer from the lab's internet; and nothing is
# left behind, even when a test using the lab fails.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/lab/lab.sh"

need_root
need ip iptables ss ping iperf3 certtool python3 mosquitto mosquitto_pub \
	mosquitto_sub turnserver turnutils_stunclient turnutils_uclient turnutils_peer
plan 55

# ping_stats LABEL ADDR COUNT INTERVAL: "RECEIVED MIN_RTT_MS"
ping_stats() {
	local out
	out=$(lab_exec "$1" ping -n -q -c "$3" -i "$4" -W 1 "$2" 2>&1)
	printf '%s %s\n' \
		"$(printf '%s\n' "$out" | sed -n 's/.* \([0-9]*\) received.*/\1/p')" \
		"$(printf '%s\n' "$out" | sed -n 's|^rtt min/avg/max/mdev = \([0-9.]*\)/.*|\1|p')"
}

# le A B: A <= B, as decimals.
le() { python3 -c 'import sys; sys.exit(not float(sys.argv[1]) <= float(sys.argv[2]))' "$1" "$2"; }

## The wire
ok "lab_wire joins two namespaces through the wire (40 ms, no loss)" lab_wire a b 40 0
is "$LAB_IP_a $LAB_IP_b" "10.99.0.1 10.99.0.2" "the wire's addresses are exported"
read -r got min < <(ping_stats a "$LAB_IP_b" 10 0.05)
is "$got" 10 "no ping is lost at 0% loss"
ok "min RTT $min ms >= 40 ms" le 40 "${min:-0}"
ok "min RTT $min ms < 40 ms + 25 ms margin" le "${min:-999}" 65

ok "lab_wire_set changes the wire to 2 ms, no loss" lab_wire_set a b 2 0
read -r got min < <(ping_stats a "$LAB_IP_b" 100 0.005)
is "$got" 100 "100 pings of 100 come back at 0% loss"
ok "min RTT $min ms >= 2 ms after lab_wire_set" le 2 "${min:-0}"

# 20% loss each way: a ping comes back with p = 0.8^2 = 0.64; of 200,
# the mean is 128, sd 6.8; the band is about +-5 sd. With a fixed seed
# the count repeats exactly (nothing else crosses this wire).
LAB_WIRE_SEED=42 lab_wire_set a b 2 200
read -r got1 _ < <(ping_stats a "$LAB_IP_b" 200 0.005)
ok "20% loss each way: $got1 of 200 pings back, within [94, 162]" \
	eval '[ "${got1:-0}" -ge 94 ] && [ "${got1:-0}" -le 162 ]'
counters=$(lab_wire_counters a b)
while read -r line; do diag "$line"; done <<<"$counters"
lost=$(printf '%s\n' "$counters" | awk '{ n += $7 } END { print n + 0 }')
is "$((got1 + lost))" 200 "the wire's loss counters account for every lost ping"
LAB_WIRE_SEED=42 lab_wire_set a b 2 200
read -r got2 _ < <(ping_stats a "$LAB_IP_b" 200 0.005)
is "$got2" "$got1" "the same seed loses the same pings"

# The shaper: TCP cannot get more than the 20 Mbit/s of IP the wire
# carries (plus a queue's worth over the 1 s run).
lab_wire_set a b 10 0 20
cubic=$(lab_tcp_goodput b a "$LAB_IP_b" cubic 1)
like "$cubic" '^[0-9]+\.[0-9]$' "lab_tcp_goodput prints Mbit/s (cubic: $cubic)"
ok "cubic through a 20 Mbit/s wire: 1 < $cubic <= 21" eval 'le 1 "${cubic:-0}" && le "${cubic:-99}" 21'
bbr=$(lab_tcp_goodput b a "$LAB_IP_b" bbr 1)
ok "bbr through a 20 Mbit/s wire: 1 < $bbr <= 21" eval 'le 1 "${bbr:-0}" && le "${bbr:-99}" 21'

## The NAT lab
ok "lab_nat starts the internet with mosquitto and coturn" lab_nat
ok "x and y: public hosts" eval 'lab_nat_node x none && lab_nat_node y none'
ok "nodes behind a full-cone, a port-restricted and a symmetric NAT" \
	eval 'lab_nat_node full full-cone && lab_nat_node pr port-restricted && lab_nat_node sym symmetric'
lab_udp_reflect x 4000
lab_udp_reflect y 4000

got=$(lab_udp_ask x 5000 "$LAB_IP_y" 4000)
is "$got" "$LAB_IP_x:5000" "a public host is seen at its own address and port"

# nat_probe LABEL: the mapping seen by x, whether y can send to it from
# a port the node never talked to, and the mapping seen by y.
nat_probe() {
	local label=$1 pub=LAB_PUBLIC_IP_$1 m1 m2 rfile=$TEST_TMP/recv-$1
	m1=$(lab_udp_ask "$label" 5000 "$LAB_IP_x" 4000)
	like "$m1" "^${!pub//./\\.}:[0-9]+$" "$label: x sees the NAT's public address ($m1)"
	lab_udp_recv "$label" 5000 1 "$rfile"
	lab_udp_send y 4001 "${m1%:*}" "${m1##*:}" "from-y"
	wait "$LAB_UDP_RECV_PID"
	NAT_INBOUND=$(cat "$rfile")
	m2=$(lab_udp_ask "$label" 5000 "$LAB_IP_y" 4000)
	NAT_M1=${m1##*:} NAT_M2=${m2##*:}
}

nat_probe full
is "$NAT_INBOUND" from-y "full-cone: an unknown host reaches the mapped port"
is "$NAT_M2" "$NAT_M1" "full-cone: the same mapped port for every destination"

nat_probe pr
is "$NAT_INBOUND" "" "port-restricted: an unknown host's datagram is dropped"
is "$NAT_M2" "$NAT_M1" "port-restricted: the same mapped port for every destination"

nat_probe sym
is "$NAT_INBOUND" "" "symmetric: an unknown host's datagram is dropped"
ok "symmetric: another mapped port for another destination ($NAT_M1, $NAT_M2)" \
	eval '[ -n "$NAT_M2" ] && [ "$NAT_M2" != "$NAT_M1" ]'

ok "inside addresses cannot be reached from another NAT's inside" \
	eval '! lab_exec pr ping -n -c 1 -W 1 "$LAB_IP_full" >/dev/null 2>&1'

# mqtt_roundtrip PORT TOPIC MSG CLIENT-ARGS...: a subscriber behind the
# port-restricted NAT receives what a publisher behind the symmetric one
# publishes (not retained: the subscription must be live).
mqtt_roundtrip() {
	local port=$1 topic=$2 msg=$3 out=$TEST_TMP/sub-$1 spid i
	shift 3
	lab_exec pr timeout 10 mosquitto_sub -h "$LAB_SERVER_IP" -p "$port" "$@" \
		-t "$topic" -C 1 >"$out" 2>&1 &
	spid=$!
	for ((i = 0; i < 40; i++)); do
		lab_exec sym timeout 5 mosquitto_pub -h "$LAB_SERVER_IP" -p "$port" "$@" \
			-t "$topic" -m "$msg" 2>/dev/null
		kill -0 "$spid" 2>/dev/null || break
		sleep 0.2
	done
	wait "$spid"
	cat "$out"
}
got=$(mqtt_roundtrip 1883 lab/plain hello-plain)
is "$got" hello-plain "MQTT pub/sub through two NATs ($LAB_MQTT_URL)"
got=$(mqtt_roundtrip 8883 lab/tls hello-tls --cafile "$LAB_CA_FILE")
is "$got" hello-tls "MQTT over TLS, the lab's CA verifying the broker ($LAB_MQTTS_URL)"
got=$(lab_exec sym timeout 5 mosquitto_pub -h "$LAB_SERVER_IP" -p 8883 \
	--capath /etc/ssl/certs -t lab/tls -m x 2>&1)
like "$got" "TLS error|certificate verify failed" "MQTT over TLS refuses a broker the CA did not sign"

ok "mosquitto stops (lab_mqtt_stop)" lab_mqtt_stop
got=$(lab_exec pr timeout 5 mosquitto_pub -h "$LAB_SERVER_IP" -p 1883 -t lab/x -m x 2>&1)
like "$got" "refused|Error" "no broker while stopped"
ok "mosquitto starts again (lab_mqtt_start)" lab_mqtt_start

for l in full pr sym; do
	pub=LAB_PUBLIC_IP_$l
	got=$(lab_exec "$l" timeout 5 turnutils_stunclient "$LAB_SERVER_IP" 2>&1)
	like "$got" "reflexive addr: ${!pub//./\\.}:[0-9]+" "STUN from $l answers with its NAT's public address"
done

# TURN: a relay for the static user over UDP, TCP and TLS; data through
# it to an echo peer on x with coturn's own client.
lab_exec x turnutils_peer -L "$LAB_IP_x" -p 3480 >/dev/null 2>&1 &
track_pid $!
lab_exec sym timeout 10 turnutils_uclient -c -n 3 -z 5 -m 1 -e "$LAB_IP_x" -r 3480 \
	-u "$LAB_TURN_USER" -w "$LAB_TURN_PASS" "$LAB_SERVER_IP" >"$TEST_TMP/uclient" 2>&1 &
upid=$!
relay="^${LAB_SERVER_IP//./\\.}:[0-9]+$"
for t in udp tcp tls; do
	like "$(lab_turn_allocate sym $t 2>&1)" "$relay" "TURN over $t allocates a relay on the lab server"
done
like "$(lab_turn_allocate sym udp "$LAB_TURN_USER" wrong-secret 2>&1)" "401" "TURN refuses a wrong password"
like "$(lab_exec sym timeout 10 python3 "$LAB_TURN_ALLOCATE" tls "$LAB_SERVER_IP" 5349 \
	"$LAB_TURN_USER" "$LAB_TURN_PASS" 2>&1)" "CERTIFICATE_VERIFY_FAILED" \
	"TURN over TLS is refused without the lab's CA"
wait "$upid"
like "$(cat "$TEST_TMP/uclient")" "Total lost packets 0 " "turnutils_uclient relays to a peer and back"

## A node behind a NAT whose uplink is a wire; UDP blocked for it
ok "a symmetric-NAT node with a 30 ms wire to the internet" lab_nat_node far symmetric 30 0
read -r got min < <(ping_stats far "$LAB_SERVER_IP" 5 0.05)
ok "far reaches the lab server with min RTT $min ms >= 30 ms" le 30 "${min:-0}"
ok "lab_wire_set far inet changes that wire to 60 ms" lab_wire_set far inet 60 0
read -r got min < <(ping_stats far "$LAB_SERVER_IP" 3 0.1)
ok "far's min RTT $min ms >= 60 ms after lab_wire_set" le 60 "${min:-0}"
lab_block_udp far
got=$(lab_exec far timeout 1.5 turnutils_stunclient "$LAB_SERVER_IP" 2>&1)
unlike "$got" "reflexive addr" "lab_block_udp: STUN over UDP gets no answer"
like "$(lab_turn_allocate far tcp 2>&1)" "$relay" "lab_block_udp: TURN over TCP still allocates"

## Teardown, even when the test fails
child=$TEST_TMP/child.sh
cat >"$child" <<'EOF'
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/lab/lab.sh"
lab_wire p q 10 0 && lab_nat && lab_nat_node z port-restricted 10 0 || exit 2
lab_exec z sleep 60 &
echo "$$ $TEST_TMP $LAB_MQTT_PID $LAB_TURN_PID $! ${_lab_pids[*]}" >"$1"
exit 1
EOF
bash "$child" "$TEST_TMP/child.info" >/dev/null 2>&1
rc=$?
read -r cpid ctmp cpids <"$TEST_TMP/child.info"
is "$rc" 1 "a failing test that used the lab exits with its failure"
is "$(ip netns list | grep -c "^pplab-$cpid-")" 0 "its namespaces are gone"
# gone PID: not running (a zombie waiting for its reaper counts as gone).
gone() { ! kill -0 "$1" 2>/dev/null || grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
alive=
for p in $cpids; do gone "$p" || alive="$alive $p"; done
is "$alive" "" "its wires, broker, TURN server and processes are gone"
ok "its temporary directory is gone" test ! -e "$ctmp"

# A test killed outright cannot tear down: the next lab sweeps what it left.
sed -i 's/^exit 1$/exec sleep 30/' "$child"
rm -f "$TEST_TMP/child.info"
bash "$child" "$TEST_TMP/child.info" >/dev/null 2>&1 &
cpid=$!
wait_for 20 test -s "$TEST_TMP/child.info"
kill -KILL "$cpid"
wait "$cpid" 2>/dev/null
read -r _ ctmp cpids <"$TEST_TMP/child.info"
rm -rf "$ctmp"
_lab_sweep
is "$(ip netns list | grep -c "^pplab-$cpid-")" 0 "a killed test's namespaces are swept"
alive=
for p in $cpids; do gone "$p" || alive="$alive $p"; done
is "$alive" "" "a killed test's processes are swept"
