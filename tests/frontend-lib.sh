# Helpers for the tests of pixelpass(1); source after libtest.sh.
#
#   fe_host NAME ARGS...   starts `pixelpass host ARGS...` in the
#                          background, stdout to $TEST_TMP/NAME.ticket,
#                          stderr to NAME.log, and waits for the ticket.
#                          Sets fe_ticket, fe_pid (stopped at exit).
#   fe_stop PID            SIGTERM, then waits (bounded); sets fe_rc.
#   fe_leftovers           prints the pp-* processes and sockets that a
#                          pixelpass of this test left behind.
#   codecs FILE            its streams' codecs, sorted, on one line, but
#                          for pp-encode's host clock (klv, pp-encode(1)).
#   decodes FILE           every frame of FILE decodes (ffmpeg), some do.

fe_host() {
	local name=$1
	shift
	pixelpass host "$@" < /dev/null > "$TEST_TMP/$name.ticket" 2> "$TEST_TMP/$name.log" &
	fe_pid=$!
	track_pid "$fe_pid"
	if ! wait_for 20 grep -qs '^pp1' "$TEST_TMP/$name.ticket"; then
		diag "$(cat "$TEST_TMP/$name.log")"
		bail "pixelpass host printed no ticket"
	fi
	fe_ticket=$(head -n 1 "$TEST_TMP/$name.ticket")
}

fe_stop() {
	kill -TERM "$1" 2> /dev/null
	timeout 20 tail --pid="$1" -f /dev/null
	wait "$1" 2> /dev/null
	fe_rc=$?
}

# Processes started under this test's runtime directory carry it in
# their command line (the socket) or environment.
fe_leftovers() {
	local f pid
	for f in $(grep -lzF "XDG_RUNTIME_DIR=$XDG_RUNTIME_DIR" /proc/[0-9]*/environ 2> /dev/null); do
		pid=${f#/proc/}
		pid=${pid%/environ}
		case $(cat "/proc/$pid/comm" 2> /dev/null) in
		pp-* | pixelpass | mpv | xclip) echo "process $pid $(tr '\0' ' ' < "/proc/$pid/cmdline")" ;;
		esac
	done
	find "$XDG_RUNTIME_DIR" -maxdepth 1 -name 'pixelpass*' -printf 'file %p\n'
	return 0
}

decodes() {
	local n
	ffmpeg -nostdin -v error -xerror -i "$1" -f null - > "$TEST_TMP/decode.err" 2>&1 || {
		diag "$(head -5 "$TEST_TMP/decode.err")"
		return 1
	}
	n=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 "$1" | grep -m 1 '^[0-9]')
	diag "$1: $n video frames decode"
	[ "${n:-0}" -gt 10 ]
}

codecs() {
	ffprobe -v error -show_entries stream=codec_name -of csv=p=0 "$1" | grep . | grep -vx klv | sort -u | tr '\n' ' '
}

# An interactive pixelpass in a terminal: a private tmux server, one
# window per program (kept after it exits, to read its screen).
#   fe_tmux_start                 the server
#   fe_term NAME CMD              runs CMD (a shell command) in window NAME
#   fe_keys NAME KEYS...          tmux send-keys
#   fe_screen NAME                what the window shows (history included)
#   fe_see SECS NAME REGEX        waits until the screen matches REGEX
#   fe_pane_pid NAME, fe_dead NAME, fe_status NAME
fe_tmux() { tmux -S "$TEST_TMP/tmux.sock" -f /dev/null "$@"; }
fe_tmux_start() {
	fe_tmux new-session -d -s main -x 250 -y 50 'sleep 3600' || bail "tmux does not start"
	at_exit 'fe_tmux kill-server 2>/dev/null'
	fe_tmux set-option -g remain-on-exit on
	fe_tmux set-option -g history-limit 5000
}
fe_term() { fe_tmux new-window -d -t main -n "$1" "$2"; }
fe_keys() {
	local n=$1
	shift
	fe_tmux send-keys -t "main:$n" "$@"
}
fe_screen() { fe_tmux capture-pane -p -J -S -1000 -t "main:$1"; }
_fe_match() { fe_screen "$1" | grep -Eq -- "$2"; }
fe_see() {
	wait_for "$1" _fe_match "$2" "$3" && return 0
	diag "window $2 shows:"
	fe_screen "$2" | grep . | tail -n 15 | sed 's/^/#   /'
	return 1
}
fe_pane_pid() { fe_tmux display-message -p -t "main:$1" '#{pane_pid}'; }
fe_dead() { [ "$(fe_tmux display-message -p -t "main:$1" '#{pane_dead}')" = 1 ]; }
fe_status() { fe_tmux display-message -p -t "main:$1" '#{pane_dead_status}'; }
# fe_run NAME CMD: runs CMD (a shell command) in window NAME through bash,
# which waits for it when Control-C reaches both (a shell waits and
# carries on when its child handled the signal) and then writes its
# status where fe_exit reads it; tmux's own pane status is not always
# there when the program's children still hold the terminal.
fe_run() { fe_term "$1" "bash -c '$2; echo \$? > $TEST_TMP/$1.rc'"; }
# fe_exit NAME: the status of fe_run's CMD, once it has ended.
fe_exit() {
	wait_for 10 test -s "$TEST_TMP/$1.rc"
	cat "$TEST_TMP/$1.rc" 2> /dev/null
}
# fe_tone SECONDS: appA plays a 440 Hz tone for SECONDS, the application
# whose sound the front-end tests share.
fe_tone() {
	sox -n -r 48000 -c 2 -b 16 "$TEST_TMP/a440.wav" synth "$1" sine 440 vol 0.5 || bail "sox failed"
	pw-play -P '{ application.name=appA }' "$TEST_TMP/a440.wav" &
	track_pid $!
}
# routes: the audio server's links, one "APP -> SINK" a line.
routes() { pw-dump | python3 "$top_srcdir/tests/pw-routes.py"; }
# routed RE: a link matches RE (an extended regex of the whole line).
routed() { routes | grep -Ex "$1" > /dev/null; }
