#!/bin/bash
# pp-encode --source x11 under Xvfb: the decoded picture has the colour
# drawn on the screen (two colours), one window alone by --window-id, the
# pointer drawn or hidden; with no audio server, one warning and a stream
# of video only.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/encode-lib.sh"
need pp-encode ffmpeg ffprobe Xvfb xsetroot xlogo xwininfo
plan 28

# rgb FILE [FILTER]: "R G B" of the first decoded frame (through FILTER,
# e.g. a crop), averaged down to one pixel.
rgb() {
	ffmpeg -nostdin -v error -i "$1" -frames:v 1 \
	    -vf "${2:+$2,}scale=1:1:flags=area" -f rawvideo -pix_fmt rgb24 - |
	    od -An -tu1 | xargs
}

# close_to "R G B" "R G B": every channel within 12.
close_to() {
	local a=($1) b=($2) i d
	[ "${#a[@]}" -eq 3 ] || return 1
	for i in 0 1 2; do
		d=$((a[i] - b[i]))
		[ "${d#-}" -le 12 ] || return 1
	done
}

# No audio server, whatever the caller runs: an empty runtime dir and a
# server address where nothing listens.
export XDG_RUNTIME_DIR="$TEST_TMP/run"
mkdir -m 0700 "$XDG_RUNTIME_DIR"
export PULSE_SERVER="unix:$TEST_TMP/no-such-socket"
start_xvfb

xsetroot -solid '#ff0000'
encode_for 2 "$TEST_TMP/red.ts" "$TEST_TMP/red.err" -- --source x11 \
    --no-audio --cursor hidden
is "$?" 0 "exit 0 after SIGTERM"
is "$(streams "$TEST_TMP/red.ts")" "h264" "--no-audio: one H.264 stream"
is "$(video_info "$TEST_TMP/red.ts")" "640x480 30/1" "the screen's size"
is "$(decode_errors "$TEST_TMP/red.ts")" "" "every frame decodes"
got=$(rgb "$TEST_TMP/red.ts")
ok "the picture is red (got $got)" close_to "$got" "255 0 0"

# Another colour, a smaller size, DISPLAY given as PP_DISPLAY.
xsetroot -solid '#2060c0'
PP_DISPLAY=$DISPLAY DISPLAY= encode_for 2 "$TEST_TMP/blue.ts" \
    "$TEST_TMP/blue.err" -- --source x11 --no-audio --max-size 320x320 \
    --cursor hidden
is "$?" 0 "exit 0"
is "$(video_info "$TEST_TMP/blue.ts")" "320x240 30/1" "640x480 scaled to fit 320x320"
got=$(rgb "$TEST_TMP/blue.ts")
ok "the picture is #2060c0 (got $got)" close_to "$got" "32 96 192"

# One window: a green xlogo on the blue screen.
xlogo -bg '#00ff00' -fg '#00ff00' -geometry 160x120+40+40 2>/dev/null &
xlogo_pid=$!
track_pid $xlogo_pid
xid=
wait_for 10 eval 'xid=$(xwininfo -root -tree | awk "/\"xlogo\"/ { print \$1; exit }"); [ -n "$xid" ]'
ok "xlogo is up ($xid)" test -n "$xid"
PP_WINDOW_ID=$xid encode_for 2 "$TEST_TMP/win.ts" "$TEST_TMP/win.err" -- \
    --source x11 --no-audio
is "$(video_info "$TEST_TMP/win.ts")" "160x120 30/1" "PP_WINDOW_ID: the window's size"
got=$(rgb "$TEST_TMP/win.ts")
ok "the window is green (got $got)" close_to "$got" "0 255 0"

pp-encode --source x11 --window-id 0x7ffffe --no-audio >/dev/null 2>"$TEST_TMP/nowin.err"
is "$?" 69 "a window that does not exist: exit 69"
like "$(cat "$TEST_TMP/nowin.err")" '^pp-encode: no window 0x7ffffe on X display :[0-9]+: pick one with xwininfo$' "one line saying so"

# Closing the shared window ends the stream cleanly, by itself.
pp-encode --source x11 --window-id "$xid" --no-audio -o "$TEST_TMP/closed.ts" \
    --status-fd 3 2>"$TEST_TMP/closed.err" 3>"$TEST_TMP/closed.events" &
pid=$!
track_pid $pid
wait_for 20 grep -q '^encoding ' "$TEST_TMP/closed.events"
sleep 1
kill "$xlogo_pid"
ok "the window closed: pp-encode ends by itself" wait_gone $pid 10
wait $pid
is "$?" 0 "with exit 0"
like "$(cat "$TEST_TMP/closed.err")" 'the shared window was closed; finishing the stream' "saying the window was closed"
is "$(grep -v '^encoding ' "$TEST_TMP/closed.events")" "source-ended reason=window-closed" \
    "...and as a source-ended event"
is "$(decode_errors "$TEST_TMP/closed.ts")" "" "and a stream that decodes to the end"

# The pointer sits in the middle of the screen: drawn by default, not
# with PP_CURSOR=hidden.
encode_for 2 "$TEST_TMP/ptr.ts" "$TEST_TMP/ptr.err" -- --source x11 \
    --no-audio
got=$(rgb "$TEST_TMP/ptr.ts" crop=32:32:304:224)
ok "the pointer is drawn by default (got $got)" \
    eval '! close_to "$got" "32 96 192"'
PP_CURSOR=hidden encode_for 2 "$TEST_TMP/noptr.ts" "$TEST_TMP/noptr.err" \
    -- --source x11 --no-audio
got=$(rgb "$TEST_TMP/noptr.ts" crop=32:32:304:224)
ok "PP_CURSOR=hidden hides it (got $got)" close_to "$got" "32 96 192"

# No audio server: video anyway, one line saying so.
encode_for 2 "$TEST_TMP/mute.ts" "$TEST_TMP/mute.err" -- --source x11
is "$?" 0 "no audio server: exit 0"
is "$(streams "$TEST_TMP/mute.ts")" "h264" "a stream of video only"
got=$(rgb "$TEST_TMP/mute.ts" crop=32:32:16:400)
ok "with the screen's picture (got $got)" close_to "$got" "32 96 192"
is "$(grep -c 'no audio server (PulseAudio or PipeWire) answers' "$TEST_TMP/mute.err")" 1 "one line says there is no audio server"
like "$(cat "$TEST_TMP/mute.err")" 'audio none \(no audio server\)$' "and the start line too"

# The X server goes away: one line, exit 69.
pp-encode --source x11 --no-audio -o "$TEST_TMP/gone.ts" 2>"$TEST_TMP/gone.err" &
pid=$!
track_pid $pid
wait_for 20 grep -q '^pp-encode: source' "$TEST_TMP/gone.err"
kill "$XVFB_PID"
wait $pid
is "$?" 69 "the X server gone: exit 69"
is "$(grep -vc '^pp-encode: source' "$TEST_TMP/gone.err")" 1 "one line"
like "$(cat "$TEST_TMP/gone.err")" 'the X display closed the connection' "saying so"
