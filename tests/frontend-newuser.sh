#!/bin/bash
# What a hurried new user types, and what pixelpass must then do: an empty
# ticket never starts a host; a viewer whose player cannot play here (not
# installed, VLC as root, VLC without an interface or video output, no
# display, a player that quits at once) is told why and exits 69 without
# taking one of the host's viewer slots; --record never overwrites and
# leaves nothing behind; an X display that cannot be opened stops the host
# before its ticket is out; the headless host says when it stops. The
# host of the test pattern has no PipeWire and still shares its tone;
# a viewer without XDG_RUNTIME_DIR leaves nothing loose in TMPDIR.
#
# The host has a cap of 1 viewer: any viewer that took its slot would make
# the last, real viewer find it full.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/frontend-lib.sh"
. "$top_srcdir/tests/encode-lib.sh"
need pixelpass pp-tunnel pp-fanout pp-capture pp-encode pp-bridge mpv vlc Xvfb xwininfo ffprobe setpriv
plan 66

private_xdg
start_xvfb 320x240
STATE=$XDG_STATE_HOME/pixelpass
# No audio server: the test pattern's tone is pp-encode's own.
unset PIPEWIRE_RUNTIME_DIR PIPEWIRE_REMOTE PULSE_SERVER

# --- an empty ticket, a viewer's option: never a host --------------------------
pixelpass --player none "" < /dev/null > "$TEST_TMP/empty.out" 2> "$TEST_TMP/empty.err"
is "$?" 65 'pixelpass --player none "": exit 65'
is "$(cat "$TEST_TMP/empty.err")" "pixelpass: the ticket is empty: paste the whole ticket (it starts with pp1 and is one word); nothing is shared" "...one line: the ticket is empty"
is "$(cat "$TEST_TMP/empty.out")" "" "...and no ticket: nothing was hosted"
pixelpass " " < /dev/null > /dev/null 2>&1
is "$?" 65 'a ticket of spaces: exit 65 as well'
pixelpass --player mpv < /dev/null > "$TEST_TMP/opt.out" 2> "$TEST_TMP/opt.err"
is "$?" 64 "--player without a ticket, not on a terminal: exit 64, not a host"
is "$(cat "$TEST_TMP/opt.err")" "pixelpass: --player is for watching: pixelpass --player ... TICKET" "...saying what it is for"
pixelpass host --record x.ts < /dev/null > /dev/null 2> "$TEST_TMP/opt2.err"
is "$?" 64 "host --record: exit 64"

# --- the host: one viewer at most, in a terminal (for its Ctrl-C) -----------------
fe_tmux_start
fe_run host "pixelpass host --source test --rendezvous none --bitrate 500 --fps 10 --max-viewers 1 > $TEST_TMP/host.ticket 2> $TEST_TMP/host.log"
wait_for 20 grep -qs '^pp1' "$TEST_TMP/host.ticket" || bail "the host printed no ticket: $(cat "$TEST_TMP/host.log")"
T=$(head -n 1 "$TEST_TMP/host.ticket")
like "$(cat "$TEST_TMP/host.log")" 'give the ticket to up to 1 viewer$' "one viewer, not \"1 viewers\""
SOCKS=("$XDG_RUNTIME_DIR"/pixelpass-*/fanout.sock)
ok "the host's fanout socket is in a directory of its own, mode 0700" \
	test -S "${SOCKS[0]}" -a "$(stat -c %a "$(dirname "${SOCKS[0]}")")" = 700

# view_fails NAME STATUS REGEX ARGS...: a viewer that fails at once, with
# one line matching REGEX, having contacted nobody.
view_fails() {
	local name=$1 st=$2 re=$3
	shift 3
	timeout 30 "$@" > "$TEST_TMP/$name.out" 2> "$TEST_TMP/$name.err"
	is "$?" "$st" "$name: exit $st"
	like "$(cat "$TEST_TMP/$name.err")" "$re" "...one line: $(head -c 70 "$TEST_TMP/$name.err")"
	is "$(wc -l < "$TEST_TMP/$name.err")" 1 "...and nothing else"
}

