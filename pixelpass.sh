#!/bin/bash
# pixelpass: share this screen with friends, or watch theirs.
#
# The frontend composes the pp-* tools into the two chains of DESIGN.md:
#   host:   pp-fanout serve --socket S -- pp-capture ... -- pp-encode ... &
#           pp-tunnel listen --max-viewers N -- pp-fanout attach --socket S
#   viewer: PP_TICKET=TICKET pp-tunnel connect | pp-view
# It adds what a person needs around them: a menu, the screen and sound
# choice before the ticket, the clipboard, a viewer cap that fits the
# upstream, a status line, and clear words when something fails. See
# pixelpass(1).
set -u

VERSION='@VERSION@'
PROG=pixelpass
DEFAULT_SPEEDTEST_URL='https://speed.cloudflare.com/__up'
SPEEDTEST_BYTES=5000000

# sysexits(3)
EX_USAGE=64 EX_DATAERR=65 EX_UNAVAILABLE=69 EX_SOFTWARE=70 EX_CANTCREAT=73 EX_TEMPFAIL=75 EX_NOPERM=77

# --- options ------------------------------------------------------------------
opt_max_viewers=	# --max-viewers: overrides the cap from the bandwidth
opt_bitrate=6000	# --bitrate kbit/s of video (pp-encode's default)
opt_fps=30		# --fps
opt_layers=		# --layers 1|2 (default: layers_default)
opt_source=		# --source portal|x11|test (default: from the session)
opt_window=0		# --window: one window rather than a monitor
opt_app=		# --app NAME: only this application's sound
opt_mic=0		# --mic
opt_no_audio=0		# --no-audio
opt_player=		# --player pp-view|mpv|vlc|none (default: the last that played)
opt_player_args=${PIXELPASS_PLAYER_ARGS:-}	# --player-args
opt_record=		# --record FILE: the viewer writes the stream there
opt_net=()		# --rendezvous/--stun, passed to pp-tunnel (--turn: PP_TURN)
opt_turn=0		# --turn was given
opt_repair=0		# --repair
opt_reconfigure=0	# --reconfigure: measure the upstream again
opt_measure=0		# --measure: measure on a headless first run
opt_publish=()		# --publish URL, repeatable: also to these media servers
mode=			# menu, host or view
ticket=
ticket_given=0		# a TICKET argument was there, even an empty one
fetch_url=		# a media server's URL given in the ticket's place
view_opt=		# the first viewer-only option given: never host with it

# --- messages and cleanup -----------------------------------------------------
say() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() {
	local rc=$1
	shift
	say "$*"
	exit "$rc"
}

usage() {
	cat >&2 <<'EOF'
usage: pixelpass [options]
       pixelpass host [--max-viewers N] [--bitrate KBPS] [--fps N] [--layers 1|2]
                 [--source portal|x11|test] [--window] [--app NAME] [--mic]
                 [--no-audio] [--measure] [--reconfigure] [--publish URL ...]
                 [--rendezvous URL|none] [--stun HOST[:PORT]|none] [--turn URL|none]
       pixelpass [--player pp-view|mpv|vlc|none] [--player-args ARGS] [--record FILE]
                 [--rendezvous URL|none] [--stun ...] [--turn ...] TICKET
       pixelpass [--player pp-view|mpv|vlc|none] [--player-args ARGS] [--record FILE] URL
       pixelpass --repair | --reconfigure | --help | --version
EOF
	exit $EX_USAGE
}

kids=()		# process groups we started (each with setsid: pgid = pid)
producer=	# the producer's process group, as pp-fanout logged it
player=		# the player pp-bridge started
W=		# our private directory under the runtime directory
sock=		# the fanout's socket
clip_pid=	# the process holding the clipboard
record_made=0	# 1 while the --record file is ours and still empty
stop_rc=130	# exit status on SIGINT: 0 once the host serves or the viewer plays
serving=	# "host" once the ticket is out

# alive PID: running, and not a zombie waiting for us.
alive() {
	local s
	{ read -r s < "/proc/$1/stat"; } 2> /dev/null || return 1
	s=${s##*) }
	[ "${s%% *}" != Z ]
}

# stop_group PID [SECONDS]: SIGTERM to the process group, SIGKILL when it
# has not ended in time; reaps it.
stop_group() {
	local pid=$1 tries=$((${2:-10} * 10))
	kill -TERM -- "-$pid" 2> /dev/null
	while alive "$pid" && [ "$tries" -gt 0 ]; do
		sleep 0.1
		tries=$((tries - 1))
	done
	kill -KILL -- "-$pid" 2> /dev/null
	wait "$pid" 2> /dev/null
}

cleanup() {
	local i
	trap '' INT TERM HUP
	[ -t 2 ] && [ "$mode" = menu ] && printf '\r\033[K' >&2
	# Last started, first stopped: the tunnel (and its viewers) before the
	# fanout, which stops the producer and waits for it (up to 5 s).
	for ((i = ${#kids[@]} - 1; i >= 0; i--)); do
		stop_group "${kids[$i]}" 12
	done
	# A producer whose pp-fanout was killed: SIGTERM first, so that
	# pp-capture removes its capture sink (SIGKILL would leave it).
	[ -n "$producer" ] && stop_group "$producer" 5
	[ -n "$player" ] && kill -TERM "$player" 2> /dev/null
	[ -n "$clip_pid" ] && { kill -TERM "$clip_pid" 2> /dev/null; wait "$clip_pid" 2> /dev/null; }
	[ -n "$sock" ] && rm -f "$sock"
	[ "$record_made" -eq 1 ] && rm -f -- "$opt_record"
	[ -n "$W" ] && rm -rf "$W"
}
trap cleanup EXIT
# interrupted STATUS: Ctrl-C or SIGTERM. A host says it stops, whichever
# way it runs; before the ticket is out, that nothing was shared.
interrupted() {
	trap '' INT TERM
	if [ "$serving" = host ]; then
		[ -t 2 ] && [ "$mode" = menu ] && printf '\r\033[K' >&2
		say "stopping"
	elif [ "$stop_rc" -eq 130 ] && [ -n "$opt_source" ]; then
		say "interrupted: nothing is shared"
	fi
	exit "$1"
}
trap 'interrupted $stop_rc' INT
trap 'interrupted $(( stop_rc == 130 ? 143 : stop_rc ))' TERM
trap 'exit 129' HUP

# spawn [--events FILE] LOG CMD...: starts CMD in a session (and process
# group) of its own, stderr to LOG and, with --events, fd 8 to FILE (for
# CMD's --status-fd 8); sets $! as usual and remembers it for cleanup.
# (0<&0: without a redirection of its own, bash gives a background
# command /dev/null for its input.) If pixelpass itself is killed
# (SIGKILL: no cleanup runs), CMD gets SIGTERM from the kernel and stops
# cleanly, rather than serving on with nobody to stop it.
spawn() {
	local log ev=/dev/null
	if [ "$1" = --events ]; then
		ev=$2
		shift 2
	fi
	log=$1
	shift
	: > "$log"	# there before anyone reads it
	: > "$ev"
	setsid setpriv --pdeathsig TERM "$@" 0<&0 2> "$log" 8> "$ev" &
	kids+=("$!")
}

# ev_value LINE KEY: the value of KEY in a status event line (see
# pp-fanout(1), Status events), decoded.
ev_value() {
	local kv
	for kv in $1; do
		case $kv in
		"$2="*) kv=${kv#*=}; printf '%b' "${kv//%/\\x}"; return ;;
		esac
	done
}

# workdir: our private directory, for logs and the viewer's pipe.
workdir() {
	local run=${XDG_RUNTIME_DIR:-}
	if [ -z "$run" ] || [ ! -d "$run" ] || [ ! -w "$run" ]; then
		run=${TMPDIR:-/tmp}
	fi
	W=$(mktemp -d "$run/pixelpass-$$.XXXXXX") ||
	    die $EX_SOFTWARE "cannot make a directory under $run"
	# A pipe nobody writes to: `read -t` on it is a sleep that signals
	# interrupt at once.
	mkfifo "$W/pause" && exec 9<> "$W/pause"
}
# No redirection on this read: a trap that interrupts it runs with its
# redirections in effect, and would lose what it says.
pause() { read -r -t "$1" -u 9 _; }

# tool_line LOG TOOL: the last line TOOL wrote in LOG, without its prefix.
tool_line() {
	local l
	l=$(grep "^$2: " "$1" 2> /dev/null | tail -n 1)
	printf '%s' "${l#"$2": }"
}

# why_stopped LOG TOOL STATUS: why TOOL ended with STATUS (from wait): the
# signal that killed it (its last line is then not about its end), or its
# last line.
why_stopped() {
	if [ "$3" -gt 128 ]; then
		printf '%s was killed by signal %d (SIG%s)' "$2" "$(($3 - 128))" "$(kill -l "$(($3 - 128))" 2> /dev/null)"
	else
		tool_line "$1" "$2"
	fi
}

# --- config.toml ----------------------------------------------------------------
CONFIG_DIR=${XDG_CONFIG_HOME:-${HOME:-}/.config}/pixelpass
CONFIG=$CONFIG_DIR/config.toml
STATE_DIR=${XDG_STATE_HOME:-${HOME:-}/.local/state}/pixelpass

cfg_status='' cfg_upstream='' cfg_measured_at='' cfg_test_url=''

# config.toml has one reader and writer, lib/config, which pp-tunnel uses
# and pp-config(1) puts at the shell's disposal: it checks the file against
# the keys pixelpass knows, prints them, and rewrites only the lines of the
# keys it changes. Its messages name the file and line; pixelpass says them
# as its own.

# config_read: reads and checks config.toml strictly (pp-config dump); a
# missing file is a first run. Never changes the file.
config_read() {
	local out rc line
	cfg_status='' cfg_upstream='' cfg_measured_at='' cfg_test_url=''
	# dump prints nothing on stdout when it refuses the file, and nothing
	# on stderr when it does not.
	out=$(pp-config --file "$CONFIG" dump 2>&1)
	rc=$?
	case $rc in
	0) ;;
	65 | 66) die $EX_DATAERR "${out#pp-config: }" ;;
	*) die $EX_SOFTWARE "pp-config --file $CONFIG dump failed (exit $rc): ${out#pp-config: }" ;;
	esac
	while IFS= read -r line; do
		case $line in
		bandwidth.status=*) cfg_status=${line#*=} ;;
		bandwidth.upstream_mbps=*) cfg_upstream=${line#*=} ;;
		bandwidth.measured_at=*) cfg_measured_at=${line#*=} ;;
		bandwidth.test_url=*) cfg_test_url=${line#*=} ;;
		esac
	done <<< "$out"
	return 0
}

# config_write_bandwidth STATUS UPSTREAM MEASURED_AT: sets the [bandwidth]
# keys (an empty value removes the key) in one write, and keeps every
# other line of the file as it was: the [network] table, comments,
# test_url. Atomic: a new file renamed over the old, mode 0600.
config_write_bandwidth() {
	local out rc
	out=$(pp-config --file "$CONFIG" set bandwidth.status "$1" \
	    bandwidth.upstream_mbps "$2" bandwidth.measured_at "$3" 2>&1)
	rc=$?
	case $rc in
	0) ;;
	65) die $EX_DATAERR "${out#pp-config: }" ;;
	73) die $EX_CANTCREAT "${out#pp-config: }" ;;
	*) die $EX_SOFTWARE "pp-config --file $CONFIG set failed (exit $rc): ${out#pp-config: }" ;;
	esac
}

