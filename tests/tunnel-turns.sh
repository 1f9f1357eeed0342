#!/bin/bash
# turns:// in the NAT lab. libnice (0.1.21 in Debian 12) has no TLS
# client for TURN, so pp-tunnel does the TLS itself: libnice speaks TURN
# over TCP to a loopback port of pp-tunnel, which carries it to the server
# inside TLS, the certificate verified for the URL's host against the
# system's CAs and --turn-ca. Here: the first bytes on a turns:// port
# are a TLS ClientHello; a viewer whose UDP is blocked is relayed through
# coturn's TLS port (the host's server, from the sealed answer, verified
# with the viewer's own --turn-ca); a certificate not trusted (no CA, a
# wrong CA, another name) is refused with one clear line, and then the
# viewer exits 69 saying what it tried, or connects on another path.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/tunnel-lib.sh"
. "$top_srcdir/tests/lab/lab.sh"
need_root
need pp-tunnel ip iptables mosquitto turnserver certtool sha256sum timeout python3
plan 30

lab_nat || bail "the lab's internet did not start"
lab_nat_node h full-cone && lab_nat_node v full-cone &&
lab_nat_node vt full-cone || bail "lab nodes"
lab_block_udp vt || bail "cannot block UDP"
at_exit tunnel_stop_ns
inns() { local v=LAB_NS_$1; shift; ip netns exec "${!v}" "$@"; }
net=(--stun "$LAB_STUN")
cred=$LAB_TURN_USER:$LAB_TURN_PASS
turns="turns://$cred@$LAB_SERVER_IP:5349"
head -c 300000 /dev/urandom > "$TEST_TMP/f"
want=$(sha "$TEST_TMP/f")

# --- the first bytes on a turns:// port ---------------------------------
# A stand-in server: accepts for 40 s at most, writes the hex of the
# first bytes of each connection, one line each, and closes it.
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
tunnel_listen_ns "$LAB_NS_h" standin --rendezvous "$LAB_MQTT_URL" "${net[@]}" \
	--turn "turns://user:pass@$LAB_SERVER_IP:5350" -- echo hello
inns v timeout 60 pp-tunnel connect "$tunnel_ticket" "${net[@]}" --timeout 20 \
	< /dev/null > "$TEST_TMP/v.out" 2> "$TEST_TMP/v.err"
is "$?" 0 "a viewer connects (punched; the stand-in relays nothing)" ||
	diag "$(cat "$TEST_TMP/v.err")"
is "$(cat "$TEST_TMP/v.out")" hello "and gets the stream"
like "$(cat "$tunnel_log")" "rendezvous $LAB_MQTT_URL, STUN $LAB_SERVER_IP, TURN over TLS" \
	"the host's log says TURN over TLS"
ok "the stand-in server was reached over TCP" wait_for 10 test -s "$TEST_TMP/first"
first=$(head -n 1 "$TEST_TMP/first")
diag "first bytes: ${first:0:40}"
# A TLS handshake record (0x16, version 3.x), holding a ClientHello (1).
like "$first" '^16030[0-4][0-9a-f]{4}01' "the first bytes are a TLS ClientHello"
unlike "$(cat "$TEST_TMP/first")" '2112a442' "never a STUN message in the clear"
like "$(cat "$tunnel_log")" "TURN server $LAB_SERVER_IP:5350: TLS handshake failed" \
	"the host says its relay failed"
kill -TERM "$tunnel_pid"

# --- through coturn's TLS port ------------------------------------------
tunnel_listen_ns "$LAB_NS_h" tls --rendezvous "$LAB_MQTT_URL" "${net[@]}" \
	--turn "$turns" --turn-ca "$LAB_CA_FILE" -- cat "$TEST_TMP/f"
hpid=$tunnel_pid
hlog=$tunnel_log
inns vt env PP_VERBOSE=1 timeout 60 pp-tunnel connect "$tunnel_ticket" "${net[@]}" \
	--turn-ca "$LAB_CA_FILE" --timeout 20 < /dev/null > "$TEST_TMP/tls.out" 2> "$TEST_TMP/tls.err"
is "$?" 0 "UDP blocked, the host's turns:// server: the viewer exits 0" ||
	diag "$(cat "$TEST_TMP/tls.err")"
is "$(sha "$TEST_TMP/tls.out")" "$want" "the file is identical"
like "$(grep connected "$TEST_TMP/tls.err")" 'path relayed through TURN over TLS, relay 192\.0\.2\.1:' \
	"relayed through TURN over TLS"
like "$(cat "$TEST_TMP/tls.err")" "TURN server $LAB_SERVER_IP:5349: TLS1\\.[23]" \
	"after a TLS handshake with the certificate verified"

# --- certificates not trusted -------------------------------------------
# No CA: the system's store does not know the lab's.
inns vt timeout 60 pp-tunnel connect "$tunnel_ticket" "${net[@]}" --timeout 6 \
	< /dev/null > "$TEST_TMP/noca.out" 2> "$TEST_TMP/noca.err"
