# Shared by bench/latency and bench/publish-latency, after bench-lib.sh:
# glass to glass. A viewer chain plays on a second Xvfb screen, and
# pp-latency grab reads the clock from the pixels the player put there.
# The caller sets TEST_TMP, FRAMES (pictures counted per stage) and
# RESULTS (one line per stage: CONFIG, STAGE, p50, p95, max, frames, bad).

# want STAGE: whether BENCH_STAGES asks for STAGE.
want() {
	local g globs
	[ -z "${BENCH_STAGES:-}" ] && return 0
	read -r -a globs <<< "$BENCH_STAGES"	# split, not expanded against files
	for g in "${globs[@]}"; do
		# shellcheck disable=SC2053 # a glob, on purpose
		[[ $1 == $g ]] && return 0
	done
	return 1
}

# result CONFIG STAGE "pp-latency read's line"
result() {
	if [[ $3 =~ ^frames\ ([0-9]+)\ bad\ ([0-9]+).*p50\ ([0-9.]+)\ p95\ ([0-9.]+)\ max\ ([0-9.]+) ]] &&
		[ "${BASH_REMATCH[1]}" -gt 0 ]; then
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "${BASH_REMATCH[3]}" \
			"${BASH_REMATCH[4]}" "${BASH_REMATCH[5]}" "${BASH_REMATCH[1]}" \
			"${BASH_REMATCH[2]}" >> "$RESULTS"
		say "$1 $2: $3"
	else
		printf '%s\t%s\tfailed\n' "$1" "$2" >> "$RESULTS"
		say "$1 $2: failed: $3 $(tail -n 3 "$TEST_TMP/stage.err")"
	fi
}

# view_screen WxH: the viewer's screen, 256 pixels larger than the picture
# each way so that a player's window fits whole wherever it puts it (mpv
# centres it, VLC's video sits below nothing but may move); sets
# DISPLAY_VIEW. Stops an earlier one first.
view_screen() {
	local fd=$TEST_TMP/viewfd w=${1%x*} h=${1#*x}
	view_screen_stop
	: > "$fd"
	Xvfb -displayfd 3 -noreset -screen 0 "$((w + 256))x$((h + 256))x24" \
		-nolisten tcp 3> "$fd" 2> "$TEST_TMP/xvfb-view.log" &
	_view_xvfb=$!
	track_pid "$_view_xvfb"
	wait_for 10 test -s "$fd" || bail "Xvfb (viewer) did not start: $(cat "$TEST_TMP/xvfb-view.log")"
	DISPLAY_VIEW=:$(head -n 1 "$fd")
}

view_screen_stop() {
	[ -n "${_view_xvfb:-}" ] && kill "$_view_xvfb" 2>/dev/null && wait "$_view_xvfb" 2>/dev/null
	_view_xvfb=
}

# viewer CMD...: CMD (a viewer chain) in a process group of its own, so
# that the whole chain stops at once; sets viewer_pid, its group's id.
viewer() {
	# Emptied here, not by the redirection: that happens in the child,
	# perhaps after the caller has read the last stage's URL.
	: > "$TEST_TMP/view.events"
	: > "$TEST_TMP/view.out"
	set -m	# a background job leads a process group of its own
	"$@" 8>> "$TEST_TMP/view.events" >> "$TEST_TMP/view.out" 2> "$TEST_TMP/view.err" < /dev/null &
	viewer_pid=$!
	set +m
	track_pid "$viewer_pid"
}

# viewer_stop: the chain's group, and the player pp-bridge started (it
# runs detached, in a session of its own), waited for so that the next
# stage starts on an empty screen.
viewer_stop() {
	local p
	p=$(sed -n 's/^player-started .*pid=\([0-9]*\).*/\1/p' "$TEST_TMP/view.events" | head -n 1)
	kill -- "-$viewer_pid" 2>/dev/null
	[ -n "$p" ] && kill "$p" 2>/dev/null
	wait "$viewer_pid" 2>/dev/null
	# Every process of the chain, not only its leader: a window left
	# over would cover the next stage's player.
	wait_for 5 eval "! kill -0 -- -$viewer_pid 2>/dev/null" || kill -KILL -- "-$viewer_pid" 2>/dev/null
	[ -n "$p" ] && { wait_for 5 eval "! kill -0 $p 2>/dev/null" || kill -KILL "$p" 2>/dev/null; }
	[ -n "${player_pid:-}" ] && { kill "$player_pid" 2>/dev/null; wait "$player_pid" 2>/dev/null; }
	player_pid=
}

# grab CONFIG STAGE FPS [DISPLAY]: reads FRAMES pictures from the viewer's
# screen (or DISPLAY) after the first second.
grab() {
	local out
	out=$(timeout $((FRAMES / $3 + 50)) pp-latency grab -s "$3" -n "$FRAMES" \
		"${4:-$DISPLAY_VIEW}" 2> "$TEST_TMP/grab.err")
	# What went wrong, if it did: the grab's word, the chain's, the
	# player's last.
	{
		tail -n 1 "$TEST_TMP/grab.err"
		tail -n 1 "$TEST_TMP/view.err" 2> /dev/null
		[ -n "${player_pid:-}" ] && tr '\r' '\n' < "$TEST_TMP/player.log" | grep . | tail -n 1
	} > "$TEST_TMP/stage.err"
	result "$1" "$2" "$out"
}
