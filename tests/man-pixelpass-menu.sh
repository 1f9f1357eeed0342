#!/bin/bash
# Runs the examples of pixelpass(1) with the menu, a broker of one's own,
# --reconfigure and --max-viewers, and --repair, as written there
# (extracted from the man page), in the audio lab with an Xvfb screen
# (appA playing a tone), and checks what each made:
#  - the menu: `pixelpass`, 1 (Host), then for the man page's "..." the
#    whole screen and appA's sound; the ticket is printed; `pixelpass
#    pp1...` plays it in mpv (H.264 of the 640x360 screen and AAC,
#    frames shown) and exits 0
#    when the player quits;
#  - after that host was killed (SIGKILL, every process of it) while it
#    shared appA's sound, `pixelpass --repair` removes its capture sink,
#    says so, and appA plays on the speakers again;
#  - a host on a broker of one's own (mosquitto on loopback) says so, and
#    `pixelpass pp1...` plays it through the rendezvous, no option given;
#  - --reconfigure measures the upstream (bandwidth.status measured),
#    then `pixelpass host --max-viewers 3` says its cap is 3, prints a
#    ticket and exits 0 on Control-C.
# Substituted with sed, the minimum: broker.example.org:1883 by the
# broker's free port on 127.0.0.1, "pp1..." by the host's ticket. Not in
# the commands: config.toml says rendezvous = "none" and stun = "none" (no
# traffic leaves the machine: the defaults are public servers); the
# upstream test uploads to a local sink (PIXELPASS_SPEEDTEST_URL); mpv is
# the player last used (the state file) and headless with 150 frames
# (PIXELPASS_PLAYER_ARGS); the viewer of the broker's host gets
# PP_TUNNEL_NO_DIRECT=1, as on one machine the ticket's direct path
# would always work and the broker would not be needed. The menu's
# prompts are answered through tmux. The examples of publishing are run
# by man-pixelpass-publish.sh, those with the test pattern and the direct
# path by man-pixelpass.sh. About 25 s.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/portal-lab.sh"
. "$top_srcdir/tests/man-lib.sh"
. "$top_srcdir/tests/frontend-lib.sh"
need pixelpass pp-tunnel pp-fanout pp-capture pp-encode pp-bridge pp-repair pp-config mosquitto \
    tmux mpv Xvfb pw-play pw-dump sox curl python3
plan 29

lab_audio_start
start_xvfb 640x360
fe_tone 120
wait_for 10 routed 'appA -> speakers' || bail "appA does not play"

mkdir -p "$XDG_CONFIG_HOME/pixelpass" "$XDG_STATE_HOME/pixelpass" "$TEST_TMP/ex"
printf '[network]\nrendezvous = "none"\nstun = "none"\n' > "$XDG_CONFIG_HOME/pixelpass/config.toml"
echo mpv > "$XDG_STATE_HOME/pixelpass/player"
export PIXELPASS_PLAYER_ARGS="--vo=null --ao=null --frames=150 --script=$top_srcdir/tests/mpv-frames.lua"
python3 "$top_srcdir/tests/upload-sink.py" > "$TEST_TMP/sink.port" &
track_pid $!
wait_for 10 test -s "$TEST_TMP/sink.port" || bail "the upload sink did not start"
export PIXELPASS_SPEEDTEST_URL="http://127.0.0.1:$(cat "$TEST_TMP/sink.port")/up"
cd "$TEST_TMP/ex" || bail "no temp dir"

mapfile -d '' -t ex < <(man_examples pixelpass)
is "${ex[0]}|${ex[1]}|${ex[7]}|${ex[8]}|${ex[9]}|${ex[29]}" \
    "pixelpass|pixelpass pp1...|pixelpass host --rendezvous mqtt://broker.example.org:1883|pixelpass --reconfigure|pixelpass host --max-viewers 3|pixelpass --repair" \
    "pixelpass(1) has the menu, broker, --reconfigure, --max-viewers and --repair examples this test knows"

# view NAME TICKET: example 1, `pixelpass pp1...`, with TICKET; mpv
# quits after its 150 frames, and pixelpass with it. Checks what it played.
view() {
	man_run "$1" 60 "$(printf '%s' "${ex[1]}" | sed "s/pp1\\.\\.\\./$2/")" < /dev/null
	is "$man_rc" 0 "$3: ${ex[1]} exits 0 when the player quits"
	local log mlog frames
	log=$(sed -n 's/.*playing in mpv (pid [0-9]*, its output in \(.*\)); Ctrl-C stops$/\1/p' "$1.err")
	mlog=$(tr '\r' '\n' < "${log:-/dev/null}" 2> /dev/null)
	like "$mlog" '\(\+\) Video --vid=1 \(h264' "...mpv got the H.264 video"
	like "$mlog" '\(\+\) Audio --aid=1 \(aac' "...and the AAC sound"
	like "$mlog" 'VO: \[null\] 640x360 ' "...of the 640x360 X screen"
	frames=$(printf '%s\n' "$mlog" | sed -n 's/^\[mpv_frames\] frames shown: \([0-9]*\).*/\1/p')
	ok "...and showed frames (${frames:-none} of 150)" test "${frames:-0}" -ge 100
}