is "$?" 69 "without the CA: no relay, no path: exit 69"
untrusted_text="TURN server $LAB_SERVER_IP:5349: certificate not trusted (issuer unknown); give its CA with --turn-ca"
untrusted=$(printf '%s' "$untrusted_text" | sed 's/[().]/\\&/g')
like "$(head -n 1 "$TEST_TMP/noca.err")" "^pp-tunnel: $untrusted\$" "one clear line says why"
is "$(grep -c 'certificate not trusted' "$TEST_TMP/noca.err")" 2 "once, and in the error"
msg=$(tail -n 1 "$TEST_TMP/noca.err")
like "$msg" 'no path to the host .*0 relayed\), [0-9]+ remote; [0-9]+ pairs checked; direct: ' \
	"the error lists what was tried"
like "$msg" "; no relay: $untrusted\$" "and why there was no relay"
is "$(wc -c < "$TEST_TMP/noca.out")" 0 "not one byte"

# A wrong CA, from config.toml.
cat > "$TEST_TMP/ca.tmpl" <<EOF
cn = "another CA"
ca
cert_signing_key
expiration_days = 2
EOF
certtool --generate-privkey --key-type=ecdsa --outfile "$TEST_TMP/other.key" 2>/dev/null &&
certtool --generate-self-signed --load-privkey "$TEST_TMP/other.key" \
	--template "$TEST_TMP/ca.tmpl" --outfile "$TEST_TMP/other.pem" 2>/dev/null ||
	bail "certtool failed"
mkdir -p "$TEST_TMP/xdg/pixelpass"
printf '[network]\nturn_ca = "%s"\n' "$TEST_TMP/other.pem" > "$TEST_TMP/xdg/pixelpass/config.toml"
inns vt env XDG_CONFIG_HOME="$TEST_TMP/xdg" timeout 60 pp-tunnel connect "$tunnel_ticket" \
	"${net[@]}" --timeout 6 < /dev/null > /dev/null 2> "$TEST_TMP/wrongca.err"
is "$?" 69 "with a wrong CA (turn_ca in config.toml): exit 69"
like "$(head -n 1 "$TEST_TMP/wrongca.err")" "^pp-tunnel: $untrusted\$" "saying the certificate is not trusted"

# Another name: 192.0.2.99 leads to the lab's server (DNAT in the viewer's
# namespace), whose certificate is for 192.0.2.1 only.
inns vt iptables -w 5 -t nat -A OUTPUT -d 192.0.2.99 -p tcp --dport 5349 \
	-j DNAT --to-destination "$LAB_SERVER_IP:5349" || bail "DNAT"
inns vt timeout 60 pp-tunnel connect "$tunnel_ticket" "${net[@]}" --timeout 6 \
	--turn "turns://$cred@192.0.2.99:5349" --turn-ca "$LAB_CA_FILE" \
	< /dev/null > /dev/null 2> "$TEST_TMP/name.err"
is "$?" 69 "a certificate for another address: exit 69"
like "$(head -n 1 "$TEST_TMP/name.err")" \
	'^pp-tunnel: TURN server 192\.0\.2\.99:5349: certificate not trusted \(not issued for 192\.0\.2\.99\); check the host name of the turns:// URL$' \
	"saying it is not for that address"
kill -TERM "$hpid"

# --- a host whose relay is refused still serves on another path ---------
tunnel_listen_ns "$LAB_NS_h" hnoca --rendezvous "$LAB_MQTT_URL" "${net[@]}" \
	--turn "$turns" -- cat "$TEST_TMP/f"
hpid=$tunnel_pid
inns v timeout 60 pp-tunnel connect "$tunnel_ticket" "${net[@]}" --timeout 20 \
	< /dev/null > "$TEST_TMP/fb.out" 2> "$TEST_TMP/fb.err"
is "$?" 0 "neither side trusts the relay: the viewer still connects" ||
	diag "$(cat "$TEST_TMP/fb.err")"
is "$(sha "$TEST_TMP/fb.out")" "$want" "the file is identical"
like "$(grep connected "$TEST_TMP/fb.err")" 'path UDP punched through NAT' "punched through the NATs"
like "$(cat "$TEST_TMP/fb.err")" "$untrusted" "the viewer says why it had no relay"
ok "and the host too" wait_for 10 grep -qF "$untrusted_text" "$tunnel_log"
is "$(grep -c 'certificate not trusted' "$tunnel_log")" 1 "once for that viewer"
kill -TERM "$hpid"

# --- options ------------------------------------------------------------
inns h timeout 10 pp-tunnel listen --rendezvous "$LAB_MQTT_URL" "${net[@]}" \
	--turn "$turns" --turn-ca "$TEST_TMP/f" -- true > /dev/null 2> "$TEST_TMP/badca.err"
is "$?" 64 "a --turn-ca that is not PEM: exit 64"
like "$(cat "$TEST_TMP/badca.err")" "^pp-tunnel: TURN CA file $TEST_TMP/f: " "naming it"
is "$(wc -l < "$TEST_TMP/badca.err")" 1 "in one line"