# --- the upstream test --------------------------------------------------------
# measure: uploads about 5 MB and stores 0.8 times the rate it got (a
# stream needs headroom), or "failed".
measure() {
	local url=${PIXELPASS_SPEEDTEST_URL:-${cfg_test_url:-$DEFAULT_SPEEDTEST_URL}}
	local out rc code size t mbps now
	now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	say "measuring the upstream: uploading $((SPEEDTEST_BYTES / 1000000)) MB to $url (about 5 s)"
	out=$(head -c "$SPEEDTEST_BYTES" /dev/urandom |
	    curl -sS -o /dev/null --connect-timeout 5 --max-time 10 \
	    -H 'Content-Type: application/octet-stream' --data-binary @- \
	    -w '%{http_code} %{size_upload} %{time_total}' "$url" 2> "$W/curl.err")
	rc=$?
	read -r code size t <<< "$out"
	# A test cut short by --max-time still measured a slow link.
	if { [ "$rc" -eq 0 ] && [[ ${code:-0} == 2?? ]]; } ||
	    { [ "$rc" -eq 28 ] && [ "${size:-0}" -ge 1000000 ]; }; then
		mbps=$(awk -v b="$size" -v t="$t" 'BEGIN { if (t <= 0) t = 0.001; printf "%d", b * 8 / t / 1e6 * 0.8 }')
		config_write_bandwidth measured "$mbps" "$now"
		say "upstream: $(awk -v b="$size" -v t="$t" 'BEGIN { if (t <= 0) t = 0.001; printf "%.1f", b * 8 / t / 1e6 }') Mbit/s measured; $mbps Mbit/s (80%) kept for streams in $CONFIG"
	else
		local why
		why=$(head -n 1 "$W/curl.err")
		[ -n "$why" ] || why="the server answered HTTP ${code:-nothing}"
		config_write_bandwidth failed "" "$now"
		say "the upstream test failed (${why#curl: }); the viewer cap stays at 2: pixelpass --reconfigure tries again, or give --max-viewers"
	fi
	config_read
}

# viewer_cap: the --max-viewers for pp-tunnel, and why, on stderr.
viewer_cap() {
	local stream=$((opt_bitrate + (opt_no_audio ? 0 : 128)))
	if [ -n "$opt_max_viewers" ]; then
		cap=$opt_max_viewers
		say "viewer cap: $cap (--max-viewers)"
		return
	fi
	case $cfg_status in
	measured)
		cap=$((cfg_upstream * 1000 / stream))
		[ "$cap" -ge 1 ] || cap=1
		say "viewer cap: $cap ($cfg_upstream Mbit/s of upstream, measured ${cfg_measured_at:-earlier}, fits $cap streams of $stream kbit/s; --max-viewers overrides)" ;;
	skipped)
		cap=2
		say "viewer cap: 2 (the upstream test was skipped; pixelpass --reconfigure measures it, --max-viewers overrides)" ;;
	failed)
		cap=2
		say "viewer cap: 2 (the upstream test failed${cfg_measured_at:+ at $cfg_measured_at}; pixelpass --reconfigure tries again, --max-viewers overrides)" ;;
	*)
		cap=2
		say "viewer cap: 2 (the upstream is not measured; pixelpass --reconfigure measures it, --max-viewers overrides)" ;;
	esac
}

# preflight: the one-time upstream test, before the first host.
preflight() {
	local answer
	if [ "$opt_reconfigure" -eq 1 ]; then
		measure
		return
	fi
	case $cfg_status in
	measured | skipped | failed) return ;;
	esac
	if [ "$mode" = menu ]; then
		printf '\nFirst host on this machine: measure the upstream once, to know how many\nviewers it can serve? It uploads about %d MB to %s\n(about 5 s). [Y/n] ' \
		    "$((SPEEDTEST_BYTES / 1000000))" "${PIXELPASS_SPEEDTEST_URL:-${cfg_test_url:-$DEFAULT_SPEEDTEST_URL}}" >&2
		read -r answer || exit $EX_USAGE
		case $answer in
		[nN]*)
			config_write_bandwidth skipped "" ""
			config_read
			say "skipped: not asked again (pixelpass --reconfigure measures it later)" ;;
		*) measure ;;
		esac
	elif [ "$opt_measure" -eq 1 ]; then
		measure
	elif [ -z "$cfg_status" ]; then
		# Headless: no question to block on. Recorded as such, so that
		# the menu offers the test the next time.
		config_write_bandwidth unmeasured "" ""
		config_read
	fi
}

