#!/bin/bash
# The interactive menu, driven through tmux: a host of the test pattern
# sharing one application's sound (picked from the applications playing),
# its ticket on the clipboard (xclip, under Xvfb) and a status line; a
# viewer in a second window that pastes the ticket, picks mpv (no video
# output) and gets frames with H.264 and AAC; Control-C in the host leaves
# no process and no socket behind. An empty ticket on a terminal ends
# with 65, no menu; words and numbers the menu does not take are answered.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/portal-lab.sh"
. "$top_srcdir/tests/frontend-lib.sh"
need pixelpass pp-tunnel pp-fanout pp-capture pp-encode pp-bridge tmux xclip Xvfb mpv pw-play pw-dump sox
plan 40

lab_audio_start
start_xvfb 320x240
fe_tone 60
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
ok "View asks for the ticket" fe_see 10 view 'Paste the ticket \(q quits\):'
fe_keys view "${TICKET:0:30}" Enter
ok "a ticket cut short is asked for again" fe_see 10 view 'That ticket is damaged or cut short: copy it again, whole'
fe_keys view "$TICKET" Enter
ok "then offers the players that can play here, pp-view first" fe_see 10 view '1\) pp-view'
# As root VLC cannot play (it refuses): it is not offered.
unlike "$(fe_screen view | sed -n '/Watch with/,$p')" '[0-9]\) vlc' "...not VLC, which refuses root"
fe_keys view 2 Enter
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
unlike "$(routes)" pixelpass_capture "no capture sink is left"

# --- an empty ticket on a terminal: no menu, no host -------------------------------
fe_run empty 'pixelpass ""'
ok 'pixelpass "" on a terminal ends at once' wait_for 10 fe_dead empty
is "$(fe_exit empty)" 65 "...exit 65"
like "$(fe_screen empty)" 'pixelpass: the ticket is empty: paste the whole ticket' "...saying the ticket is empty"
unlike "$(fe_screen empty)" 'Choose 1 or 2' "...and without the menu"

# --- words the menu does not take; no screen ---------------------------------------
fe_run odd "env -u DISPLAY -u WAYLAND_DISPLAY pixelpass --rendezvous none"
fe_see 10 odd 'Choose 1 or 2' || bail "no menu"
fe_keys odd hello Enter
ok '"hello" is not taken for Host' fe_see 5 odd '"hello" is not one of the choices: type 1 to host, 2 to watch, or paste a ticket'
fe_keys odd 1 Enter
ok "with no screen, a test pattern is offered" fe_see 5 odd 'There is no screen to share here \(no Wayland or X11 session\)\. Share a test pattern'
unlike "$(fe_screen odd)" 'measure the upstream' "...before anything else"
fe_keys odd 2 Enter
ok "declining it: one line, exit 69" wait_for 10 fe_dead odd
is "$(fe_exit odd)" 69 "...exit 69"
like "$(fe_screen odd)" 'pixelpass: no screen to share: run pixelpass inside a desktop session' "...saying why"

# --- a test pattern offered beside the screen; Control-C while picking a window ----
fe_run click "pixelpass --rendezvous none"
fe_see 10 click 'Choose 1 or 2' || bail "no menu"
fe_keys click h Enter
ok "the menu offers a test pattern beside the screen" fe_see 10 click '3\) a test pattern \(to try pixelpass\)'
fe_keys click 4 Enter
ok "a number out of range is answered, not taken" fe_see 5 click 'Please type a number from 1 to 3 \(q quits\)\.'
fe_keys click 2 Enter
ok "one window: it waits for the click" fe_see 10 click 'click the window to share'
fe_keys click C-c
ok "Control-C then stops it" wait_for 10 fe_dead click
is "$(fe_exit click)" 130 "...status 130, as documented"
like "$(fe_screen click)" 'pixelpass: interrupted: nothing is shared' "...saying nothing is shared"
