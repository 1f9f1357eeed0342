#!/bin/bash
# Runs the two examples of pp-capture(1) that need the screencast portal,
# as written there (extracted from the man page), in the portal lab
# (tests/portal-lab.sh: a headless sway showing blue, and
# xdg-desktop-portal-wlr), and checks what each made: --select-only exits
# 0 and keeps the choice (the restore token); "later sessions reuse the
# choice": with the portal's chooser then declining every request, the
# twelve frames example still runs, and writes frame00.png to
# frame11.png, 640x360 pictures of the blue screen. Nothing is
# substituted: the examples run in a directory of their own, and the
# lab's portal picks its one output without a dialog. The examples that
# need no portal are run by man-capture.sh. About 10 s.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/portal-lab.sh"
. "$top_srcdir/tests/man-lib.sh"
need pp-capture gst-launch-1.0 ffmpeg ffprobe python3
plan 9

lab_portal_start '#0000ff'
token="$XDG_STATE_HOME/pixelpass/screencast-monitor.token"
mkdir "$TEST_TMP/ex"
cd "$TEST_TMP/ex" || bail "no temp dir"

mapfile -d '' -t ex < <(man_examples pp-capture)
is "${ex[0]}|${ex[1]%% -- *}" "pp-capture --source portal --select-only|pp-capture --source portal" \
    "pp-capture(1) has the two portal examples this test knows"

# Pick the screen once.
man_run 0 60 "${ex[0]}"
is "$man_rc" 0 "${ex[0]}: exit 0"
ok "...the choice is kept (the restore token)" test -s "$token"
is "$(cat 0.out)" "" "...and no program ran (nothing on stdout)"

# Later sessions reuse the choice: the chooser now declines any request.
lab_portal_chooser decline
lab_portal_stop_portals
man_run 1 60 "${ex[1]}"
is "$man_rc" 0 "${ex[1]%% -- *} -- sh -c 'exec gst-launch-1.0 ...': exit 0, the choice reused (the chooser declines)"
[ "$man_rc" = 0 ] || diag "$(tail -n 5 1.err)"
is "$(ls frame*.png 2> /dev/null | wc -l)" 12 "...twelve frames"
is "$(ls frame*.png 2> /dev/null | sed -n '1p;$p' | tr '\n' ' ')" "frame00.png frame11.png " \
    "...frame00.png to frame11.png"
is "$(ffprobe -v error -show_entries stream=codec_name,width,height -of csv=p=0 frame11.png 2> /dev/null)" \
    "png,640,360" "...PNG pictures of the 640x360 output"
share=$(lab_colour_share '#0000ff' frame11.png)
ok "...showing the blue screen (${share:-no}% blue)" test "${share:-0}" -ge 90