# --- the host ---------------------------------------------------------------------
# pick: prints a numbered menu of the remaining arguments on stderr and
# sets $choice to the number chosen (DEFAULT on an empty line).
pick() {
	local prompt=$1 def=$2 i n
	shift 2
	n=$#
	printf '\n%s\n' "$prompt" >&2
	for ((i = 1; i <= n; i++)); do
		printf '  %d) %s\n' "$i" "${!i}" >&2
	done
	while :; do
		printf 'Choose 1 to %d [%d]: ' "$n" "$def" >&2
		read -r choice || exit $EX_USAGE
		[ -n "$choice" ] || choice=$def
		case $choice in
		q | Q) exit 0 ;;
		*[!0-9]*) ;;
		*) [ "$choice" -ge 1 ] && [ "$choice" -le "$n" ] && return ;;
		esac
		printf 'Please type a number from 1 to %d (q quits).\n' "$n" >&2
	done
}

# pick_source: where the picture comes from: the session's screen, or a
# test pattern. Decided first, before the upstream test is offered.
pick_source() {
	local err
	if [ -z "$opt_source" ]; then
		if [ -n "${WAYLAND_DISPLAY:-}" ]; then
			opt_source=portal
		elif [ -n "${DISPLAY:-}" ]; then
			opt_source=x11
		elif [ "$mode" = menu ]; then
			pick "There is no screen to share here (no Wayland or X11 session). Share a test pattern, to try pixelpass?" 1 \
			    "yes, a test pattern with a clock" "no, quit"
			[ "$choice" -eq 1 ] ||
			    die $EX_UNAVAILABLE "no screen to share: run pixelpass inside a desktop session"
			opt_source=test
		else
			die $EX_UNAVAILABLE "no screen to share: no Wayland or X11 session here (WAYLAND_DISPLAY and DISPLAY are not set); run inside a desktop session, or try --source test"
		fi
	fi
	if [ "$opt_source" = x11 ]; then
		[ -n "${DISPLAY:-}" ] || die $EX_UNAVAILABLE "--source x11: no X display (DISPLAY is not set); run inside an X session"
		# The capture starts with the first viewer: a display that
		# cannot be opened must stop us before the ticket is out.
		if command -v xwininfo > /dev/null && ! err=$(xwininfo -root 2>&1 > /dev/null); then
			err=${err#xwininfo: }
			die $EX_UNAVAILABLE "cannot open the X display $DISPLAY (${err#error: }); nothing is shared: run inside that X session, or set DISPLAY to it"
		fi
	fi
}

# choose_screen: what to share, decided before the ticket exists.
choose_screen() {
	local rc err
	case $opt_source in
	test)
		say "sharing a test pattern (--source test)"
		return ;;
	x11)
		if [ "$mode" = menu ] && [ "$opt_window" -eq 0 ]; then
			pick "What to share?" 1 "the whole screen ($DISPLAY)" "one window (click it)" "a test pattern (to try pixelpass)"
			[ "$choice" -eq 2 ] && opt_window=1
			[ "$choice" -eq 3 ] && { opt_source=test; choose_screen; return; }
		fi
		if [ "$opt_window" -eq 1 ]; then
			command -v xwininfo > /dev/null ||
			    die $EX_UNAVAILABLE "cannot pick a window: xwininfo is missing (install x11-utils)"
			say "click the window to share"
			window_id=$(xwininfo 2> /dev/null | sed -n 's/^xwininfo: Window id: \(0x[0-9a-fA-F]*\).*/\1/p')
			[ -n "$window_id" ] || die $EX_NOPERM "no window was picked; nothing is shared"
			say "sharing window $window_id"
		fi
		return ;;
	portal)
		if [ "$mode" = menu ] && [ "$opt_window" -eq 0 ]; then
			pick "What to share? (the desktop's dialog comes next)" 1 "a whole monitor" "one window" "a test pattern (to try pixelpass)"
			[ "$choice" -eq 2 ] && opt_window=1
			[ "$choice" -eq 3 ] && { opt_source=test; choose_screen; return; }
		fi
		say "choose what to share in the desktop's dialog"
		local sel=(--source portal --select-only)
		[ "$opt_window" -eq 1 ] && sel+=(--window)
		pp-capture "${sel[@]}" 2> "$W/select.log"
		rc=$?
		err=$(tool_line "$W/select.log" pp-capture)
		case $rc in
		0) return ;;
		77) die $EX_NOPERM "the screen choice was cancelled; nothing is shared" ;;
		69) die $EX_UNAVAILABLE "no screencast portal: ${err:-pp-capture found none}" ;;
		*) die "$rc" "cannot choose the screen: ${err:-pp-capture exited with status $rc}" ;;
		esac ;;
	esac
}

# choose_audio: the whole desktop's sound, or one application playing now.
choose_audio() {
	local apps=() line
	[ "$mode" = menu ] || return 0
	[ "$opt_no_audio" -eq 0 ] && [ -z "$opt_app" ] || return 0
	while IFS= read -r line; do
		[ -n "$line" ] && apps+=("$line")
	done < <(pp-capture --list-apps 2> /dev/null)
	if [ "${#apps[@]}" -eq 0 ]; then
		say "sound: everything this machine plays (no application plays sound now to pick from)"
		return
	fi
	pick "Which sound to share?" 1 "everything this machine plays" "${apps[@]}" "no sound"
	if [ "$choice" -eq $((${#apps[@]} + 2)) ]; then
		opt_no_audio=1
	elif [ "$choice" -ge 2 ]; then
		opt_app=${apps[$((choice - 2))]}
		say "sound: only $opt_app"
	fi
}

# check_encoder: one H.264 encoder must work, before a ticket is handed out.
check_encoder() {
	local list
	list=$(pp-encode --list-encoders 2> /dev/null)
	if ! grep -q ' works$' <<< "$list"; then
		die $EX_UNAVAILABLE "no H.264 encoder works on this machine (pp-encode --list-encoders says why); install gstreamer1.0-plugins-ugly for x264enc"
	fi
}

# clipboard TEXT: the first of wl-copy, xclip, xsel that works; says which.
clipboard() {
	local c
	if [ -n "${WAYLAND_DISPLAY:-}" ] && command -v wl-copy > /dev/null; then
		c=wl-copy
		printf '%s' "$1" | setpriv --pdeathsig TERM wl-copy --foreground > /dev/null 2>&1 &
	elif [ -n "${DISPLAY:-}" ] && command -v xclip > /dev/null; then
		c=xclip
		printf '%s' "$1" | setpriv --pdeathsig TERM xclip -quiet -selection clipboard > /dev/null 2>&1 &
	elif [ -n "${DISPLAY:-}" ] && command -v xsel > /dev/null; then
		c=xsel
		printf '%s' "$1" | setpriv --pdeathsig TERM xsel --clipboard --input --nodetach > /dev/null 2>&1 &
	else
		say "not put on the clipboard: none of wl-copy, xclip or xsel is installed for this session; copy it by hand"
		return
	fi
	# Holds the selection until pixelpass stops (its pipeline's last pid),
	# even by SIGKILL (setpriv: see spawn).
	clip_pid=$!
	sleep 0.2
	if alive "$clip_pid"; then
		say "the ticket is on the clipboard ($c)"
	else
		clip_pid=
		say "not put on the clipboard: $c failed; copy it by hand"
	fi
}

# Status of the host, from the tools' events (and, without the menu, logs).
declare -A viewers=()
# shellcheck disable=SC2034 # set through printf -v
fan_lines=0 fan_events=0 tun_lines=0 tun_events=0 rchar_prev='' rchar_t='' rate=''

# event TEXT: a line above the status line (interactive) or on stderr.
event() {
	if [ "$mode" = menu ]; then
		printf '\r\033[K%s\n' "$*" >&2
	else
		printf '%s\n' "$*" >&2
	fi
}

# new_lines FILE COUNTVAR: sets $new to the complete lines added since
# last time.
new_lines() {
	local f=$1 var=$2 n
	new=''
	n=$(wc -l < "$f" 2> /dev/null) || return 0
	[ "$n" -gt "${!var}" ] || return 0
	new=$(sed -n "$((${!var} + 1)),${n}p" "$f")
	printf -v "$var" %s "$n"
}

# path_text EVENT: the path of a viewer-arrived or connected event (see
# pp-tunnel(1), Status events), in words.
path_text() {
	local how
	case $(ev_value "$1" path) in
	direct) how=$(ev_value "$1" family) ;;
	udp) how="path UDP, no NAT between" ;;
	punched) how="path UDP punched through NAT" ;;
	relayed) how="path relayed through TURN" ;;
	*) how="path $(ev_value "$1" path)" ;;
	esac
	printf '%s, RTT %s ms' "$how" "$(ev_value "$1" rtt_ms)"
}

