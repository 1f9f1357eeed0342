#!/bin/bash
# Runs the examples of pp-bridge(1), as written there (extracted from the
# man page), and checks what each made: the preview starts mpv (headless,
# through a private mpv.conf, for 60 frames), which plays the H.264 video
# and the AAC audio; the URL printed with --player none serves a stream
# that curl saves, H.264 and AAC at the test pattern's size. The streams
# are stopped with SIGINT after a few seconds, as Control-C would. About
# 15 s.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/man-lib.sh"
. "$top_srcdir/tests/encode-lib.sh"
need pp-encode pp-bridge mpv curl ffprobe Xvfb
plan 11

private_xdg
export PULSE_SERVER="unix:$TEST_TMP/no-such-socket"
mkdir -p "$XDG_CONFIG_HOME/mpv"
printf 'vo=null\nao=null\nframes=60\n' > "$XDG_CONFIG_HOME/mpv/mpv.conf"
# pp-bridge checks that mpv has a display before it starts it.
start_xvfb 320x240
mkdir "$TEST_TMP/ex"
cd "$TEST_TMP/ex" || bail "no temp dir"

mapfile -d '' -t ex < <(man_examples pp-bridge)
is "${#ex[@]}" 4 "pp-bridge(1) has the 4 example commands this test knows"

# Preview a test pattern in mpv.
man_run 1 8 "${ex[0]}"
is "$man_rc" 0 "${ex[0]}: exit 0 on Control-C"
like "$(cat 1.err)" 'pp-bridge: started mpv \(pid [0-9]+\)' "...pp-bridge started mpv"
mpv_pid=$(sed -n 's/.*started mpv (pid \([0-9]*\)).*/\1/p' 1.err)
[ -n "$mpv_pid" ] && at_exit "kill $mpv_pid 2> /dev/null"
mpv_log=$(sed -n 's/.*its output in \(.*\)$/\1/p' 1.err)
like "$(cat 1.err)" 'client 1: playing' "...which came for the stream"
like "$(cat "$mpv_log" 2> /dev/null)" 'VO: \[null\] 1280x720' "...and played the 1280x720 video"
like "$(cat "$mpv_log" 2> /dev/null)" 'AO: \[null\] 48000Hz' "...and the 48 kHz audio"

# Serve a stream and play it by hand: the three lines in one shell, as
# typed (the second waits for the URL); curl gives up after its 3 s (--max-time, exit 28), and the
# bridge left in the background is stopped with SIGTERM after that.
man_run 2 15 "${ex[1]}
${ex[2]}
${ex[3]}"
is "$man_rc" 28 "${ex[3]}: curl stops at its --max-time (exit 28)"
like "$(head -n 1 url)" '^http://127\.0\.0\.1:[0-9]+/[0-9a-f]+/$' "${ex[1]}: url holds the local URL"
is "$(streams clip.ts)" "h264 aac" "...clip.ts has H.264 and AAC"
is "$(video_info clip.ts | cut -d' ' -f1)" "1280x720" "...at the test pattern's size"
bytes=$(stat -c %s clip.ts 2> /dev/null || echo 0)
ok "...about 3 s of it ($bytes bytes)" test "$bytes" -gt 500000
