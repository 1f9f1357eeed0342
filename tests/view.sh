#!/bin/bash
# pp-view on an Xvfb of its own: a red stream from stdin, through
# pp-tunnel and from pp-bridge's URL shows red in its window (read back
# from the screen); q, the end of the stream and SIGTERM exit 0; input
# that is not MPEG-TS exits 65, no display 69; a 2-s stall of the input
# ends with the burst dropped, not played behind.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/tunnel-lib.sh"
need pp-view pp-encode pp-tunnel pp-bridge Xvfb xwd xwininfo gst-launch-1.0 ffmpeg python3
plan 40

private_xdg
unset WAYLAND_DISPLAY PULSE_SERVER PIPEWIRE_REMOTE
start_xvfb 640x480

# A live solid red 320x240 stream with a tone, N frames (default: 20 s).
cat > "$TEST_TMP/red" <<'PROD'
#!/bin/sh
n=${N:-600}
exec gst-launch-1.0 -q videotestsrc is-live=true num-buffers=$n pattern=${PATTERN:-solid-color} \
	foreground-color=0xffff0000 ! video/x-raw,width=320,height=240,framerate=30/1 ! \
	x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 ! \
	h264parse config-interval=-1 ! mpegtsmux name=m ! fdsink \
	audiotestsrc is-live=true num-buffers=$((n * 44100 / 30 / 1024)) ! audioconvert ! \
	avenc_aac ! aacparse ! m.
PROD
chmod +x "$TEST_TMP/red"
RED=$TEST_TMP/red

# has_window: the pixelpass window is mapped.
has_window() { xwininfo -root -tree | grep -q '"pixelpass"'; }
# red_share: how much of the window's area (320x240 at 0,0) is red, in %.
red_share() { screen_share 320x240 100 'r > 200 and g < 60 and b < 60'; }
shows_red() { [ "$(red_share)" -ge 90 ]; }
# grey_share: how much of the window is the mid grey libavcodec paints
# where a picture refers to one it never had, in %.
grey_share() { screen_share 320x240 100 'all(abs(c - 128) < 6 for c in (r, g, b))'; }

# --- from stdin, q quits -----------------------------------------------------
"$RED" 2>/dev/null | pp-view > "$TEST_TMP/out1" 2> "$TEST_TMP/err1" &
PV=$!
track_pid $PV
ok "a window titled pixelpass appears" wait_for 15 has_window
ok "it shows the red stream ($(red_share)% red)" wait_for 10 shows_red
xwd -root -silent > "$TEST_TMP/stdin.xwd"
python3 "$top_srcdir/tests/x11-key.py" 100 100 q
ok "q closes it" wait_for 10 sh -c "! kill -0 $PV 2>/dev/null"
wait $PV
is "$?" 0 "...with exit 0"
is "$(cat "$TEST_TMP/out1")" "" "nothing on stdout"
like "$(cat "$TEST_TMP/err1")" '^(pp-view: no sound server to play to \(.*\): video only)?$' \
	"stderr says at most that there is no sound server"

# --- through pp-tunnel; SIGTERM ---------------------------------------------
tunnel_listen tl -- "$RED"
timeout 60 pp-tunnel connect "$tunnel_ticket" 2> "$TEST_TMP/connect.err" |
	pp-view --no-audio --title pixelpass 2> "$TEST_TMP/err2" &
PV=$!
track_pid $PV
ok "pp-tunnel connect TICKET | pp-view shows the red stream" wait_for 20 shows_red
kill -TERM $PV
wait $PV
is "$?" 0 "SIGTERM: exit 0"

# --- from pp-bridge's URL, to the end of the stream -------------------------
N=150 "$RED" 2>/dev/null | pp-bridge --player none > "$TEST_TMP/url" 2> "$TEST_TMP/bridge.err" &
BR=$!
track_pid $BR
wait_for 10 test -s "$TEST_TMP/url" || bail "pp-bridge printed no URL"
URL=$(head -1 "$TEST_TMP/url")
timeout 30 pp-view --no-audio "$URL" 2> "$TEST_TMP/err3" &
PV=$!
track_pid $PV
ok "pp-view http://127.0.0.1:PORT/ shows the red stream" wait_for 15 shows_red
wait $PV
is "$?" 0 "the end of the stream: exit 0"
is "$(cat "$TEST_TMP/err3")" "" "...and nothing said"

# --- closing the window ---------------------------------------------------------
"$RED" 2>/dev/null | pp-view --no-audio 2> "$TEST_TMP/err10" &
PV=$!
track_pid $PV
wait_for 15 has_window || bail "no window"
python3 "$top_srcdir/tests/x11-close.py" "$(xwininfo -root -tree | awk '/"pixelpass"/ { print $1; exit }')"
ok "closing the window ends pp-view" wait_for 10 sh -c "! kill -0 $PV 2>/dev/null"
wait $PV
is "$?" 0 "...with exit 0"

# --- pp-encode --source test (the manual's example) --------------------------
PP_WIDTH=320 PP_HEIGHT=240 pp-encode --source test --no-audio 2>/dev/null |
	pp-view --stats 2> "$TEST_TMP/err4" &
PV=$!
track_pid $PV
ok "pp-encode --source test | pp-view --stats counts shown pictures" \
	wait_for 20 grep -Eq 'stats: received [0-9]+, shown [1-9][0-9]*, dropped [0-9]+, decoder [a-z0-9_]+, arrival to decoded [0-9]+ ms median, [0-9]+ ms max, arrival to display [0-9]+ ms median' "$TEST_TMP/err4"