view_fails no-display 69 '^pixelpass: no display to play on: neither WAYLAND_DISPLAY nor DISPLAY is set .*; the host was not contacted$' \
	env -u DISPLAY -u WAYLAND_DISPLAY pixelpass --player mpv "$T"
view_fails dead-display 69 '^pixelpass: the display of this session does not answer \(DISPLAY=:99\)' \
	env DISPLAY=:99 pixelpass --player mpv "$T"
view_fails vlc-root 69 '^pixelpass: VLC refuses to run as root: run the viewer as your own user, or use --player mpv; the host was not contacted$' \
	pixelpass --player vlc "$T"

# A PATH without the players: every other program of the system is there.
mkdir "$TEST_TMP/bin"
for f in /usr/bin/* /usr/sbin/*; do
	case ${f##*/} in mpv | vlc | cvlc) continue ;; esac
	[ -e "$TEST_TMP/bin/${f##*/}" ] || ln -s "$f" "$TEST_TMP/bin/${f##*/}"
done
mkdir "$TEST_TMP/tools"
for t in pixelpass pp-tunnel pp-bridge pp-fanout pp-capture pp-encode; do
	ln -s "$(command -v $t)" "$TEST_TMP/tools/$t"
done
NOPLAYERS=$TEST_TMP/tools:$TEST_TMP/bin
view_fails no-mpv 69 '^pixelpass: mpv is not installed; on Debian: apt-get install mpv; the host was not contacted$' \
	env PATH="$NOPLAYERS" pixelpass --player mpv "$T"
view_fails no-player 69 '^pixelpass: no player can play here \(mpv is not installed; on Debian: apt-get install mpv; VLC is not installed; on Debian: apt-get install vlc\)' \
	env PATH="$NOPLAYERS" pixelpass "$T"

# VLC as a normal user: pp-bridge's check agrees with what the real VLC
# does. On this machine's packages (vlc-bin, vlc-plugin-base) it has no
# interface for a stdin that is not a terminal, and quits at once.
chmod 0755 "$TEST_TMP"
mkdir -m 0777 "$TEST_TMP/nobody"
NOBODY=(env HOME="$TEST_TMP/nobody" XDG_RUNTIME_DIR= TMPDIR="$TEST_TMP/nobody" setpriv --reuid nobody --regid nogroup --clear-groups)
as_nobody() { "${NOBODY[@]}" "$@"; }
as_nobody pp-bridge --check --player vlc < /dev/null > "$TEST_TMP/vlc.out" 2> "$TEST_TMP/vlc.err"
VLC_RC=$?
make_producer() { gst-launch-1.0 -q videotestsrc num-buffers=100 ! video/x-raw,width=160,height=120,framerate=10/1 ! x264enc ! mpegtsmux ! filesink location="$1"; }
make_producer "$TEST_TMP/clip.ts"
chmod 0644 "$TEST_TMP/clip.ts"
as_nobody vlc "$TEST_TMP/clip.ts" < /dev/null > "$TEST_TMP/vlc-real.log" 2>&1 &
VLC=$!
track_pid $VLC
sleep 5
if kill -0 $VLC 2> /dev/null; then VLC_UP=1; else VLC_UP=0; fi
diag "pp-bridge --check --player vlc as nobody: $VLC_RC $(cat "$TEST_TMP/vlc.err"); the real VLC still up after 5 s: $VLC_UP"
if [ "$VLC_RC" -eq 69 ]; then
	is "$VLC_UP" 0 "pp-bridge --check refuses VLC here, and the real VLC does quit at once"
	like "$(cat "$TEST_TMP/vlc.err")" '^pp-bridge: VLC has no (interface to play in|video output for this X11 display) .*; on Debian: apt-get install vlc-plugin-(qt|video-output)$' "...naming the package that is missing"
else
	is "$VLC_UP" 1 "pp-bridge --check accepts VLC here, and the real VLC does play"
	is "$(cat "$TEST_TMP/vlc.out")" vlc "...and names it"
