#!/bin/bash
# pp-encode's host clock (pp-encode(1), "The host's clock"): a KLV data
# stream on PID 0x44 whose packets, one a second, give the host's wall
# time at their PTS, so that a viewer can tell how far behind the host it
# is. Read back with ffprobe, of the test source and of an X11 screen.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/encode-lib.sh"
need pp-encode ffprobe python3 Xvfb
plan 13

# clock_check FILE T0 T1: "N FIRST_OK STEPS_OK MAPPING_OK" of FILE's clock
# packets: how many; whether every wall time is within [T0, T1] (µs);
# whether each comes 0.9 to 1.1 s of stream time after the one before;
# whether the wall times move as the PTS do (within 2 ms: the host's
# monotonic clock against its real-time clock).
clock_check() {
	clock_packets "$1" | python3 -c '
import sys
t0, t1 = int(sys.argv[1]), int(sys.argv[2])
p = [(float(a), int(b)) for a, b in (l.split() for l in sys.stdin)]
inside = all(t0 <= w <= t1 for _, w in p)
steps = all(0.9 <= b[0] - a[0] <= 1.1 for a, b in zip(p, p[1:]))
mapping = all(abs((b[1] - a[1]) / 1e6 - (b[0] - a[0])) <= 0.002
              for a, b in zip(p, p[1:]))
print(len(p), int(inside), int(steps and len(p) > 1), int(mapping and len(p) > 1))
' "$2" "$3"
}

a="$TEST_TMP/a.ts"
t0=$(date +%s%6N)
encode_for 4 "$a" "$TEST_TMP/a.err" -- --source test --max-size 320x240
is "$?" 0 "exit 0 after SIGTERM"
t1=$(date +%s%6N)
read -r n inside steps mapping < <(clock_check "$a" "$t0" "$t1")
diag "clock packets: $(clock_packets "$a" | tr '\n' ';')"
ok "about one clock packet a second of the 4 s or more streamed ($n)" \
	test "${n:-0}" -ge 4 -a "${n:-0}" -le 12
is "$inside" 1 "each gives a wall time between the test's start and end"
is "$steps" 1 "...one a second of stream time"
is "$mapping" 1 "...and the wall times step as the PTS do"
first_v=$(ffprobe -v error -select_streams v:0 -show_entries packet=pts_time \
	-read_intervals %+#1 -of csv=p=0 "$a" | head -n 1 | cut -d, -f1)
first_c=$(clock_packets "$a" | head -n 1 | cut -d' ' -f1)
ok "the first goes with the first picture (PTS $first_c, the picture's $first_v)" \
	near "${first_c:-0}" "${first_v:-99}" 0.04
pmt=$(ffprobe -v error -show_entries stream=id,codec_type,codec_tag_string \
	-of csv=p=0 "$a" | grep . | sort -u | tr "\n" ";")
like "$pmt" 'data,KLVA,0x44;' "a data stream on PID 0x44, registered as KLVA (got $pmt)"
is "$(streams "$a")" "h264 aac" "...beside the H.264 and the AAC"

# Video only, two layers: the clock goes with the first layer, on its PID.
b="$TEST_TMP/b.ts"
t0=$(date +%s%6N)
encode_for 3 "$b" "$TEST_TMP/b.err" -- --source test --max-size 320x240 \
	--no-audio --layers 2
is "$?" 0 "--no-audio --layers 2: exit 0"
t1=$(date +%s%6N)
read -r n inside steps mapping < <(clock_check "$b" "$t0" "$t1")
ok "...clock packets as well ($n), within the test's time, one a second" \
	test "${n:-0}" -ge 3 -a "$inside$steps$mapping" = 111
pmt=$(ffprobe -v error -show_entries stream=id,codec_type -of csv=p=0 "$b" |
	grep . | sort -u | tr "\n" ";")
is "$pmt" "data,0x44;video,0x41;video,0x43;" "...on PID 0x44, beside the two layers"

# An X11 screen: the PTS of a grab is on the frame grid, its wall time
# still the host's at that PTS.
start_xvfb
c="$TEST_TMP/c.ts"
t0=$(date +%s%6N)
encode_for 3 "$c" "$TEST_TMP/c.err" -- --source x11 --no-audio
is "$?" 0 "--source x11: exit 0"
t1=$(date +%s%6N)
read -r n inside steps mapping < <(clock_check "$c" "$t0" "$t1")
ok "...clock packets ($n), within the test's time, one a second, stepping as the PTS" \
	test "${n:-0}" -ge 3 -a "$inside$steps$mapping" = 111
