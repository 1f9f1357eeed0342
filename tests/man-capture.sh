#!/bin/bash
# Runs the examples of pp-capture(1) that need no screencast portal, as
# written there (extracted from the man page), and checks what each made:
# --list-apps prints the two applications the man page shows (two
# players named appA and appB, in the audio lab); the two seconds of
# appA's sound are a WAV at 48 kHz, stereo, holding appA's 440 Hz and not
# appB's 880 Hz; the X11 window capture gives the child the window, the
# display and the hidden cursor. Substituted with sed: 0x200001 by the id
# of a window on an Xvfb of the test's. The two portal examples are run
# as written by man-capture-portal.sh, in the portal lab. About 5 s.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/portal-lab.sh"
. "$top_srcdir/tests/man-lib.sh"
need pp-capture pw-play pw-dump sox gst-launch-1.0 ffprobe ffmpeg Xvfb xlogo xwininfo python3
plan 13

lab_audio_start
for app in appA:440 appB:880; do
	sox -n -r 48000 -c 2 -b 16 "$TEST_TMP/a${app#*:}.wav" synth 30 sine "${app#*:}" vol 0.5 ||
	    bail "sox cannot make the test tones"
	pw-play -P "{ application.name=${app%:*} }" "$TEST_TMP/a${app#*:}.wav" &
	track_pid $!
done
wait_for 10 sh -c "pw-dump | python3 '$top_srcdir/tests/pw-routes.py' | grep -c -- '-> speakers' | grep -q 2" ||
    bail "the two players do not play"
mkdir "$TEST_TMP/ex"
cd "$TEST_TMP/ex" || bail "no temp dir"

mapfile -d '' -t ex < <(man_examples pp-capture)
is "${#ex[@]}" 5 "pp-capture(1) has the 5 example commands this test knows"

# Record two seconds of one application's sound.
man_run 2 10 "${ex[2]}"
is "$man_rc" 0 "${ex[2]}: exit 0"
want=$(sed -n '/^\$ pp-capture --list-apps$/,/^\$/p' "$top_srcdir/man/pp-capture.1" | sed '1d; $d')
is "$(cat 2.out)" "$want" "...it prints what the man page shows"
man_run 3 30 "${ex[3]}"
is "$man_rc" 0 "${ex[3]%% -- *}: exit 0"
is "$(ffprobe -v error -show_entries stream=codec_name,sample_rate,channels -of csv=p=0 rec.wav)" \
    "pcm_s16le,48000,2" "...rec.wav: 16-bit PCM, 48 kHz, stereo"
d=$(ffprobe -v error -show_entries format=duration -of csv=p=0 rec.wav)
ok "...two seconds of it ($d s)" awk -v d="${d:-0}" 'BEGIN { exit !(d >= 1.8 && d <= 2.5) }'
read -r a440 a880 < <(ffmpeg -v error -i rec.wav -ac 1 -f s16le - |
    python3 "$top_srcdir/tests/tonefreq.py" 48000 440 880)
ok "...appA's 440 Hz ($a440)" awk -v a="${a440:-0}" 'BEGIN { exit !(a > 0.1) }'
ok "...without appB's 880 Hz ($a880)" awk -v a="${a880:-1}" 'BEGIN { exit !(a < 0.02) }'

# Show what an X11 window capture gets.
start_xvfb 320x240
xlogo -geometry 120x80+10+10 &
track_pid $!
wait_for 10 sh -c 'xwininfo -root -tree | grep -q xlogo' || bail "xlogo did not map"
wid=$(xwininfo -root -tree | awk '/"xlogo"/ {print $1; exit}')
man_run 4 10 "$(printf '%s' "${ex[4]}" | sed "s/0x200001/$wid/")"
is "$man_rc" 0 "${ex[4]}: exit 0"
is "$(sed -n 's/^PP_SOURCE=//p' 4.out)" x11 "...env shows PP_SOURCE=x11"
is "$(sed -n 's/^PP_DISPLAY=//p' 4.out)" "$DISPLAY" "...PP_DISPLAY, the display"
is "$(sed -n 's/^PP_WINDOW_ID=//p' 4.out)" "$wid" "...PP_WINDOW_ID, the window"
is "$(sed -n 's/^PP_CURSOR=//p' 4.out)" hidden "...PP_CURSOR=hidden"
