#!/bin/bash
# pixelpass sharing one X11 window: the window is clicked (a fake click)
# before the ticket exists, and a viewer's recording has the window's
# size and colour.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/frontend-lib.sh"
need pixelpass pp-capture pp-encode Xvfb xsetroot xlogo xwininfo ffprobe ffmpeg python3
plan 6

private_xdg
unset WAYLAND_DISPLAY PULSE_SERVER PIPEWIRE_REMOTE
start_xvfb 320x240
xsetroot -solid '#00ff00'
xlogo -bg '#0000ff' -fg '#0000ff' -geometry 120x80+10+10 &
track_pid $!
wait_for 10 sh -c 'xwininfo -root -tree | grep -q xlogo' || bail "xlogo did not map"
wid=$(xwininfo -root -tree | sed -n 's/^ *\(0x[0-9a-f]*\) "xlogo".*/\1/p')

python3 "$top_srcdir/tests/x11-click.py" 60 50 "$TEST_TMP/host.ticket.done" &
track_pid $!
fe_host host --window --no-audio --rendezvous none --fps 15
touch "$TEST_TMP/host.ticket.done"
like "$(cat "$TEST_TMP/host.log")" 'click the window to share' "the host asks for a click on the window"
is "$(sed -n 's/^pixelpass: sharing window //p' "$TEST_TMP/host.log")" "$wid" "...and shares the window clicked, before the ticket"
pixelpass --record "$TEST_TMP/rec.ts" "$fe_ticket" > /dev/null 2> "$TEST_TMP/v.err" &
V=$!
track_pid $V
wait_for 30 sh -c "test \$(stat -c %s '$TEST_TMP/rec.ts' 2>/dev/null || echo 0) -gt 30000" ||
	diag "little recorded: $(tail -n 3 "$TEST_TMP/host.log")"
sleep 1
fe_stop $V
is "$(ffprobe -v error -select_streams v:0 -show_entries stream=codec_name,width,height \
	-of csv=p=0 "$TEST_TMP/rec.ts" | head -n 1)" "h264,120,80" "the viewer gets the window, at its size"
ok "every frame decodes" decodes "$TEST_TMP/rec.ts"
ffmpeg -nostdin -v error -i "$TEST_TMP/rec.ts" -frames:v 1 -vf 'scale=1:1' -f rawvideo -pix_fmt rgb24 - |
	od -An -tu1 | tr -s ' ' > "$TEST_TMP/rgb"
like "$(cat "$TEST_TMP/rgb")" '^ *[0-9]{1,2} [0-9]{1,2} (2[2-5][0-9]) *$' "...blue, like the window ($(cat "$TEST_TMP/rgb"))"
fe_stop "$fe_pid"
is "$(fe_leftovers)" "" "the host leaves nothing behind"