host_poll() {
	local line id rchar now new
	# Without the menu, pp-tunnel's own lines, as they come.
	new_lines "$W/tunnel.log" tun_lines
	if [ "$mode" != menu ]; then
		while IFS= read -r line; do
			[ -n "$line" ] && event "$line"
		done <<< "$new"
	fi
	new_lines "$W/tunnel.events" tun_events
	while IFS= read -r line; do
		id=$(ev_value "$line" id)
		case $line in
		"viewer-arrived "*)
			viewers[$id]=$(path_text "$line")
			[ "$mode" = menu ] && event "viewer $id joined (${viewers[$id]})" ;;
		"viewer-left "*)
			unset "viewers[$id]"
			[ "$mode" = menu ] && event "viewer $id $(ev_value "$line" reason) after $(ev_value "$line" seconds) s ($(awk -v b="$(ev_value "$line" bytes)" 'BEGIN { printf "%.1f", b / 1e6 }') MB sent)" ;;
		"viewer-refused "*)
			[ "$mode" = menu ] || continue
			case $(ev_value "$line" reason) in
			full) event "viewer $id refused: host is full ($cap/$cap viewers)" ;;
			secret) event "viewer $id refused: it did not prove the ticket's secret" ;;
			*) event "viewer $id refused: its certificate is not the one its offer named" ;;
			esac ;;
		esac
	done <<< "$new"
	new_lines "$W/fanout.log" fan_lines
	while IFS= read -r line; do
		[ -n "$line" ] || continue
		[ "$mode" = menu ] || event "$line"
		case $line in
		"pp-capture: "* | "pp-encode: "*) [ "$mode" = menu ] && event "$line" ;;
		esac
	done <<< "$new"
	new_lines "$W/fanout.events" fan_events
	while IFS= read -r line; do
		case $line in
		"producer-started "*) producer=$(ev_value "$line" pid) ;;
		"producer-exited "*" stopped=no "*)
			event "pixelpass: the stream stopped: $(ev_value "$line" reason); the next viewer starts it again" ;;
		esac
	done <<< "$new"
	publish_poll
	# The stream's rate: what pp-fanout reads from the encoder.
	rchar=$(sed -n 's/^rchar: //p' "/proc/$fanout_pid/io" 2> /dev/null)
	now=$(date +%s%N)
	if [ -n "$rchar" ] && [ -n "$rchar_prev" ] && [ "$now" -gt "$rchar_t" ]; then
		rate=$(( (rchar - rchar_prev) * 8 * 1000000 / ((now - rchar_t) / 1000) ))
	fi
	rchar_prev=$rchar rchar_t=$now
}

# publish_start: one pp-publish per --publish URL, fed by pp-fanout like
# a viewer, so that the one encode is shared; always the top layer, as a
# media server's own viewers would not want the picture to change size.
pub_pids=() pub_events=()
publish_start() {
	local i
	for i in "${!opt_publish[@]}"; do
		spawn --events "$W/publish$i.events" "$W/publish$i.log" \
		    sh -c 'pp-fanout attach --socket "$1" --layer 0 | exec pp-publish --status-fd 8 "$2"' \
		    sh "$sock" "${opt_publish[$i]}" < /dev/null > /dev/null
		pub_pids[i]=$!
		pub_events[i]=0
	done
}

# publish_poll: what the servers answered, as pp-publish says it (the
# URL's key and passphrase redacted); a pp-publish that ended is said
# once, and the host goes on.
publish_poll() {
	local i line new rc
	for i in "${!pub_pids[@]}"; do
		new_lines "$W/publish$i.events" "pub_events[$i]"
		while IFS= read -r line; do
			case $line in
			"connected "*) event "pixelpass: publishing to $(ev_value "$line" url)" ;;
			"disconnected "*) event "pixelpass: $(tool_line "$W/publish$i.log" pp-publish)" ;;
			esac
		done <<< "$new"
		alive "${pub_pids[$i]}" && continue
		wait "${pub_pids[$i]}" 2> /dev/null
		rc=$?
		event "pixelpass: not publishing (status $rc): $(tool_line "$W/publish$i.log" pp-publish)"
		unset "pub_pids[$i]"
	done
}

