#!/bin/bash
# pp-capture --source test needs nothing of the desktop: with no PipeWire
# in the session, pp-capture -- pp-encode still streams the test picture
# and pp-encode's own test tone, and nobody is told the host is down. A
# real source without PipeWire says in words that there is no sound.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/encode-lib.sh"
need pp-capture pp-encode ffprobe ffmpeg python3
plan 8

# A session without PipeWire or PulseAudio.
export XDG_RUNTIME_DIR=$TEST_TMP/run
mkdir -m 0700 "$XDG_RUNTIME_DIR"
unset PIPEWIRE_RUNTIME_DIR PIPEWIRE_REMOTE PULSE_SERVER WAYLAND_DISPLAY

# As pixelpass runs it.
pp-capture --source test -- pp-encode --bitrate 1000 --fps 15 --max-size 320x240 \
    > "$TEST_TMP/t.ts" 2> "$TEST_TMP/t.err" &
pid=$!
track_pid $pid
wait_for 60 grep -q '^pp-encode: source' "$TEST_TMP/t.err" ||
    bail "pp-encode did not start: $(tail -n 3 "$TEST_TMP/t.err")"
sleep 3
kill -TERM $pid
wait $pid
is "$?" 0 "pp-capture --source test -- pp-encode: exit 0 on SIGTERM"
is "$(streams "$TEST_TMP/t.ts")" "h264 aac" "the stream has H.264 and AAC, without PipeWire"
read -r freq _ < <(tone "$TEST_TMP/t.ts")
ok "...the test tone (${freq:-none} Hz)" near "${freq:-0}" 440 5
unlike "$(cat "$TEST_TMP/t.err")" 'Host is down|without sound' "nobody is told the host is down or the share has no sound"

# A real source: no sound, said in words. The child does not open the
# display, so none needs to exist.
DISPLAY=:93 pp-capture --source x11 -- sh -c 'echo "$PP_NO_AUDIO"' \
    > "$TEST_TMP/x.out" 2> "$TEST_TMP/x.err"
is "$?" 0 "pp-capture --source x11 without PipeWire runs the child"
is "$(cat "$TEST_TMP/x.out")" 1 "...with PP_NO_AUDIO=1"
like "$(cat "$TEST_TMP/x.err")" '^pp-capture: no PipeWire audio server in this session \(.+\): sharing without sound$' "...saying there is no PipeWire, in one line"
unlike "$(cat "$TEST_TMP/x.err")" 'Host is down' "...not as an errno text"