# --- Measure the upstream again, then host for at most 3 viewers anyway --------------
man_run reconf 60 "${ex[8]}"
is "$man_rc" 0 "${ex[8]}: exit 0"
is "$(pp-config get bandwidth.status)" measured "...bandwidth.status = measured"
like "$(cat reconf.err)" "upstream: [0-9.]+ Mbit/s measured" "...it says what it measured"
man_start max "${ex[9]}"
max_pid=$man_pid
ok "${ex[9]}: a ticket" wait_for 30 grep -qs '^pp1' max.out
like "$(grep 'viewer cap' max.err)" '^pixelpass: viewer cap: 3\b' "...the viewer cap is 3"
man_pid=$max_pid man_stop 0
is "$man_rc" 0 "...exit 0 on Control-C"

# --- Share the screen and watch it, with the menu ------------------------------------
fe_tmux_start
fe_term host "cd '$TEST_TMP/ex' && ${ex[0]}"
ok "${ex[0]}: the menu, as the man page shows it" fe_see 10 host '^  1\) Host: share this screen$'
fe_keys host 1 Enter
ok "...1: what to share" fe_see 10 host 'What to share\?'
fe_keys host 1 Enter
ok "...the whole screen: which sound" fe_see 10 host '[0-9]\) appA'
N=$(fe_screen host | sed -n 's/^ *\([0-9]\)) appA$/\1/p')
fe_keys host "$N" Enter
ok "...appA's: the ticket" fe_see 30 host '^pp1[a-z2-7]+$'
TICKET=$(fe_screen host | grep -E '^pp1[a-z2-7]+$' | head -n 1)
view menu "$TICKET" "the menu's host"

# --- After a host was killed while it shared one application's sound ---------------
# (killed while a viewer watches: the capture runs only then)
pixelpass --record "$TEST_TMP/k.ts" "$TICKET" < /dev/null > /dev/null 2> "$TEST_TMP/k.err" &
kview=$!
track_pid $kview
ok "while a viewer watches, the menu's host has appA's sound in its capture sink" \
    wait_for 20 routed 'appA -> pixelpass_capture_[0-9]+'
SINK=$(routes | sed -n 's/^appA -> \(pixelpass_capture_[0-9]*\)$/\1/p')
descendants() {
	local p
	for p in $(ps -o pid= --ppid "$1"); do
		echo "$p"
		descendants "$p"
	done
}
hpid=$(fe_pane_pid host)
# shellcheck disable=SC2046
kill -KILL "$hpid" $(descendants "$hpid") 2> /dev/null
fe_stop $kview
wait_for 10 test ! -e "/proc/${SINK#pixelpass_capture_}" || diag "pp-capture ${SINK#pixelpass_capture_} is still there"
ok "killed, the host leaves appA in its sink" routed "appA -> $SINK"
man_run repair 30 "${ex[29]}"
is "$man_rc|$(cat repair.out)" "0|removed $SINK" "${ex[29]}: exit 0, saying it removed $SINK"
ok "...appA is back on the speakers" wait_for 10 routed 'appA -> speakers'

# --- A host that meets its viewers on a broker of its own ---------------------------
read -r PORT < <(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf 'user root\nlistener %s 127.0.0.1\nallow_anonymous true\n' "$PORT" > "$TEST_TMP/mosquitto.conf"
mosquitto -c "$TEST_TMP/mosquitto.conf" > "$TEST_TMP/mosquitto.log" 2>&1 &
track_pid $!
wait_for 10 sh -c "ss -Hltn 'sport = :$PORT' | grep -q ." || bail "mosquitto did not start: $(tail -n 3 "$TEST_TMP/mosquitto.log")"
man_start broker "$(printf '%s' "${ex[7]}" | sed "s/broker\\.example\\.org:1883/127.0.0.1:$PORT/")"
broker_pid=$man_pid
ok "${ex[7]}: a ticket" wait_for 30 grep -qs '^pp1' broker.out
like "$(cat broker.err)" "rendezvous mqtt://127\\.0\\.0\\.1:$PORT" "...it meets its viewers on that broker"
PP_TUNNEL_NO_DIRECT=1 view bview "$(head -n 1 broker.out)" "the broker's host"
like "$(cat bview.err)" 'connected through the rendezvous' "...through the rendezvous, with no option"
man_pid=$broker_pid man_stop 0
is "$man_rc" 0 "${ex[7]}: exit 0 on Control-C"
