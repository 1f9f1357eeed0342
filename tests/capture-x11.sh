#!/bin/bash
# pp-capture --source x11 under Xvfb: the child gets PP_SOURCE=x11, the
# display, and with --window-id the window; capturing what those name
# shows the root's colour and the window's colour.
. "$top_srcdir/tests/libtest.sh"
need pp-capture Xvfb xsetroot xlogo xwininfo gst-launch-1.0 ffmpeg python3

plan 16
private_xdg
unset WAYLAND_DISPLAY PULSE_SERVER PIPEWIRE_REMOTE
start_xvfb 320x240
xsetroot -solid '#00ff00'
xlogo -bg '#0000ff' -fg '#0000ff' -geometry 120x80+10+10 &
track_pid $!
wait_for 10 sh -c 'xwininfo -root -tree | grep -q xlogo' || bail "xlogo did not map"
wid=$(xwininfo -root -tree | awk '/"xlogo"/ {print $1; exit}')

# The child records its environment and grabs one frame of what it names.
cat >"$TEST_TMP/child.sh" <<'CHILD'
#!/bin/sh
out=$1
env | grep '^PP_' | sort >"$out/env"
xid=
[ -n "${PP_WINDOW_ID:-}" ] && xid="xid=$PP_WINDOW_ID"
exec gst-launch-1.0 -q ximagesrc display-name="$PP_DISPLAY" $xid use-damage=false \
    num-buffers=1 ! videoconvert ! pngenc ! filesink location="$out/frame.png"
CHILD
chmod +x "$TEST_TMP/child.sh"

dominant() {
	ffmpeg -v error -i "$2" -f rawvideo -pix_fmt rgb24 - | python3 -c '
import sys
want = bytes.fromhex(sys.argv[1].lstrip("#"))
data = sys.stdin.buffer.read()
n = len(data) // 3
hit = sum(1 for i in range(n)
          if all(abs(data[3*i+k] - want[k]) < 16 for k in range(3)))
print(round(100 * hit / n))' "$1"
}
var() { sed -n "s/^$2=//p" "$TEST_TMP/$1/env"; }

mkdir "$TEST_TMP/screen" "$TEST_TMP/win"
pp-capture -- "$TEST_TMP/child.sh" "$TEST_TMP/screen"
is "$?" 0 "pp-capture --source x11 (the default without Wayland) runs the child"
is "$(var screen PP_SOURCE)" x11 "PP_SOURCE=x11"
is "$(var screen PP_DISPLAY)" "$DISPLAY" "PP_DISPLAY is the display"
is "$(var screen PP_WINDOW_ID)" "" "no PP_WINDOW_ID for the whole screen"
is "$(var screen PP_CURSOR)" embedded "PP_CURSOR=embedded by default"
share=$(dominant '#00ff00' "$TEST_TMP/screen/frame.png")
ok "the screen capture shows the green root ($share%)" test "$share" -ge 70

pp-capture --source x11 --window-id "$wid" --cursor hidden -- "$TEST_TMP/child.sh" "$TEST_TMP/win"
is "$?" 0 "pp-capture --window-id runs the child"
is "$(var win PP_WINDOW_ID)" "$wid" "PP_WINDOW_ID is the window"
is "$(var win PP_CURSOR)" hidden "PP_CURSOR=hidden with --cursor hidden"
share=$(dominant '#0000ff' "$TEST_TMP/win/frame.png")
ok "the window capture shows the blue window ($share%)" test "$share" -ge 90

DISPLAY= pp-capture --source x11 -- true 2>"$TEST_TMP/err"
is "$?" 69 "no display exits 69"
pp-capture --source x11 --select-only 2>"$TEST_TMP/err"
is "$?" 64 "--select-only without the portal is a usage error"
# The example of pp-capture(1).
like "$(pp-capture --source x11 --window-id "$wid" --cursor hidden -- env)" "PP_WINDOW_ID=$wid" "the manual's x11 example prints the window id"

# --window without an id: the user clicks the window (a fake click here).
mkdir "$TEST_TMP/click"
python3 "$top_srcdir/tests/x11-click.py" 60 50 "$TEST_TMP/click/env" &
clicker=$!
track_pid $clicker
pp-capture --source x11 --window -- "$TEST_TMP/child.sh" "$TEST_TMP/click" 2>"$TEST_TMP/click/err"
is "$?" 0 "pp-capture --window runs the child once a window is clicked"
like "$(cat "$TEST_TMP/click/err")" 'click the window' "it asks the user to click the window"
is "$(var click PP_WINDOW_ID)" "$wid" "PP_WINDOW_ID is the clicked window"
