#!/bin/bash
# Runs the examples of pp-view(1), as written there (extracted from the
# man page), on an Xvfb of its own, and checks what each showed: a window
# with the test pattern in it (many colours, read back from the screen),
# the --stats lines, and exit 0 on Control-C (SIGINT, after a few
# seconds). What the examples leave to the reader is substituted with sed:
# TICKET by the ticket of a `pp-tunnel listen --rendezvous none` (direct
# path only, on this machine) serving pp-encode's test pattern, and
# http://127.0.0.1:PORT/ by the URL pp-bridge --player none printed (it
# has a secret path). About 5 s.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/man-lib.sh"
. "$top_srcdir/tests/tunnel-lib.sh"
need pp-view pp-encode pp-tunnel pp-bridge Xvfb xwd xwininfo ffmpeg python3
plan 13

private_xdg
unset WAYLAND_DISPLAY PULSE_SERVER PIPEWIRE_REMOTE
start_xvfb 640x480
mkdir "$TEST_TMP/ex"
cd "$TEST_TMP/ex" || bail "no temp dir"

mapfile -d '' -t ex < <(man_examples pp-view)
is "${#ex[@]}" 3 "pp-view(1) has the 3 example commands this test knows"

has_window() { xwininfo -root -tree | grep -q '"pixelpass"'; }
# colours: how many colours the window's corner (320x240 at 0,0) shows;
# the test pattern's bars are many, a black or grey window one.
colours() {
	xwd -root -silent > shot.xwd || return 1
	ffmpeg -v error -y -i shot.xwd -vf crop=320:240:0:0 \
		-f rawvideo -pix_fmt rgb24 - | python3 -c '
import sys
d = sys.stdin.buffer.read()
print(len(set(d[i:i + 3] for i in range(0, len(d) - 2, 3 * 7))))'
}
shows_pattern() { [ "$(colours)" -ge 5 ]; }

# Watch a host, given its ticket.
tunnel_listen host -- pp-encode --source test --max-size 320x240 --bitrate 1000
man_start 1 "$(printf '%s' "${ex[0]}" | sed "s/TICKET/$tunnel_ticket/")"
ok "${ex[0]}: a window" wait_for 20 has_window
ok "...showing the test pattern" wait_for 10 shows_pattern
man_stop 0
is "$man_rc" 0 "...both exit 0 on Control-C"
like "$(cat 1.err)" '^pp-tunnel: connected to [^ ]+ \(path direct' "...over the direct path"
kill "$tunnel_pid"
wait_for 5 sh -c '! has_window'

# Preview the test pattern, with the measurements.
man_start 2 "${ex[1]}"
ok "${ex[1]}: a window showing the test pattern" wait_for 30 shows_pattern
ok "...and a line of measurements once a second" wait_for 10 grep -Eq \
	'^pp-view: stats: received [0-9]+, shown [1-9][0-9]*, dropped [0-9]+, decoder [a-z0-9_]+, arrival to decoded [0-9]+ ms median, [0-9]+ ms max, arrival to display [0-9]+ ms median, [0-9]+ ms max$' 2.err
man_stop 0
is "$man_rc" 0 "...both exit 0 on Control-C"
wait_for 5 sh -c '! has_window'

# Watch what pp-bridge serves.
pp-encode --source test --max-size 320x240 --bitrate 1000 2> /dev/null |
	pp-bridge --player none > url 2> bridge.err &
track_pid $!
wait_for 10 test -s url || bail "pp-bridge printed no URL: $(cat bridge.err)"
url=$(head -n 1 url)
man_start 3 "$(printf '%s' "${ex[2]}" | sed "s|http://127.0.0.1:PORT/|$url|")"
ok "${ex[2]}: a window" wait_for 20 has_window
ok "...showing the test pattern" wait_for 10 shows_pattern
ok "...the bridge's client" grep -q 'client 1: playing' bridge.err
man_stop 0
is "$man_rc" 0 "...exit 0 on Control-C"
ok "...its window gone" wait_for 5 sh -c '! has_window'