status_line() {
	local s a n=${#viewers[@]}
	s="viewers $n/$cap"
	for a in "${!viewers[@]}"; do
		s+=" | $a (${viewers[$a]})"
	done
	if [ "$n" -eq 0 ]; then
		s+=" | stream idle (it starts with the first viewer)"
	elif [ -n "$rate" ]; then
		s+=" | stream $(awk -v r="$rate" 'BEGIN { printf "%.1f", r / 1e6 }') Mbit/s"
	fi
	s+=" | q or Ctrl-C stops"
	# One terminal line, or the carriage return no longer redraws it.
	printf '\r\033[K%s' "${s:0:$((${cols:-80} - 1))}" >&2
}

# layers_default: 2, a half-size layer for viewers on a link slower than
# the stream, where the CPU has room for it; else 1. With x264 it costs
# about a quarter of the first layer's encode (doc/PERFORMANCE.md: 0.06
# of a core at 1280x720, 0.09 at 1920x1080, at 30 fps): two cores or more
# at up to 30 fps, four or more above.
layers_default() {
	local n
	n=$(nproc 2> /dev/null) || n=1
	if [ "$n" -ge 4 ] || { [ "$n" -ge 2 ] && [ "$opt_fps" -le 30 ]; }; then
		echo 2
	else
		echo 1
	fi
}

host() {
	local line rc err key idle cap_args=() tun_args=()
	config_read
	pick_source
	preflight
	viewer_cap
	check_encoder
	choose_screen
	choose_audio

	cap_args=(--source "$opt_source")
	[ "$opt_window" -eq 1 ] && [ "$opt_source" = portal ] && cap_args+=(--window)
	[ -n "${window_id:-}" ] && cap_args+=(--window-id "$window_id")
	[ -n "$opt_app" ] && cap_args+=(--app "$opt_app")
	[ "$opt_mic" -eq 1 ] && cap_args+=(--mic)
	[ "$opt_no_audio" -eq 1 ] && cap_args+=(--no-audio)

	# In our own 0700 directory: in a shared /tmp (no XDG_RUNTIME_DIR)
	# another user could bind the name first and feed our viewers.
	sock=$W/fanout.sock
	# A viewer whose network is away for a while is the tunnel's to give
	# up on (its idle timeout, 30 s): pp-fanout keeps skipping it forward
	# until then rather than drop it after its own 10 s, which the viewer
	# would take, once back, for the end of the stream.
	idle=${PP_TUNNEL_IDLE_TIMEOUT:-30}
	[[ $idle =~ ^[0-9]{1,4}$ ]] || idle=30	# pp-tunnel says what is wrong
	spawn --events "$W/fanout.events" "$W/fanout.log" \
	    pp-fanout serve --socket "$sock" --status-fd 8 \
	    --drop-after $((10#$idle + 15 > 3600 ? 3600 : 10#$idle + 15)) -- \
	    pp-capture "${cap_args[@]}" -- \
	    pp-encode --bitrate "$opt_bitrate" --fps "$opt_fps" \
	    --layers "${opt_layers:-$(layers_default)}" < /dev/null > /dev/null
	fanout_pid=$!
	for _ in $(seq 100); do
		[ -S "$sock" ] && break
		alive "$fanout_pid" || break
		pause 0.1
	done
	if ! [ -S "$sock" ] || ! alive "$fanout_pid"; then
		wait "$fanout_pid" 2> /dev/null
		rc=$?
		die $((rc ? rc : EX_SOFTWARE)) "cannot start the host: $(tool_line "$W/fanout.log" pp-fanout)"
	fi

	tun_args=(--max-viewers "$cap" "${opt_net[@]}" --status-fd 8)
	spawn --events "$W/tunnel.events" "$W/tunnel.log" pp-tunnel listen "${tun_args[@]}" -- \
	    pp-fanout attach --socket "$sock" < /dev/null > "$W/ticket"
	tunnel_pid=$!
	ticket=
	while alive "$tunnel_pid"; do
		line=$(head -n 1 "$W/ticket")
		case $line in
		pp1*) [ "$(wc -l < "$W/ticket")" -ge 1 ] && { ticket=$line; break; } ;;
		esac
		pause 0.1
	done
	if [ -z "$ticket" ]; then
		wait "$tunnel_pid" 2> /dev/null
		rc=$?
		err=$(tool_line "$W/tunnel.log" pp-tunnel)
		case $rc in
		64) die $EX_USAGE "${err:-pp-tunnel refused its options}" ;;
		75) die $EX_TEMPFAIL "cannot listen: $err" ;;
		69) die $EX_UNAVAILABLE "cannot listen for viewers: $err" ;;
		*) die $((rc ? rc : EX_SOFTWARE)) "cannot listen for viewers: ${err:-pp-tunnel exited with status $rc}" ;;
		esac
	fi
	stop_rc=0 serving=host
	publish_start

	if [ "$mode" = menu ]; then
		cols=$(tput cols 2> /dev/null) || cols=80
		printf '\nTicket (give it to your viewers; anyone who has it can watch):\n\n' >&2
		printf '%s\n\n' "$ticket"
		clipboard "$ticket"
		printf 'They start pixelpass, choose View and paste it.\n\n' >&2
	else
		printf '%s\n' "$ticket"
		say "serving until stopped (SIGINT or SIGTERM); give the ticket to up to $cap viewer$([ "$cap" -eq 1 ] || echo s)"
	fi

	while :; do
		host_poll
		if ! alive "$tunnel_pid"; then
			wait "$tunnel_pid" 2> /dev/null
			rc=$?
			host_poll
			[ "$mode" = menu ] && printf '\n' >&2
			die $((rc ? rc : EX_SOFTWARE)) "the tunnel stopped: $(why_stopped "$W/tunnel.log" pp-tunnel "$rc")"
		fi
		if ! alive "$fanout_pid"; then
			wait "$fanout_pid" 2> /dev/null
			rc=$?
			host_poll
			[ "$mode" = menu ] && printf '\n' >&2
			die $((rc ? rc : EX_SOFTWARE)) "the stream server stopped: $(why_stopped "$W/fanout.log" pp-fanout "$rc")"
		fi
		if [ "$mode" = menu ]; then
			status_line
			key=
			read -r -s -n 1 -t 1 key
			case $key in
			q | Q)
				printf '\r\033[K' >&2
				say "stopping"
				exit 0 ;;
			esac
		else
			pause 0.5
		fi
	done
}

# --- the viewer ---------------------------------------------------------------
# explain_connect RC [connected]: clear words for what pp-tunnel connect
# reported, before the stream or during it.
explain_connect() {
	local rc=$1 err
	err=$(tool_line "$W/connect.log" pp-tunnel)
	case $rc in
	65) die $EX_DATAERR "the ticket is damaged: copy it again, whole (it starts with pp1 and is one word)" ;;
	75)
		local n
		n=$(sed -n 's/.*host is full (\([0-9]*\/[0-9]*\) viewers).*/\1/p' <<< "$err")
		die $EX_TEMPFAIL "the host is full${n:+ ($n viewers)}: try again when a viewer leaves, or ask the host for a higher --max-viewers" ;;
	77) die $EX_NOPERM "the host refused this ticket: ask for its current ticket (a new host session has a new one)" ;;
	69)
		[ "${2:-}" = connected ] && die $EX_UNAVAILABLE "the stream stopped: ${err:-the connection failed}"
		die $EX_UNAVAILABLE "cannot reach the host: ${err:-no answer}" ;;
	64) die $EX_USAGE "${err:-pp-tunnel refused its options}" ;;
	*)
		[ "$rc" -gt 128 ] && err=$(why_stopped "$W/connect.log" pp-tunnel "$rc")
		die $((rc ? rc : EX_SOFTWARE)) "the connection failed: ${err:-pp-tunnel exited with status $rc}" ;;
	esac
}

# explain_fetch RC [connected]: the same for pp-fetch, whose one line says
# what the media server answered.
explain_fetch() {
	local rc=$1 err
	err=$(why_stopped "$W/connect.log" pp-fetch "$rc")
	case $rc in
	64 | 66) die "$rc" "$err" ;;
	69)
		[ "${2:-}" = connected ] && die $EX_UNAVAILABLE "the stream stopped: ${err#*: the stream broke: }"
		die $EX_UNAVAILABLE "${err:-the media server did not answer}" ;;
	*) die $((rc ? rc : EX_SOFTWARE)) "reading the stream failed: ${err:-pp-fetch exited with status $rc}" ;;
	esac
}

# player_can PLAYER: PLAYER (auto, pp-view, mpv or vlc) can play here
# (pp-view --check, pp-bridge --check); prints the player it would start,
# auto being pp-view, else mpv, else VLC (for HLS: mpv, else VLC, else
# pp-view). The reason it cannot is in $W/check.err.
player_can() {
	local a=(--check --player "$1")
	if [ "$1" = auto ] && is_hls; then
		[ -n "$opt_player_args" ] && a+=(--player-args "$opt_player_args")
		pp-bridge "${a[@]}" < /dev/null 2> "$W/check.err" && return 0
		pp-view --check < /dev/null 2>> "$W/check.err" && echo pp-view
		return
	fi
	case $1 in
	pp-view | auto)
		if pp-view --check < /dev/null 2> "$W/check.err"; then
			echo pp-view
			return 0
		fi
		[ "$1" = auto ] || return 1
		a=(--check --player auto) ;;
	esac
	[ -n "$opt_player_args" ] && a+=(--player-args "$opt_player_args")
	pp-bridge "${a[@]}" < /dev/null 2> "$W/check.err"
}

