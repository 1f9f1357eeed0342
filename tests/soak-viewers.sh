#!/bin/bash
# Soak: 200 viewers join and leave the video chain of pp-tunnel(1)'s
# EXAMPLES (pp-fanout serve running pp-encode's test pattern, pp-tunnel
# listen running pp-fanout attach per viewer), at most a few at a time. A
# third leave cleanly (half by closing their output, half on SIGTERM), a
# third are killed with SIGKILL mid-stream, a third stop reading (their
# output a pipe nobody reads) and are killed a few seconds later. Each
# must have received the stream. Afterwards the host's processes hold as
# many file descriptors as before, have no command left running and no
# zombie, and their memory (RSS) is back near where it started. The
# figures are printed.
#
# PP_SOAK_VIEWERS (default 200) and PP_SOAK_AT_ONCE (default 12, 6 in a
# sanitizer build) change the load.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/tunnel-lib.sh"
need pp-tunnel pp-fanout pp-encode ffprobe python3 timeout
plan 16

VIEWERS=${PP_SOAK_VIEWERS:-200}
AT_ONCE=${PP_SOAK_AT_ONCE:-12}
asan=
if ldd "$(command -v pp-tunnel)" | grep -q libasan; then
	asan=1
	AT_ONCE=${PP_SOAK_AT_ONCE:-6}
fi
WARMUP=6
IDLE=4		# the QUIC idle timeout: a killed viewer is gone after it
STALL=8		# seconds a viewer that stopped reading is kept

private_xdg
S=$XDG_RUNTIME_DIR/screen.sock
V=$TEST_TMP/v
mkdir "$V"
t_start=$(date +%s)

# Every viewer's pp-tunnel connect, killed at exit if still there.
at_exit 'for f in "$V"/*.pid; do [ -s "$f" ] && kill -KILL "$(cat "$f")" 2>/dev/null; done'

# The host. The producer lingers, so that it runs both when the host is
# measured before and after; a consumer that cannot keep up is dropped
# after 2 s; a viewer silent for $IDLE s is gone.
pp-fanout serve --socket "$S" --linger 600 --drop-after 2 -- \
	pp-encode --source test --max-size 640x360 --bitrate 4000 \
	2> "$TEST_TMP/fanout.log" &
FANOUT=$!
track_pid $FANOUT
wait_for 10 test -S "$S" || bail "pp-fanout made no socket: $(cat "$TEST_TMP/fanout.log")"
PP_TUNNEL_IDLE_TIMEOUT=$IDLE tunnel_listen host --max-viewers 100 -- \
	pp-fanout attach --socket "$S"
TUNNEL=$tunnel_pid
T=$tunnel_ticket
# pp-tunnel listen runs its commands through a process of its own
# (lib/spawner), forked before it confines itself: theirs is the parent.
SPAWNER=$(pgrep -P "$TUNNEL" -x pp-spawner)
[ -n "$SPAWNER" ] || bail "pp-tunnel listen has no pp-spawner"

fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
children() { ps -o pid=,stat=,args= --ppid "$1"; }
# Lines of the host's logs that say a viewer (or consumer) came or went.
count() { grep -Ec "$2" "$1"; }

# The host has seen every viewer so far leave, and pp-tunnel has no
# command left: what it holds now is what it holds with no viewer.
host_quiet() {
	[ -z "$(children $SPAWNER)" ] &&
	[ "$(count "$tunnel_log" ' arrived ')" -eq \
	  "$(count "$tunnel_log" ' (left after|vanished|failed)')" ] &&
	[ "$(count "$TEST_TMP/fanout.log" ' joined ')" -eq \
	  "$(count "$TEST_TMP/fanout.log" 'consumer [0-9]+ left')" ]
}

# viewer N KIND: one viewer. Its output is a FIFO that this function
# holds open, so that it decides when the output goes: it reads the
# first bytes (head), then
#   close  closes the output (pp-tunnel connect leaves quietly)
#   term   sends SIGTERM
#   kill   sends SIGKILL
#   stall  stops reading for $STALL s, then SIGTERM or SIGKILL (odd/even)
# Writes "KIND STATUS" to $V/N.rc; the bytes read are in $V/N.ts.
viewer() {
	local n=$1 kind=$2 f=$V/$1 pid want=200000 rc
	[ "$kind" = close ] || [ "$kind" = term ] || want=50000
	mkfifo "$f.fifo"
	exec 3<> "$f.fifo"
	pp-tunnel connect "$T" --rendezvous none --timeout 20 \
		< /dev/null > "$f.fifo" 2> "$f.err" 3<&- &
	pid=$!
	echo $pid > "$f.pid"
	timeout 60 head -c $want <&3 > "$f.ts"
	case $kind in
	close)	exec 3<&- ;;
	term)	kill -TERM $pid ;;
	kill)	kill -KILL $pid ;;
	stall)	sleep $STALL
		if [ $((n % 2)) -eq 0 ]; then kill -KILL $pid; else kill -TERM $pid; fi ;;
	esac
	exec 3<&-
	# Bounded: a viewer that hangs is killed (and then fails the test).
	wait_gone $pid 10
	kill -KILL $pid 2>/dev/null
	wait $pid 2>/dev/null	# not bash's "Killed" line
	rc=$?
	echo "$kind $rc" > "$f.rc"
	rm -f "$f.fifo" "$f.pid"
}