fi
as_nobody env VLC_PLUGIN_PATH=/nonexistent pp-bridge --check --player vlc < /dev/null > /dev/null 2> "$TEST_TMP/vlc2.err"
like "$(cat "$TEST_TMP/vlc2.err")" '^pp-bridge: VLC lacks the plugins that play this stream .*apt-get install vlc-plugin-base$' "VLC without its MPEG-TS demuxer: named, with its package"
view_fails vlc-plugins 69 '^pixelpass: VLC lacks the plugins that play this stream .*apt-get install vlc-plugin-base; the host was not contacted$' \
	"${NOBODY[@]}" env VLC_PLUGIN_PATH=/nonexistent pixelpass --player vlc "$T"

# A player that quits at once: an error with its own words, not "the
# player was closed"; and it is not remembered as the next default.
# Without XDG_RUNTIME_DIR, as in a session that has none.
mkdir "$TEST_TMP/tmp"
timeout 30 env -u XDG_RUNTIME_DIR TMPDIR="$TEST_TMP/tmp" \
	pixelpass --player mpv --player-args=--frobnicate "$T" > "$TEST_TMP/quits.out" 2> "$TEST_TMP/quits.err"
is "$?" 69 "a player that quits at once: exit 69"
like "$(tail -n 1 "$TEST_TMP/quits.err")" '^pixelpass: mpv quit at once: Error parsing option frobnicate \(option not found\) \(its output: ' "...with the player's own words"
unlike "$(cat "$TEST_TMP/quits.err")" 'the player was closed' "...not \"the player was closed\""
like "$(cat "$TEST_TMP/quits.out")" '^http://127\.0\.0\.1:[0-9]+/[0-9a-f]{32}/$' "...(it had its URL)"
ok "...and is not remembered as the player to use next" test ! -e "$STATE/player"
is "$(ls -A "$TEST_TMP/tmp")" "pp-bridge-$(id -u)" "...leaving nothing in TMPDIR but pp-bridge's directory of players' logs"

# The host passes its tunnel's lines on every half second: wait for them.
wait_for 5 grep -q 'arrived' "$TEST_TMP/host.log"
is "$(grep -c 'arrived' "$TEST_TMP/host.log")" 1 "of all these viewers, only the one whose player quit reached the host"

# --- --record: never over a file, never a file left for nothing -----------------
view_fails rec-dir 73 '^pixelpass: cannot create /nonexistent/x\.ts: No such file or directory$' \
	pixelpass --record /nonexistent/x.ts "$T"
printf 'precious\n' > "$TEST_TMP/talk.ts"
view_fails rec-exists 73 "^pixelpass: $TEST_TMP/talk\\.ts exists: pixelpass does not overwrite a recording; choose another name or remove it\$" \
	pixelpass --record "$TEST_TMP/talk.ts" "$T"
is "$(cat "$TEST_TMP/talk.ts")" precious "...and the file is as it was"
C=a
[ "${T:20:1}" = a ] && C=b
pixelpass --record "$TEST_TMP/new.ts" "${T:0:20}$C${T:21}" > /dev/null 2>&1
is "$?" 65 "a damaged ticket with --record: exit 65"
ok "...and no empty recording is left" test ! -e "$TEST_TMP/new.ts"

# --- the one viewer the host has room for -----------------------------------------
pixelpass --record "$TEST_TMP/rec.ts" "$T" > /dev/null 2> "$TEST_TMP/rec.err" &
REC=$!
track_pid $REC
ok "the real viewer still gets in: no slot was kept" wait_for 20 grep -q 'recording to' "$TEST_TMP/rec.err"
# shellcheck disable=SC2016 # for sh -c
wait_for 15 sh -c 'test "$(stat -c %s "$1")" -gt 200000' sh "$TEST_TMP/rec.ts"
fe_stop $REC
is "$(codecs "$TEST_TMP/rec.ts")" "aac h264 " "...and records the stream"
read -r freq _ < <(tone "$TEST_TMP/rec.ts")
ok "...with the test pattern's tone (${freq:-none} Hz), though the host has no PipeWire" near "${freq:-0}" 440 5
# The host passes its producer's lines on every half second.
ok "the host's encoder said it makes the tone" wait_for 5 grep -q '^pp-encode: source test .*audio test tone 440 Hz' "$TEST_TMP/host.log"
unlike "$(cat "$TEST_TMP/host.log")" 'Host is down|without sound' "...and nobody says the host is down or shares without sound"