# is_hls: the stream is a media server's HLS, which comes a fragment at a
# time: pp-view, made for a stream that comes as it is encoded, drops
# most pictures of a burst; mpv and VLC buffer it and play it smoothly.
# HLS is a playlist (.m3u8); any other http(s) URL serves the transport
# stream as it comes (pp-bridge's, for one), which pp-view plays best.
is_hls() {
	case $fetch_url in http://* | https://*) ;; *) return 1 ;; esac
	case ${fetch_url%%[?#]*} in *.m3u8 | *.M3U8) return 0 ;; esac
	return 1
}

# choose_player: the player, checked before the host is contacted, so that
# one that cannot play here never takes one of the host's viewer slots.
choose_player() {
	local players=() p last='' def=1 i err
	[ -z "$opt_record" ] || return 0
	[ -r "$STATE_DIR/player" ] && read -r last < "$STATE_DIR/player"
	if [ -z "$opt_player" ] && [ "$mode" = menu ]; then
		is_hls && [ "$last" != vlc ] && last=mpv
		for p in pp-view mpv vlc; do
			player_can "$p" > /dev/null && players+=("$p")
		done
		# Each one offered has passed its check already.
		case ${#players[@]} in
		0) opt_player=auto ;;	# the check below says why
		1) opt_player=${players[0]}; return 0 ;;
		*)
			for ((i = 0; i < ${#players[@]}; i++)); do
				[ "${players[$i]}" = "$last" ] && def=$((i + 1))
			done
			pick "Watch with? (pp-view is pixelpass's own, the closest to live)" "$def" "${players[@]}"
			opt_player=${players[$((choice - 1))]}
			return 0 ;;
		esac
	elif [ -z "$opt_player" ]; then
		is_hls && [ "$last" = pp-view ] && last=
		case $last in
		pp-view | mpv | vlc) player_can "$last" > /dev/null && { opt_player=$last; return 0; } ;;
		esac
		opt_player=auto
	fi
	[ "$opt_player" = none ] && return 0
	if ! opt_player=$(player_can "$opt_player"); then
		err=$(grep -m 1 '^pp-[a-z]*: ' "$W/check.err")
		die $EX_UNAVAILABLE "${err#pp-*: }; the host was not contacted"
	fi
}

# remember_player: the next plain `pixelpass TICKET` uses it: only a
# player that has played.
remember_player() {
	mkdir -p "$STATE_DIR" && printf '%s\n' "$opt_player" > "$STATE_DIR/player.new" &&
	    mv -f "$STATE_DIR/player.new" "$STATE_DIR/player"
}

# open_record: creates the --record file before the host is contacted,
# never over an existing one.
open_record() {
	local why
	if [ -e "$opt_record" ] || [ -L "$opt_record" ]; then
		die $EX_CANTCREAT "$opt_record exists: pixelpass does not overwrite a recording; choose another name or remove it"
	fi
	if ! why=$( (set -C; : > "$opt_record") 2>&1); then
		why=${why##*: }
		die $EX_CANTCREAT "cannot create $opt_record: ${why:-it cannot be written}"
	fi
	record_made=1
}

# player_quit_early LOG: the player ended within a few seconds of its
# start: an error, with the last error it wrote (players end with a line
# such as "Exiting... (Fatal error)", which says nothing), or its last line.
player_quit_early() {
	local last lines
	lines=$(tr '\r' '\n' < "$1" 2> /dev/null | grep -v '^[[:space:]]*$' | grep -v '^Exiting\.\.\.')
	last=$(grep -iE 'error|fail|cannot|could not|not found|refuse|no suitable' <<< "$lines" | head -n 1)
	[ -n "$last" ] || last=$(tail -n 1 <<< "$lines")
	die $EX_UNAVAILABLE "$opt_player quit at once${last:+: $last}${1:+ (its output: $1)}"
}

# start_source: the viewer's pp-tunnel connect (or pp-fetch) into the
# pipe or the recording; sets tunnel_pid.
start_source() {
	if [ -n "$opt_record" ]; then
		PP_TICKET=$tk spawn --events "$W/connect.events" "$W/connect.log" \
		    "${src[@]}" < /dev/null >> "$opt_record"
	else
		PP_TICKET=$tk spawn --events "$W/connect.events" "$W/connect.log" \
		    "${src[@]}" < /dev/null > "$W/stream" 3<&-
	fi
	tunnel_pid=$!
}

# connected_text EVENT: how a viewer is connected, from its connected event.
connected_text() {
	if [ -n "$fetch_url" ]; then
		printf 'receiving %s' "$(ev_value "$1" url)"
	elif [ "$(ev_value "$1" path)" = direct ]; then
		printf 'connected to %s (path direct, %s)' "$(ev_value "$1" addr)" "$(path_text "$1")"
	else
		printf 'connected through the rendezvous to %s (%s)' "$(ev_value "$1" addr)" "$(path_text "$1")"
	fi
}

# A viewer whose connection was lost (no packet for pp-tunnel's idle
# timeout: its network went away, or the host's) connects again with the
# same ticket, into the same pipe, so that the player stays open; for up
# to this long.
RECONNECT_S=120

# view: the stream of a ticket (pp-tunnel connect) or of a media server's
# URL (pp-fetch), in the player, or recorded.
view() {
	local rc line url bridge_pid= tunnel_pid con bargs=() played=0 started plog= plog_lines=0 new
	local lost_at= tries
	local src=(pp-tunnel connect "${opt_net[@]}" --status-fd 8) tk=$ticket
	local explain=explain_connect ended="the host stopped sharing" until="the host stops"
	if [ -n "$fetch_url" ]; then
		src=(pp-fetch --status-fd 8 "$fetch_url") tk=
		explain=explain_fetch ended="the stream ended" until="the stream ends"
	else
		ticket_ok || explain_connect $EX_DATAERR
	fi
	choose_player
	if [ -n "$opt_record" ]; then
		open_record
	else
		# pp-bridge starts the player at once: it starts only once the
		# tunnel is up. We hold the pipe open until the stream ends, so
		# that the player reads on when the tunnel connects again.
		mkfifo "$W/stream" && exec 3<> "$W/stream"
	fi
	start_source
	con=
	while alive "$tunnel_pid"; do
		con=$(grep -m 1 '^connected ' "$W/connect.events")
		[ -n "$con" ] && break
		pause 0.1
	done
	if [ -z "$con" ]; then
		wait "$tunnel_pid" 2> /dev/null
		rc=$?
		con=$(grep -m 1 '^connected ' "$W/connect.events")
		[ -n "$con" ] || $explain "$rc"
	fi
	say "$(connected_text "$con")"
	stop_rc=0
	record_made=0	# it holds the stream now: kept whatever happens

	if [ "$opt_player" = pp-view ]; then
		# Our own viewer reads the tunnel directly: no HTTP hop.
		local vargs=()
		# Split as the shell would (xargs knows the quotes), never run.
		[ -n "$opt_player_args" ] &&
		    mapfile -t vargs < <(xargs printf '%s\n' <<< "$opt_player_args")
		spawn "$W/player.log" pp-view "${vargs[@]}" < "$W/stream" 3<&-
		player=$! plog=$W/player.log started=$SECONDS
		say "playing in pp-view (pid $player); q in its window or Ctrl-C stops"
		is_hls && say "pp-view shows HLS choppily (it drops the pictures of a fragment that come too late); --player mpv plays it smoothly"
	elif [ -z "$opt_record" ]; then
		bargs=(--player "$opt_player")
		[ -n "$opt_player_args" ] && bargs+=(--player-args "$opt_player_args")
		spawn --events "$W/bridge.events" "$W/bridge.log" \
		    pp-bridge --status-fd 8 "${bargs[@]}" < "$W/stream" > "$W/url" 3<&-
		bridge_pid=$!
		while alive "$bridge_pid" && ! [ -s "$W/url" ]; do
			pause 0.1
		done
		url=$(head -n 1 "$W/url")
		[ -n "$url" ] || { wait "$bridge_pid" 2> /dev/null; die $EX_SOFTWARE "the local player bridge failed: $(tool_line "$W/bridge.log" pp-bridge)"; }
		printf '%s\n' "$url"
		# The player's start, or the commands that play the URL.
		line=
		for _ in $(seq 50); do
			line=$(grep -m 1 '^player-started ' "$W/bridge.events")
			[ -n "$line" ] && break
			grep -q '^pp-bridge: .*play it with: ' "$W/bridge.log" && break
			alive "$bridge_pid" || break
			pause 0.1
		done
		if [ -n "$line" ]; then
			player=$(ev_value "$line" pid) plog=$(ev_value "$line" log)
			started=$SECONDS
			say "playing in $opt_player (pid $player, its output in $plog); Ctrl-C stops"
		else
			# --player none: the commands that play the URL.
			grep -v '^pp-bridge: \(client \|serving \)' "$W/bridge.log" |
			    sed 's/^pp-bridge: no player asked for: /pixelpass: /; s/^pp-bridge: /pixelpass: /' >&2
			say "serving the stream at that URL until $until or Ctrl-C"
		fi
	else
		say "recording to $opt_record until $until or Ctrl-C"
	fi

	while :; do
		# The bridge first: when it fails, the tunnel ends too (its
		# reader is gone), which is not the host stopping. Its clean
		# end comes from the tunnel's.
		if [ -n "${bridge_pid:-}" ] && ! alive "$bridge_pid"; then
			wait "$bridge_pid" 2> /dev/null
			rc=$?
			bridge_pid=
			[ "$rc" -eq 0 ] ||
			    die $EX_SOFTWARE "the local player bridge stopped: $(why_stopped "$W/bridge.log" pp-bridge "$rc")"
		fi
		if [ -n "$lost_at" ] && con=$(grep -m 1 '^connected ' "$W/connect.events"); then
			say "$(connected_text "$con") again, $((SECONDS - lost_at)) s after the connection was lost"
			lost_at=
		fi
		if ! alive "$tunnel_pid"; then
			wait "$tunnel_pid" 2> /dev/null
			rc=$?
			if [ -z "$lost_at" ] && [ "$rc" -eq $EX_UNAVAILABLE ] && [ -z "$fetch_url" ] &&
			    grep -q '^ended .*reason=idle' "$W/connect.events"; then
				lost_at=$SECONDS tries=0
				say "$(tool_line "$W/connect.log" pp-tunnel); connecting again with the same ticket (for up to $RECONNECT_S s; Ctrl-C stops)"
			fi
			if [ -n "$lost_at" ]; then
				# Unreachable or full (its slot not yet freed)
				# is worth another try; a refused ticket is not.
				case $rc in
				"$EX_UNAVAILABLE" | "$EX_TEMPFAIL") ;;
				*) $explain "$rc" connected ;;
				esac
				[ $((SECONDS - lost_at)) -lt $RECONNECT_S ] ||
				    die $EX_UNAVAILABLE "lost the host, and could not reach it again within $RECONNECT_S s: $(tool_line "$W/connect.log" pp-tunnel)"
				tries=$((tries + 1))
				[ "$tries" -eq 1 ] || pause 1
				start_source
				continue
			fi
			[ "$rc" -eq 0 ] || $explain "$rc" connected
			say "$ended"
			exec 3<&-
			# The player gets the rest of the stream, then its end.
			while [ -n "$player" ] && alive "$player" &&
			    { [ "$opt_player" = pp-view ] || alive "$bridge_pid"; }; do
				pause 0.5
			done
			exit 0
		fi
		if [ "$opt_player" = pp-view ]; then
			# Its --stats and its words, as it says them.
			new_lines "$plog" plog_lines
			[ -z "$new" ] || printf '%s\n' "$new" >&2
		fi
		if [ -n "$player" ] && ! alive "$player"; then
			if [ "$opt_player" = pp-view ]; then
				# Ours: its status says how it ended.
				wait "$player" 2> /dev/null
				rc=$?
				player=
				[ "$rc" -eq 0 ] ||
				    die "$rc" "pp-view stopped: $(why_stopped "$plog" pp-view "$rc")"
			else
				player=
				[ "$played" -eq 1 ] || player_quit_early "$plog"
			fi
			say "the player was closed: stopping"
			exit 0
		fi
		if [ -n "$player" ] && [ "$played" -eq 0 ] && [ $((SECONDS - started)) -ge 3 ]; then
			played=1
			remember_player
		fi
		pause 0.5
	done
}

# --- repair and the menu ------------------------------------------------------
repair() {
	local out rc
	out=$(pp-repair 2> "$W/repair.log")
	rc=$?
	case $rc in
	0)
		if [ -n "$out" ]; then
			printf '%s\n' "$out"
		else
			say "nothing to repair: no sound routing is left from a stopped host"
		fi
		exit 0 ;;
	69) die $EX_UNAVAILABLE "no PipeWire in this session: nothing to repair" ;;
	*) die "$rc" "pp-repair failed: $(tool_line "$W/repair.log" pp-repair)" ;;
	esac
}