KINDS=(close kill stall term kill stall)

# run FIRST COUNT: viewers FIRST.. of the kinds in turn, at most $AT_ONCE
# at a time (the next starts when one ends).
run() {
	local first=$1 count=$2 i running=() pids p ended
	for ((i = first; i < first + count; i++)); do
		while [ ${#running[@]} -ge "$AT_ONCE" ]; do
			ended=
			wait -n -p ended "${running[@]}"
			pids=()
			for p in "${running[@]}"; do
				[ "$p" = "$ended" ] || pids+=("$p")
			done
			[ -n "$ended" ] || pids=()	# none left to wait for
			running=("${pids[@]}")
		done
		# Its stderr gets bash's notes on the jobs it kills.
		viewer $i "${KINDS[$((i % ${#KINDS[@]}))]}" 2> "$V/$i.sh.err" &
		running+=($!)
	done
	wait "${running[@]}"
}

# Warm-up: the first viewers start the producer and whatever the host's
# libraries set up once; then the host is measured.
run 0 $WARMUP
ok "after the warm-up the host has seen its $WARMUP viewers leave" \
	wait_for 60 host_quiet
sleep $((IDLE + 2))	# connections that never got set up expire too
fd_t0=$(fds $TUNNEL) fd_f0=$(fds $FANOUT)
rss_t0=$(status_kb $TUNNEL VmRSS) rss_f0=$(status_kb $FANOUT VmRSS)
diag "before: pp-tunnel listen $fd_t0 fds, $rss_t0 kB; pp-fanout serve $fd_f0 fds, $rss_f0 kB"
ls -l "/proc/$TUNNEL/fd" > "$TEST_TMP/fd-tunnel.0"
ls -l "/proc/$FANOUT/fd" > "$TEST_TMP/fd-fanout.0"

t_soak=$(date +%s)
run $WARMUP "$VIEWERS"
t_soaked=$(date +%s)

# Every viewer of the soak got the stream and ended as it should.
bad=
for ((i = WARMUP; i < WARMUP + VIEWERS; i++)); do
	read -r kind rc < "$V/$i.rc" 2>/dev/null || { bad="$bad $i:no-status"; continue; }
	case $kind in
	close|term) [ "$rc" = 0 ] || bad="$bad $i:$kind:$rc" ;;
	kill) [ "$rc" = 137 ] || bad="$bad $i:$kind:$rc" ;;
	stall) [ "$rc" = 0 ] || [ "$rc" = 137 ] || bad="$bad $i:$kind:$rc" ;;
	esac
