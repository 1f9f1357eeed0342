# Shared by bench/latency, bench/join, bench/fanout-tunnel and
# bench/layers, after tests/libtest.sh: a clock on an Xvfb screen, a
# host's tunnels on loopback and through the lab's wire, the ICE probe,
# CPU accounting, and writing a section of doc/PERFORMANCE.md.

say() { printf '# %s\n' "$*" >&2; }

# clock_screen WxH [-N]: starts Xvfb at that size with pp-latency's clock
# on it (-N: and noise); sets DISPLAY_BENCH. Stops an earlier one first.
clock_screen() {
	local fd=$TEST_TMP/displayfd
	clock_screen_stop
	: > "$fd"
	Xvfb -displayfd 3 -noreset -screen 0 "${1}x24" -nolisten tcp \
		3> "$fd" 2> "$TEST_TMP/xvfb.log" &
	_bench_xvfb=$!
	track_pid "$_bench_xvfb"
	wait_for 10 test -s "$fd" || bail "Xvfb did not start: $(cat "$TEST_TMP/xvfb.log")"
	DISPLAY_BENCH=:$(head -n 1 "$fd")
	pp-latency clock ${2:-} -d "$DISPLAY_BENCH" &
	_bench_clock=$!
	track_pid "$_bench_clock"
	# The clock outranks what is measured: it stands for the screen.
	renice -n -5 -p "$_bench_clock" > /dev/null 2>&1
	sleep 0.5
}

clock_screen_stop() {
	[ -n "${_bench_clock:-}" ] && kill "$_bench_clock" 2>/dev/null && wait "$_bench_clock" 2>/dev/null
	[ -n "${_bench_xvfb:-}" ] && kill "$_bench_xvfb" 2>/dev/null && wait "$_bench_xvfb" 2>/dev/null
	_bench_clock= _bench_xvfb=
}

# tunnels_up SOCKET DIR: two pp-tunnel listen in front of the pp-fanout
# serving on SOCKET: one on loopback, and the same host through the lab's
# wire (in the namespace h, the socket reached through the file system);
# their tickets and logs in DIR (lo.*, wire.*). Sets lo_ticket,
# wire_ticket, lo_pid and wire_pid.
tunnels_up() {
	pp-tunnel listen --rendezvous none -- pp-fanout attach --socket "$1" \
		> "$2/lo.ticket" 2> "$2/lo.log" &
	lo_pid=$!
	track_pid "$lo_pid"
	ip netns exec "$LAB_NS_h" pp-tunnel listen --rendezvous none -- \
		pp-fanout attach --socket "$1" > "$2/wire.ticket" 2> "$2/wire.log" &
	wire_pid=$!
	track_pid "$wire_pid"
	wait_for 10 grep -qs '^pp1' "$2/lo.ticket" || bail "pp-tunnel listen printed no ticket: $(cat "$2/lo.log")"
	wait_for 10 grep -qs '^pp1' "$2/wire.ticket" || bail "pp-tunnel listen (wire) printed no ticket: $(cat "$2/wire.log")"
	lo_ticket=$(head -n 1 "$2/lo.ticket")
	wire_ticket=$(head -n 1 "$2/wire.ticket")
}

# ice_available: whether this pp-tunnel has the rendezvous (ICE) path:
# the direct-only version refuses any --rendezvous but none (exit 64).
ice_available() {
	local rc
	timeout 3 pp-tunnel listen --rendezvous mqtt://127.0.0.1:9 -- true \
		< /dev/null > /dev/null 2> "$TEST_TMP/ice-probe.err"
	rc=$?
	! { [ "$rc" = 64 ] && grep -q 'only has the direct path' "$TEST_TMP/ice-probe.err"; }
}

# cpu_ticks PID...: user + system time of the PIDs so far, in ticks.
cpu_ticks() {
	local p stat sum=0
	for p in "$@"; do
		stat=$(cat "/proc/$p/stat" 2>/dev/null) || continue
		set -- ${stat##*) }
		sum=$((sum + ${12} + ${13}))
	done
	echo "$sum"
}

bench_machine() {
	echo "$(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)), Linux $(uname -r)"
}

bench_versions() {
	local v
	v="GStreamer $(pkg-config --modversion gstreamer-1.0 2>/dev/null)"
	v="$v, x264 $(pkg-config --modversion x264 2>/dev/null || dpkg-query -W -f '${Version}' 'libx264-1*' 2>/dev/null | head -c 20)"
	v="$v, FFmpeg $(ffmpeg -version 2>/dev/null | sed -n '1s/^ffmpeg version \([^ ]*\).*/\1/p')"
	v="$v, mpv $(mpv --version 2>/dev/null | sed -n '1s/^mpv \([^ ]*\).*/\1/p')"
	v="$v, ngtcp2 $(pkg-config --modversion libngtcp2 2>/dev/null)"
	v="$v, pixelpass $(git -C "$top_srcdir" describe --always --dirty 2>/dev/null || echo unknown)"
	echo "$v"
}

# doc_section NAME FILE: replaces the section between NAME's markers in
# doc/PERFORMANCE.md (or $BENCH_DOC) with FILE; appends it when missing.
doc_section() {
	local name=$1 body=$2 doc=${BENCH_DOC-$top_srcdir/doc/PERFORMANCE.md}
	[ -n "$doc" ] || return 0
	BENCH_SECTION_NAME=$name BENCH_SECTION_BODY=$body python3 - "$doc" <<'EOF'
import os, re, sys
doc = sys.argv[1]
name = os.environ["BENCH_SECTION_NAME"]
body = open(os.environ["BENCH_SECTION_BODY"]).read().rstrip("\n")
begin = "<!-- %s: begin (written by %s; edit outside) -->" % (name, name)
end = "<!-- %s: end -->" % name
section = begin + "\n" + body + "\n" + end
try:
    text = open(doc).read()
except FileNotFoundError:
    text = "# Performance\n"
pat = re.compile(re.escape("<!-- %s: begin" % name) + r".*?" + re.escape(end), re.S)
if pat.search(text):
    text = pat.sub(lambda m: section, text)
else:
    text = text.rstrip("\n") + "\n\n" + section + "\n"
open(doc, "w").write(text)
EOF
	say "written to $doc"
}
