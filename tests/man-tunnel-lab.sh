#!/bin/bash
# Runs the examples of pp-tunnel(1) with a broker and a TURN server of
# one's own, as written there (extracted from the man page), in the NAT
# lab (tests/lab/lab.sh: mosquitto over TLS and coturn in an "internet"
# namespace, the host and a viewer each behind a full-cone NAT, and a
# viewer whose UDP the internet drops), and checks what each made:
#  - through NATs on the broker, the host handing its TURN server to the
#    viewer: talk.ts arrives whole, and the viewer's line is the man
#    page's (its "..." and RTT aside): UDP punched through NAT;
#  - the viewer whose network blocks UDP, with its own TURN server over
#    TCP: what it writes to stdout is talk.ts, whole, relayed through
#    TURN over TCP;
#  - the same over TLS, with turn-ca.pem: talk.ts arrives whole, and the
#    line is the man page's: relayed through TURN over TLS.
# Substituted with sed, the minimum: broker.example.org and
# turn.example.org by the lab's server address 192.0.2.1 (its certificate
# is for that address), the password "secret" by the lab coturn's, and
# "pp1..." by the host's ticket. Not in the commands: turn-ca.pem is a
# copy of the lab's CA; SSL_CERT_FILE names the lab's CA too, as the
# system's store would hold the CA of a real broker's certificate (the
# lab's broker has none from a public CA); config.toml names the lab's
# STUN server, as pp-tunnel's default ones are public servers the lab
# cannot reach. The examples without a broker are run by man-tunnel.sh.
# About 12 s.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/tunnel-lib.sh"
. "$top_srcdir/tests/lab/lab.sh"
. "$top_srcdir/tests/man-lib.sh"
. "$top_srcdir/tests/encode-lib.sh"
need_root
need pp-tunnel pp-encode ip iptables mosquitto turnserver certtool sha256sum ffprobe
plan 12

private_xdg
export PULSE_SERVER="unix:$TEST_TMP/no-such-socket"
lab_nat || bail "the lab's internet did not start"
lab_nat_node h full-cone && lab_nat_node v full-cone &&
    lab_nat_node vt full-cone || bail "lab nodes"
lab_block_udp vt || bail "cannot block UDP"
mkdir -p "$XDG_CONFIG_HOME/pixelpass" "$TEST_TMP/host" "$TEST_TMP/viewer"
printf '[network]\nstun = "%s"\n' "$LAB_STUN" > "$XDG_CONFIG_HOME/pixelpass/config.toml"
export SSL_CERT_FILE=$LAB_CA_FILE
cp "$LAB_CA_FILE" "$TEST_TMP/host/turn-ca.pem"
cp "$LAB_CA_FILE" "$TEST_TMP/viewer/turn-ca.pem"
cd "$TEST_TMP" || bail "no temp dir"

mapfile -d '' -t ex < <(man_examples pp-tunnel)
# first N: the first line of example N, without its backslash.
first() { printf '%s' "${ex[$1]%%$'\n'*}" | sed 's/ *\\$//'; }
is "${#ex[@]}|$(first 9)|$(first 10)|$(first 11)|$(first 12)|$(first 13)" \
    "14|pp-tunnel listen --rendezvous mqtts://broker.example.org:8883|pp-tunnel connect pp1... > talk.ts|pp-tunnel connect pp1...|pp-tunnel listen --rendezvous mqtts://broker.example.org:8883|pp-tunnel connect pp1... --turn-ca turn-ca.pem > talk.ts" \
    "pp-tunnel(1) has the broker and TURN examples this test knows"

# lab CMD: example text with the lab's server and password.
lab() {
	sed -e "s/broker\\.example\\.org/$LAB_SERVER_IP/g; s/turn\\.example\\.org/$LAB_SERVER_IP/g" \
	    -e "s/pixelpass:secret@/$LAB_TURN_USER:$LAB_TURN_PASS@/g; s/pp1\\.\\.\\./${ticket:-pp1...}/g"
}
# in_ns NS CMD: CMD run by bash in namespace NS.
in_ns() { printf 'exec ip netns exec %q bash -o pipefail -c %q' "$1" "$2"; }
# shown N: the man page's output after the example command line N (the
# two lines joined) as an extended regex: its "..." and the RTT any.
shown() {
	sed -n '/^\.Sh EXAMPLES/,/^\.Sh SEE ALSO/p' "$top_srcdir/man/pp-tunnel.1" |
	    sed 's/\\e/\\/g; s/\\-/-/g' | awk -v n="$1" '
	    /^viewer\$ / { v++; next } v == n && /^(pp-tunnel:|  \()/ { sub(/^  /, " "); printf "%s", $0 }' |
	    lab | sed 's/\.\.\./@ANY@/g; s/RTT [0-9.]*/RTT @NUM@/' |
	    sed 's/[][().*+?^$|\\]/\\&/g; s/@ANY@/.*/g; s/@NUM@/[0-9.]+/'
}
# host N: example N in the host's namespace, in host/; waits for the ticket.
host() {
	cd "$TEST_TMP/host" || return 1
	ticket=
	man_start "host$1" "$(in_ns "$LAB_NS_h" "$(printf '%s' "${ex[$1]}" | lab)")"
	host_pid=$man_pid
	wait_for 30 grep -qs '^pp1' "host$1.out" || bail "no ticket: $(tail -n 3 "host$1.err")"
	ticket=$(head -n 1 "host$1.out")
	cd "$TEST_TMP/viewer" || return 1
}

encode_for 2 host/talk.ts host/encode.err -- --source test --max-size 320x240 --bitrate 1000 ||
    bail "pp-encode made no talk.ts"
want=$(sha host/talk.ts)

# Through NATs, on a broker and with a TURN server of one's own.
host 9
man_run v10 60 "$(in_ns "$LAB_NS_v" "$(printf '%s' "${ex[10]}" | lab)")"
is "$man_rc" 0 "${ex[10]}: exit 0"
is "$(sha talk.ts)" "$want" "...talk.ts arrives whole"
re=$(shown 4)
diag "the man page's line: $re"
like "$(grep 'connected through' v10.err)" "^$re\$" "...the man page's line: connected through the broker, UDP punched through NAT"

# A viewer whose network blocks UDP, relayed over TCP (its stdout in
# v11.out).
man_run v11 60 "$(in_ns "$LAB_NS_vt" "$(printf '%s' "${ex[11]}" | lab)")"
is "$man_rc" 0 "$(first 11) --turn '...?transport=tcp': exit 0"
is "$(sha v11.out)" "$want" "...talk.ts arrives whole"
like "$(grep 'connected through' v11.err)" "connected through the rendezvous mqtts://$LAB_SERVER_IP:8883 \\(path relayed through TURN over TCP" \
    "...relayed through TURN over TCP"
man_pid=$host_pid man_stop 0
is "$man_rc" 0 "$(first 9) ...: the host's exit 0 on Control-C"

# The same over TLS, with a CA of one's own.
host 12
rm -f talk.ts
man_run v13 60 "$(in_ns "$LAB_NS_vt" "$(printf '%s' "${ex[13]}" | lab)")"
is "$man_rc" 0 "${ex[13]}: exit 0"
is "$(sha talk.ts)" "$want" "...talk.ts arrives whole"
re=$(shown 6)
diag "the man page's line: $re"
like "$(grep 'connected through' v13.err)" "^$re\$" "...the man page's line: relayed through TURN over TLS"
man_pid=$host_pid man_stop 0
is "$man_rc" 0 "$(first 12) ...: the host's exit 0 on Control-C"
