#!/bin/bash
# pp-capture --source portal: the child gets the portal's PipeWire remote
# on fd 3 and the PP_* variables, and what it records from that node is
# what the compositor shows (two background colours, two runs). The
# man page's example of this is run as written by man-capture-portal.sh.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/portal-lab.sh"
need pp-capture ffmpeg python3 swaymsg

plan 11
lab_portal_start '#ff0000'

# The child: records its environment and fd 3, then 12 frames from the
# node named by PP_PIPEWIRE_NODE over that fd (the first ones show the
# desktop before the stream settles; the last one is checked).
cat >"$TEST_TMP/child.sh" <<'CHILD'
#!/bin/sh
out=$1
env | grep '^PP_' | sort >"$out/env"
readlink /proc/self/fd/3 >"$out/fd3"
exec gst-launch-1.0 -q pipewiresrc fd=3 path="$PP_PIPEWIRE_NODE" num-buffers=12 \
    ! videoconvert ! pngenc snapshot=false \
    ! multifilesink location="$out/frame%02d.png"
CHILD
chmod +x "$TEST_TMP/child.sh"

capture() {
	local dir="$TEST_TMP/$1"
	mkdir -p "$dir"
	timeout 60 pp-capture --source portal -- "$TEST_TMP/child.sh" "$dir" \
	    2>"$dir/stderr"
}

capture red
is "$?" 0 "pp-capture exits with the child's status (0)"
env=$(cat "$TEST_TMP/red/env")
var() { sed -n "s/^$1=//p" "$TEST_TMP/red/env"; }
is "$(var PP_SOURCE)" portal "PP_SOURCE=portal"
like "$(var PP_PIPEWIRE_NODE)" '^[0-9]+$' "PP_PIPEWIRE_NODE is a node id"
is "$(var PP_WIDTH)x$(var PP_HEIGHT)" 640x360 "PP_WIDTH and PP_HEIGHT are the output's size"
is "$(var PP_CURSOR)" embedded "PP_CURSOR=embedded by default"
unlike "$env" 'PP_DISPLAY|PP_WINDOW_ID' "no X11 variables for the portal"
like "$(cat "$TEST_TMP/red/fd3")" '^socket:' "fd 3 is the PipeWire socket"
share=$(lab_colour_share '#ff0000' "$TEST_TMP/red/frame11.png")
ok "the frame shows the red background ($share% red)" test "$share" -ge 90
ok "the restore token is kept" test -s "$XDG_STATE_HOME/pixelpass/screencast-monitor.token"

swaymsg -s "$(echo "$XDG_RUNTIME_DIR"/sway-ipc.*.sock)" \
    output HEADLESS-1 bg '#0000ff' solid_color >/dev/null
sleep 0.5
capture blue
is "$?" 0 "a second capture exits 0"
share=$(lab_colour_share '#0000ff' "$TEST_TMP/blue/frame11.png")
ok "the second frame shows the blue background ($share% blue)" test "$share" -ge 90