# --- pixelpass TICKET: pp-view by default; Control-C stops it ------------------
# colours: how many distinct colours the screen shows (the bare Xvfb: 1).
colours() {
	xwd -root -silent > "$TEST_TMP/shot.xwd" &&
	    ffmpeg -v error -y -i "$TEST_TMP/shot.xwd" -f rawvideo -pix_fmt rgb24 - |
	    python3 -c 'import sys; d = sys.stdin.buffer.read(); print(len({d[i:i + 3] for i in range(0, len(d), 3)}))'
}
shows_picture() { [ "$(colours)" -ge 4 ]; }
fe_term viewer "exec pixelpass $T 2> $TEST_TMP/ppv.err"
ok "pixelpass TICKET plays in pp-view by default" wait_for 20 grep -q 'playing in pp-view (pid' "$TEST_TMP/ppv.err"
PV=$(sed -n 's/.*playing in pp-view (pid \([0-9]*\)).*/\1/p' "$TEST_TMP/ppv.err")
ok "...and its window shows the test pattern ($(colours) colours)" wait_for 10 shows_picture
ok "...which is remembered once it has played" wait_for 10 grep -qx pp-view "$STATE/player"
fe_keys viewer C-c
ok "Control-C stops the viewer" wait_for 10 fe_dead viewer
ok "...and pp-view with it" wait_for 10 eval '! kill -0 "$PV" 2> /dev/null'

# --- the headless host says it stops --------------------------------------------
fe_keys host C-c
ok "Ctrl-C stops the headless host" wait_for 20 fe_dead host
is "$(fe_exit host)" 0 "...with status 0"
is "$(tail -n 1 "$TEST_TMP/host.log")" 'pixelpass: stopping' "...and it says so"

# --- a capture that cannot start: no ticket --------------------------------------
DISPLAY=:99 timeout 30 pixelpass host --source x11 --rendezvous none < /dev/null > "$TEST_TMP/x.out" 2> "$TEST_TMP/x.err"
is "$?" 69 "--source x11 with a display that cannot be opened: exit 69"
is "$(cat "$TEST_TMP/x.out")" "" "...before any ticket"
like "$(tail -n 1 "$TEST_TMP/x.err")" '^pixelpass: cannot open the X display :99 \(unable to open display ":99"\); nothing is shared' "...saying so"


# --- the host's capture dies: its viewers are told, with a failure status --------
new_xvfb 320x240
X2=$XVFB_PID
DISPLAY=$XVFB_DISPLAY fe_host x11 --source x11 --no-audio --rendezvous none --bitrate 500 --fps 10
pixelpass --record "$TEST_TMP/x11.ts" "$fe_ticket" > /dev/null 2> "$TEST_TMP/x11v.err" &
XV=$!
track_pid $XV
wait_for 20 test -s "$TEST_TMP/x11.ts" || diag "no stream recorded: $(cat "$TEST_TMP/x11v.err")"
kill $X2
timeout 30 tail --pid=$XV -f /dev/null
wait $XV
is "$?" 69 "the host's screen goes away mid-stream: the viewer exits 69"
like "$(tail -n 1 "$TEST_TMP/x11v.err")" "^pixelpass: the stream stopped: the host's stream failed: .*pp-encode" "...saying that the host's capture failed, and how"
unlike "$(cat "$TEST_TMP/x11v.err")" 'the host stopped sharing' "...not that the host stopped sharing"
fe_stop "$fe_pid"
is "$(fe_leftovers)" "" "no process, socket or file is left"
