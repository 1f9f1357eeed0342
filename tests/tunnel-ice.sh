#!/bin/bash
# pp-tunnel's ICE path in the NAT lab, beyond the matrix of tunnel-nat.sh:
# TURN over TCP, and over TLS to coturn's TLS port (turns://, verified
# with the lab's CA), when the internet drops a viewer's UDP; the
# broker stopped and started under a connected viewer (the stream goes
# on, and a new viewer connects once the broker is back); junk and a
# replayed offer on the host's topic are ignored; a full host refuses
# with 75; an unreachable broker and a pair of NATs with no relay exit 69
# saying so.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/tunnel-lib.sh"
. "$top_srcdir/tests/lab/lab.sh"
need_root
need pp-tunnel ticket-test ip iptables mosquitto mosquitto_sub mosquitto_pub turnserver \
	certtool sha256sum timeout python3
plan 45

lab_nat || bail "the lab's internet did not start"
lab_nat_node h port-restricted && lab_nat_node v port-restricted &&
lab_nat_node v2 full-cone && lab_nat_node hs symmetric &&
lab_nat_node vs symmetric && lab_nat_node vt full-cone || bail "lab nodes"
lab_block_udp vt || bail "cannot block UDP"
at_exit tunnel_stop_ns

turn="turn://$LAB_TURN_USER:$LAB_TURN_PASS@$LAB_SERVER_IP:3478"
net=(--stun "$LAB_STUN")
# inns LABEL CMD...: runs CMD in LABEL's namespace.
inns() { local v=LAB_NS_$1; shift; ip netns exec "${!v}" "$@"; }
head -c 1000000 /dev/urandom > "$TEST_TMP/f"
want=$(sha "$TEST_TMP/f")

# --- TURN over TCP: the viewer's UDP is dropped -------------------------
tunnel_listen_ns "$LAB_NS_hs" tcp --rendezvous "$LAB_MQTT_URL" "${net[@]}" \
	--turn "$turn?transport=udp" -- cat "$TEST_TMP/f"
hpid=$tunnel_pid
inns vt timeout 60 pp-tunnel connect "$tunnel_ticket" "${net[@]}" \
	--turn "$turn?transport=tcp" --timeout 20 --status-fd 3 < /dev/null \
	> "$TEST_TMP/tcp.out" 2> "$TEST_TMP/tcp.err" 3> "$TEST_TMP/tcp.events"
is "$?" 0 "UDP blocked: the viewer exits 0"
is "$(sha "$TEST_TMP/tcp.out")" "$want" "UDP blocked: 1 MB identical"
like "$(cat "$TEST_TMP/tcp.err")" 'connected through the rendezvous .*path relayed through TURN over TCP' \
	"UDP blocked: relayed through TURN over TCP"
like "$(head -n 1 "$TEST_TMP/tcp.events")" '^connected path=relayed addr=[0-9.]+:[0-9]+ family=IPv4 rtt_ms=[0-9]+\.[0-9] via=rendezvous$' \
	"...and its connected event says so"
# The same over TLS (turns://, coturn's port 5349).
inns vt timeout 60 pp-tunnel connect "$tunnel_ticket" "${net[@]}" \
	--turn "turns://$LAB_TURN_USER:$LAB_TURN_PASS@$LAB_SERVER_IP:5349" \
	--turn-ca "$LAB_CA_FILE" --timeout 20 < /dev/null > "$TEST_TMP/tls.out" 2> "$TEST_TMP/tls.err"
is "$?" 0 "UDP blocked, TURN over TLS: the viewer exits 0"
is "$(sha "$TEST_TMP/tls.out")" "$want" "UDP blocked, TURN over TLS: 1 MB identical"
like "$(cat "$TEST_TMP/tls.err")" 'connected through the rendezvous .*path relayed through TURN over TLS' \
	"UDP blocked: relayed through TURN over TLS"
kill -TERM "$hpid"

# --- a TURN URL without ?transport=: UDP, and TCP when UDP is dropped ----
# The host's server, handed to the viewers: one whose UDP is dropped is
# relayed over TCP, one behind a symmetric NAT over UDP.
tunnel_listen_ns "$LAB_NS_hs" any --rendezvous "$LAB_MQTT_URL" "${net[@]}" \
	--turn "$turn" -- cat "$TEST_TMP/f"
hpid=$tunnel_pid
like "$(cat "$tunnel_log")" 'TURN over UDP or TCP' "no ?transport=: the host says UDP or TCP"
t0=$(date +%s%N)
inns vt timeout 60 pp-tunnel connect "$tunnel_ticket" "${net[@]}" --timeout 20 \
	--status-fd 3 < /dev/null > "$TEST_TMP/any.out" 2> "$TEST_TMP/any.err" 3> "$TEST_TMP/any.events" &
vpid=$!
track_pid "$vpid"
# A figure for the reader, not a check: from the command to its event.
wait_for 30 grep -q '^connected ' "$TEST_TMP/any.events" &&
	diag "connected over TCP $(( ($(date +%s%N) - t0) / 1000000 )) ms after the command (±100 ms)"
