#!/bin/bash
# SIGUSR1 makes pp-encode emit a keyframe at once, with SPS and PPS before
# it; without the signal, keyframes come every --keyint seconds only.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/encode-lib.sh"
need pp-encode ffmpeg ffprobe python3
plan 11

args=(--source test --max-size 320x180 --no-audio --keyint 10)

# 4 s of a 10 s keyframe interval: the first picture is the only keyframe.
encode_for 4 "$TEST_TMP/plain.ts" "$TEST_TMP/plain.err" -- "${args[@]}"
is "$?" 0 "exit 0"
is "$(keyframes "$TEST_TMP/plain.ts" | wc -l)" 1 "no signal: one keyframe in 4 s"

# SIGUSR1 at about 1.5 s and 3 s after the start line.
pp-encode "${args[@]}" >"$TEST_TMP/usr1.ts" 2>"$TEST_TMP/usr1.err" &
pid=$!
track_pid "$pid"
wait_for 60 grep -q '^pp-encode: source' "$TEST_TMP/usr1.err"
sleep 1.5
kill -USR1 "$pid"
sleep 1.5
kill -USR1 "$pid"
sleep 1
kill -TERM "$pid"
wait "$pid"
is "$?" 0 "exit 0"
k=($(keyframes "$TEST_TMP/usr1.ts"))
is "${#k[@]}" 3 "two SIGUSR1: three keyframes (at ${k[*]})"
gap=$(awk -v a="${k[1]:-0}" -v b="${k[2]:-0}" 'BEGIN { print b - a }')
# Loose bounds: the machine is shared, only the order of magnitude counts.
ok "the forced keyframes are about 1.5 s apart, as the signals were (got $gap s)" \
    near "$gap" 1.5 0.7
first=$(awk -v a="${k[0]:-0}" -v b="${k[1]:-0}" 'BEGIN { print b - a }')
ok "the first forced one comes after about 1.5 s, not at the next interval (got $first s)" \
    awk -v g="$first" 'BEGIN { exit !(g > 0.3 && g < 4) }'
read -r sps idr < <(nal_counts "$TEST_TMP/usr1.ts")
is "$idr" 3 "three IDR pictures"
is "$sps" 3 "each with its SPS"
is "$(decode_errors "$TEST_TMP/usr1.ts")" "" "every frame decodes"

# A request that comes while pp-encode is still starting (pp-fanout asks
# as soon as the first viewer joins) must not kill it.
# (Before exec nothing can catch it: as soon as the handler is in place,
# which is before the encoders are probed.)
catches_usr1() {
	local mask
	mask=$(awk '/^SigCgt:/ { print $2 }' "/proc/$1/status" 2>/dev/null)
	[ -n "$mask" ] && (( (16#$mask >> 9) & 1 ))
}
pp-encode "${args[@]}" >"$TEST_TMP/early.ts" 2>"$TEST_TMP/early.err" &
pid=$!
track_pid "$pid"
wait_for 10 catches_usr1 "$pid"
kill -USR1 "$pid"
sleep 2
ok "SIGUSR1 while starting: still running" kill -0 "$pid"
kill -TERM "$pid"
wait "$pid"
is "$?" 0 "and exit 0 on SIGTERM"
