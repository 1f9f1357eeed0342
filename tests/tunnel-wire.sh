#!/bin/bash
# pp-tunnel between two network namespaces joined by the lab's wire at
# 50 ms RTT and 1% loss each way: the host's wire address is in the
# ticket, the viewer connects on it (direct, IPv4, an RTT of at least the
# wire's), and 20 MB arrive identical by SHA-256 in each direction.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/tunnel-lib.sh"
. "$top_srcdir/tests/lab/lab.sh"
need_root
need pp-tunnel ticket-test sha256sum ip timeout python3
plan 14

# ge A B: A >= B, as decimals.
ge() { python3 -c 'import sys; sys.exit(not float(sys.argv[1]) >= float(sys.argv[2]))' "$1" "$2"; }

# wire_connect NAME TICKET < in: `pp-tunnel connect` in the viewer's
# namespace, bounded against hangs; like tunnel_connect.
wire_connect() {
	local name=$1
	shift
	lab_exec v timeout 180 pp-tunnel connect "$@" > "$TEST_TMP/$name.out" 2> "$TEST_TMP/$name.err"
	tunnel_rc=$?
}

# rtt_of LINE: the RTT in ms that a connect line reports.
rtt_of() { sed -n 's/.*RTT \([0-9.]*\) ms.*/\1/p' <<< "$1"; }

# A fixed seed: the same packets are lost on every run.
LAB_WIRE_SEED=${LAB_WIRE_SEED:-20261126}
lab_wire h v 50 10 || bail "cannot build the lab's wire"
# The host's namespace has lo and the wire (emu0) only.
is "$(lab_exec h ip -o -4 addr show scope global | awk '{ print $2 }')" emu0 \
	"the host's namespace has one address besides loopback: the wire's"

head -c 20000000 /dev/urandom > "$TEST_TMP/file"
want=$(sha "$TEST_TMP/file")

## Host to viewer
tunnel_listen_ns "$LAB_NS_h" down -- cat "$TEST_TMP/file"
like "$(ticket-test addrs "$tunnel_ticket" | head -n 1)" "^${LAB_IP_h//./\\.}:[0-9]+\$" \
	"the ticket carries the host's wire address $LAB_IP_h first"
start=$(date +%s.%N)
wire_connect down "$tunnel_ticket" < /dev/null
secs=$(echo "$(date +%s.%N) - $start" | bc)
diag "20 MB host to viewer through 50 ms, 1% loss in $secs s"
is "$tunnel_rc" 0 "connect exits 0 after the whole file"
is "$(sha "$TEST_TMP/down.out")" "$want" "the viewer got the 20 MB file, identical"
line=$(cat "$TEST_TMP/down.err")
like "$line" "^pp-tunnel: connected to $LAB_IP_h:[0-9]+ \\(path direct, IPv4, RTT [0-9.]+ ms\\)\$" \
	"connect says it went direct over IPv4 to the wire address"
rtt=$(rtt_of "$line")
ok "the RTT it reports, ${rtt:-none} ms, is at least the wire's 50 ms" ge "${rtt:-0}" 50
wait_for 10 grep -q 'left after' "$tunnel_log"
like "$(cat "$tunnel_log")" "viewer $LAB_IP_v:[0-9]+ .*arrived \\(IPv4, RTT [0-9.]+ ms\\)" \
	"the host logs the viewer's wire address"
like "$(cat "$tunnel_log")" 'left after .*sent 20\.0 MB' "the host logs 20 MB sent"

## Viewer to host
tunnel_listen_ns "$LAB_NS_h" up -- sh -c "cat > '$TEST_TMP/up'; echo eof > '$TEST_TMP/up.eof'"
start=$(date +%s.%N)
wire_connect up "$tunnel_ticket" < "$TEST_TMP/file"
secs=$(echo "$(date +%s.%N) - $start" | bc)
diag "20 MB viewer to host through 50 ms, 1% loss in $secs s"
is "$tunnel_rc" 0 "connect exits 0 after sending its stdin"
ok "the host's command saw EOF" wait_for 20 test -s "$TEST_TMP/up.eof"
is "$(sha "$TEST_TMP/up")" "$want" "the host's command got the 20 MB, identical"
is "$(wc -c < "$TEST_TMP/up.out")" 0 "the viewer got nothing back"

## The wire really lost packets on the way
counters=$(lab_wire_counters h v)
diag "wire: $(tr '\n' ';' <<< "$counters")"
lost=$(sed -n 's/.* lost \([0-9]*\).*/\1/p' <<< "$counters" | paste -sd+ | bc)
ok "the wire dropped packets on the way (${lost:-?})" test "${lost:-0}" -gt 100
kill -TERM "$tunnel_pid"
wait "$tunnel_pid"
is "$?" 0 "the host exits 0 on SIGTERM"
