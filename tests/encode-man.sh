#!/bin/bash
# Runs every example of pp-encode(1), as written there, and checks what
# each one made. Examples that stream are stopped with SIGINT after a few
# seconds, as Control-C would.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/encode-lib.sh"
need pp-encode ffmpeg ffprobe mpv Xvfb
plan 14

private_xdg
export PULSE_SERVER="unix:$TEST_TMP/no-such-socket"
# mpv as the example runs it, but headless and for 2 s of video.
mkdir -p "$XDG_CONFIG_HOME/mpv"
printf 'vo=null\nao=null\nframes=60\n' >"$XDG_CONFIG_HOME/mpv/mpv.conf"
start_xvfb
unset PP_SOURCE PP_DISPLAY
mkdir "$TEST_TMP/ex"
cd "$TEST_TMP/ex" || bail "no temp dir"

mapfile -t examples < <(sed -n 's/^\.Dl \$ //p' "$top_srcdir/man/pp-encode.1" |
    sed 's/\\-/-/g')
is "${#examples[@]}" 5 "the man page has the 5 examples this test knows"

# run N [SECS]: runs example N in its own process group; stops it with
# SIGINT after SECS (default 3) seconds unless it ended; its status in
# $rc, its output in out.N.
set -m
run() {
	local pid secs=${2:-3}
	bash -o pipefail -c "${examples[$1]}" >"out.$1" 2>"err.$1" &
	pid=$!
	track_pid "$pid"
	wait_gone "$pid" "$secs"
	kill -INT -- "-$pid" 2>/dev/null
	wait "$pid"
	rc=$?
}

run 0
is "$rc" 0 "${examples[0]}: exit 0"
like "$(cat out.0)" '^x264enc +works$' "${examples[0]}: x264enc works"

run 1
is "$rc" 0 "${examples[1]}: exit 0"
is "$(streams test.ts)" "h264 aac" "${examples[1]}: H.264 and AAC"
is "$(video_info test.ts)" "640x360 30/1" "${examples[1]}: 640x360"

# mpv ends by itself after its 60 frames; the bound is against hangs.
run 2 30
is "$rc" 0 "${examples[2]}: both exit 0 (mpv played its 60 frames)"
like "$(cat out.2 err.2)" 'VO: \[null\] 1280x720' "${examples[2]}: mpv got the 1280x720 video"
like "$(cat out.2 err.2)" 'AO: \[null\] 48000Hz' "${examples[2]}: and the 48 kHz audio"

run 3
is "$rc" 0 "${examples[3]}: exit 0"
is "$(streams screen.ts)" "h264" "${examples[3]}: H.264 only"
is "$(video_info screen.ts)" "640x480 30/1" "${examples[3]}: the screen's size"

run 4
is "$rc" 0 "${examples[4]}: exit 0"
is "$(video_info low.ts)" "1280x720 15/1" "${examples[4]}: 15 fps"
