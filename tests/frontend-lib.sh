# Helpers for the tests of pixelpass(1); source after libtest.sh.
#
#   fe_host NAME ARGS...   starts `pixelpass host ARGS...` in the
#                          background, stdout to $TEST_TMP/NAME.ticket,
#                          stderr to NAME.log, and waits for the ticket.
#                          Sets fe_ticket, fe_pid (stopped at exit).
#   fe_stop PID            SIGTERM, then waits (bounded); sets fe_rc.
#   fe_leftovers           prints the pp-* processes and sockets that a
#                          pixelpass of this test left behind.
#   codecs FILE            its streams' codecs, sorted, on one line.
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
	ffprobe -v error -show_entries stream=codec_name -of csv=p=0 "$1" | grep . | sort -u | tr '\n' ' '
}