done
is "$bad" "" "every viewer ended as told: clean ones 0, killed ones by SIGKILL"
[ -z "$bad" ] || diag "$(head -n 5 "$V"/*.err | head -n 40)"
nconn=$(cat "$V"/*.err | grep -c '^pp-tunnel: connected to .* (path direct')
is "$nconn" $((WARMUP + VIEWERS)) "every viewer says it connected directly"

# Each viewer's bytes: as many as it waited for, MPEG-TS packets from the
# first byte (a sync byte every 188).
tscheck=$(python3 - "$V" "$WARMUP" "$VIEWERS" <<'EOF'
import sys
d, first, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
total = 0
for i in range(first, first + n):
    kind = open("%s/%d.rc" % (d, i)).read().split()[0]
    b = open("%s/%d.ts" % (d, i), "rb").read()
    want = 200000 if kind in ("close", "term") else 50000
    if len(b) != want:
        print("viewer %d (%s): %d bytes, not %d" % (i, kind, len(b), want))
    elif any(b[k] != 0x47 for k in range(0, len(b), 188)):
        print("viewer %d (%s): no MPEG-TS sync byte every 188 bytes" % (i, kind))
    total += len(b)
print("total %d" % total)
EOF
)
is "$(printf '%s\n' "$tscheck" | grep -v '^total' | head -n 5)" "" \
	"every viewer read MPEG-TS (0x47 every 188 bytes), as many bytes as it waited for"
sample=$(ffprobe -v error -show_entries stream=codec_name -of csv=p=0 "$V/$WARMUP.ts" 2>&1 |
	sort -u | grep . | tr '\n' ' ')
is "$sample" "aac h264 klv " "ffprobe finds H.264, AAC and pp-encode's host clock in a clean viewer's bytes"

# The host notices every departure (a killed viewer after the idle
# timeout, a stalled consumer after --drop-after), then is back where it
# started.
ok "the host has seen every viewer leave" wait_for 60 host_quiet
sleep $((IDLE + 2))
settled() {
	[ "$(fds $TUNNEL)" -eq "$fd_t0" ] && [ "$(fds $FANOUT)" -eq "$fd_f0" ]
}
wait_for 30 settled
fd_t1=$(fds $TUNNEL) fd_f1=$(fds $FANOUT)
rss_t1=$(status_kb $TUNNEL VmRSS) rss_f1=$(status_kb $FANOUT VmRSS)
hwm_t=$(status_kb $TUNNEL VmHWM) hwm_f=$(status_kb $FANOUT VmHWM)
is "$fd_t1" "$fd_t0" "pp-tunnel listen holds as many fds as before ($fd_t0)"
[ "$fd_t1" = "$fd_t0" ] || diag "$(ls -l "/proc/$TUNNEL/fd" | diff "$TEST_TMP/fd-tunnel.0" -)"
is "$fd_f1" "$fd_f0" "pp-fanout serve holds as many fds as before ($fd_f0)"
[ "$fd_f1" = "$fd_f0" ] || diag "$(ls -l "/proc/$FANOUT/fd" | diff "$TEST_TMP/fd-fanout.0" -)"
is "$(children $SPAWNER)" "" "pp-tunnel listen has no command left, running or zombie"
attach_left=$(pgrep -f "^pp-fanout attach --socket $S\$")
is "$attach_left" "" "no pp-fanout attach is left anywhere"
fchildren=$(children $FANOUT)
like "$fchildren" '^ *[0-9]+ [^Z]+ pp-encode --source test' \
	"pp-fanout serve has one child, its producer, and no zombie"
[ "$(printf '%s\n' "$fchildren" | wc -l)" -eq 1 ] || diag "$fchildren"

# What the host logged: each arrival and departure, no refusal.
arrived=$(count "$tunnel_log" ' arrived ')
left=$(count "$tunnel_log" ' left after')
vanished=$(count "$tunnel_log" ' vanished')
failed=$(count "$tunnel_log" ' failed')
is "$arrived" $((WARMUP + VIEWERS)) "pp-tunnel listen logged every viewer's arrival"
is "$(count "$tunnel_log" 'refused')" 0 "and refused none"

kill -TERM $TUNNEL $FANOUT
wait $TUNNEL
rt=$?
wait $FANOUT
is "$rt $?" "0 0" "pp-tunnel listen and pp-fanout serve exit 0 on SIGTERM"

# Memory. The host may keep what its busiest moment took while viewers
# are there, not after: less than half as much again as before (at least
# 4 MB of slack). A sanitizer build's allocator keeps freed memory in
# quarantine, so there its leak checker speaks instead: at exit (above),
# and in every process of the host that ended.
bound() { local b=$(($1 / 2)); [ $b -ge 4096 ] || b=4096; echo $b; }
if [ -z "$asan" ]; then
	ok "pp-tunnel listen is back near its size ($rss_t0 -> $rss_t1 kB, peak $hwm_t kB)" \
		test $((rss_t1 - rss_t0)) -lt "$(bound $rss_t0)"
	ok "pp-fanout serve is back near its size ($rss_f0 -> $rss_f1 kB, peak $hwm_f kB)" \
		test $((rss_f1 - rss_f0)) -lt "$(bound $rss_f0)"
else
	unlike "$(cat "$tunnel_log" "$TEST_TMP/fanout.log")" 'Sanitizer|runtime error' \
		"no sanitizer report from the host's processes (pp-fanout attach included)"
	unlike "$(cat "$V"/*.err)" 'Sanitizer|runtime error' "no sanitizer report from the viewers"
fi

t_end=$(date +%s)
n_of() {
	local i n=0 k
	for ((i = WARMUP; i < WARMUP + VIEWERS; i++)); do
		read -r k _ < "$V/$i.rc" && [ "$k" = "$1" ] && n=$((n + 1))
	done
	echo $n
}
diag "viewers: $VIEWERS after $WARMUP of warm-up, at most $AT_ONCE at once:" \
	"$(n_of close) closed their output, $(n_of term) SIGTERM, $(n_of kill) SIGKILL," \
	"$(n_of stall) stopped reading for ${STALL} s (then SIGKILL or SIGTERM);" \
	"$(printf '%s\n' "$tscheck" | sed -n 's/^total //p') bytes read"
diag "host log (warm-up included): $arrived arrived, $left left, $vanished vanished (idle ${IDLE} s), $failed failed;" \
	"pp-fanout: $(count "$TEST_TMP/fanout.log" 'left: (stayed|more than)') consumers let go for lagging"
diag "pp-tunnel listen: fds $fd_t0 -> $fd_t1; RSS $rss_t0 kB before, $hwm_t kB peak, $rss_t1 kB after"
diag "pp-fanout serve:  fds $fd_f0 -> $fd_f1; RSS $rss_f0 kB before, $hwm_f kB peak, $rss_f1 kB after"
diag "wall time: $((t_soaked - t_soak)) s for the $VIEWERS viewers, $((t_end - t_start)) s in all"
