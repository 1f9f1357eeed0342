#!/bin/bash
# pp-capture --source portal on GNOME (gnome-shell 43 headless and
# xdg-desktop-portal-gnome): the share dialog, answered by the test with
# the shell's pointer, gives pp-encode a stream whose frames show the
# background colour and the moving square the test put on the screen. The
# restore token skips the dialog, also after the whole lab restarts on
# the same XDG directories; a cancelled dialog exits 77.
# Cost: two lab starts (about 3 s each) and two 3 s encodes: 20 s and
# 10 s of CPU on two cores (up to 60 s when they are busy).
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/portal-lab.sh"
. "$top_srcdir/tests/gnome-lab.sh"
need pp-capture pp-encode ffprobe ffmpeg python3

plan 14
bg='#3050a0'
gnome_lab_start "$bg"

# 1: the dialog, answered.
gnome_record "$TEST_TMP/first.ts"
is "$?" 0 "pp-capture -- pp-encode exits 0 after SIGTERM"
is "$(gnome_dialogs)" 1 "the share dialog was shown once"
is "$(ffprobe -v error -select_streams v:0 -show_entries stream=codec_name,width,height \
    -of csv=p=0 "$TEST_TMP/first.ts" | head -n 1)" "h264,1280,720" "H.264 at the virtual monitor's size"
# Below the top bar and above the square's strip, nothing but background
# (the pointer, a few pixels, is where Share was).
share=$(colour_share "$bg" "$TEST_TMP/first.ts" 1280:600:0:60)
ok "the background is the colour the test set ($share% of the middle)" test "$share" -ge 98
share=$(colour_share "$GNOME_LAB_MARK" "$TEST_TMP/first.ts" 1280:36:0:682)
ok "the moving square is there ($share% of its strip)" test "$share" -ge 2

# 2: the restore token: no dialog, and the node at once (LAB.md: 0.05 s;
# the dialog takes seconds).
token="$XDG_STATE_HOME/pixelpass/screencast-monitor.token"
ok "the restore token is kept" test -s "$token"
quick() {
	local t0=$EPOCHREALTIME
	pp-capture --source portal -- sh -c 'test -n "$PP_PIPEWIRE_NODE"' 2>"$TEST_TMP/$1.err" ||
	    { diag "$(cat "$TEST_TMP/$1.err")"; return 1; }
	secs=$(echo "$EPOCHREALTIME - $t0" | bc)
}
ok "a second capture gets its node" quick again
is "$(gnome_dialogs)" 1 "with no dialog"
ok "in under 2 s ($secs s)" test "$(echo "$secs < 2" | bc)" = 1

# 3: the whole lab again, on the same XDG data and state: still no dialog.
bg2='#a03050'
gnome_lab_stop
gnome_lab_start "$bg2"
gnome_record "$TEST_TMP/again.ts"
is "$?" 0 "after a restart of the lab, a capture exits 0"
is "$(gnome_dialogs)" 0 "and shows no dialog"
share=$(colour_share "$bg2" "$TEST_TMP/again.ts" 1280:600:0:60)
ok "its frames show the new background ($share%)" test "$share" -ge 98

# 4: cancelled.
rm -f "$XDG_STATE_HOME/pixelpass/screencast-monitor.token"
gnome_dialog_answer cancel
pp-capture --source portal -- true 2>"$TEST_TMP/cancel.err"
is "$?" 77 "a cancelled dialog exits 77"
like "$(cat "$TEST_TMP/cancel.err")" '^pp-capture: the screen share dialog was cancelled' "saying so"
