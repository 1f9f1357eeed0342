#!/bin/bash
# pp-tunnel where IPv6 is the only way without a relay (issue 15): host
# and viewer both dual-stack, each IPv4 behind a symmetric NAT (no pair
# of those punches, and no TURN is given), each IPv6 address global
# behind its router's stateful firewall. The direct path to the host's
# IPv6 address in the ticket is dropped by the host's firewall; ICE then
# punches over IPv6, both sides sending at once, with no relay.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/tunnel-lib.sh"
. "$top_srcdir/tests/lab/lab.sh"
need_root
need pp-tunnel ip iptables ip6tables mosquitto turnserver certtool sha256sum timeout python3
plan 9

lab_nat || bail "the lab's internet did not start"
lab_nat_node h symmetric && lab_nat_node v symmetric || bail "lab nodes"
lab_ipv6 h && lab_ipv6 v || bail "IPv6 in the lab"
at_exit tunnel_stop_ns
net=(--stun "$LAB_STUN")
head -c 1000000 /dev/urandom > "$TEST_TMP/f"
want=$(sha "$TEST_TMP/f")

# The lab's firewall, as the host's router has it: a datagram from the
# internet that answers nothing is dropped; after the host sent to that
# address and port, one from there gets in.
probe='
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind(("::", 40000))
s.settimeout(1.5)
if sys.argv[1] == "punch":
    s.sendto(b"out", (sys.argv[2], 40000))
try:
    print(s.recvfrom(64)[0].decode())
except socket.timeout:
    print("nothing")
'
sender() { # sends "in" to ADDR from port 40000, every 0.2 s for 4 s
	ip netns exec "$LAB_NS_v" timeout 5 python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind(("::", 40000))
for i in range(20):
    s.sendto(b"in", (sys.argv[1], 40000)); time.sleep(0.2)' "$1" &
	sender_pid=$!
}
sender "$LAB_IP6_h"
is "$(ip netns exec "$LAB_NS_h" timeout 5 python3 -c "$probe" wait)" nothing \
	"lab: the host's firewall drops a datagram it did not ask for"
reap "$sender_pid"
sender "$LAB_IP6_h"
is "$(ip netns exec "$LAB_NS_h" timeout 5 python3 -c "$probe" punch "$LAB_IP6_v")" in \
	"lab: and lets in one from where the host sent to"
reap "$sender_pid"

tunnel_listen_ns "$LAB_NS_h" v6 --rendezvous "$LAB_MQTT_URL" "${net[@]}" -- cat "$TEST_TMP/f"
like "$(cat "$tunnel_log")" 'listening on UDP port [0-9]+ \(IPv4 and IPv6\)' "the host listens on IPv4 and IPv6"
ip netns exec "$LAB_NS_v" timeout 60 pp-tunnel connect "$tunnel_ticket" "${net[@]}" \
	--timeout 20 --status-fd 3 < /dev/null > "$TEST_TMP/v6.out" 2> "$TEST_TMP/v6.err" \
	3> "$TEST_TMP/v6.events"
rc=$?
is "$rc" 0 "IPv4 symmetric on both sides, IPv6 behind firewalls, no TURN: exit 0"
[ "$rc" = 0 ] || diag "$(cat "$TEST_TMP/v6.err")"
is "$(sha "$TEST_TMP/v6.out")" "$want" "...1 MB identical"
line=$(grep 'connected' "$TEST_TMP/v6.err")
like "$line" 'connected through the rendezvous' "...through the rendezvous: the firewall dropped the direct path"
like "$line" "path UDP, .* -> host \\[$LAB_IP6_h\\]:[0-9]+" "...on UDP to the host's IPv6 address, no relay"
like "$(head -n 1 "$TEST_TMP/v6.events")" '^connected path=(udp|punched) addr=\[2001:db8:[0-9a-f:]+\]:[0-9]+ family=IPv6 ' \
	"...and its connected event says IPv6"
unlike "$line" 'relayed' "...not relayed"
