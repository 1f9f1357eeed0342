#!/bin/bash
# pp-encode --source test: an H.264 + AAC MPEG-TS stream of the size, rate
# and tone asked for, every frame decodable, finished cleanly on SIGTERM
# and SIGINT, and a quiet exit when the reader goes away.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/encode-lib.sh"
need pp-encode ffmpeg ffprobe python3
plan 21

a="$TEST_TMP/a.ts"
encode_for 3 "$a" "$TEST_TMP/a.err" -- --source test --max-size 640x360
is "$?" 0 "exit 0 after SIGTERM"
is "$(streams "$a")" "h264 aac" "one H.264 and one AAC stream"
is "$(video_info "$a")" "640x360 30/1" "1280x720 scaled to fit 640x360, 30 fps by default"
is "$(decode_errors "$a")" "" "every frame decodes without error"
n=$(video_frames "$a")
ok "about 3 s of video ($n frames)" test "${n:-0}" -ge 45
read -r f rms pure < <(tone "$a")
ok "the tone is 440 Hz (got $f)" near "$f" 440 3
ok "the tone is loud and pure (rms $rms, purity $pure)" \
    awk -v r="$rms" -v p="$pure" 'BEGIN { exit !(r > 0.05 && p > 0.98) }'
like "$(cat "$TEST_TMP/a.err")" \
    '^pp-encode: source test \(1280x720\), 640x360 at 30 fps, encoder [a-z0-9]+, 6000 kbit/s, keyframe every 2 s, audio test tone 440 Hz$' \
    "one start line on stderr, nothing else"

# Another size, rate and tone, from the environment pp-capture sets, to -o
# and stopped with SIGINT.
b="$TEST_TMP/b.ts"
PP_SOURCE=test PP_WIDTH=400 PP_HEIGHT=300 \
    encode_for 3 /dev/null "$TEST_TMP/b.err" INT -- \
    --max-size 320x320 --fps 15 --tone 1000 --bitrate 800 -o "$b"
is "$?" 0 "exit 0 after SIGINT"
is "$(streams "$b")" "h264 aac" "one H.264 and one AAC stream"
is "$(video_info "$b")" "320x240 15/1" "400x300 scaled to fit 320x320, 15 fps"
is "$(decode_errors "$b")" "" "every frame decodes without error"
read -r f rms pure < <(tone "$b")
ok "the tone is 1000 Hz (got $f)" near "$f" 1000 5
ok "the tone is loud and pure (rms $rms, purity $pure)" \
    awk -v r="$rms" -v p="$pure" 'BEGIN { exit !(r > 0.05 && p > 0.98) }'
like "$(cat "$TEST_TMP/b.err")" '320x240 at 15 fps, .* 800 kbit/s' \
    "the start line gives size, rate and bit rate"

# Never upscaled: a limit larger than the source changes nothing.
c="$TEST_TMP/c.ts"
PP_WIDTH=320 PP_HEIGHT=200 encode_for 2 "$c" "$TEST_TMP/c.err" -- \
    --source test --max-size 1920x1080 --no-audio
is "$?" 0 "exit 0"
is "$(streams "$c")" "h264" "--no-audio: video only"
is "$(video_info "$c")" "320x200 30/1" "a larger --max-size does not upscale"

# The reader goes away: pp-encode stops quietly.
pp-encode --source test --max-size 320x180 2>"$TEST_TMP/d.err" |
    head -c 200000 >/dev/null
rc=${PIPESTATUS[0]}
is "$rc" 0 "exit 0 when the reader closes the pipe"
is "$(grep -vc 'start\|^pp-encode: source' "$TEST_TMP/d.err")" 0 \
    "and no error on stderr"

# Never binary on a terminal (script(1) gives it one; bsdutils, essential).
out=$(script -qec 'pp-encode --source test' /dev/null 2>&1)
like "$out" 'stdout is a terminal' "refuses to write to a terminal"
