#!/bin/bash
# pp-encode --layers 2: one capture, two H.264 streams in the one program
# (the second at half the width and height, on PID 0x43), their keyframes
# at the same pictures, forced ones included, and the sound once.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/encode-lib.sh"
need pp-encode ffmpeg ffprobe
plan 14

args=(--source test --max-size 640x360 --keyint 10 --layers 2)

# video streams FILE: "PID WIDTHxHEIGHT" of each H.264 stream, in order.
video_streams() {
	ffprobe -v error -select_streams v -show_entries stream=index,id,width,height \
	    -of csv=p=0 "$1" | _streams_once | awk -F, '{ print $4 " " $2 "x" $3 }'
}
# pts_of_keys FILE N: the PTS of the keyframes of video stream N.
pts_of_keys() {
	ffprobe -v error -select_streams "v:$2" -show_entries packet=pts,flags \
	    -of csv=p=0 "$1" | awk -F, '$2 ~ /K/ { print $1 }' | tr '\n' ' '
}

pp-encode "${args[@]}" >"$TEST_TMP/two.ts" 2>"$TEST_TMP/two.err" &
pid=$!
track_pid "$pid"
wait_for 60 grep -q '^pp-encode: source' "$TEST_TMP/two.err"
sleep 1.5
kill -USR1 "$pid"
sleep 1.5
kill -USR1 "$pid"
sleep 1
kill -TERM "$pid"
wait "$pid"
is "$?" 0 "exit 0"
is "$(video_streams "$TEST_TMP/two.ts" | tr '\n' ';')" "0x41 640x360;0x43 320x180;" \
    "two H.264 streams: 640x360 on PID 0x41, 320x180 on PID 0x43"
is "$(ffprobe -v error -show_entries stream=index,codec_type -of csv=p=0 "$TEST_TMP/two.ts" |
    _streams_once | grep -c audio)" 1 "the sound once"
like "$(cat "$TEST_TMP/two.err")" "second layer: half the width and height, 1500 kbit/s, on PID 0x43" \
    "the second layer is said, at a quarter of the bit rate"
k0=$(pts_of_keys "$TEST_TMP/two.ts" 0)
k1=$(pts_of_keys "$TEST_TMP/two.ts" 1)
is "$(wc -w <<<"$k0")" 3 "two SIGUSR1: three keyframes in the first layer ($k0)"
is "$k1" "$k0" "...and in the second, at the same PTS"
is "$(decode_errors "$TEST_TMP/two.ts")" "" "both layers decode"
n0=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames \
    -of csv=p=0 "$TEST_TMP/two.ts" | head -1)
n1=$(ffprobe -v error -count_frames -select_streams v:1 -show_entries stream=nb_read_frames \
    -of csv=p=0 "$TEST_TMP/two.ts" | head -1)
ok "the same pictures in each ($n0 and $n1 frames)" \
    awk -v a="$n0" -v b="$n1" 'BEGIN { exit !(a > 60 && (a - b) * (a - b) <= 4) }'

# At 1280x720 the second layer says the first's colorimetry (BT.709):
# GStreamer's default for its 640x360 would be BT.601, and videoscale
# converted every picture from the one to the other. Its pictures are
# the first's, halved: ffmpeg's area scaler on the first layer (over the
# colour bars, above the test picture's noise) is within what two lossy
# encodes differ by (48 dB here; 23 dB when the matrix was converted).
encode_for 2 "$TEST_TMP/hd.ts" "$TEST_TMP/hd.err" -- --source test --no-audio --layers 2
is "$?" 0 "1280x720: exit 0"
is "$(ffprobe -v error -select_streams v -show_entries stream=color_space,color_transfer,color_primaries \
    -of csv=p=0 "$TEST_TMP/hd.ts" | grep . | sort -u | tr '\n' ';')" "bt709,bt709,bt709;" \
    "1280x720: both layers BT.709"
psnr=$(ffmpeg -v info -nostats -i "$TEST_TMP/hd.ts" -filter_complex \
    "[0:v:0]scale=640:360:flags=area,crop=640:270:0:0[a];[0:v:1]crop=640:270:0:0[b];[a][b]psnr" \
    -f null - 2>&1 | sed -n 's/.*PSNR y:\([0-9.]*\).*/\1/p')
ok "1280x720: the second layer is the first's picture halved (PSNR y $psnr dB)" \
    awk -v p="$psnr" 'BEGIN { exit !(p + 0 > 35) }'

# --layers 1 is what pp-encode always made: one video stream, on 0x41.
encode_for 2 "$TEST_TMP/one.ts" "$TEST_TMP/one.err" -- --source test --max-size 640x360 --keyint 10 --layers 1
is "$?" 0 "--layers 1: exit 0"
is "$(video_streams "$TEST_TMP/one.ts" | tr '\n' ';')" "0x41 640x360;" "--layers 1: one H.264 stream"
unlike "$(cat "$TEST_TMP/one.err")" "second layer" "...and no second layer said"
