#!/bin/bash
# pixelpass hosting a Wayland screen through the screencast portal (a
# headless sway): the screen is chosen before the ticket, a viewer's
# recording shows it; a declined dialog and a missing portal get clear
# words and their exit status, and no ticket.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/portal-lab.sh"
. "$top_srcdir/tests/frontend-lib.sh"
need pixelpass pp-capture pp-encode pp-fanout pp-tunnel ffprobe ffmpeg
plan 9

lab_portal_start '#00ff00'

lab_portal_chooser decline
lab_portal_stop_portals
pixelpass host --no-audio --rendezvous none < /dev/null > "$TEST_TMP/d.out" 2> "$TEST_TMP/d.err"
is "$?" 77 "a declined screen choice: exit 77"
like "$(cat "$TEST_TMP/d.err")" 'pixelpass: the screen choice was cancelled; nothing is shared' "...in words"
is "$(cat "$TEST_TMP/d.out")" "" "...and no ticket"
lab_portal_stop_portals

DBUS_SESSION_BUS_ADDRESS=unix:path=$TEST_TMP/nobus pixelpass host --source portal --rendezvous none \
	< /dev/null > /dev/null 2> "$TEST_TMP/n.err"
is "$?" 69 "no portal: exit 69"
like "$(cat "$TEST_TMP/n.err")" '^pixelpass: no screencast portal: ' "...in words"

# The wlr portal reads its configuration when it starts.
lab_portal_chooser none
lab_portal_stop_portals
fe_host host --no-audio --rendezvous none --fps 15
like "$(cat "$TEST_TMP/host.log")" 'choose what to share in the desktop' "the host asks for the screen before the ticket"
pixelpass --record "$TEST_TMP/rec.ts" "$fe_ticket" > /dev/null 2> "$TEST_TMP/v.err" &
V=$!
track_pid $V
wait_for 30 sh -c "test \$(stat -c %s '$TEST_TMP/rec.ts' 2>/dev/null || echo 0) -gt 100000" ||
	diag "little recorded: $(tail -n 3 "$TEST_TMP/host.log")"
fe_stop $V
is "$(ffprobe -v error -select_streams v:0 -show_entries stream=codec_name,width,height \
	-of csv=p=0 "$TEST_TMP/rec.ts" | head -n 1)" "h264,640,360" "the viewer gets the portal's screen"
ok "every frame decodes" decodes "$TEST_TMP/rec.ts"
fe_stop "$fe_pid"
is "$(fe_leftovers)" "" "the host leaves nothing behind"
