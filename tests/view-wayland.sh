#!/bin/bash
# pp-view with WAYLAND_DISPLAY alone, on a headless sway of its own:
# waylandsink shows the stream (its pictures counted by --stats), pp-view
# says once that the keys do not work there, and closing the window
# (swaymsg kill) ends it with exit 0.
. "$top_srcdir/tests/libtest.sh"
need pp-view sway swaymsg setpriv gst-launch-1.0 python3
plan 4

private_xdg
unset DISPLAY PULSE_SERVER PIPEWIRE_REMOTE
# sway refuses root: it runs as nobody, which must reach its files.
d=$TEST_TMP
while [ "$d" != / ]; do chmod o+x "$d" 2>/dev/null; d=$(dirname "$d"); done
chown nobody "$XDG_RUNTIME_DIR"
cat > "$TEST_TMP/sway.config" <<'CFG'
xwayland disable
output HEADLESS-1 resolution 640x360 bg #000000 solid_color
default_border none
CFG
chmod a+r "$TEST_TMP/sway.config"
env WLR_BACKENDS=headless WLR_LIBINPUT_NO_DEVICES=1 WLR_RENDERER=pixman HOME="$TEST_TMP" \
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
	sway --config "$TEST_TMP/sway.config" > "$TEST_TMP/sway.log" 2>&1 &
track_pid $!
export WAYLAND_DISPLAY=wayland-1
wait_for 10 test -S "$XDG_RUNTIME_DIR/$WAYLAND_DISPLAY" || bail "sway did not start"
wait_for 10 sh -c 'ls "$XDG_RUNTIME_DIR"/sway-ipc.*.sock' > /dev/null 2>&1 || bail "no sway IPC socket"
SWAYSOCK=$(ls "$XDG_RUNTIME_DIR"/sway-ipc.*.sock | head -1)
export SWAYSOCK

gst-launch-1.0 -q videotestsrc is-live=true num-buffers=900 pattern=ball ! \
	video/x-raw,width=320,height=240,framerate=30/1 ! \
	x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 ! \
	h264parse config-interval=-1 ! mpegtsmux ! fdsink 2>/dev/null |
	pp-view --stats 2> "$TEST_TMP/err" &
PV=$!
track_pid $PV
ok "waylandsink shows the stream" wait_for 20 grep -Eq 'stats: received [0-9]+, shown [1-9]' "$TEST_TMP/err"
like "$(cat "$TEST_TMP/err")" 'pp-view: waylandsink takes no keys' "...and pp-view says the keys do not work there"
swaymsg kill > /dev/null
ok "closing the window ends pp-view" wait_for 10 sh -c "! kill -0 $PV 2>/dev/null"
wait $PV
is "$?" 0 "...with exit 0"
