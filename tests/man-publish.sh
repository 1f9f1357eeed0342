#!/bin/bash
# Runs the SRT example of pp-publish(1), as written there (extracted from
# the man page): srt-live-transmit listening with a passphrase, and
# pp-encode's test pattern published to it; checks what the listener
# wrote (H.264 and AAC, 1280x720) and that pp-publish exits 0 on
# Control-C (SIGINT, after a few seconds). Substituted with sed, the
# minimum: the man page's port 9000 by a free one, so that tests running
# at once do not meet. The RTMP and RTMPS examples need nginx-rtmp and a
# TLS terminator: tests/publish.sh runs the same commands against them,
# not extracted from the man page. About 8 s.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/man-lib.sh"
. "$top_srcdir/tests/encode-lib.sh"
need pp-publish pp-encode srt-live-transmit ffprobe python3
plan 5

private_xdg
export PULSE_SERVER="unix:$TEST_TMP/no-such-socket"
mkdir "$TEST_TMP/ex"
cd "$TEST_TMP/ex" || bail "no temp dir"

mapfile -d '' -t ex < <(man_examples pp-publish)
is "${ex[1]%% *}|${ex[2]%% |*}" "srt-live-transmit|pp-encode --source test" \
    "pp-publish(1) has the SRT example this test knows"

port=$(python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
man_run srt 6 "$(printf '%s\n%s' "${ex[1]}" "${ex[2]}" | sed "s/:9000\\b/:$port/g")"
is "$man_rc" 0 "pp-encode --source test | pp-publish --passphrase ... srt://...: exit 0 on Control-C"
like "$(cat srt.err)" "srt://127\\.0\\.0\\.1:$port" "...it names where it publishes"
is "$(streams got.ts)" "h264 aac" "srt-live-transmit ... > got.ts: H.264 and AAC"
is "$(video_info got.ts | cut -d' ' -f1)" 1280x720 "...at the test pattern's size"
