#!/bin/bash
# pp-repair: a host killed with SIGKILL leaves its capture sink (with the
# application's stream in it); pp-repair lists it with --dry-run, removes
# exactly it and sends the stream back to the speakers, leaves a running
# host's sink alone unless --all, and has nothing to do the second time.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/portal-lab.sh"
need pp-capture pp-repair pw-play pw-dump sox python3

plan 17
lab_audio_start
for f in 440 880; do
	sox -n -r 48000 -c 2 -b 16 "$TEST_TMP/a$f.wav" synth 30 sine "$f" vol 0.5 ||
	    bail "sox cannot make the test tones"
done
for app in appA:440 appB:880; do
	pw-play -P "{ application.name=${app%:*} }" "$TEST_TMP/a${app#*:}.wav" &
	track_pid $!
done
routes() { pw-dump | python3 "$top_srcdir/tests/pw-routes.py"; }
routed() { routes | grep -qx "$1"; }

pp-capture --source test --app appA -- sleep 60 &
killed=$!
track_pid $killed
wait_for 10 routed "appA -> pixelpass_capture_$killed" || bail "appA was not routed"
kill -KILL $killed
wait $killed 2>/dev/null
pp-capture --source test --app appB -- sh -c 'trap "exit 0" TERM; sleep 60 & wait' &
running=$!
track_pid $running
wait_for 10 routed "appB -> pixelpass_capture_$running" || bail "appB was not routed"

r=$(routes)
like "$r" "node pixelpass_capture_${killed}\$" "the killed host's sink lingers"
like "$r" "appA -> pixelpass_capture_$killed" "with appA still in it"

out=$(pp-repair --dry-run)
is "$?" 0 "pp-repair --dry-run exits 0"
is "$out" "pixelpass_capture_$killed" "--dry-run lists only the killed host's sink"
ok "--dry-run removes nothing" routed "node pixelpass_capture_$killed"

out=$(pp-repair)
is "$?" 0 "pp-repair exits 0"
is "$out" "removed pixelpass_capture_$killed" "it says what it removed"
ok "appA is back on the speakers" wait_for 10 routed "appA -> speakers"
r=$(routes)
unlike "$r" "pixelpass_capture_$killed" "the killed host's sink is gone"
like "$r" "node pixelpass_capture_${running}\$" "the running host's sink is left alone"
like "$r" "appB -> pixelpass_capture_$running" "and appB still goes to it"

out=$(pp-repair)
is "$?" 0 "nothing to do is not an error"
is "$out" "" "and prints nothing"

out=$(pp-repair --all)
is "$out" "removed pixelpass_capture_$running
removed pixelpass_capture_${running}_loopback
removed pixelpass_capture_${running}_playback" "--all also removes a running host's sink and loopback"
ok "appB is back on the speakers" wait_for 10 routed "appB -> speakers"
kill -TERM $running
wait $running
is "$?" 0 "the host whose sink was removed still stops cleanly"
unlike "$(routes)" pixelpass "no pixelpass node is left"
