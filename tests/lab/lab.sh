# The network lab: network namespaces joined by veth pairs or by the
# user-space wire (pp-lab-wire: delay, loss, rate), NAT routers of each
# kind, and an "internet" namespace with mosquitto and coturn. Sourced by
# tests and benchmarks after tests/libtest.sh; everything needs root
# (call need_root first).
#
# Every namespace is named pplab-<pid>-<label>, so tests running at once
# never clash; everything is torn down at exit (at_exit), even when the
# test fails, and a lab left by a test that was killed outright is swept
# by the next one. Addresses exist only inside these namespaces: 10.x
# inside, and the documentation ranges outside: 192.0.2.1 (the lab's
# services), 198.51.100.0/24 (NAT routers' public side), 203.0.113.0/24
# (public hosts), and for IPv6 2001:db8::/32. IPv6 is off on lab links
# (loopback keeps ::1) until lab_ipv6 turns it on for a node.
#
# A label L (letters, digits, _) names a namespace; the functions export
# LAB_NS_L (its name) and LAB_IP_L (its address).
#
#   lab_exec L CMD...              run CMD in L's namespace
#   lab_ns L                       print L's namespace name
#   lab_wire A B RTT LOSS [RATE]   A=10.99.0.1 and B=10.99.0.2 through a wire
#   lab_wire_set A B RTT LOSS [RATE]   new figures for that wire
#   lab_wire_counters A B          the wire's packet counters
#   lab_nat                        the internet: mosquitto, coturn
#   lab_nat_node L KIND [RTT LOSS [RATE]]   a node behind a NAT of KIND
#   lab_nat_host KIND ..., lab_nat_viewer KIND ...   nodes host, viewer
#   lab_block_udp L                the internet drops L's UDP
#   lab_ipv6 L                     L dual-stack: a global IPv6 address
#                                  behind its router's stateful firewall
#   lab_mqtt_stop, lab_mqtt_start  stop and restart the broker
#   lab_turn_allocate L udp|tcp|tls [USER PASS]   a TURN relay, printed
#   lab_udp_reflect/ask/send/recv  UDP probes of NAT mappings
#   lab_tcp_goodput NS_SERVER NS_CLIENT ADDR CC SECONDS   kernel TCP Mbit/s
#
# RTT is the round trip in ms (half each way); LOSS is per mille, each
# direction, drawn before the bottleneck; RATE is Mbit/s of IP packets,
# each direction, with a tail-drop queue of 50 ms (at least 64 KB).
# Environment: LAB_WIRE_SEED (the wire's PRNG seed, for repeatable loss),
# LAB_WIRE_QUEUE_KB (the queue, with a RATE), LAB_WIRE_BIN (pp-lab-wire).

LAB_WIRE_BIN=${LAB_WIRE_BIN:-${top_builddir:-.}/tests/lab/pp-lab-wire}
# A lab is private to the script that sources this file: forget one that
# a parent script exported.
unset $(compgen -v LAB_NS_) $(compgen -v LAB_IP_) $(compgen -v LAB_IP6_) $(compgen -v LAB_PUBLIC_IP_) \
	$(compgen -v LAB_KIND_) $(compgen -v LAB_ROUTER_NS_) \
	LAB_CA_FILE LAB_MQTT_URL LAB_MQTTS_URL LAB_STUN LAB_TURN_USER LAB_TURN_PASS \
	LAB_TURN_REALM LAB_TURN_UDP LAB_TURN_TCP LAB_TURNS LAB_MQTT_PID LAB_TURN_PID
LAB_TURN_ALLOCATE=${LAB_TURN_ALLOCATE:-${top_srcdir:-.}/tests/lab/turn-allocate.py}
LAB_UDP=${LAB_UDP:-${top_srcdir:-.}/tests/lab/udp.py}
LAB_DIR=$TEST_TMP/lab
LAB_SERVER_IP=192.0.2.1

_lab_prefix=pplab-$$
_lab_started=
_lab_ns=()		# namespaces made, deleted at exit
_lab_pids=()		# processes started, stopped at exit
declare -A _lab_wire	# "A B" -> pid of the wire between them
declare -A _lab_link	# label -> inet's interface for its uplink
_lab_nodes=0

