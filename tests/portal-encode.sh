#!/bin/bash
# The host chain's first two links: pp-capture --source portal -- pp-encode
# gives an MPEG-TS stream whose frames show what the compositor displays,
# and pp-capture passes SIGTERM on and exits with the chain's status.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/portal-lab.sh"
need pp-capture pp-encode ffprobe ffmpeg python3

plan 5
lab_portal_start '#ff00ff'

# The shell passes SIGTERM on to pp-encode and notes its status, so that
# pp-capture's own contract (it exits with the child's status) is checked
# apart from pp-encode's.
pp-capture --source portal -- sh -c '
	trap "kill -TERM \$enc" TERM
	pp-encode --fps 15 >"$1/out.ts" & enc=$!
	wait $enc; wait $enc; rc=$?; echo $rc >"$1/status"; exit $rc' sh "$TEST_TMP" \
    2>"$TEST_TMP/err" &
pid=$!
track_pid $pid
wait_for 30 sh -c "test \$(stat -c %s '$TEST_TMP/out.ts' 2>/dev/null || echo 0) -gt 30000" ||
    diag "little output: $(tail -n 3 "$TEST_TMP/err")"
sleep 1
lab_stop $pid
rc=$?
is "$rc" "$(cat "$TEST_TMP/status" 2>/dev/null)" "after SIGTERM pp-capture exits with pp-encode's status"
[ "$rc" -eq 0 ] || diag "pp-encode: $(tail -n 1 "$TEST_TMP/err")"
is "$(ffprobe -v error -select_streams v:0 -show_entries stream=codec_name,width,height \
    -of csv=p=0 "$TEST_TMP/out.ts" | head -n1)" "h264,640,360" "the stream is H.264 at the portal's size"
frames=$(ffmpeg -v error -i "$TEST_TMP/out.ts" -map 0:v -f null - 2>&1 | wc -l)
is "$frames" 0 "every frame decodes"
ffmpeg -v error -i "$TEST_TMP/out.ts" -map 0:v -vf 'select=gte(n\,10)' -frames:v 1 \
    -f rawvideo -pix_fmt rgb24 "$TEST_TMP/last.rgb"
share=$(python3 -c '
import sys
data = open(sys.argv[1], "rb").read()
n = len(data) // 3
hit = sum(1 for i in range(0, n, 5)
          if abs(data[3*i] - 255) < 24 and data[3*i+1] < 24 and abs(data[3*i+2] - 255) < 24)
print(round(100 * hit / len(range(0, n, 5))))' "$TEST_TMP/last.rgb")
ok "the 11th frame shows the magenta background ($share%)" test "$share" -ge 90
like "$(ffprobe -v error -show_entries stream=codec_name -of csv=p=0 "$TEST_TMP/out.ts" | sort | tr '\n' ' ')" 'aac' "the default sink's monitor gives an AAC track"
