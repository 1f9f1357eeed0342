#!/bin/bash
# SIGKILL of each process of the host and viewer chains, one at a time,
# each on fresh chains composed as pixelpass(1) composes them:
#   host:   pp-fanout serve -- pp-capture --source x11 --app A -- pp-encode
#           pp-tunnel listen -- pp-fanout attach   (one attach per viewer)
#   viewer: pp-tunnel connect TICKET | pp-bridge --player mpv
# and of the pixelpass frontend itself, host and viewer. After each kill
# the rest ends cleanly or goes on serving as DESIGN.md says, with the
# documented status and words; what goes on serving still stops cleanly on
# SIGTERM; then no process of that run is left (each carries a marker in
# its environment), no socket in its XDG_RUNTIME_DIR, and no
# pixelpass_capture_* PipeWire node (pp-repair removes the one a killed
# pp-capture leaves, and only then is it gone).
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/portal-lab.sh"
need pp-capture pp-encode pp-fanout pp-tunnel pp-bridge pp-repair pixelpass \
	mpv Xvfb pw-dump setsid timeout
plan 173

lab_audio_start
start_xvfb 320x240

# A vanished peer is noticed within seconds (the default is 30 s).
export PP_TUNNEL_IDLE_TIMEOUT=3
# Each run gets its own runtime directory, so that what is left in it is
# that run's; PipeWire and pipewire-pulse stay reachable where the lab
# put them.
LAB_RUN=$XDG_RUNTIME_DIR
MARK=PP_FAULTS_RUN

