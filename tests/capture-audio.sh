#!/bin/bash
# Sound: without --app the child is told to record the default sink's
# monitor (every application); with --app only that application's streams
# reach PP_AUDIO_DEVICE, also one it starts later, while the speakers still
# play it; on exit the streams are back on the speakers and no pixelpass
# node is left.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/portal-lab.sh"
need pp-capture pw-play pw-dump sox gst-launch-1.0 python3

plan 21
lab_audio_start

for f in 440 660 880; do
	sox -n -r 48000 -c 2 -b 16 "$TEST_TMP/a$f.wav" synth 30 sine "$f" vol 0.5 ||
	    bail "sox cannot make the test tones"
done
play() { # play APP FREQ
	pw-play -P "{ application.name=$1 }" "$TEST_TMP/a$2.wav" &
	track_pid $!
}
routes() { pw-dump | python3 "$top_srcdir/tests/pw-routes.py"; }
level() { python3 "$top_srcdir/tests/tone-level.py" "$@"; }

play appA 440
play appB 880
wait_for 10 sh -c "pw-dump | python3 '$top_srcdir/tests/pw-routes.py' | grep -c -- '-> speakers' | grep -q 2" ||
    bail "the two players do not play"

is "$(pp-capture --list-apps)" $'appA\nappB' "--list-apps lists both applications"

# The child records 2 s of PP_AUDIO_DEVICE once $out/go exists.
cat >"$TEST_TMP/child.sh" <<'CHILD'
#!/bin/sh
out=$1
env | grep '^PP_' | sort >"$out/env"
while [ ! -e "$out/go" ]; do sleep 0.1; done
exec gst-launch-1.0 -q pulsesrc device="$PP_AUDIO_DEVICE" num-buffers=200 \
    ! audio/x-raw,format=S16LE,rate=48000,channels=2 \
    ! wavenc ! filesink location="$out/rec.wav"
CHILD
chmod +x "$TEST_TMP/child.sh"
var() { sed -n "s/^$2=//p" "$TEST_TMP/$1/env"; }

# Without --app: everything that plays. A screen source (the test source
# has its own tone, nothing routed); the child opens no display.
mkdir "$TEST_TMP/all"
touch "$TEST_TMP/all/go"
DISPLAY=:93 pp-capture --source x11 -- "$TEST_TMP/child.sh" "$TEST_TMP/all"
is "$?" 0 "pp-capture without --app runs the child"
is "$(var all PP_AUDIO_DEVICE)" speakers.monitor "PP_AUDIO_DEVICE is the default sink's monitor"
read -r l440 l880 < <(level "$TEST_TMP/all/rec.wav" 1 440 880 | tr '\n' ' ')
ok "both tones are recorded without --app (440: $l440 dB, 880: $l880 dB)" \
    python3 -c "import sys; sys.exit(not ($l440 > -30 and $l880 > -30))"

# With --app appA, and a second appA stream started afterwards.
mkdir "$TEST_TMP/app"
pp-capture --source test --app appA --mic -- "$TEST_TMP/child.sh" "$TEST_TMP/app" &
pid=$!
track_pid $pid
wait_for 10 test -s "$TEST_TMP/app/env" || bail "the child did not start"
is "$(var app PP_AUDIO_DEVICE)" "pixelpass_capture_$pid.monitor" "PP_AUDIO_DEVICE is the capture sink's monitor"
is "$(var app PP_MIC)" 1 "PP_MIC=1 with --mic"
play appA 660
ok "appA's streams are moved into the capture sink" \
    wait_for 10 sh -c "pw-dump | python3 '$top_srcdir/tests/pw-routes.py' | grep -c '^appA -> pixelpass_capture_$pid\$' | grep -q 2"
r=$(routes)
like "$r" "(^|$'\n')appB -> speakers" "appB stays on the speakers"
like "$r" "node pixelpass_capture_$pid" "the capture sink exists"
like "$r" "-> speakers" "the loopback plays on to the speakers"
# What the speakers play meanwhile: appA through the loopback, and appB.
gst-launch-1.0 -q pulsesrc device=speakers.monitor num-buffers=150 \
    ! audio/x-raw,format=S16LE,rate=48000,channels=2 \
    ! wavenc ! filesink location="$TEST_TMP/speakers.wav" &
spk=$!
touch "$TEST_TMP/app/go"
wait $pid
is "$?" 0 "pp-capture --app exits with the child's status"
wait $spk
read -r l440 l660 l880 < <(level "$TEST_TMP/app/rec.wav" 1 440 660 880 | tr '\n' ' ')
ok "appA's tone is recorded (440: $l440 dB)" python3 -c "import sys; sys.exit(not $l440 > -30)"
ok "so is appA's stream started after pp-capture (660: $l660 dB)" python3 -c "import sys; sys.exit(not $l660 > -30)"
# Routed, appB would be as loud as appA; dropouts on a loaded machine put
# some broadband noise in, so "far down" is 30 dB.
ok "appB's tone is far down (880: $l880 dB)" python3 -c "import sys; sys.exit(not $l880 < $l440 - 30)"
read -r s440 s880 < <(level "$TEST_TMP/speakers.wav" 0.5 440 880 | tr '\n' ' ')
ok "the speakers still play appA and appB (440: $s440 dB, 880: $s880 dB)" \
    python3 -c "import sys; sys.exit(not ($s440 > -30 and $s880 > -30))"

# The example of pp-capture(1), while appA (440 Hz) and appB play.
mkdir "$TEST_TMP/example"
(cd "$TEST_TMP/example" &&
    pp-capture --source test --app appA -- sh -c 'exec gst-launch-1.0 \
    -q pulsesrc device="$PP_AUDIO_DEVICE" num-buffers=200 \
    ! audio/x-raw,format=S16LE,rate=48000,channels=2 \
    ! wavenc ! filesink location=rec.wav')
is "$?" 0 "the manual's --app example runs"
read -r l440 l880 < <(level "$TEST_TMP/example/rec.wav" 0.5 440 880 | tr '\n' ' ')
ok "its recording has appA's tone only (440: $l440 dB, 880: $l880 dB)" \
    python3 -c "import sys; sys.exit(not ($l440 > -30 and $l880 < $l440 - 30))"

# After exit: every stream back on the speakers, no pixelpass node.
wait_for 10 sh -c "! pw-dump | python3 '$top_srcdir/tests/pw-routes.py' | grep -q pixelpass"
r=$(routes)
unlike "$r" pixelpass "no pixelpass node or link is left"
is "$(printf '%s\n' "$r" | grep -c '^appA -> speakers$')" 2 "both appA streams are back on the speakers"
like "$r" "(^|$'\n')appB -> speakers" "appB is still on the speakers"

PIPEWIRE_RUNTIME_DIR="$TEST_TMP/nowhere" PULSE_SERVER= DISPLAY=:93 \
    pp-capture --source x11 -- sh -c 'echo "$PP_NO_AUDIO"' >"$TEST_TMP/noaudio" 2>"$TEST_TMP/err"
is "$(cat "$TEST_TMP/noaudio")" 1 "without PipeWire the child gets PP_NO_AUDIO=1 (and the share goes on)"