# Within the first keyframe interval (2 s): a decoder that lost its
# references (it did, when pp-view moved the demuxer's pads) shows grey.
GREY=$(grey_share)
ok "...a whole picture from the first keyframe on ($GREY% grey)" test "${GREY:-100}" -le 20
kill -INT $PV
wait $PV
is "$?" 0 "SIGINT: exit 0"

# --- not MPEG-TS -------------------------------------------------------------
head -c 300000 /dev/urandom | timeout 20 pp-view --no-audio > /dev/null 2> "$TEST_TMP/err5"
is "$?" 65 "random bytes: exit 65"
is "$(wc -l < "$TEST_TMP/err5")" 1 "...with one line"
like "$(cat "$TEST_TMP/err5")" '^pp-view: the input is not an MPEG-TS stream' "...saying so"
timeout 20 pp-view < "$top_srcdir/README.md" > /dev/null 2> "$TEST_TMP/err6"
is "$?" 65 "a text file: exit 65"
like "$(cat "$TEST_TMP/err6")" '^pp-view: the input is not an MPEG-TS stream \(it looks like text/plain\)$' "...with one line saying so"

# --- a URL where nothing listens -----------------------------------------------
timeout 20 pp-view --no-audio http://127.0.0.1:1/ 2> "$TEST_TMP/err11"
is "$?" 69 "a URL that cannot be read: exit 69"
like "$(cat "$TEST_TMP/err11")" '^pp-view: cannot read the stream from http://127.0.0.1:1/: ' "...with one line"

# --- a missing plugin ------------------------------------------------------------
# A plugin directory with everything but the MPEG-TS demuxer.
PLUGINS=$(dirname "$(gst-inspect-1.0 tsdemux | awk '/Filename/ { print $2 }')")
mkdir "$TEST_TMP/plugins"
for f in "$PLUGINS"/*.so; do
	case $f in */libgstmpegtsdemux.so) ;; *) ln -s "$f" "$TEST_TMP/plugins/" ;; esac
done
GST_PLUGIN_SYSTEM_PATH_1_0=$TEST_TMP/plugins GST_PLUGIN_PATH_1_0= GST_REGISTRY_1_0=$TEST_TMP/registry.bin \
	pp-view --check 2> "$TEST_TMP/err12"
is "$?" 69 "--check without tsdemux: exit 69"
is "$(cat "$TEST_TMP/err12")" "pp-view: GStreamer element tsdemux is missing; install gstreamer1.0-plugins-bad" \
	"...naming it and its Debian package"

# --- no display, --check, --help, --version ----------------------------------
env -u DISPLAY pp-view < /dev/null 2> "$TEST_TMP/err7"
is "$?" 69 "no DISPLAY nor WAYLAND_DISPLAY: exit 69"
like "$(cat "$TEST_TMP/err7")" '^pp-view: no display: neither WAYLAND_DISPLAY nor DISPLAY is set' "...with one line"
DISPLAY=:99 pp-view --check 2> "$TEST_TMP/err8"
is "$?" 69 "--check with a display that does not exist: exit 69"
like "$(cat "$TEST_TMP/err8")" '^pp-view: cannot open the display :99: ' "...with one line naming it"
is "$(pp-view --check 2>&1)" "" "--check with a working display prints nothing"
pp-view --check
is "$?" 0 "...and exits 0"
pp-view --check --decoder avdec_h264
is "$?" 0 "--check --decoder avdec_h264: it decodes here"
pp-view --check --decoder nosuchdec 2> "$TEST_TMP/err13"
is "$?:$(wc -l < "$TEST_TMP/err13")" 69:1 "--check --decoder with an element that is not there: exit 69, one line"
pp-view --help > "$TEST_TMP/help" 2>/dev/null
is "$?" 0 "--help: exit 0"
like "$(head -1 "$TEST_TMP/help")" '^usage: pp-view ' "...usage on stdout"
like "$(pp-view --version)" '^pp-view [0-9]+\.[0-9]+\.[0-9]+$' "--version"
pp-view --no-such-option < /dev/null > /dev/null 2>&1
is "$?" 64 "an unknown option: exit 64"

# --- a 2-s stall, then a burst ------------------------------------------------
N=270 PATTERN=ball "$RED" 2>/dev/null | python3 "$top_srcdir/tests/stall-relay.py" 3 2 \
	2> "$TEST_TMP/relay.err" | timeout 60 pp-view --stats --no-audio 2> "$TEST_TMP/err9"
is "$?" 0 "a stalled stream plays to its end"
grep -q 'burst of' "$TEST_TMP/relay.err" || diag "the relay did not stall: $(cat "$TEST_TMP/relay.err")"
LAST=$(grep 'stats:' "$TEST_TMP/err9" | tail -1)
diag "$LAST"
DROPPED=$(printf '%s' "$LAST" | sed -n 's/.*dropped \([0-9]*\),.*/\1/p')
ok "the burst after the stall is dropped, not played behind (${DROPPED:-no} frames dropped)" \
	test "${DROPPED:-0}" -ge 20
MEDIAN=$(printf '%s' "$LAST" | sed -n 's/.*display \([0-9]*\) ms median.*/\1/p')
ok "...and it is live again: the last second's pictures shown ${MEDIAN:-?} ms after arrival" \
	test "${MEDIAN:-9999}" -le 400