# Every process of every run carries $MARK=$TEST_TMP/RUN in its
# environment (set on the command, inherited by what it starts, the
# detached player included); the safety net at exit kills what is left.
marked() { # marked PREFIX: pids whose environment has $MARK=PREFIX...
	local f pid
	for f in $(grep -lzF "$MARK=$1" /proc/[0-9]*/environ 2> /dev/null); do
		pid=${f#/proc/}
		echo "${pid%/environ}"
	done
}
none_marked() { [ -z "$(marked "$1")" ]; }
_faults_net() {
	local p
	for p in $(marked "$TEST_TMP/"); do
		kill -KILL "$p" 2> /dev/null
	done
}
at_exit _faults_net

exited() { lab_exited "$1"; }
# reap PID SECS: waits (bounded) for our child PID to end; sets rc to
# its status, or to "hung" (and kills it) when it did not end in time.
reap() {
	if wait_for "$2" exited "$1"; then
		wait "$1" 2> /dev/null
		rc=$?
	else
		kill -KILL "$1" 2> /dev/null
		wait "$1" 2> /dev/null
		rc=hung
	fi
}
# stop PID: SIGTERM, then reap (20 s).
stop() {
	kill -TERM "$1" 2> /dev/null
	reap "$1" 20
}
# nodes: the pixelpass_capture_* nodes PipeWire has, one per line.
nodes() {
	pw-dump 2> /dev/null | sed -n 's/.*"node.name": "\(pixelpass_capture_[^"]*\)".*/\1/p' | sort -u
}
has_node() { nodes | grep -qx "$1"; }
no_node() { [ -z "$(nodes)" ]; }
leftover_procs() { # one line per process of this run still there
	local p
	for p in $(marked "$R/"); do
		echo "$p $(tr '\0' ' ' < "/proc/$p/cmdline" 2> /dev/null)"
	done
}
leftover_sockets() { find "$XDG_RUNTIME_DIR" -type s -printf '%P\n' 2> /dev/null | sort; }
first_line() { head -n 1 "$1" 2> /dev/null; }
lines() { grep -c . "$1" 2> /dev/null; }

# run_begin NAME: a fresh run directory and runtime directory.
run_begin() {
	R=$TEST_TMP/$1
	mkdir -p "$R"
	mkdir -m 0700 "$R/run"
	export XDG_RUNTIME_DIR=$R/run
	diag "--- $1"
}

# host_start: the host chain; sets FANOUT TUNNEL SPAWNER TICKET S.
host_start() {
	S=$XDG_RUNTIME_DIR/pixelpass-host.sock
	env "$MARK=$R/host" setsid pp-fanout serve --socket "$S" -- \
	    pp-capture --source x11 --app appA -- \
	    pp-encode --bitrate 300 --fps 10 --keyint 1 \
	    < /dev/null > /dev/null 2> "$R/fanout.log" &
	FANOUT=$!
	wait_for 30 test -S "$S" || bail "pp-fanout made no socket: $(cat "$R/fanout.log")"
	env "$MARK=$R/host" setsid pp-tunnel listen --rendezvous none --max-viewers 2 -- \
	    pp-fanout attach --socket "$S" < /dev/null > "$R/ticket" 2> "$R/tunnel.log" &
	TUNNEL=$!
	wait_for 30 grep -qs '^pp1' "$R/ticket" || bail "pp-tunnel listen printed no ticket: $(cat "$R/tunnel.log")"
	TICKET=$(first_line "$R/ticket")
	# Its commands' parent: the process it forked before confining itself.
	SPAWNER=$(pgrep -P "$TUNNEL" -x pp-spawner)
}

# viewer_start: the viewer chain, through a pipe; sets CONNECT BRIDGE
# (pids) and, once it plays, MPV MPVLOG.
viewer_start() {
	local v=viewer
	mkfifo "$R/$v.pipe"
	env "$MARK=$R/$v" setsid pp-tunnel connect "$TICKET" --rendezvous none \
	    < /dev/null > "$R/$v.pipe" 2> "$R/$v-connect.log" &
	CONNECT=$!
	env "$MARK=$R/$v" setsid pp-bridge --player mpv --player-args "--vo=null --ao=null" \
	    < "$R/$v.pipe" > "$R/$v.url" 2> "$R/$v-bridge.log" &
	BRIDGE=$!
	if ! wait_for 30 grep -qs 'client 1: playing' "$R/$v-bridge.log"; then
		diag "$(cat "$R/$v-connect.log" "$R/$v-bridge.log" "$R/fanout.log" "$R/tunnel.log")"
		bail "the viewer does not play"
	fi
	MPV=$(sed -n 's/.*started mpv (pid \([0-9]*\)).*/\1/p' "$R/$v-bridge.log")
	MPVLOG=$(sed -n 's/.*started mpv (pid [0-9]*), its output in \(.*\)$/\1/p' "$R/$v-bridge.log")
	mpv_plays || bail "mpv does not play: $(tail -n 5 "$MPVLOG")"
}
# mpv_plays: mpv decoded the stream's first pictures and sound.
mpv_plays() {
	wait_for 30 grep -qs '^VO: \[null\]' "$MPVLOG" &&
	    wait_for 30 grep -qs '^AO: \[null\]' "$MPVLOG"
}

# chain_pids: the processes the host started for the stream and the
# viewer; sets CAPTURE ENCODE ATTACH.
chain_pids() {
	CAPTURE=$(sed -n 's/.*started the producer pp-capture (pid \([0-9]*\)).*/\1/p' "$R/fanout.log" | tail -n 1)
	ENCODE=$(pgrep -P "$CAPTURE" -x pp-encode)
	ATTACH=$(pgrep -P "$SPAWNER" -x pp-fanout)
	if [ -z "$CAPTURE" ] || [ -z "$ENCODE" ] || [ -z "$ATTACH" ] || [ -z "$MPV" ]; then
		diag "capture '$CAPTURE' encode '$ENCODE' attach '$ATTACH' mpv '$MPV'"
		bail "a process of the chains is missing"
	fi
	wait_for 30 has_node "pixelpass_capture_$CAPTURE" || bail "pp-capture made no capture sink"
}

# run_end [--repair CAPTURE-PID]: checks what the run left: no process,
# no socket, no node (after pp-repair when asked, which must find and
# remove that one node).
run_end() {
	local out
	if [ "${1:-}" = --repair ]; then
		ok "$NAME: pp-capture's node is left before pp-repair" has_node "pixelpass_capture_$2"
		out=$(pp-repair 2> "$R/repair.err")
		is "$?:$(printf '%s' "$out" | grep -c '^removed pixelpass_capture_'"$2"'$')" "0:1" \
		    "$NAME: pp-repair removes it"
	fi
	ok "$NAME: no pixelpass_capture_* node is left" wait_for 30 no_node
	wait_for 30 none_marked "$R/"
	is "$(leftover_procs)" "" "$NAME: no process of the run is left"
	is "$(leftover_sockets)" "" "$NAME: no socket is left in XDG_RUNTIME_DIR"
	export XDG_RUNTIME_DIR=$LAB_RUN
}

# On a failure, the end of every log of every run.
_faults_logs() {
	local f
	[ "$_test_failed" -eq 0 ] && return
	for f in "$TEST_TMP"/*/*.log "$TEST_TMP"/*/run/pp-bridge-mpv-*.log; do
		[ -f "$f" ] || continue
		diag "== ${f#"$TEST_TMP"/}"
		tail -n 8 "$f" | tr -d '\r' | cut -c 1-200 | sed 's/^/#   /'
	done
}
at_exit _faults_logs

# The stream's end reaches the player: mpv exits at the end of the file.
mpv_eof() { exited "$MPV" && grep -q 'Exiting\.\.\. (End of file)' "$MPVLOG"; }
# mpv_quit: it ended by itself, whatever the reason (SIGTERM: Quit).
# Waited for: none_marked sees a process go as soon as its memory is
# gone, before the kernel has finished its exit; when it fails, what mpv
# said last.
mpv_quit() {
	wait_for 10 _mpv_quit && return 0
	diag "mpv (pid $MPV, state $(awk '{print $3}' "/proc/$MPV/stat" 2> /dev/null || echo gone)) said last: $(tail -n 3 "$MPVLOG" | tr '\r\n' '  ')"
	return 1
}
_mpv_quit() { exited "$MPV" && grep -Eq 'Exiting\.\.\. \((End of file|Quit)\)' "$MPVLOG"; }
# bigger FILE BYTES: FILE holds more than BYTES.
bigger() { [ "$(stat -c %s "$1" 2> /dev/null || echo 0)" -gt "$2" ]; }

# record NAME: a second kind of viewer, `pp-tunnel connect T > NAME.ts`;
# sets REC. It must get a stream (some kB) within the bound.
record() {
	env "$MARK=$R/$1" setsid pp-tunnel connect "$TICKET" --rendezvous none \
	    < /dev/null > "$R/$1.ts" 2> "$R/$1.log" &
	REC=$!
	wait_for 30 bigger "$R/$1.ts" 20000
}

# viewer_ends HOW: the viewer chain after the stream it got ended: its
# pp-tunnel connect exits 0 having said only how it connected, pp-bridge
# exits 0, mpv plays to the end.
viewer_ends() {
	reap "$CONNECT" 20
	is "$rc:$(lines "$R/viewer-connect.log")" "0:1" "$NAME: pp-tunnel connect exits 0, no error said ($1)"
	reap "$BRIDGE" 20
	is "$rc" 0 "$NAME: pp-bridge exits 0 at the end of its input"
	ok "$NAME: mpv plays to the end of the stream and exits" wait_for 20 mpv_eof
}

# viewer_told REGEX: the host's stream failed: pp-tunnel connect exits 69
# with one line (besides how it connected) giving a reason that matches
# REGEX; the bridge and mpv end as at the end of any stream.
viewer_told() {
	reap "$CONNECT" 20
	is "$rc:$(lines "$R/viewer-connect.log")" "69:2" "$NAME: pp-tunnel connect exits 69, with one line"
	like "$(tail -n 1 "$R/viewer-connect.log")" "^pp-tunnel: the host's stream failed: $1" \
	    "$NAME: ...saying the host's stream failed, and why"
	reap "$BRIDGE" 20
	is "$rc" 0 "$NAME: pp-bridge exits 0 at the end of its input"
	ok "$NAME: mpv plays to the end of the stream and exits" wait_for 20 mpv_eof
}

# host_stops: SIGTERM to what of the host still runs: each exits 0.
host_stops() {
	stop "$TUNNEL"
	is "$rc" 0 "$NAME: pp-tunnel listen stops on SIGTERM with status 0"
	stop "$FANOUT"
	is "$rc" 0 "$NAME: pp-fanout serve stops on SIGTERM with status 0"
}

# producer_idle: with no viewer left, pp-fanout stopped the producer,
# which removed its capture sink itself.
producer_idle() {
	ok "$NAME: pp-fanout stops the producer when no viewer is left" \
	    wait_for 20 grep -q "the producer (pid $CAPTURE) stopped: it exited with status 0" "$R/fanout.log"
	ok "$NAME: ...and its capture sink is gone, without pp-repair" \
	    wait_for 30 eval "! has_node pixelpass_capture_$CAPTURE"
}

# --- pp-capture --------------------------------------------------------------
NAME=pp-capture
run_begin capture
host_start
viewer_start
chain_pids
kill -KILL "$CAPTURE"
ok "$NAME: pp-fanout stops the rest of the producer's group (pp-encode)" wait_for 20 exited "$ENCODE"
like "$(cat "$R/fanout.log")" "the producer \\(pid $CAPTURE\\) ended by itself: it was killed by signal 9 \\(Killed\\); it starts again on the next join" \
	"$NAME: pp-fanout says the producer was killed and starts again on the next join"
viewer_told "pp-fanout: the producer failed: pp-capture was killed by signal 9 \\(Killed\\)"
ok "$NAME: the host serves the next viewer (a new producer)" record rec
is "$(grep -c 'started the producer pp-capture' "$R/fanout.log")" 2 "$NAME: ...from a second pp-capture"
stop "$REC"
is "$rc" 0 "$NAME: that viewer stops on SIGTERM with status 0"
host_stops
run_end --repair "$CAPTURE"

# --- pp-encode ---------------------------------------------------------------
NAME=pp-encode
run_begin encode
host_start
viewer_start
chain_pids
kill -KILL "$ENCODE"
ok "$NAME: pp-capture exits" wait_for 20 exited "$CAPTURE"
like "$(cat "$R/fanout.log")" "the producer \\(pid $CAPTURE\\) ended by itself: it exited with status 137; it starts again" \
	"$NAME: with 128 + 9, pp-encode's end, as pp-fanout says"
ok "$NAME: pp-capture removed its capture sink itself" wait_for 30 eval "! has_node pixelpass_capture_$CAPTURE"
viewer_told "pp-fanout: the producer failed: .*(\\(exit 137\\)|exited with status 137)$"
ok "$NAME: the host serves the next viewer" record rec
stop "$REC"
is "$rc" 0 "$NAME: that viewer stops on SIGTERM with status 0"
host_stops
run_end

# --- pp-fanout serve -----------------------------------------------------------
NAME="pp-fanout serve"
run_begin fanout
host_start
viewer_start
chain_pids
kill -KILL "$FANOUT"
reap "$FANOUT" 30
ok "$NAME: pp-encode ends (its reader is gone)" wait_for 20 exited "$ENCODE"
ok "$NAME: pp-capture ends" wait_for 20 exited "$CAPTURE"
ok "$NAME: ...and removed its capture sink itself" wait_for 30 eval "! has_node pixelpass_capture_$CAPTURE"
ok "$NAME: the viewer's pp-fanout attach ends" wait_for 20 exited "$ATTACH"
viewer_ends "the stream ended"
ok "$NAME: its socket is left, stale (SIGKILL: nobody can remove it)" test -S "$S"
# What the frontend would do: a new pp-fanout on the same socket; the
# listener, which went on, serves through it.
env "$MARK=$R/host" setsid pp-fanout serve --socket "$S" -- \
    pp-capture --source x11 --app appA -- pp-encode --bitrate 300 --fps 10 --keyint 1 \
    < /dev/null > /dev/null 2> "$R/fanout.log" &
FANOUT=$!
wait_for 30 grep -q 'serving on' "$R/fanout.log"
like "$(cat "$R/fanout.log")" "replaced the stale socket" "$NAME: a new pp-fanout serve replaces the stale socket"
ok "$NAME: pp-tunnel listen went on: the next viewer gets the new fanout's stream" record rec
stop "$REC"
is "$rc" 0 "$NAME: that viewer stops on SIGTERM with status 0"
host_stops
run_end

# --- pp-tunnel listen ----------------------------------------------------------
NAME="pp-tunnel listen"
run_begin tunnel
host_start
viewer_start
chain_pids
kill -KILL "$TUNNEL"
reap "$TUNNEL" 30
reap "$CONNECT" 30
is "$rc" 69 "$NAME: the viewer's pp-tunnel connect exits 69"
is "$(sed -n 2,\$p "$R/viewer-connect.log")" \
	"pp-tunnel: lost the connection to $(sed -n 's/^pp-tunnel: connected to \([^ ]*\) .*/\1/p' "$R/viewer-connect.log"): no packet for 3 s" \
	"$NAME: ...saying in one line that it lost the host"
reap "$BRIDGE" 20
is "$rc" 0 "$NAME: pp-bridge exits 0 at the end of its input"
ok "$NAME: mpv plays to the end of the stream and exits" wait_for 20 mpv_eof
ok "$NAME: the host's pp-fanout attach ends (its reader is gone)" wait_for 20 exited "$ATTACH"
producer_idle
stop "$FANOUT"
is "$rc" 0 "$NAME: pp-fanout serve stops on SIGTERM with status 0"
run_end

# --- pp-fanout attach ------------------------------------------------------------
# Two viewers; the attach of the first one (the older) is killed: that
# viewer's stream ends, the other one goes on.
NAME="pp-fanout attach"
run_begin attach
host_start
viewer_start
ok "$NAME: a second viewer records" record rec
chain_pids
ATTACH=$(pgrep -o -P "$SPAWNER" -x pp-fanout)
is "$(pgrep -P "$SPAWNER" -x pp-fanout | wc -l)" 2 "$NAME: one pp-fanout attach per viewer"
kill -KILL "$ATTACH"
viewer_told "pp-fanout was killed by signal 9 \\(Killed\\)$"
ok "$NAME: the host says the viewer left" wait_for 30 grep -q 'viewer .* left after' "$R/tunnel.log"
size=$(stat -c %s "$R/rec.ts")
ok "$NAME: the other viewer still gets the stream" wait_for 30 bigger "$R/rec.ts" $((size + 20000))
unlike "$(cat "$R/fanout.log")" 'stopping the producer|ended by itself' "$NAME: ...from the same producer, never stopped"
stop "$REC"
is "$rc" 0 "$NAME: that viewer stops on SIGTERM with status 0"
producer_idle
host_stops
run_end

# --- pp-tunnel connect -------------------------------------------------------------
NAME="pp-tunnel connect"
run_begin connect
host_start
viewer_start
chain_pids
kill -KILL "$CONNECT"
reap "$CONNECT" 30
reap "$BRIDGE" 20
is "$rc" 0 "$NAME: pp-bridge exits 0 at the end of its input"
ok "$NAME: mpv plays to the end of the stream and exits" wait_for 20 mpv_eof
ok "$NAME: the host says the viewer vanished" wait_for 20 grep -q 'viewer .* vanished: no packet for 3 s' "$R/tunnel.log"
ok "$NAME: its pp-fanout attach ends" wait_for 30 exited "$ATTACH"
producer_idle
host_stops
run_end

# --- pp-bridge ---------------------------------------------------------------------
NAME=pp-bridge
run_begin bridge
host_start
viewer_start
chain_pids
kill -KILL "$BRIDGE"
reap "$BRIDGE" 30
reap "$CONNECT" 20
is "$rc:$(lines "$R/viewer-connect.log")" "0:1" "$NAME: pp-tunnel connect exits 0 when its reader is gone, no error said"
ok "$NAME: mpv plays to the end of the stream and exits" wait_for 20 mpv_eof
ok "$NAME: the host says the viewer left" wait_for 30 grep -q 'viewer .* left after' "$R/tunnel.log"
ok "$NAME: its pp-fanout attach ends" wait_for 30 exited "$ATTACH"
producer_idle
host_stops
run_end

# --- mpv ---------------------------------------------------------------------------
# The player is the user's: pp-bridge goes on serving the URL.
NAME=mpv
run_begin mpv
host_start
viewer_start
chain_pids
kill -KILL "$MPV"
ok "$NAME: pp-bridge sees its client go" wait_for 30 grep -q 'client 1 left' "$R/viewer-bridge.log"
timeout 20 curl -s --max-time 2 -o "$R/again.ts" "$(first_line "$R/viewer.url")"
ok "$NAME: pp-bridge still serves the URL to the next player" bigger "$R/again.ts" 5000
ok "$NAME: ...and the viewer's pp-tunnel connect still runs" eval '! exited "$CONNECT"'
unlike "$(cat "$R/fanout.log")" 'stopping the producer|ended by itself' "$NAME: the host is not affected"
stop "$CONNECT"
is "$rc" 0 "$NAME: the viewer's pp-tunnel connect stops on SIGTERM with status 0"
reap "$BRIDGE" 20
is "$rc" 0 "$NAME: pp-bridge then exits 0 at the end of its input"
producer_idle
host_stops
run_end

# --- pixelpass host ------------------------------------------------------------------
# fe_host: `pixelpass host` composes the host chain; sets FE TICKET.
fe_host() {
	env "$MARK=$R/fe" pixelpass host --source x11 --app appA --rendezvous none --max-viewers 2 \
	    --bitrate 300 --fps 10 < /dev/null > "$R/ticket" 2> "$R/fe.log" &
	FE=$!
	wait_for 30 grep -qs '^pp1' "$R/ticket" || bail "pixelpass host printed no ticket: $(cat "$R/fe.log")"
	TICKET=$(first_line "$R/ticket")
}
# fe_view: `pixelpass TICKET` composes the viewer chain; sets FE MPV MPVLOG.
fe_view() {
	env "$MARK=$R/fe" pixelpass --player mpv --player-args "--vo=null --ao=null" "$TICKET" \
	    < /dev/null > "$R/fe.out" 2> "$R/fe.log" &
	FE=$!
	wait_for 30 grep -qs '^pixelpass: playing in mpv' "$R/fe.log" || bail "pixelpass does not play: $(cat "$R/fe.log")"
	MPV=$(sed -n 's/.*playing in mpv (pid \([0-9]*\).*/\1/p' "$R/fe.log")
	MPVLOG=$(sed -n 's/.*its output in \(.*\)); Ctrl-C stops$/\1/p' "$R/fe.log")
	mpv_plays || bail "mpv does not play: $(tail -n 5 "$MPVLOG")"
}
# fe_tool PATTERN: the pid of the one process of pixelpass's whose
# command line matches PATTERN.
fe_tool() { pgrep -f "$1" | while read -r p; do [ -n "$(marked "$R/fe" | grep -x "$p")" ] && echo "$p"; done; }

# Killed, pixelpass cannot clean up: the tools it started stop on their
# own, as on SIGTERM.
NAME="pixelpass host"
run_begin fe-host
fe_host
viewer_start
# (pixelpass passes on the tools' lines every half second.)
wait_for 30 grep -q 'started the producer pp-capture' "$R/fe.log"
CAPTURE=$(sed -n 's/.*started the producer pp-capture (pid \([0-9]*\)).*/\1/p' "$R/fe.log")
ok "$NAME: serves through pp-capture, whose capture sink exists" wait_for 30 has_node "pixelpass_capture_$CAPTURE"
kill -KILL "$FE"
reap "$FE" 30
reap "$CONNECT" 30
is "$rc" 0 "$NAME: the viewer's pp-tunnel connect exits 0"
is "$(sed -n 2,\$p "$R/viewer-connect.log")" "pp-tunnel: the host stopped sharing" \
	"$NAME: ...saying in one line that the host stopped sharing"
reap "$BRIDGE" 20
is "$rc" 0 "$NAME: pp-bridge exits 0 at the end of its input"
ok "$NAME: mpv plays to the end of the stream and exits" wait_for 20 mpv_eof
ok "$NAME: every tool pixelpass started stops" wait_for 20 none_marked "$R/fe"
ok "$NAME: pp-capture removed its capture sink itself" wait_for 30 eval "! has_node pixelpass_capture_$CAPTURE"
diag "left by the killed pixelpass: $(find "$XDG_RUNTIME_DIR" -mindepth 1 -maxdepth 1 -printf '%P ')"
run_end

# --- pixelpass (a viewer) --------------------------------------------------------------
NAME="pixelpass viewer"
run_begin fe-view
host_start
fe_view
chain_pids
kill -KILL "$FE"
reap "$FE" 30
ok "$NAME: its pp-tunnel connect, pp-bridge and mpv stop" wait_for 20 none_marked "$R/fe"
ok "$NAME: mpv played to the end of the stream" wait_for 10 mpv_eof
ok "$NAME: the host says the viewer left" wait_for 30 grep -q 'viewer .* left after' "$R/tunnel.log"
producer_idle
host_stops
run_end

# --- pixelpass host, its pp-fanout serve killed --------------------------------------
# Under the frontend the stale socket does not stay: pixelpass sees its
# stream server gone, says so, stops the rest and removes the socket.
NAME="pp-fanout serve under pixelpass"
run_begin fe-fanout
fe_host
viewer_start
FANOUT=$(fe_tool "^pp-fanout serve ")
SOCKS=("$XDG_RUNTIME_DIR"/pixelpass-"$FE".*/fanout.sock)
ok "$NAME: pixelpass serves on its socket, in its own directory" test -S "${SOCKS[0]}" -a -n "$FANOUT"
kill -KILL "$FANOUT"
reap "$FE" 30
is "$rc" 137 "$NAME: pixelpass exits 128 + 9"
is "$(tail -n 1 "$R/fe.log")" "pixelpass: the stream server stopped: pp-fanout was killed by signal 9 (SIGKILL)" \
	"$NAME: ...saying in one line which tool was killed"
# The viewer's stream ends (its attach got EOF), or the tunnel stopped
# first: either way it exits 0.
reap "$CONNECT" 30
like "$rc:$(sed -n 2,\$p "$R/viewer-connect.log")" '^0:(pp-tunnel: the host stopped sharing)?$' \
	"$NAME: the viewer's pp-tunnel connect exits 0 (the stream ended, or the host stopped sharing)"
reap "$BRIDGE" 20
is "$rc" 0 "$NAME: pp-bridge exits 0 at the end of its input"
ok "$NAME: mpv plays to the end of the stream and exits" wait_for 20 mpv_eof
run_end

# --- pixelpass host, its pp-tunnel listen killed ---------------------------------------
NAME="pp-tunnel listen under pixelpass"
run_begin fe-tunnel
fe_host
viewer_start
TUNNEL=$(for p in $(fe_tool "^pp-tunnel listen "); do
	[ "$(cat "/proc/$p/comm" 2> /dev/null)" = pp-tunnel ] && echo "$p"
done)
ok "$NAME: pixelpass runs pp-tunnel listen" test -n "$TUNNEL"
kill -KILL "$TUNNEL"
reap "$FE" 30
is "$rc" 137 "$NAME: pixelpass exits 128 + 9"
is "$(tail -n 1 "$R/fe.log")" "pixelpass: the tunnel stopped: pp-tunnel was killed by signal 9 (SIGKILL)" \
	"$NAME: ...saying in one line which tool was killed"
reap "$CONNECT" 30
is "$rc:$(sed -n 's/: no packet for 3 s$//; s/lost the connection to .*/lost the connection/; 2,$p' "$R/viewer-connect.log")" \
	"69:pp-tunnel: lost the connection" "$NAME: the viewer's pp-tunnel connect exits 69: it lost the host"
reap "$BRIDGE" 20
is "$rc" 0 "$NAME: pp-bridge exits 0 at the end of its input"
ok "$NAME: mpv plays to the end of the stream and exits" wait_for 20 mpv_eof
run_end

# --- pixelpass (a viewer), its pp-tunnel connect killed ------------------------------------
NAME="pp-tunnel connect under pixelpass"
run_begin fe-connect
host_start
fe_view
chain_pids
CONNECT=$(fe_tool "^pp-tunnel connect ")
kill -KILL "$CONNECT"
reap "$FE" 30
is "$rc" 137 "$NAME: pixelpass exits 128 + 9"
is "$(tail -n 1 "$R/fe.log")" "pixelpass: the connection failed: pp-tunnel was killed by signal 9 (SIGKILL)" \
	"$NAME: ...saying in one line which tool was killed"
ok "$NAME: its pp-bridge and mpv stop" wait_for 20 none_marked "$R/fe"
ok "$NAME: mpv quit by itself (on pixelpass's SIGTERM or the stream's end)" mpv_quit
ok "$NAME: the host says the viewer vanished" wait_for 20 grep -q 'viewer .* vanished: no packet for 3 s' "$R/tunnel.log"
producer_idle
host_stops
run_end

# --- pixelpass (a viewer), its pp-bridge killed ----------------------------------------------
# Its tunnel then ends too (the reader is gone): that is not the host
# stopping.
NAME="pp-bridge under pixelpass"
run_begin fe-bridge
host_start
fe_view
chain_pids
BRIDGE=$(fe_tool "^pp-bridge ")
kill -KILL "$BRIDGE"
reap "$FE" 30
is "$rc" 70 "$NAME: pixelpass exits 70"
is "$(tail -n 1 "$R/fe.log")" "pixelpass: the local player bridge stopped: pp-bridge was killed by signal 9 (SIGKILL)" \
	"$NAME: ...saying in one line which tool was killed"
ok "$NAME: its pp-tunnel connect and mpv stop" wait_for 20 none_marked "$R/fe"
ok "$NAME: mpv quit by itself (on pixelpass's SIGTERM or the stream's end)" mpv_quit
ok "$NAME: the host says the viewer left" wait_for 30 grep -q 'viewer .* left after' "$R/tunnel.log"
producer_idle
host_stops
run_end

# WirePlumber suspends a node 5 s after it went idle: it must survive
# every capture sink removed above (0.4 crashed on a removed one).
sleep 6
ok "WirePlumber still runs after every capture sink came and went" kill -0 "$LAB_PID_wireplumber"
# In a sanitizer build, what the tools said on their way out (a process
# killed with SIGKILL says nothing).
is "$(grep -rlE 'Sanitizer|runtime error:' "$TEST_TMP"/*/ 2> /dev/null)" "" \
	"no sanitizer report in any tool's output"
