#!/bin/bash
# The event channels of pp-encode and pp-capture (--status-fd): what is
# encoded and what is shared, as fixed words a frontend can parse, and a
# descriptor that is not open refused before GLib opens its own. About
# 10 s (one Xvfb, three short encodes).
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/encode-lib.sh"
need pp-encode pp-capture Xvfb
plan 11

private_xdg
export PULSE_SERVER="unix:$TEST_TMP/no-such-socket"
unset PP_SOURCE PP_DISPLAY
cd "$TEST_TMP" || bail "no temp dir"

# stop_after SECS PID: SIGINT after SECS, as Control-C; the status in rc.
stop_after() {
	sleep "$1"
	kill -INT "$2" 2> /dev/null
	wait "$2"
	rc=$?
}

pp-encode --source test --fps 25 --bitrate 2000 -o test.ts --status-fd 3 \
	2> test.err 3> test.events &
encode=$!
track_pid $encode
wait_for 30 grep -qs '^encoding ' test.events
stop_after 2 $encode
is "$rc" 0 "pp-encode --source test --status-fd 3: exit 0 on SIGINT"
is "$(cat test.events)" \
	"encoding source=test width=1280 height=720 fps=25 encoder=$(pp-encode --list-encoders | awk '$2 == "works" { print $1; exit }') kbps=2000 keyint=2 audio=tone mic=no layers=1" \
	"one encoding event: the source, size, rate, encoder, bitrate, keyframes, sound and layers"
is "$(streams test.ts)" "h264 aac" "...and the stream it describes: H.264 and AAC"

# Nothing open on 4 but what GLib would open for its signals.
timeout 20 pp-encode --source test -o none.ts --status-fd 4 3<&- 4<&- 2> none.err
is "$?" 64 "--status-fd on a descriptor that is not open: exit 64"
like "$(cat none.err)" '^pp-encode: --status-fd 4: not an open file descriptor' "...saying so in one line"

start_xvfb 320x240
pp-capture --source x11 --no-audio --status-fd 3 -- \
	sh -c 'exec pp-encode -o x11.ts --status-fd 3 3> enc.events' \
	2> capture.err 3> capture.events &
capture=$!
track_pid $capture
wait_for 20 grep -qs '^encoding ' enc.events
encoder=$(sed -n 's/^child-started pid=\([0-9]*\)$/\1/p' capture.events)
stop_after 1 $capture
is "$rc" 0 "pp-capture --source x11 -- pp-encode: exit 0 on SIGINT"
is "$(sed -n 1p capture.events)" \
	"capture-ready source=x11 node= width= height= display=$DISPLAY window= cursor=embedded audio=none mic=no" \
	"pp-capture: capture-ready says what the child gets"
ok "...child-started names the encoder's pid ($encoder)" test -n "$encoder" -a "$encoder" != "$capture"
is "$(sed -n 3p capture.events)" "child-exited status=0" "...and child-exited its status"
like "$(cat enc.events)" '^encoding source=x11 width=320 height=240 fps=30 encoder=[a-z0-9]+ kbps=6000 keyint=2 audio=none mic=no layers=1$' \
	"pp-encode under pp-capture: the screen's size, no sound"
is "$(video_info x11.ts)" "320x240 30/1" "...as the stream has it"
