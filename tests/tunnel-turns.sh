#!/bin/bash
# What turns:// means with libnice, in the NAT lab: libnice (0.1.21 in
# Debian 12, and none since) has no TLS client for TURN in RFC 5245 mode;
# for a TURN-over-TLS server it opens a plain TCP connection to the
# server's TLS port and speaks TURN in the clear, so no certificate is
# ever checked. A stand-in server on a turns:// port records the first
# bytes each client sends: a STUN Allocate request, not a TLS
# ClientHello. pp-tunnel(1) says so; were a libnice to speak TLS there,
# this test would fail and the page would have to change.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/tunnel-lib.sh"
. "$top_srcdir/tests/lab/lab.sh"
need_root
need pp-tunnel ip iptables mosquitto turnserver certtool timeout python3
plan 6

lab_nat || bail "the lab's internet did not start"
lab_nat_node h full-cone && lab_nat_node v full-cone || bail "lab nodes"
at_exit tunnel_stop_ns
inns() { local v=LAB_NS_$1; shift; ip netns exec "${!v}" "$@"; }

# The stand-in: accepts for 40 s at most, writes the hex of the first
# bytes of each connection, one line each, and closes it.
inns inet timeout 40 python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(8)
open(sys.argv[3] + ".up", "w").close()
while True:
    c, _ = s.accept()
    c.settimeout(5)
    try:
        data = c.recv(64)
    except OSError:
        data = b""
    with open(sys.argv[3], "a") as f:
        f.write(data.hex() + "\n")
    c.close()
' "$LAB_SERVER_IP" 5350 "$TEST_TMP/first" &
track_pid $!
wait_for 10 test -e "$TEST_TMP/first.up" || bail "the stand-in server did not start"

# The host's TURN server goes to the viewer in the sealed answer: both
# connect to it. The relay fails; the NATs are punched anyway.
tunnel_listen_ns "$LAB_NS_h" host --rendezvous "$LAB_MQTT_URL" --stun "$LAB_STUN" \
	--turn "turns://user:pass@$LAB_SERVER_IP:5350" -- echo hello
inns v timeout 60 pp-tunnel connect "$tunnel_ticket" --stun "$LAB_STUN" --timeout 20 \
	< /dev/null > "$TEST_TMP/v.out" 2> "$TEST_TMP/v.err"
is "$?" 0 "a viewer connects (punched; the stand-in relays nothing)" ||
	diag "$(cat "$TEST_TMP/v.err")"
is "$(cat "$TEST_TMP/v.out")" hello "and gets the stream"
like "$(cat "$tunnel_log")" 'TURN over TCP to a turns:// port, without TLS' \
	"the host's log says what turns:// does"

ok "the stand-in server was reached over TCP" wait_for 10 test -s "$TEST_TMP/first"
first=$(head -n 1 "$TEST_TMP/first")
diag "first bytes: ${first:0:40}"
# STUN: type 0x0003 (Allocate request), a length, the magic cookie.
like "$first" '^0003[0-9a-f]{4}2112a442' "libnice's first bytes are a STUN Allocate request in the clear"
unlike "$(cat "$TEST_TMP/first")" '^16030' "and never a TLS ClientHello"
kill -TERM "$tunnel_pid"
