#!/bin/bash
# Runs the examples of pixelpass(1) with the test pattern and the direct
# path (--rendezvous none), as written there (extracted from the man
# page), in the audio lab, and checks what each made: the headless host's
# ticket, the viewer's recording (H.264 and AAC, 1280x720), the recording
# with the tunnel alone, and --player none's URL and player command; the
# viewer stops on Control-C (SIGINT) with exit 0. Substituted with sed:
# "pp1..." by the host's ticket. The menu, the broker, --reconfigure,
# --max-viewers and --repair are run as written by man-pixelpass-menu.sh,
# the examples of publishing by man-pixelpass-publish.sh. About 13 s.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/portal-lab.sh"
. "$top_srcdir/tests/man-lib.sh"
. "$top_srcdir/tests/encode-lib.sh"
need pixelpass pp-tunnel pp-fanout pp-capture pp-encode pp-bridge ffprobe
plan 11

lab_audio_start
mkdir "$TEST_TMP/ex"
cd "$TEST_TMP/ex" || bail "no temp dir"

mapfile -d '' -t ex < <(man_examples pixelpass)
is "${ex[2]}${ex[3]}${ex[4]}" 'pixelpass host --source test --rendezvous none > ticket &until [ -s ticket ]; do sleep 0.1; donepixelpass --record talk.ts "$(cat ticket)"' \
    "pixelpass(1) has the headless host and viewer this test knows"
is "${ex[5]}|${ex[6]}" 'PP_TICKET=pp1... pp-tunnel connect > talk.ts|pixelpass --player none pp1...' \
    "...and the tunnel alone, and --player none"

# A headless host and a viewer that records: the three lines in one shell.
man_start rec "${ex[2]}
${ex[3]}
${ex[4]}"
rec_pid=$man_pid
ok "${ex[2]}: the ticket" wait_for 30 grep -qs '^pp1[a-z2-7]*$' ticket
ticket=$(head -n 1 ticket)
ok "${ex[4]}: records" wait_for 30 sh -c 'test "$(stat -c %s talk.ts 2> /dev/null || echo 0)" -gt 200000'

# The same recording with the tunnel alone (a second viewer, 4 s).
mkdir tunnel
(cd tunnel && man_run t 4 "$(printf '%s' "${ex[5]}" | sed "s/pp1\\.\\.\\./$ticket/")")
is "$(streams tunnel/talk.ts)" "h264 aac" "${ex[5]}: H.264 and AAC"

# Watch with no player started (the host's second viewer, again).
ok "the host saw the second viewer leave" wait_for 15 grep -q 'pp-tunnel: viewer .* left after' rec.err
man_run none 4 "$(printf '%s' "${ex[6]}" | sed "s/pp1\\.\\.\\./$ticket/")"
like "$(head -n 1 none.out)" '^http://127\.0\.0\.1:[0-9]+/' "${ex[6]}: the local URL"
like "$(cat none.err)" 'play it with: mpv .*http://127\.0\.0\.1:' "...and the player command"

man_pid=$rec_pid man_stop 0
is "$man_rc" 0 "${ex[4]}: exit 0 on Control-C"
is "$(streams talk.ts)" "h264 aac" "...talk.ts: H.264 and AAC"
is "$(video_info talk.ts | cut -d' ' -f1)" 1280x720 "...at the test pattern's size"