# ticket_ok: the ticket decodes (pp-tunnel checks it, connecting nowhere).
ticket_ok() { PP_TICKET=$ticket pp-tunnel check 2> /dev/null; }

# media_url URL: a URL pp-fetch reads (what a host published with
# --publish), which pixelpass plays in the ticket's place.
media_url() {
	case $1 in
	rtmp://* | rtmps://* | srt://* | http://* | https://*) return 0 ;;
	*) return 1 ;;
	esac
}

# ask_ticket [PASTED]: sets a whole ticket (or a media server's URL),
# PASTED or one asked for until one is pasted (q quits).
ask_ticket() {
	ticket=${1:-}
	while :; do
		media_url "$ticket" && { fetch_url=$ticket; return; }
		if [ -n "$ticket" ]; then
			ticket_ok && return
			printf 'That ticket is damaged or cut short: copy it again, whole (it starts with pp1 and is one word).\n' >&2
		fi
		printf 'Paste the ticket (q quits): ' >&2
		read -r ticket || exit 0
		ticket=${ticket//[[:space:]]/}
		case $ticket in q | Q) exit 0 ;; esac
	done
}

menu() {
	local answer
	printf 'pixelpass %s: share your screen, or watch one\n' "$VERSION" >&2
	if [ -n "$view_opt" ]; then
		ask_ticket
		view
		return
	fi
	while :; do
		printf '\n  1) Host: share this screen\n  2) View: watch with a ticket\n\nChoose 1 or 2, or paste a ticket (q quits): ' >&2
		read -r answer || exit 0
		answer=${answer//[[:space:]]/}
		case ${answer,,} in
		1 | h | host) host; return ;;
		2 | v | view | watch) ask_ticket; view; return ;;
		pp1* | *://*) ask_ticket "$answer"; view; return ;;
		q | quit) exit 0 ;;
		'') ;;
		*) printf '"%s" is not one of the choices: type 1 to host, 2 to watch, or paste a ticket.\n' "${answer:0:40}" >&2 ;;
		esac
	done
}

# --- main -------------------------------------------------------------------------
need_arg() { [ $# -ge 2 ] || die $EX_USAGE "$1 needs a value"; }

# number OPTION VALUE MIN MAX
number() {
	[[ $2 =~ ^[0-9]+$ ]] && [ "${#2}" -le 7 ] && [ "$2" -ge "$3" ] && [ "$2" -le "$4" ] ||
	    die $EX_USAGE "$1 $2: expected a whole number from $3 to $4"
	printf '%d' "$((10#$2))"
}

# A ticket or a TURN URL (with its password) on our command line is there
# for every local user to read (ps); our environment only for us. So we
# start again at once with them moved there: the ticket to
# _PIXELPASS_TICKET (read and removed below), the TURN URL to PP_TURN,
# which every pp-tunnel we start reads. An option's value is never taken
# for a ticket.
without_secrets() {
	local a prev= rest=0 args=() moved=0
	for a in "$@"; do
		if [ "$prev" = --turn ]; then
			export PP_TURN=$a
			prev= moved=1
			continue
		fi
		if [ "$rest" -eq 0 ]; then
			case $a in
			--turn) prev=$a; continue ;;
			--turn=*) export PP_TURN=${a#--turn=}; moved=1; continue ;;
			--) rest=1 ;;
			--max-viewers | --bitrate | --fps | --source | --app | --player | \
			--player-args | --record | --rendezvous | --stun | --publish)
				args+=("$a")
				prev=$a
				continue ;;
			esac
		fi
		local t=${a//[[:space:]]/}
		if [ -z "$prev" ] && [[ ${t,,} == pp1* ]]; then
			export _PIXELPASS_TICKET=$a
			moved=1
		else
			args+=("$a")
		fi
		prev=
	done
	[ "$prev" = --turn ] && args+=(--turn)	# for its usage error
	[ "$moved" -eq 1 ] && exec "$BASH" "$0" "${args[@]}"
}
without_secrets "$@"

