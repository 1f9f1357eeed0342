#!/bin/bash
# pp-fanout and pp-bridge with pp-encode as the producer: a consumer that
# joins late starts at the keyframe its join asked for (SIGUSR1), not at
# the next one on the keyframe interval; and the man pages' examples.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/fanout-lib.sh"
need pp-encode ffmpeg ffprobe mpv curl Xvfb
plan 21

private_xdg
cd "$TEST_TMP" || bail "no temp dir"

# pts_of_keyframes FILE: the presentation time of each video keyframe.
pts_of_keyframes() {
	ffprobe -v error -select_streams v:0 -show_entries frame=key_frame,pts_time \
		-of csv=p=0 "$1" | awk -F, '$1 == 1 { print $2 }'
}

# track_encoders: the pp-encode of a background pipeline is not $!; it is
# the child of this shell that runs pp-encode.
track_encoders() {
	local p
	sleep 0.5
	for p in $(pgrep -P $$ -x pp-encode); do
		track_pid "$p"
	done
}

# --- keyframe on join ---------------------------------------------------------
# A keyframe interval of 10 s: any keyframe within the first seconds after
# the first one was asked for.
S=$TEST_TMP/kf.sock
PP_VERBOSE=1 pp-fanout serve --socket "$S" --linger 0 -- \
	pp-encode --source test --keyint 10 --max-size 320x240 --fps 30 --bitrate 500 \
	2> kf.log &
FAN=$!
track_pid $FAN
wait_for 10 test -S "$S" || bail "pp-fanout did not start"
pp-fanout attach --socket "$S" > a.ts & A=$!
track_pid $A
ok "the first consumer gets data" wait_for 30 grows a.ts 60000
pp-fanout attach --socket "$S" > b.ts & B=$!
track_pid $B
ok "a second one, joining later, gets data" wait_for 30 grows b.ts 30000
kill $A $B
wait $A $B
ok "the fanout asked the producer for a keyframe" grep -q "asked the producer (pid [0-9]*) for a keyframe" kf.log
ok "pp-encode answered it" grep -q "pp-encode: SIGUSR1" kf.log
KA=$(pts_of_keyframes a.ts | tr '\n' ' ')
KB=$(pts_of_keyframes b.ts | head -1)
diag "keyframes seen by the first consumer: $KA; the second starts at $KB"
set -- $KA
ok "the first consumer saw a keyframe besides the first, within the 10 s interval" test $# -ge 2
is "$KB" "${2:-none}" "the second consumer starts at exactly that keyframe"
ok "...cleanly" starts_clean b.ts
ok "pp-encode stops with the last consumer" wait_for 15 grep -q "the producer (pid [0-9]*) stopped: it exited with status 0" kf.log
kill $FAN
wait $FAN

# --- the host's producer stops quietly with the last viewer -------------------
# pixelpass's producer is pp-capture -- pp-encode: the fanout's SIGTERM to
# its process group reaches both, and pp-capture hands it on; pp-encode
# takes the two for one stop and finishes the stream, saying nothing.
S=$TEST_TMP/stop.sock
pp-fanout serve --socket "$S" --linger 0 -- pp-capture --source test -- \
	pp-encode --max-size 320x240 --bitrate 500 2> stop.log &
FAN=$!
track_pid $FAN
wait_for 10 test -S "$S" || bail "pp-fanout did not start"
pp-fanout attach --socket "$S" > c.ts & A=$!
track_pid $A
ok "a consumer of pp-capture -- pp-encode gets data" wait_for 30 grows c.ts 30000
kill $A
wait $A
ok "the producer stops with the last consumer, exit 0" wait_for 15 grep -q "the producer (pid [0-9]*) stopped: it exited with status 0" stop.log
unlike "$(cat stop.log)" "without finishing" "...having finished its stream, quietly"
kill $FAN
wait $FAN

# --- pp-fanout(1) EXAMPLES ------------------------------------------------------
pp-fanout serve --socket "${XDG_RUNTIME_DIR:-/tmp}/screen.sock" --linger 5 -- \
    pp-encode --source test 2> ex1.log &
EX1=$!
track_pid $EX1
wait_for 10 test -S "${XDG_RUNTIME_DIR:-/tmp}/screen.sock"
pp-fanout attach --socket "${XDG_RUNTIME_DIR:-/tmp}/screen.sock" > talk.ts &
AT=$!
track_pid $AT
ok "example 1: attach records the shared test pattern" wait_for 30 grows talk.ts 100000
kill $AT; wait $AT
ok "...which starts clean" starts_clean talk.ts
ok "...and the producer lingers 5 s" wait_for 20 grep -q "no consumer for 5 s: stopping the producer" ex1.log
kill $EX1; wait $EX1

pp-encode --source test | pp-fanout serve --socket "${XDG_RUNTIME_DIR:-/tmp}/pp.sock" 2> ex2.log &
EX2=$!
track_pid $EX2
track_encoders
wait_for 10 test -S "${XDG_RUNTIME_DIR:-/tmp}/pp.sock"
PROBE=$(pp-fanout attach --socket "${XDG_RUNTIME_DIR:-/tmp}/pp.sock" | ffprobe - 2>&1)
like "$PROBE" 'Stream #0:0.*Video: h264' "example 2: ffprobe finds the H.264 video"
like "$PROBE" 'Stream #0:1.*Audio: aac' "...and the AAC audio"
kill $EX2; wait $EX2

# --- pp-bridge(1) EXAMPLES ------------------------------------------------------
# mpv gets a window on an Xvfb of the test's (pp-bridge checks there is a
# display first); the test looks at what it played, then ends it.
start_xvfb 320x240
pp-encode --source test | pp-bridge --player mpv > url1 2> ex3.log &
EX3=$!
track_pid $EX3
track_encoders
ok "example 1: pp-bridge starts mpv" wait_for 10 grep -q "started mpv (pid" ex3.log
MPV=$(sed -n 's/.*started mpv (pid \([0-9]*\)).*/\1/p' ex3.log)
MPVLOG=$(sed -n 's/.*its output in \(.*\)$/\1/p' ex3.log)
at_exit "kill $MPV 2>/dev/null"
ok "...which opens the H.264 video" wait_for 20 grep -q "Video --vid=1 (h264" "$MPVLOG"
kill $MPV 2>/dev/null
kill $EX3; wait $EX3

pp-encode --source test | pp-bridge --player none > url &
EX4=$!
track_pid $EX4
track_encoders
wait_for 10 test -s url
curl -s --max-time 3 -o clip.ts "$(head -1 url)"
ok "example 2: curl saves a clip" test "$(size clip.ts)" -gt 50000
ok "...which starts clean" starts_clean clip.ts
kill $EX4; wait $EX4
is "$(ls "$XDG_RUNTIME_DIR" | grep -c sock)" 0 "the fanouts removed their sockets"
