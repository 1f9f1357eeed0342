#!/bin/bash
# How far behind the host pp-view shows the stream (pp-view(1), --stats
# and the key s): from pp-encode's host clock, directly, through
# pp-fanout and through pp-tunnel, a figure above zero and below two
# seconds on this machine; from a stream without that clock (a muxer
# other than pp-encode's), "unknown", never a number. s shows the
# overlay and hides it again.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/tunnel-lib.sh"
need pp-view pp-encode pp-fanout pp-tunnel Xvfb xwd xwininfo gst-launch-1.0 ffmpeg python3
plan 13

private_xdg
unset WAYLAND_DISPLAY PULSE_SERVER PIPEWIRE_REMOTE
start_xvfb 640x480

has_window() { xwininfo -root -tree | grep -q '"pixelpass"'; }
# white_share: how much of the window's top-left quarter (160x120 at 0,0)
# is light, in per mille: the overlay's white text, smoothed into the red
# picture around it.
white_share() { screen_share 160x120 1000 'g > 100 and b > 100'; }
# behind FILE: "MEDIAN MAX" of the last figure behind the host in FILE.
behind() {
	sed -n 's/^pp-view: behind the host: \([0-9]*\) ms median, \([0-9]*\) ms max$/\1 \2/p' "$1" |
		tail -n 1
}
# stop PID: SIGINT, and its exit status.
stop() {
	kill -INT "$1"
	wait "$1"
}

# behind_ok LOG WHAT: the pp-view $PV, reading WHAT and writing --stats to
# LOG, shows the pictures above zero and below 2 s behind the host; then
# it is stopped.
behind_ok() {
	wait_for 30 grep -Eq '^pp-view: behind the host: [0-9]+ ms' "$1"
	sleep 3
	read -r med max < <(behind "$1")
	diag "$2, behind the host: ${med:-?} ms median, ${max:-?} ms max"
	ok "$2 | pp-view --stats: above zero and below 2 s (${med:-?} ms median, ${max:-?} ms max)" \
		test "${med:-0}" -gt 0 -a "${max:-9999}" -lt 2000
	stop $PV
}

# --- pp-encode's stream, straight in --------------------------------------------
PP_WIDTH=320 PP_HEIGHT=240 pp-encode --source test --no-audio 2> /dev/null |
	pp-view --stats 2> "$TEST_TMP/direct.err" &
PV=$!
track_pid $PV
ok "pp-encode --source test | pp-view --stats: a figure behind the host" \
	wait_for 30 grep -Eq '^pp-view: behind the host: [0-9]+ ms median, [0-9]+ ms max$' "$TEST_TMP/direct.err"
sleep 3
read -r med max < <(behind "$TEST_TMP/direct.err")
diag "$(grep 'stats: received' "$TEST_TMP/direct.err" | tail -n 1)"
diag "behind the host: ${med:-?} ms median, ${max:-?} ms max"
ok "...above zero and below 2 s (${med:-?} ms median)" \
	test "${med:-0}" -gt 0 -a "${med:-0}" -lt 2000
ok "...its max as well (${max:-?} ms)" test "${max:-0}" -gt 0 -a "${max:-9999}" -lt 2000
ok "...every second, after the line it follows" \
	test "$(grep -c '^pp-view: behind the host: ' "$TEST_TMP/direct.err")" -ge 3
stop $PV
is "$?" 0 "...and SIGINT: exit 0"

# --- through pp-fanout, a consumer that joins at a keyframe ---------------------
S=$TEST_TMP/fan.sock
PP_WIDTH=320 PP_HEIGHT=240 pp-fanout serve --socket "$S" -- \
	pp-encode --source test --no-audio 2> "$TEST_TMP/fan.err" &
track_pid $!
wait_for 10 test -S "$S" || bail "pp-fanout did not start: $(cat "$TEST_TMP/fan.err")"
pp-fanout attach --socket "$S" 2> /dev/null | pp-view --stats 2> "$TEST_TMP/fan.view" &
PV=$!
track_pid $PV
behind_ok "$TEST_TMP/fan.view" "pp-fanout attach"

# --- the host chain: pp-fanout behind pp-tunnel -------------------------------
tunnel_listen tl -- pp-fanout attach --socket "$S"
timeout 60 pp-tunnel connect "$tunnel_ticket" 2> /dev/null |
	pp-view --stats 2> "$TEST_TMP/tunnel.view" &
PV=$!
track_pid $PV
behind_ok "$TEST_TMP/tunnel.view" "pp-tunnel connect"
kill "$tunnel_pid"

# --- a stream without the host's clock ---------------------------------------
# Solid red from gst-launch's mpegtsmux, as an older pp-encode or a
# recording by another muxer would be.
gst-launch-1.0 -q videotestsrc is-live=true num-buffers=900 pattern=solid-color \
	foreground-color=0xffff0000 ! video/x-raw,width=320,height=240,framerate=30/1 ! \
	x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 ! \
	h264parse config-interval=-1 ! mpegtsmux ! fdsink 2> /dev/null |
	pp-view --stats --no-audio 2> "$TEST_TMP/none.err" &
PV=$!
track_pid $PV
ok "no host clock in the stream: behind the host unknown" wait_for 30 \
	grep -qx 'pp-view: behind the host: unknown (the stream carries no host clock)' "$TEST_TMP/none.err"
unlike "$(grep 'behind the host' "$TEST_TMP/none.err")" '[0-9]' "...never a number"
wait_for 10 has_window || bail "no window"
sleep 1
before=$(white_share)
python3 "$top_srcdir/tests/x11-key.py" 100 100 s
ok "s shows the overlay (white text on the red: ${before:-?} per mille before)" \
	wait_for 10 eval '[ "$(white_share)" -ge $((${before:-1000} + 5)) ]'
diag "with the overlay: $(white_share) per mille white"
python3 "$top_srcdir/tests/x11-key.py" 100 100 s
ok "s again hides it" wait_for 10 eval '[ "$(white_share)" -le $((${before:-0} + 1)) ]'
stop $PV
is "$?" 0 "...and SIGINT: exit 0"
unlike "$(grep -v 'behind the host\|stats:' "$TEST_TMP/none.err")" . "nothing else said"