reap "$vpid" 30
is "$?" 0 "the host's server, the viewer's UDP blocked: exit 0"
is "$(sha "$TEST_TMP/any.out")" "$want" "...1 MB identical"
like "$(cat "$TEST_TMP/any.err")" 'path relayed through TURN over TCP' "...relayed through the host's TURN server over TCP"
inns vs timeout 60 pp-tunnel connect "$tunnel_ticket" "${net[@]}" --timeout 20 \
	< /dev/null > "$TEST_TMP/anyu.out" 2> "$TEST_TMP/anyu.err"
is "$?" 0 "the host's server, a symmetric NAT's viewer: exit 0"
like "$(cat "$TEST_TMP/anyu.err")" 'path relayed through TURN over UDP' "...relayed over UDP, which it prefers"
kill -TERM "$hpid"

# --- no path and no TURN: 69 with the advice ----------------------------
tunnel_listen_ns "$LAB_NS_hs" norelay --rendezvous "$LAB_MQTT_URL" "${net[@]}" \
	-- cat "$TEST_TMP/f"
hpid=$tunnel_pid
inns vs timeout 60 pp-tunnel connect "$tunnel_ticket" "${net[@]}" --timeout 8 \
	< /dev/null > "$TEST_TMP/norelay.out" 2> "$TEST_TMP/norelay.err"
is "$?" 69 "two symmetric NATs and no TURN: exit 69"
msg=$(tail -n 1 "$TEST_TMP/norelay.err")
like "$msg" 'no path to the host' "saying there is no path"
like "$msg" '[0-9]+ local candidates \([0-9]+ host, [0-9]+ server-reflexive, 0 relayed\), [0-9]+ remote; [0-9]+ pairs checked' \
	"listing the candidates gathered and pairs checked"
like "$msg" 'no TURN server was given: both sides. NATs seem to need a relay; give one with --turn turn://USER:PASS@HOST:PORT' \
	"and how to give a relay"
is "$(wc -c < "$TEST_TMP/norelay.out")" 0 "not one byte"
# A viewer whose network drops UDP: its own, and the advice fits it.
inns vt timeout 60 pp-tunnel connect "$tunnel_ticket" "${net[@]}" --timeout 8 \
	< /dev/null > /dev/null 2> "$TEST_TMP/noudp.err"
is "$?" 69 "the viewer's UDP dropped and no TURN: exit 69"
like "$(tail -n 1 "$TEST_TMP/noudp.err")" 'no TURN server was given: this side got no answer from its STUN server: its network seems to drop UDP, which a TURN server reached over TCP gets through; give one with --turn .* or the turn key of config.toml' \
	"...saying this side's network drops UDP, and how to give a relay"
kill -TERM "$hpid"

# --- an unreachable broker: 69 naming it --------------------------------
inns h timeout 60 pp-tunnel listen --rendezvous mqtt://192.0.2.1:1884 "${net[@]}" \
	-- cat > /dev/null 2> "$TEST_TMP/nobroker.err"
is "$?" 69 "listen with an unreachable broker exits 69"
like "$(cat "$TEST_TMP/nobroker.err")" 'cannot reach the rendezvous mqtt://192\.0\.2\.1:1884' \
	"naming the broker"
is "$(wc -l < "$TEST_TMP/nobroker.err")" 1 "in one line" || diag "$(cat "$TEST_TMP/nobroker.err")"

# The viewer too, when the host's direct addresses do not answer.
t=$(ticket-test addr 10.99.0.1 "$tunnel_ticket")
inns v timeout 60 pp-tunnel connect "$t" --rendezvous mqtt://192.0.2.1:1884 \
	"${net[@]}" --timeout 5 < /dev/null > /dev/null 2> "$TEST_TMP/nobroker2.err"
is "$?" 69 "connect with an unreachable broker exits 69"
like "$(cat "$TEST_TMP/nobroker2.err")" 'cannot reach the rendezvous mqtt://192\.0\.2\.1:1884.*direct addresses did not answer: 10\.99\.0\.1' \
	"naming the broker and the addresses tried"

# mqtts:// without --rendezvous-ca verifies with the system's CA store
# (OpenSSL's, which SSL_CERT_FILE replaces): the lab's CA is not in it...
inns h timeout 60 pp-tunnel listen --rendezvous "$LAB_MQTTS_URL" "${net[@]}" \
	-- cat > /dev/null 2> "$TEST_TMP/noca.err"
is "$?" 69 "mqtts:// with a certificate the CA store does not know: 69"
like "$(cat "$TEST_TMP/noca.err")" "cannot reach the rendezvous $LAB_MQTTS_URL" "naming the broker"
# ... and when it is, the broker is trusted.
SSL_CERT_FILE=$LAB_CA_FILE tunnel_listen_ns "$LAB_NS_h" sysca \
	--rendezvous "$LAB_MQTTS_URL" "${net[@]}" -- echo trusted