_lab_die() { echo "lab: $*" >&2; return 1; }

_lab_init() {
	[ -n "$_lab_started" ] && return 0
	_lab_started=1
	mkdir -p "$LAB_DIR"
	at_exit _lab_teardown
	_lab_sweep
}

# Deletes namespaces (and the processes in them or on their wires) left
# by a lab whose test was killed before its teardown could run.
_lab_sweep() {
	local ns pid p
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
		[[ $ns =~ ^pplab-([0-9]+)- ]] || continue
		pid=${BASH_REMATCH[1]}
		kill -0 "$pid" 2>/dev/null && continue
		for p in $(ip netns pids "$ns" 2>/dev/null) $(_lab_wire_pids_of "$ns"); do
			kill -KILL "$p" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null
	done
}

# Processes of pp-lab-wire whose command line names namespace $1.
_lab_wire_pids_of() {
	local f
	for f in /proc/[0-9]*/cmdline; do
		{ tr '\0' ' ' <"$f"; } 2>/dev/null | grep -q "pp-lab-wire.* $1:" &&
			basename "${f%/cmdline}"
	done
	return 0
}

_lab_stop_pid() {
	local pid=$1
	kill -TERM "$pid" 2>/dev/null || return 0
	wait_gone "$pid" 2
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

_lab_teardown() {
	local i p ns
	for ((i = ${#_lab_pids[@]} - 1; i >= 0; i--)); do
		_lab_stop_pid "${_lab_pids[$i]}"
	done
	# Whatever a test started inside a lab namespace goes too.
	for ((i = ${#_lab_ns[@]} - 1; i >= 0; i--)); do
		for p in $(ip netns pids "${_lab_ns[$i]}" 2>/dev/null); do
			kill -TERM "$p" 2>/dev/null
		done
	done
	for ((i = ${#_lab_ns[@]} - 1; i >= 0; i--)); do
		ns=${_lab_ns[$i]}
		for p in $(ip netns pids "$ns" 2>/dev/null); do
			_lab_stop_pid "$p"
		done
		ip netns del "$ns" 2>/dev/null
	done
	_lab_ns=()
	_lab_pids=()
}

# lab_ns LABEL: prints the namespace name of LABEL.
lab_ns() {
	local v=LAB_NS_$1
	[ -n "${!v:-}" ] || { _lab_die "no namespace labelled '$1'"; return 1; }
	printf '%s\n' "${!v}"
}

# lab_exec LABEL CMD ARGS...: runs CMD inside LABEL's namespace.
lab_exec() {
	local ns
	ns=$(lab_ns "$1") || return 1
	shift
	ip netns exec "$ns" "$@"
}

# _lab_netns LABEL: makes the namespace, exports LAB_NS_LABEL.
_lab_netns() {
	local label=$1 ns=$_lab_prefix-$1 v=LAB_NS_$1
	[[ $label =~ ^[A-Za-z][A-Za-z0-9_]*$ ]] || { _lab_die "label '$label': letters, digits and _ only"; return 1; }
	[ -z "${!v:-}" ] || { _lab_die "label '$label' is already in use"; return 1; }
	_lab_init
	ip netns add "$ns" || return 1
	_lab_ns+=("$ns")
	export "LAB_NS_$label=$ns"
	# IPv6 off on lab links (loopback keeps ::1): no link-local
	# addresses or router solicitations beside the IPv4 under test.
	# TCP may grow windows to 32 MB, for high bandwidth-delay paths.
	ip netns exec "$ns" sysctl -q -w \
		net.ipv6.conf.default.disable_ipv6=1 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
		net.ipv4.ip_forward=1 \
		"net.ipv4.tcp_rmem=4096 131072 33554432" \
		"net.ipv4.tcp_wmem=4096 16384 33554432" >/dev/null || return 1
	ip -n "$ns" link set lo up
}

# _lab_tun NS DEV LOCAL PEER: a persistent TUN device, up, with a
# point-to-point address.
_lab_tun() {
	ip -n "$1" tuntap add dev "$2" mode tun &&
	ip -n "$1" addr add "$3" peer "$4" dev "$2" &&
	ip -n "$1" link set "$2" up
}

_lab_carrier() { ! ip -n "$1" link show "$2" | grep -q NO-CARRIER; }

# _lab_wire_start NS_A DEV_A NS_B DEV_B KEY RTT LOSS [RATE]
_lab_wire_start() {
	local nsa=$1 deva=$2 nsb=$3 devb=$4 key=$5 rtt=$6 loss=$7 rate=${8:-0} pid
	local args=(-d "$rtt" -l "$loss")
	[ -x "$LAB_WIRE_BIN" ] || { _lab_die "$LAB_WIRE_BIN is missing (run make)"; return 1; }
	[ "$rate" != 0 ] && args+=(-r "$rate")
	[ -n "${LAB_WIRE_QUEUE_KB:-}" ] && args+=(-q "$LAB_WIRE_QUEUE_KB")
	[ -n "${LAB_WIRE_SEED:-}" ] && args+=(-s "$LAB_WIRE_SEED")
	"$LAB_WIRE_BIN" "${args[@]}" "$nsa:$deva" "$nsb:$devb" \
		>>"$LAB_DIR/wire-${key/ /-}.out" 2>>"$LAB_DIR/wire-${key/ /-}.err" &
	pid=$!
	_lab_pids+=("$pid")
	_lab_wire[$key]=$pid
	wait_for 5 _lab_carrier "$nsa" "$deva" && wait_for 5 _lab_carrier "$nsb" "$devb" ||
		{ _lab_die "the wire $key did not attach: $(cat "$LAB_DIR/wire-${key/ /-}.err")"; return 1; }
}

# lab_wire A B RTT_MS LOSS_PERMILLE [RATE_MBIT]: two namespaces labelled
# A and B, joined by pp-lab-wire on TUN devices emu0: A is 10.99.0.1,
# B is 10.99.0.2. RTT_MS is the round trip (half each way); the loss
# applies to each direction; RATE_MBIT (0: none) shapes each direction.
# Exports LAB_NS_A LAB_NS_B LAB_IP_A LAB_IP_B.
lab_wire() {
	[ $# -ge 4 ] || { _lab_die "usage: lab_wire A B RTT_MS LOSS_PERMILLE [RATE_MBIT]"; return 1; }
	local a=$1 b=$2
	_lab_netns "$a" && _lab_netns "$b" || return 1
	_lab_tun "$_lab_prefix-$a" emu0 10.99.0.1 10.99.0.2 &&
	_lab_tun "$_lab_prefix-$b" emu0 10.99.0.2 10.99.0.1 || return 1
	export "LAB_IP_$a=10.99.0.1" "LAB_IP_$b=10.99.0.2"
	_lab_wire_start "$_lab_prefix-$a" emu0 "$_lab_prefix-$b" emu0 "$a $b" "$3" "$4" "${5:-0}"
}

# lab_wire_set A B RTT_MS LOSS_PERMILLE [RATE_MBIT]: restarts the wire
# between A and B (made by lab_wire, or by lab_nat_node with A = the
# node's label and B = inet) with new figures. Addresses and routes stay;
# packets in flight are lost.
lab_wire_set() {
	local key="$1 $2" pid nsa deva nsb devb
	pid=${_lab_wire[$key]:-}
	[ -n "$pid" ] || { _lab_die "no wire between $1 and $2"; return 1; }
	_lab_stop_pid "$pid"
	if [ "$2" = inet ] && [ -n "${_lab_link[$1]:-}" ]; then
		nsa=$(_lab_uplink_ns "$1") deva=up0 nsb=$LAB_NS_inet devb=${_lab_link[$1]}
	else
		nsa=$_lab_prefix-$1 deva=emu0 nsb=$_lab_prefix-$2 devb=emu0
	fi
	_lab_wire_start "$nsa" "$deva" "$nsb" "$devb" "$key" "$3" "$4" "${5:-0}"
}

# lab_wire_counters A B: the wire's counters now, one line per direction:
# "a>b passed N bytes N lost N overflow N write-errors N queued N" (a>b is
# A to B; for a NAT node, the node's side to inet).
lab_wire_counters() {
	local key="$1 $2" pid out n
	pid=${_lab_wire[$key]:-}
	[ -n "$pid" ] || { _lab_die "no wire between $1 and $2"; return 1; }
	out=$LAB_DIR/wire-$1-$2.out
	n=$(wc -l <"$out")
	kill -USR1 "$pid" || return 1
	wait_for 5 eval '[ "$(wc -l <"$out")" -ge $((n + 2)) ]' || return 1
	tail -n 2 "$out"
}

_lab_certs() {
	local d=$LAB_DIR
	cat >"$d/ca.tmpl" <<-EOF
	cn = "pixelpass lab CA"
	ca
	cert_signing_key
	expiration_days = 2
	EOF
	cat >"$d/server.tmpl" <<-EOF
	cn = "$LAB_SERVER_IP"
	ip_address = "$LAB_SERVER_IP"
	tls_www_server
	signing_key
	expiration_days = 2
	EOF
	certtool --generate-privkey --key-type=ecdsa --outfile "$d/ca.key" &&
	certtool --generate-self-signed --load-privkey "$d/ca.key" \
		--template "$d/ca.tmpl" --outfile "$d/ca.pem" &&
	certtool --generate-privkey --key-type=ecdsa --outfile "$d/server.key" &&
	certtool --generate-certificate --load-privkey "$d/server.key" \
		--load-ca-certificate "$d/ca.pem" --load-ca-privkey "$d/ca.key" \
		--template "$d/server.tmpl" --outfile "$d/server.pem"
}

# _lab_listening PROTO PORT: a socket listens on the lab server address
# in the internet namespace.
_lab_listening() {
	local opt=-Hltn
	[ "$1" = udp ] && opt=-Hlun
	[ -n "$(ip netns exec "$LAB_NS_inet" ss $opt "sport = :$2")" ]
}

# lab_mqtt_start / lab_mqtt_stop: start or stop the broker (it starts with
# lab_nat; stopping and starting it again tests reconnection).
lab_mqtt_start() {
	ip netns exec "$LAB_NS_inet" mosquitto -c "$LAB_DIR/mosquitto.conf" \
		>>"$LAB_DIR/mosquitto.log" 2>&1 &
	LAB_MQTT_PID=$!
	_lab_pids+=("$LAB_MQTT_PID")
	wait_for 5 _lab_listening tcp 1883 && wait_for 5 _lab_listening tcp 8883 ||
		{ _lab_die "mosquitto did not start: $(tail -n 3 "$LAB_DIR/mosquitto.log")"; return 1; }
}
lab_mqtt_stop() {
	_lab_stop_pid "$LAB_MQTT_PID"
	wait_for 5 eval '! _lab_listening tcp 1883'
}

# lab_nat: the "internet" namespace (label inet) with the lab's services
# on 192.0.2.1: mosquitto (plain MQTT and MQTT over TLS with a CA made
# here) and coturn (STUN, TURN over UDP, TCP and TLS; a static user).
lab_nat() {
	local d=$LAB_DIR
	_lab_netns inet || return 1
	ip -n "$LAB_NS_inet" addr add "$LAB_SERVER_IP/32" dev lo || return 1
	# The internet drops datagrams to private addresses silently, with no
	# local error: a route into a veth pair whose far end drops them.
	# (Without it, coturn's sendto to a peer's 10.x candidate fails with
	# ENETUNREACH and coturn closes that whole allocation.)
	ip -n "$LAB_NS_inet" link add dark0 type veth peer name dark1 &&
	ip -n "$LAB_NS_inet" link set dark0 up &&
	ip -n "$LAB_NS_inet" link set dark1 up &&
	ip -n "$LAB_NS_inet" route add 10.0.0.0/8 dev dark0 &&
	ip netns exec "$LAB_NS_inet" iptables -w 5 -A FORWARD -i dark1 -j DROP ||
		return 1
	export LAB_IP_inet=$LAB_SERVER_IP
	_lab_certs >"$d/certtool.log" 2>&1 ||
		{ _lab_die "certtool failed: $(tail -n 3 "$d/certtool.log")"; return 1; }
	export LAB_CA_FILE=$d/ca.pem
	export LAB_MQTT_URL=mqtt://$LAB_SERVER_IP:1883
	export LAB_MQTTS_URL=mqtts://$LAB_SERVER_IP:8883
	export LAB_STUN=$LAB_SERVER_IP:3478
	export LAB_TURN_USER=pixelpass LAB_TURN_PASS=lab-secret LAB_TURN_REALM=lab.pixelpass.test
	export LAB_TURN_UDP="turn:$LAB_SERVER_IP:3478?transport=udp"
	export LAB_TURN_TCP="turn:$LAB_SERVER_IP:3478?transport=tcp"
	export LAB_TURNS="turns:$LAB_SERVER_IP:5349?transport=tcp"

	cat >"$d/mosquitto.conf" <<-EOF
	# Runs as root: the keys sit in the test's private directory.
	user root
	per_listener_settings false
	allow_anonymous true
	persistence false
	log_dest stderr
	listener 1883 $LAB_SERVER_IP
	listener 8883 $LAB_SERVER_IP
	cafile $d/ca.pem
	certfile $d/server.pem
	keyfile $d/server.key
	EOF
	lab_mqtt_start || return 1

	cat >"$d/turnserver.conf" <<-EOF
	listening-ip=$LAB_SERVER_IP
	relay-ip=$LAB_SERVER_IP
	listening-port=3478
	tls-listening-port=5349
	min-port=49152
	max-port=65535
	fingerprint
	lt-cred-mech
	user=$LAB_TURN_USER:$LAB_TURN_PASS
	realm=$LAB_TURN_REALM
	cert=$d/server.pem
	pkey=$d/server.key
	userdb=$d/turndb
	pidfile=$d/turnserver.pid
	log-file=$d/turnserver.log
	simple-log
	no-stdout-log
	no-cli
	no-multicast-peers
	no-tlsv1
	no-tlsv1_1
	EOF
	ip netns exec "$LAB_NS_inet" turnserver -c "$d/turnserver.conf" >/dev/null 2>&1 &
	LAB_TURN_PID=$!
	_lab_pids+=("$LAB_TURN_PID")
	wait_for 10 _lab_listening udp 3478 && wait_for 5 _lab_listening tcp 3478 &&
	wait_for 5 _lab_listening tcp 5349 ||
		{ _lab_die "coturn did not start: $(tail -n 3 "$d/turnserver.log" 2>/dev/null)"; return 1; }
}

# The namespace that holds a node's uplink: its router, or itself.
_lab_uplink_ns() {
	local v=LAB_ROUTER_NS_$1
	if [ -n "${!v:-}" ]; then printf '%s\n' "${!v}"; else printf '%s\n' "$_lab_prefix-$1"; fi
}

# lab_nat_node LABEL KIND [RTT_MS LOSS_PERMILLE [RATE_MBIT]]: a namespace
# on the lab's internet (after lab_nat). KIND none: a public address
# 203.0.113.N. KIND full-cone, port-restricted or symmetric: an inside
# address 10.N.0.2/24 behind a router namespace (LABEL_nat) whose public
# address 198.51.100.N does iptables NAT of that kind. With RTT_MS, the
# uplink to the internet is a wire (lab_wire_set LABEL inet changes it),
# else a veth pair. Exports LAB_NS_LABEL, LAB_IP_LABEL (its own address),
# LAB_PUBLIC_IP_LABEL (the address the internet sees), LAB_KIND_LABEL,
# LAB_ROUTER_NS_LABEL (empty for none).
lab_nat_node() {
	[ $# -eq 2 ] || [ $# -ge 4 ] || { _lab_die "usage: lab_nat_node LABEL KIND [RTT_MS LOSS_PERMILLE [RATE_MBIT]]"; return 1; }
	local label=$1 kind=$2 n ns r up pub gw link
	[ -n "${LAB_NS_inet:-}" ] || { _lab_die "lab_nat first"; return 1; }
	case $kind in
	none|full-cone|port-restricted|symmetric) ;;
	*) _lab_die "NAT kind '$kind': none, full-cone, port-restricted or symmetric"; return 1 ;;
	esac
	_lab_nodes=$((_lab_nodes + 1))
	n=$_lab_nodes
	link=u$n
	_lab_netns "$label" || return 1
	ns=$_lab_prefix-$label
	if [ "$kind" = none ]; then
		up=$ns pub=203.0.113.$((n + 9)) gw=203.0.113.1 r=
	else
		_lab_netns "${label}_nat" || return 1
		r=$_lab_prefix-${label}_nat
		up=$r pub=198.51.100.$((n + 9)) gw=198.51.100.1
	fi
	if [ $# -ge 4 ]; then
		_lab_tun "$up" up0 "$pub" "$gw" &&
		_lab_tun "$LAB_NS_inet" "$link" "$gw" "$pub" || return 1
	else
		ip -n "$up" link add up0 type veth peer name "$link" netns "$LAB_NS_inet" &&
		ip -n "$up" addr add "$pub" peer "$gw" dev up0 &&
		ip -n "$up" link set up0 up &&
		ip -n "$LAB_NS_inet" addr add "$gw" peer "$pub" dev "$link" &&
		ip -n "$LAB_NS_inet" link set "$link" up || return 1
	fi
	ip -n "$up" route add default via "$gw" || return 1
	_lab_link[$label]=$link
	export "LAB_KIND_$label=$kind" "LAB_PUBLIC_IP_$label=$pub" "LAB_ROUTER_NS_$label=$r"
	if [ "$kind" = none ]; then
		export "LAB_IP_$label=$pub"
	else
		ip -n "$r" link add in0 type veth peer name eth0 netns "$ns" &&
		ip -n "$r" addr add "10.$n.0.1/24" dev in0 &&
		ip -n "$r" link set in0 up &&
		ip -n "$ns" addr add "10.$n.0.2/24" dev eth0 &&
		ip -n "$ns" link set eth0 up &&
		ip -n "$ns" route add default via "10.$n.0.1" || return 1
		export "LAB_IP_$label=10.$n.0.2"
		_lab_nat_rules "$r" "$kind" "$pub" "10.$n.0.2" || return 1
	fi
	[ $# -ge 4 ] || return 0
	_lab_wire_start "$up" up0 "$LAB_NS_inet" "$link" "$label inet" "$3" "$4" "${5:-0}"
}

# _lab_nat_rules ROUTER_NS KIND PUBLIC_IP INSIDE_IP
_lab_nat_rules() {
	local ipt=(ip netns exec "$1" iptables -w 5 -t nat)
	case $2 in
	full-cone)
		# Endpoint-independent mapping and filtering: the source port
		# is kept (one inside host, no clash) and anything arriving
		# at the public address goes to the inside host.
		"${ipt[@]}" -A POSTROUTING -o up0 -j SNAT --to-source "$3" &&
		"${ipt[@]}" -A PREROUTING -i up0 -p udp -j DNAT --to-destination "$4" &&
		"${ipt[@]}" -A PREROUTING -i up0 -p tcp -j DNAT --to-destination "$4"
		;;
	port-restricted)
		# conntrack keeps the port (endpoint-independent mapping) and
		# only lets in replies from the exact address and port sent to.
		"${ipt[@]}" -A POSTROUTING -o up0 -j MASQUERADE
		;;
	symmetric)
		# A random public port for every new destination.
		"${ipt[@]}" -A POSTROUTING -o up0 -j MASQUERADE --random-fully
		;;
	esac || return 1
	# An unsolicited datagram is dropped before conntrack confirms it, as
	# a NAT router keeps no state for it: otherwise its entry would take
	# the mapping that the inside host's own packet to that peer needs a
	# moment later (the peer's hole-punching packet arriving first), and
	# conntrack would give that one another port.
	[ "$2" = full-cone ] ||
	ip netns exec "$1" iptables -w 5 -A INPUT -i up0 -p udp -m conntrack \
		--ctstate NEW -j DROP
}

# lab_nat_host KIND [RTT_MS LOSS_PERMILLE [RATE_MBIT]] and lab_nat_viewer:
# lab_nat_node with the labels host and viewer.
lab_nat_host() { lab_nat_node host "$@"; }
lab_nat_viewer() { lab_nat_node viewer "$@"; }

# lab_block_udp LABEL: the internet drops all UDP from and to the node
# LABEL (its TCP still passes): for TURN over TCP or TLS.
lab_block_udp() {
	local link=${_lab_link[$1]:-} ipt=(ip netns exec "$LAB_NS_inet" iptables -w 5)
	[ -n "$link" ] || { _lab_die "no NAT node labelled '$1'"; return 1; }
	"${ipt[@]}" -A FORWARD -i "$link" -p udp -j DROP &&
	"${ipt[@]}" -A FORWARD -o "$link" -p udp -j DROP &&
	"${ipt[@]}" -A INPUT -i "$link" -p udp -j DROP
}

# lab_ipv6 LABEL: the NAT node LABEL gets IPv6 besides its IPv4, as many
# networks behind a carrier's NAT have: a global address 2001:db8:N::2,
# not translated, behind its router's stateful firewall (what the node
# sent to lets replies in; nothing else from the internet gets in). The
# internet routes 2001:db8:N::/64 to that router. Exports LAB_IP6_LABEL.
lab_ipv6() {
	local label=$1 link=${_lab_link[$1]:-} r v=LAB_ROUTER_NS_$1 n ns
	[ -n "$link" ] && [ -n "${!v:-}" ] || { _lab_die "no NAT node labelled '$1'"; return 1; }
	r=${!v} ns=$_lab_prefix-$label n=${link#u}
	ip netns exec "$LAB_NS_inet" sysctl -q -w net.ipv6.conf.all.forwarding=1 \
		"net.ipv6.conf.$link.disable_ipv6=0" >/dev/null &&
	ip netns exec "$r" sysctl -q -w net.ipv6.conf.all.forwarding=1 \
		net.ipv6.conf.up0.disable_ipv6=0 net.ipv6.conf.in0.disable_ipv6=0 >/dev/null &&
	ip netns exec "$ns" sysctl -q -w net.ipv6.conf.eth0.disable_ipv6=0 >/dev/null &&
	ip -n "$LAB_NS_inet" addr add "2001:db8:ffff:$n::1/64" dev "$link" nodad &&
	ip -n "$r" addr add "2001:db8:ffff:$n::2/64" dev up0 nodad &&
	ip -n "$r" addr add "2001:db8:$n::1/64" dev in0 nodad &&
	ip -n "$ns" addr add "2001:db8:$n::2/64" dev eth0 nodad &&
	ip -n "$LAB_NS_inet" route add "2001:db8:$n::/64" via "2001:db8:ffff:$n::2" &&
	ip -n "$r" route add default via "2001:db8:ffff:$n::1" &&
	ip -n "$ns" route add default via "2001:db8:$n::1" || return 1
	local ipt=(ip netns exec "$r" ip6tables -w 5)
	"${ipt[@]}" -A FORWARD -i up0 -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT &&
	"${ipt[@]}" -A FORWARD -i up0 -p ipv6-icmp -j ACCEPT &&
	"${ipt[@]}" -A FORWARD -i up0 -j DROP || return 1
	export "LAB_IP6_$label=2001:db8:$n::2"
}

# UDP probes (tests/lab/udp.py) for checking what a NAT does.
# lab_udp_reflect LABEL PORT: a service on LABEL's address that answers
# each datagram with the sender's address as it sees it ("ADDR:PORT"): a
# minimal STUN server. Stopped at exit.
lab_udp_reflect() {
	local v=LAB_IP_$1
	lab_exec "$1" python3 "$LAB_UDP" reflect "${!v}" "$2" &
	_lab_pids+=("$!")
	wait_for 5 _lab_udp_bound "$1" "$2"
}

_lab_udp_bound() { [ -n "$(lab_exec "$1" ss -Hlun "sport = :$2")" ]; }

# lab_udp_ask LABEL SRC_PORT ADDR PORT: sends a datagram from LABEL's
# namespace, source port SRC_PORT, to ADDR:PORT and prints the answer
# (nothing when none comes within 1 s).
lab_udp_ask() { lab_exec "$1" timeout 5 python3 "$LAB_UDP" ask "$2" "$3" "$4"; }

# lab_udp_send LABEL SRC_PORT ADDR PORT TEXT: sends TEXT in one datagram.
lab_udp_send() { lab_exec "$1" timeout 5 python3 "$LAB_UDP" send "$2" "$3" "$4" "$5"; }

# lab_udp_recv LABEL PORT SECONDS FILE: listens on UDP PORT in LABEL's
# namespace in the background and returns once bound; the first datagram
# within SECONDS goes to FILE. `wait $LAB_UDP_RECV_PID` for it to finish.
lab_udp_recv() {
	lab_exec "$1" timeout $(($3 + 5)) python3 "$LAB_UDP" recv "$2" "$3" >"$4" 2>/dev/null &
	LAB_UDP_RECV_PID=$!
	wait_for 5 _lab_udp_bound "$1" "$2"
}

# lab_turn_allocate LABEL udp|tcp|tls [USER PASSWORD]: from LABEL's
# namespace, asks the lab's coturn for a UDP relay (TLS verified with the
# lab's CA) and prints the relayed address; fails with the server's error.
lab_turn_allocate() {
	local port=3478
	[ "$2" = tls ] && port=5349
	lab_exec "$1" timeout 10 python3 "$LAB_TURN_ALLOCATE" "$2" "$LAB_SERVER_IP" "$port" \
		"${3:-$LAB_TURN_USER}" "${4:-$LAB_TURN_PASS}" "$LAB_CA_FILE"
}

# lab_tcp_goodput NS_SERVER NS_CLIENT ADDR CC SECONDS: kernel TCP from
# NS_CLIENT to an iperf3 server on ADDR in NS_SERVER (namespace names, or
# lab labels), congestion control CC (cubic, bbr, ...) on the sender, for
# SECONDS; prints the receiver's goodput in Mbit/s (one decimal).
lab_tcp_goodput() {
	[ $# -eq 5 ] || { _lab_die "usage: lab_tcp_goodput NS_SERVER NS_CLIENT ADDR CC SECONDS"; return 1; }
	local s=$1 c=$2 addr=$3 cc=$4 secs=$5 v json spid
	v=LAB_NS_$s; [[ $s =~ ^[A-Za-z0-9_]+$ ]] && [ -n "${!v:-}" ] && s=${!v}
	v=LAB_NS_$c; [[ $c =~ ^[A-Za-z0-9_]+$ ]] && [ -n "${!v:-}" ] && c=${!v}
	if ! grep -qw "$cc" /proc/sys/net/ipv4/tcp_available_congestion_control; then
		modprobe "tcp_$cc" 2>/dev/null
		grep -qw "$cc" /proc/sys/net/ipv4/tcp_available_congestion_control ||
			{ _lab_die "TCP congestion control $cc is not available in this kernel (modprobe tcp_$cc failed)"; return 1; }
	fi
	ip netns exec "$s" timeout $((secs + 20)) iperf3 -s -1 -B "$addr" -p 5201 \
		>"$LAB_DIR/iperf3-server.log" 2>&1 &
	spid=$!
	_lab_pids+=("$spid")
	wait_for 5 eval "[ -n \"\$(ip netns exec '$s' ss -Hltn 'sport = :5201')\" ]" ||
		{ _lab_die "iperf3 server did not start: $(cat "$LAB_DIR/iperf3-server.log")"; return 1; }
	json=$(ip netns exec "$c" timeout $((secs + 15)) iperf3 -c "$addr" -p 5201 \
		-C "$cc" -t "$secs" -J 2>&1)
	wait "$spid" 2>/dev/null
	printf '%s' "$json" | python3 -c '
import json, sys
r = json.load(sys.stdin)
if "error" in r:
    sys.exit("lab: iperf3: " + r["error"])
cc = r["end"].get("sender_tcp_congestion")
if cc != sys.argv[1]:
    sys.exit("lab: iperf3 ran %s, not %s" % (cc, sys.argv[1]))
print("%.1f" % (r["end"]["sum_received"]["bits_per_second"] / 1e6))
' "$cc"
}
