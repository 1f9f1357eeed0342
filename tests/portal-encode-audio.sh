#!/bin/bash
# The whole host-side capture with sound: pp-capture --source portal
# --app appA -- pp-encode. The stream's AAC track carries appA's tone, not
# appB's nor the microphone's (a virtual source playing a third tone).
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/portal-lab.sh"
need pp-capture pp-encode pw-play pw-cli pactl sox ffmpeg python3

plan 5
lab_portal_start '#00ffff'

pw-cli create-node adapter '{ factory.name=support.null-audio-sink node.name=mic node.description=Microphone media.class=Audio/Source/Virtual object.linger=true audio.position=[FL FR] }' >/dev/null ||
    bail "cannot create the virtual microphone"
wait_for 10 sh -c 'pactl list short sources | grep -qw mic' || bail "the microphone did not appear"
pactl set-default-source mic
for f in 440 880 1000; do
	sox -n -r 48000 -c 2 -b 16 "$TEST_TMP/a$f.wav" synth 30 sine "$f" vol 0.5 ||
	    bail "sox cannot make the test tones"
done
pw-play -P '{ application.name=appA }' "$TEST_TMP/a440.wav" &
track_pid $!
pw-play -P '{ application.name=appB }' "$TEST_TMP/a880.wav" &
track_pid $!
pw-play --target mic -P '{ application.name=voice }' "$TEST_TMP/a1000.wav" &
track_pid $!
wait_for 10 sh -c "pp-capture --list-apps | grep -q appB" || bail "the players do not play"

pp-capture --source portal --app appA -- pp-encode --fps 15 \
    >"$TEST_TMP/out.ts" 2>"$TEST_TMP/err" &
pid=$!
track_pid $pid
wait_for 30 sh -c "test \$(stat -c %s '$TEST_TMP/out.ts' 2>/dev/null || echo 0) -gt 200000" ||
    diag "little output: $(tail -n 3 "$TEST_TMP/err")"
sleep 2
lab_stop $pid
like "$(cat "$TEST_TMP/err")" 'audio pixelpass_capture_[0-9]+\.monitor' "pp-encode records the capture sink's monitor"
ffmpeg -v error -i "$TEST_TMP/out.ts" -map 0:a -ac 2 -ar 48000 -c:a pcm_s16le "$TEST_TMP/out.wav"
ok "the stream has an audio track" test -s "$TEST_TMP/out.wav"
read -r l440 l880 l1000 < <(python3 "$top_srcdir/tests/tone-level.py" "$TEST_TMP/out.wav" 1.5 440 880 1000 | tr '\n' ' ')
ok "appA's tone is in the stream ($l440 dB)" python3 -c "import sys; sys.exit(not $l440 > -40)"
ok "the microphone's is far down without --mic ($l1000 dB)" python3 -c "import sys; sys.exit(not $l1000 < $l440 - 30)"
ok "appB's is far down ($l880 dB)" python3 -c "import sys; sys.exit(not $l880 < $l440 - 30)"