like "$(cat "$tunnel_log")" "rendezvous $LAB_MQTTS_URL" "mqtts:// verified with the system's CA store"
kill -TERM "$tunnel_pid"

# --- the broker goes away under a connected viewer ----------------------
tunnel_listen_ns "$LAB_NS_h" slow --rendezvous "$LAB_MQTT_URL" "${net[@]}" \
	--max-viewers 1 \
	-- sh -c 'for i in $(seq 1 16); do echo "line $i"; sleep 0.5; done'
hpid=$tunnel_pid
slow=$tunnel_ticket
slowlog=$tunnel_log
inns v timeout 60 pp-tunnel connect "$slow" "${net[@]}" --timeout 20 < /dev/null \
	> "$TEST_TMP/slow.out" 2> "$TEST_TMP/slow.err" &
vpid=$!
track_pid "$vpid"
wait_for 20 grep -q 'line 2' "$TEST_TMP/slow.out" || diag "$(cat "$TEST_TMP/slow.err")"

# While that viewer is connected, the host is full: 75.
inns v2 timeout 60 pp-tunnel connect "$slow" "${net[@]}" --timeout 20 < /dev/null \
	> /dev/null 2> "$TEST_TMP/full.err"
is "$?" 75 "a second viewer of a host with --max-viewers 1 exits 75"
like "$(cat "$TEST_TMP/full.err")" 'host is full \(1/1 viewers\)' "saying the host is full"

lab_mqtt_stop
ok "the host notices the broker is gone" wait_for 30 grep -q 'lost the rendezvous' "$slowlog"
wait "$vpid"
is "$?" 0 "the viewer's stream went on without the broker: exit 0"
is "$(tail -n 1 "$TEST_TMP/slow.out")" "line 16" "every line arrived"
is "$(wc -l < "$TEST_TMP/slow.out")" 16 "and only those"
lab_mqtt_start || bail "the broker did not start again"
ok "the host reconnects to the broker" wait_for 40 grep -q 'is back' "$slowlog"
inns v2 timeout 60 pp-tunnel connect "$slow" "${net[@]}" --timeout 20 < /dev/null \
	> "$TEST_TMP/after.out" 2> "$TEST_TMP/after.err"
is "$?" 0 "a new viewer connects once the broker is back"
is "$(head -n 1 "$TEST_TMP/after.out")" "line 1" "and gets the stream"
kill -TERM "$hpid"

# --- junk and a replayed offer on the host's topic ----------------------
PP_VERBOSE=1 tunnel_listen_ns "$LAB_NS_h" junk --rendezvous "$LAB_MQTT_URL" \
	"${net[@]}" -- echo still serving
hpid=$tunnel_pid
junklog=$tunnel_log
# Everything on the hosts' topics, hex, with the topic: the viewer's offer
# comes first.
inns v2 timeout 60 mosquitto_sub -h "$LAB_SERVER_IP" -t 'pixelpass/+' -F '%t %x' -C 1 \
	> "$TEST_TMP/captured" &
spid=$!
sleep 1
inns v timeout 60 pp-tunnel connect "$tunnel_ticket" "${net[@]}" --timeout 20 \
	< /dev/null > "$TEST_TMP/j1.out" 2> "$TEST_TMP/j1.err"
is "$?" 0 "a viewer connects while the topic is watched"
wait "$spid"
read -r topic hex < "$TEST_TMP/captured"
like "$topic" '^pixelpass/[0-9a-f]{32}$' "the topic says nothing but a hash"
unlike "$hex" "$(printf 'offer' | od -An -tx1 | tr -d ' \n')" "the offer is not in the clear"
offers=$(grep -c 'offer through the rendezvous' "$junklog")
is "$offers" 1 "the host saw one offer"
for i in 1 2 3 4 5 6 7 8; do
	head -c $((i * 40)) /dev/urandom > "$TEST_TMP/junk"
	inns v2 mosquitto_pub -h "$LAB_SERVER_IP" -t "$topic" -f "$TEST_TMP/junk"
done
inns v2 mosquitto_pub -h "$LAB_SERVER_IP" -t "$topic" -m 'hello'
printf '%s' "$hex" | python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.stdin.read()))' \
	> "$TEST_TMP/replay"
inns v2 mosquitto_pub -h "$LAB_SERVER_IP" -t "$topic" -f "$TEST_TMP/replay"
ok "the host drops the junk and the replay" \
	wait_for 10 test "$(grep -c 'not for us' "$junklog")" -ge 10
is "$(grep -c 'offer through the rendezvous' "$junklog")" 1 "no new viewer from the replayed offer"
inns v2 timeout 60 pp-tunnel connect "$tunnel_ticket" "${net[@]}" --timeout 20 \
	< /dev/null > "$TEST_TMP/j2.out" 2> "$TEST_TMP/j2.err"
is "$?" 0 "the host still serves a new viewer"
is "$(cat "$TEST_TMP/j2.out")" "still serving" "with its stream"
kill -TERM "$hpid"
