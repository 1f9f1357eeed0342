#!/bin/bash
# pp-view's sound on a private PipeWire (pipewire-pulse, a "speakers"
# null sink): the stream's 440 Hz tone reaches the speakers, m mutes it,
# m again brings it back, and f makes the window cover the screen.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/portal-lab.sh"
need pp-view Xvfb xwininfo gst-launch-1.0 python3
plan 9

lab_audio_start
start_xvfb 640x480

gst-launch-1.0 -q videotestsrc is-live=true num-buffers=900 ! \
	video/x-raw,width=320,height=240,framerate=30/1 ! \
	x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 ! \
	h264parse config-interval=-1 ! mpegtsmux name=m ! fdsink \
	audiotestsrc is-live=true freq=440 volume=0.5 ! audioconvert ! avenc_aac ! aacparse ! m. \
	2>/dev/null | pp-view 2> "$TEST_TMP/err" &
PV=$!
track_pid $PV

# record NAME: 1.5 s of what the speakers play.
record() {
	gst-launch-1.0 -q pulsesrc device=speakers.monitor num-buffers=150 ! \
		audio/x-raw,format=S16LE,rate=48000,channels=2 ! wavenc ! \
		filesink location="$TEST_TMP/$1.wav"
}
level() { python3 "$top_srcdir/tests/tone-level.py" "$TEST_TMP/$1.wav" 1 440; }
key() { python3 "$top_srcdir/tests/x11-key.py" 100 100 "$1"; }
loud() { python3 -c "import sys; sys.exit(not ($1 > -30))"; }
quiet() { python3 -c "import sys; sys.exit(not ($1 < -60))"; }

ok "pp-view plays to the sound server" wait_for 15 sh -c 'pactl list sink-inputs | grep -q "application.name = \"pp-view\""'
# The stream can reach the server seconds before its first sound does
# (a sanitizer build's decoder is slow to start): up to five recordings.
for try in 1 2 3 4 5; do
	record on
	loud "$(level on)" && break
done
ok "the tone reaches the speakers ($(level on) dB, recording $try)" loud "$(level on)"
key m
sleep 0.5
record muted
ok "m mutes it ($(level muted) dB)" quiet "$(level muted)"
key m
sleep 0.5
record again
ok "m again brings it back ($(level again) dB)" loud "$(level again)"

# size: the pixelpass window's WIDTHxHEIGHT.
size() {
	xwininfo -id "$(xwininfo -root -tree | awk '/"pixelpass"/ { print $1; exit }')" |
		awk '/Width:/ { w = $2 } /Height:/ { h = $2 } END { print w "x" h }'
}
size_is() { [ "$(size)" = "$1" ]; }
is "$(size)" 320x240 "the window has the stream's size"
key f
ok "f: it covers the screen" wait_for 5 size_is 640x480
key f
ok "f again: back to its size" wait_for 5 size_is 320x240
key q
wait $PV
is "$?" 0 "q: exit 0"
is "$(cat "$TEST_TMP/err")" "" "nothing on stderr"
