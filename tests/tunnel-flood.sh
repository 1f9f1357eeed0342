#!/bin/bash
# A party without the ticket floods the host's rendezvous topic, in the
# NAT lab: random bytes, forged envelopes that pass every cheap check (so
# that each costs a decryption), and replays of a real viewer's offer,
# candidates and the host's own answers captured from the broker. A
# viewer with the ticket connects during the flood and gets its stream
# whole; the host runs its command for nobody else, and its CPU time and
# memory stay bounded (the figures are printed, and recorded in
# doc/PERFORMANCE.md, "Topic flood").
#
# FLOOD_COUNT (default 20000) messages at FLOOD_RATE (default 2000) a
# second.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/tunnel-lib.sh"
. "$top_srcdir/tests/lab/lab.sh"
need_root
need pp-tunnel ip iptables mosquitto mosquitto_sub turnserver certtool sha256sum \
	timeout python3
plan 14

# In a sanitizer build, AddressSanitizer's quarantine of freed memory
# (256 MB by default) would be taken for growth.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1
count=${FLOOD_COUNT:-20000}
rate=${FLOOD_RATE:-2000}

lab_nat || bail "the lab's internet did not start"
lab_nat_node h port-restricted && lab_nat_node v port-restricted &&
lab_nat_node x full-cone || bail "lab nodes"
at_exit tunnel_stop_ns

net=(--stun "$LAB_STUN")
inns() { local v=LAB_NS_$1; shift; ip netns exec "${!v}" "$@"; }
# cpu PID: user + system time in seconds; rss PID: resident kB.
cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f\n", ($14 + $15) / hz }' "/proc/$1/stat"; }
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
head -c 3000000 /dev/urandom > "$TEST_TMP/f"
want=$(sha "$TEST_TMP/f")

# Each run of the command leaves a line: who the host served.
tunnel_listen_ns "$LAB_NS_h" host --rendezvous "$LAB_MQTT_URL" "${net[@]}" \
	-- sh -c 'echo run >> "$0"; exec cat "$1"' "$TEST_TMP/spawned" "$TEST_TMP/f"
hpid=$tunnel_pid
hlog=$tunnel_log

# What a watcher of the broker sees of one viewer's connection: the
# topic, then every message both ways, for replay.
inns x timeout 60 mosquitto_sub -h "$LAB_SERVER_IP" -t 'pixelpass/#' -F '%t %x' \
	> "$TEST_TMP/captured" &
spid=$!
track_pid "$spid"
sleep 1
inns v timeout 60 pp-tunnel connect "$tunnel_ticket" "${net[@]}" --timeout 20 \
	< /dev/null > "$TEST_TMP/first.out" 2> "$TEST_TMP/first.err"
is "$?" 0 "a first viewer connects" || diag "$(cat "$TEST_TMP/first.err")"
sleep 1
kill "$spid"
topic=$(awk '$1 ~ /^pixelpass\/[0-9a-f]+$/ { print $1; exit }' "$TEST_TMP/captured")
like "$topic" '^pixelpass/[0-9a-f]{32}$' "the host's topic, as the broker sees it"
awk '{ print $2 }' "$TEST_TMP/captured" > "$TEST_TMP/replays"
diag "$(wc -l < "$TEST_TMP/replays") real messages captured for replay (offer, candidates, answers)"

cpu0=$(cpu "$hpid")
rss0=$(rss "$hpid")
t0=$(date +%s.%N)
inns x timeout 120 python3 "$top_srcdir/tests/mqtt-flood.py" "$LAB_SERVER_IP" 1883 \
	"$topic" "$count" "$rate" "$TEST_TMP/replays" > "$TEST_TMP/flood.out" 2>&1 &
fpid=$!
track_pid "$fpid"
sleep 1

# A viewer with the ticket, during the flood.
inns v timeout 60 pp-tunnel connect "$tunnel_ticket" "${net[@]}" --timeout 30 \
	< /dev/null > "$TEST_TMP/during.out" 2> "$TEST_TMP/during.err"
is "$?" 0 "a viewer connects during the flood" || diag "$(cat "$TEST_TMP/during.err")"
ok "the flood was still going on when it had its stream" kill -0 "$fpid"
is "$(sha "$TEST_TMP/during.out")" "$want" "it got its 3 MB, identical"
diag "$(grep connected "$TEST_TMP/during.err")"

wait "$fpid"
is "$?" 0 "the flood was sent" || diag "$(cat "$TEST_TMP/flood.out")"
t1=$(date +%s.%N)
# The host has taken all that the broker passed on once its CPU time
# stops growing (bounded).
last=
for i in $(seq 1 20); do
	c=$(cpu "$hpid")
	[ "$c" = "$last" ] && break
	last=$c
	sleep 0.5
done
cpu1=$(cpu "$hpid")
rss1=$(rss "$hpid")
ok "the host is still running" kill -0 "$hpid"
secs=$(echo "$t1 - $t0" | bc -l)
used=$(echo "$cpu1 - $cpu0" | bc -l)
diag "$(cat "$TEST_TMP/flood.out") ($(printf '%.0f' "$(echo "$count / $secs" | bc -l)") messages/s)"
diag "host CPU during the flood: $(printf '%.2f' "$used") s in $(printf '%.1f' "$secs") s (one viewer served meanwhile); RSS $rss0 kB before, $rss1 kB after"
ok "the host's CPU was not pegged (less than half of the flood's time)" \
	test "$(echo "$used < $secs / 2" | bc -l)" = 1
ok "the host's memory grew by less than 32 MB" test $((rss1 - rss0)) -lt 32768

is "$(wc -l < "$TEST_TMP/spawned")" 2 "the host ran its command for the two viewers only"
# (one line every 10 s at most while it lasts)
wait_for 15 grep -q 'on the topic ignored' "$hlog"
like "$(grep 'ignored' "$hlog" | tail -n 1)" 'rendezvous: [0-9]+ messages on the topic ignored' \
	"the host logs how many messages it ignored"
diag "$(grep 'ignored' "$hlog" | tail -n 3)"

# And afterwards it serves a viewer as before.
inns v timeout 60 pp-tunnel connect "$tunnel_ticket" "${net[@]}" --timeout 20 \
	< /dev/null > "$TEST_TMP/after.out" 2> "$TEST_TMP/after.err"
is "$?" 0 "a viewer connects after the flood"
is "$(sha "$TEST_TMP/after.out")" "$want" "and gets its 3 MB, identical"
is "$(wc -l < "$TEST_TMP/spawned")" 3 "one more run of the command"
kill -TERM "$hpid"
