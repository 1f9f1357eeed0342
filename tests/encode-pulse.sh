#!/bin/bash
# pp-encode records the sound of a screen source from a real PipeWire
# (pipewire-pulse) server: the device asked for, by default the default
# sink's monitor (not the microphone), the microphone mixed in with --mic;
# a device that does not exist is refused naming those that do.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/encode-lib.sh"
need pp-encode pp-capture ffmpeg ffprobe python3 Xvfb pipewire wireplumber pipewire-pulse pactl dbus-daemon gst-launch-1.0
plan 24

private_xdg
start_xvfb
start_audio_server

# "speakers" first and made the default (the first sink would become it),
# then an application's sink and a "microphone": each plays its own tone.
pactl load-module module-null-sink sink_name=speakers >/dev/null
pactl set-default-sink speakers
pactl load-module module-null-sink sink_name=pp_app >/dev/null
pactl load-module module-null-sink sink_name=pp_mic >/dev/null
pactl set-default-source pp_mic.monitor
play_tone 880 speakers
play_tone 660 pp_app
play_tone 1000 pp_mic
wait_for 30 eval '[ "$(pactl list short sink-inputs | wc -l)" -ge 3 ]'
ok "three tones playing" test "$(pactl list short sink-inputs | wc -l)" -ge 3

# amps FILE: amplitudes at 660, 880 and 1000 Hz, e.g. "0.4 0.0 0.0".
amps() {
	ffmpeg -nostdin -v error -i "$1" -map 0:a:0 -ac 1 -ar 48000 -f s16le - |
	    python3 "$top_srcdir/tests/tonefreq.py" 48000 660 880 1000
}
# has A: amplitude A is a tone (> 0.05); lacks A: it is not (< 0.02).
has() { awk -v a="$1" 'BEGIN { exit !(a > 0.05) }'; }
lacks() { awk -v a="$1" 'BEGIN { exit !(a < 0.02) }'; }

encode_for 3 "$TEST_TMP/app.ts" "$TEST_TMP/app.err" -- --source x11 \
    --audio-device pp_app.monitor --max-size 320x240
is "$?" 0 "--audio-device: exit 0"
is "$(streams "$TEST_TMP/app.ts")" "h264 aac" "--audio-device: H.264 and AAC"
read -r f rms pure < <(tone "$TEST_TMP/app.ts")
ok "--audio-device pp_app.monitor records the app's 660 Hz (got $f Hz, purity $pure)" \
    eval 'near "$f" 660 3 && awk -v p="$pure" "BEGIN { exit !(p > 0.9) }"'
like "$(cat "$TEST_TMP/app.err")" 'audio pp_app.monitor$' "the start line names the device"

encode_for 3 "$TEST_TMP/def.ts" "$TEST_TMP/def.err" -- --source x11 \
    --max-size 320x240
is "$?" 0 "default device: exit 0"
read -r a660 a880 a1000 < <(amps "$TEST_TMP/def.ts")
ok "by default the speakers' 880 Hz (amplitude $a880)" has "$a880"
ok "and not the microphone's 1000 Hz ($a1000)" lacks "$a1000"
like "$(cat "$TEST_TMP/def.err")" 'audio speakers.monitor$' "the start line names the default sink's monitor"

PP_AUDIO_DEVICE=pp_app.monitor PP_MIC=1 encode_for 3 "$TEST_TMP/mic.ts" \
    "$TEST_TMP/mic.err" -- --source x11 --max-size 320x240
is "$?" 0 "PP_MIC=1: exit 0"
read -r a660 a880 a1000 < <(amps "$TEST_TMP/mic.ts")
ok "PP_MIC=1 mixes the app ($a660) and the microphone ($a1000)" \
    eval 'has "$a660" && has "$a1000"'
ok "and nothing else ($a880)" lacks "$a880"

# As the host runs it: pp-capture --mic hands PP_MIC=1 and the speakers'
# monitor on. Both tones, for as long as it ran (the mix once wrote an
# hour of silence in a few seconds), and every frame decodes.
pp-capture --source x11 --mic -- pp-encode --max-size 320x240 \
    >"$TEST_TMP/cap.ts" 2>"$TEST_TMP/cap.err" &
pid=$!
track_pid $pid
wait_for 60 eval 'grep -q "^pp-encode: source" "$TEST_TMP/cap.err" || ! kill -0 $pid 2>/dev/null'
t0=$(date +%s.%N)
sleep 4
t1=$(date +%s.%N)
kill -INT $pid
wait_gone $pid 10
wait $pid
is "$?" 0 "pp-capture --mic -- pp-encode: exit 0 on SIGINT"
like "$(cat "$TEST_TMP/cap.err")" 'audio speakers.monitor \+ microphone$' \
    "the start line names the speakers and the microphone"
read -r a660 a880 a1000 < <(amps "$TEST_TMP/cap.ts")
ok "the speakers' 880 Hz ($a880) and the microphone's 1000 Hz ($a1000)" \
    eval 'has "$a880" && has "$a1000"'
ran=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
ad=$(stream_duration "$TEST_TMP/cap.ts" a)
vd=$(stream_duration "$TEST_TMP/cap.ts" v)
ok "the audio lasts as long as the video (${ad:-none} s, ${vd:-none} s)" \
    near "${ad:-0}" "${vd:-99}" 1
ok "and as long as it ran (${ad:-none} s, ran $ran s)" near "${ad:-0}" "$ran" 1
is "$(decode_errors "$TEST_TMP/cap.ts")" "" "every frame decodes"

PP_NO_AUDIO=1 encode_for 2 "$TEST_TMP/none.ts" "$TEST_TMP/none.err" -- \
    --source x11 --max-size 320x240
is "$(streams "$TEST_TMP/none.ts")" "h264" "PP_NO_AUDIO=1: video only"

# The test source records a device when one is named, as pp-capture names
# the capture sink it routed an application to.
PP_SOURCE=test PP_AUDIO_DEVICE=pp_app.monitor encode_for 3 "$TEST_TMP/tapp.ts" \
    "$TEST_TMP/tapp.err" -- --max-size 320x180
is "$?" 0 "test source with PP_AUDIO_DEVICE: exit 0"
read -r a660 a880 a1000 < <(amps "$TEST_TMP/tapp.ts")
ok "it records the device's 660 Hz ($a660), not a tone of its own" has "$a660"
like "$(cat "$TEST_TMP/tapp.err")" 'source test .* audio pp_app.monitor$' "the start line says so"

pp-encode --source x11 --audio-device nosuch.monitor >/dev/null 2>"$TEST_TMP/bad.err"
is "$?" 69 "an audio device that does not exist: exit 69"
like "$(cat "$TEST_TMP/bad.err")" '^pp-encode: audio device nosuch.monitor does not exist; sources here: .*pp_app.monitor' \
    "naming the sources there are"