while [ $# -gt 0 ]; do
	arg=$1
	case $arg in
	--*=*) set -- "${arg%%=*}" "${arg#*=}" "${@:2}"; continue ;;
	esac
	case $arg in
	--max-viewers) need_arg "$@"; opt_max_viewers=$(number "$1" "$2" 1 100000) || exit; shift ;;
	--bitrate) need_arg "$@"; opt_bitrate=$(number "$1" "$2" 100 200000) || exit; shift ;;
	--fps) need_arg "$@"; opt_fps=$(number "$1" "$2" 1 240) || exit; shift ;;
	--layers)
		need_arg "$@"
		case $2 in
		1 | 2) opt_layers=$2 ;;
		*) die $EX_USAGE "--layers $2: choose 1 or 2" ;;
		esac
		shift ;;
	--source)
		need_arg "$@"
		case $2 in
		portal | x11 | test) opt_source=$2 ;;
		*) die $EX_USAGE "--source $2: choose portal, x11 or test" ;;
		esac
		shift ;;
	--window) opt_window=1 ;;
	--app) need_arg "$@"; opt_app=$2; shift ;;
	--mic) opt_mic=1 ;;
	--no-audio) opt_no_audio=1 ;;
	--player)
		need_arg "$@"
		case $2 in
		pp-view | mpv | vlc | none) opt_player=$2 ;;
		*) die $EX_USAGE "--player $2: choose pp-view, mpv, vlc or none" ;;
		esac
		view_opt=${view_opt:-$1}
		shift ;;
	--player-args) need_arg "$@"; opt_player_args=$2; view_opt=${view_opt:-$1}; shift ;;
	--record)
		need_arg "$@"
		[ -n "$2" ] || die $EX_USAGE "--record needs a file name"
		opt_record=$2
		view_opt=${view_opt:-$1}
		shift ;;
	--rendezvous | --stun) need_arg "$@"; opt_net+=("$1" "$2"); shift ;;
	--turn) need_arg "$@"; export PP_TURN=$2; opt_turn=1; shift ;;
	--repair) opt_repair=1 ;;
	--reconfigure) opt_reconfigure=1 ;;
	--measure) opt_measure=1 ;;
	--publish) need_arg "$@"; opt_publish+=("$2"); shift ;;
	--help | -h)
		sed -n '/^usage:/,$p' <<'EOF'
usage: pixelpass                    the menu: Host or View
       pixelpass host [options]     host without questions: the ticket on stdout
       pixelpass [options] TICKET   watch
       pixelpass [options] URL      watch what a host published (rtmp, srt, http)
       pixelpass --repair           give back the sound a killed host kept
       pixelpass --reconfigure      measure the upstream again
Host: --max-viewers N --bitrate KBPS --fps N --layers 1|2
      --source portal|x11|test --window --app NAME --mic --no-audio
      --measure --publish URL
View: --player pp-view|mpv|vlc|none --player-args ARGS --record FILE
Both: --rendezvous URL|none --stun HOST[:PORT]|none --turn URL|none
See pixelpass(1).
EOF
		exit 0 ;;
	--version) printf 'pixelpass %s\n' "$VERSION"; exit 0 ;;
	--) shift; break ;;
	-*) say "unknown option $arg"; usage ;;
	host)
		[ -z "$mode" ] || usage
		mode=host ;;
	*)
		[ "$ticket_given" -eq 0 ] || usage
		ticket=$arg ticket_given=1 ;;
	esac
	shift
done
[ $# -eq 0 ] || { [ $# -eq 1 ] && [ "$ticket_given" -eq 0 ] && ticket=$1 ticket_given=1; } || usage
if [ -n "${_PIXELPASS_TICKET+set}" ]; then
	[ "$ticket_given" -eq 0 ] || usage
	ticket=$_PIXELPASS_TICKET ticket_given=1
	unset _PIXELPASS_TICKET
fi
# A pasted ticket may carry the spaces and line breaks around it.
ticket=${ticket//[[:space:]]/}
if media_url "$ticket"; then
	fetch_url=$ticket
elif [[ $ticket == *://* ]]; then
	die $EX_USAGE "${ticket%%://*}:// is not a stream pixelpass plays: give a ticket, or an rtmp://, rtmps://, srt://, http:// or https:// URL"
fi
if [ -n "$fetch_url" ] && { [ ${#opt_net[@]} -gt 0 ] || [ "$opt_turn" -eq 1 ]; }; then
	die $EX_USAGE "--rendezvous, --stun and --turn are for tickets: a URL is read from its server directly"
fi

if [ "$opt_no_audio" -eq 1 ] && { [ -n "$opt_app" ] || [ "$opt_mic" -eq 1 ]; }; then
	die $EX_USAGE "--no-audio cannot be combined with --app or --mic"
fi
[ "$opt_window" -eq 1 ] && [ "$opt_source" = test ] &&
    die $EX_USAGE "--window: the test source has no windows"
if [ "$ticket_given" -eq 1 ] && [ ${#opt_publish[@]} -gt 0 ]; then
	die $EX_USAGE "--publish is for a host: pixelpass host --publish URL"
fi
if [ "$ticket_given" -eq 1 ] && [ "$mode" = host ]; then
	die $EX_USAGE "host takes no ticket: pixelpass host [options], or pixelpass TICKET to watch"
fi
# An argument that is there but empty ("$(cat ticket)" of an empty file)
# is a ticket that did not arrive, never a request to host.
if [ "$ticket_given" -eq 1 ] && [ -z "$ticket" ]; then
	die $EX_DATAERR "the ticket is empty: paste the whole ticket (it starts with pp1 and is one word); nothing is shared"
fi
if [ -n "$view_opt" ] && [ "$ticket_given" -eq 0 ]; then
	[ "$mode" = host ] &&
	    die $EX_USAGE "$view_opt is for watching, not hosting: pixelpass $view_opt ... TICKET"
	# Interactive: the menu asks for the ticket. Otherwise there is
	# nobody to ask, and hosting is never what a viewer's option meant.
	[ -t 0 ] && [ -t 1 ] ||
	    die $EX_USAGE "$view_opt is for watching: pixelpass $view_opt ... TICKET"
fi
for c in setsid setpriv; do
	command -v "$c" > /dev/null || die $EX_UNAVAILABLE "$c is missing (install util-linux)"
done

workdir
if [ "$opt_repair" -eq 1 ]; then
	repair
fi
if [ -n "$ticket" ]; then
	mode=view
	view
elif [ "$mode" = host ]; then
	host
elif [ "$opt_reconfigure" -eq 1 ]; then
	# Alone, --reconfigure measures and stops; with host it goes on.
	config_read
	measure
	[ "$cfg_status" = measured ] || exit $EX_UNAVAILABLE
	exit 0
elif [ -t 0 ] && [ -t 1 ]; then
	mode=menu
	menu
else
	mode=host
	host
fi
