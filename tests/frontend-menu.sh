#!/bin/bash
# The interactive menu, driven through tmux: a host of the test pattern
# sharing one application's sound (picked from the applications playing),
# its ticket on the clipboard (xclip, under Xvfb) and a status line; a
# viewer in a second window that pastes the ticket, picks mpv (no video
# output) and gets frames with H.264 and AAC; Control-C in the host leaves
# no process and no socket behind.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/portal-lab.sh"
. "$top_srcdir/tests/frontend-lib.sh"
need pixelpass pp-tunnel pp-fanout pp-capture pp-encode pp-bridge tmux xclip Xvfb mpv pw-play pw-dump sox
plan 22

lab_audio_start
exec 5> "$TEST_TMP/displayfd"
Xvfb -displayfd 5 -noreset -screen 0 320x240x24 -nolisten tcp 2> "$TEST_TMP/xvfb.log" &
track_pid $!
exec 5>&-
wait_for 10 test -s "$TEST_TMP/displayfd" || bail "Xvfb did not start"
export DISPLAY=":$(head -n1 "$TEST_TMP/displayfd")"
sox -n -r 48000 -c 2 -b 16 "$TEST_TMP/a440.wav" synth 60 sine 440 vol 0.5 || bail "sox failed"
pw-play -P '{ application.name=appA }' "$TEST_TMP/a440.wav" &
track_pid $!
wait_for 10 sh -c 'pp-capture --list-apps 2>/dev/null | grep -qx appA' || bail "appA does not play"

fe_tmux_start
# --- the host ---------------------------------------------------------------------
fe_term host "pixelpass --source test --bitrate 1000 --fps 15 --rendezvous none"
ok "the menu offers Host and View" fe_see 10 host '1\) Host: share this screen'
fe_keys host 1 Enter
ok "a first host offers the upstream test" fe_see 10 host 'measure the upstream once'
fe_keys host n Enter
ok "then the sound: the applications playing now" fe_see 10 host '[0-9]\) appA'
N=$(fe_screen host | sed -n 's/^ *\([0-9]\)) appA$/\1/p')
fe_keys host "$N" Enter
ok "the ticket is printed" fe_see 20 host '^pp1[a-z2-7]+$'
TICKET=$(fe_screen host | grep -E '^pp1[a-z2-7]+$' | head -n 1)
ok "...and put on the clipboard with xclip" fe_see 5 host 'the ticket is on the clipboard \(xclip\)'
is "$(xclip -o -selection clipboard)" "$TICKET" "the clipboard holds the ticket"
ok "a status line: no viewer yet, of 2" fe_see 5 host 'viewers 0/2 \| stream idle'

# --- the viewer -----------------------------------------------------------------
ARGS="--vo=null --ao=null --frames=60 --script=$top_srcdir/tests/mpv-frames.lua"
fe_term view "PIXELPASS_PLAYER_ARGS='$ARGS' pixelpass; echo \"pixelpass exited with status \$?\""
fe_see 10 view 'Choose 1 or 2' || bail "no menu for the viewer"
fe_keys view 2 Enter
ok "View asks for the ticket" fe_see 10 view 'Paste the ticket:'
fe_keys view "$TICKET" Enter
ok "then offers the players installed" fe_see 10 view '1\) mpv'
fe_keys view 1 Enter
ok "the viewer says how it connected" fe_see 20 view 'connected to [^ ]+ \(path direct, IPv[46], RTT [0-9.]+ ms\)'
ok "mpv starts" fe_see 10 view 'playing in mpv \(pid [0-9]+'
MPVLOG=$(fe_screen view | sed -n 's/.*playing in mpv (pid [0-9]*, its output in \(.*\)); Ctrl-C stops$/\1/p')
ok "the host's status line counts the viewer and how it came" fe_see 15 host 'viewers 1/2 \| [^ ]+ \(IPv[46], RTT [0-9.]+ ms\) \| stream [0-9.]+ Mbit/s'
ok "the player quits after its frames, and the viewer with it" fe_see 40 view 'the player was closed: stopping'
ok "...exit 0" fe_see 10 view '^pixelpass exited with status 0$'
MLOG=$(tr '\r' '\n' < "$MPVLOG")
like "$MLOG" '\(\+\) Video --vid=1 \(h264' "mpv got the H.264 video"
like "$MLOG" '\(\+\) Audio --aid=1 \(aac' "...and the AAC sound"
FRAMES=$(printf '%s\n' "$MLOG" | sed -n 's/^\[mpv_frames\] frames shown: \([0-9]*\).*/\1/p')
ok "mpv showed frames (${FRAMES:-none} of 60)" test "${FRAMES:-0}" -ge 40
is "$(cat "$XDG_STATE_HOME/pixelpass/player")" mpv "the choice of player is remembered"
ok "the host says when the viewer left" fe_see 10 host 'viewer [^ ]+ left after'

# --- Control-C --------------------------------------------------------------------
fe_keys host C-c
ok "Control-C stops the host" wait_for 20 fe_dead host
is "$(fe_leftovers)" "" "no process, socket or file of it is left"
unlike "$(pw-dump | python3 "$top_srcdir/tests/pw-routes.py")" pixelpass_capture "no capture sink is left"
