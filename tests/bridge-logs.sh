#!/bin/bash
# Where pp-bridge puts the player's output when XDG_RUNTIME_DIR is unset:
# one private directory under TMPDIR (0700, reused), never a file per run
# loose in /tmp; a run removes the logs of players that have ended, and
# keeps the one of a player still running.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/fanout-lib.sh"
need gst-launch-1.0 mpv
plan 10

P=$TEST_TMP/producer
make_producer "$P"
T=$TEST_TMP/tmp
mkdir "$T"
D=$T/pp-bridge-$(id -u)

# view N [MPV-ARGS]: a 3-s stream through pp-bridge into mpv, with no
# XDG_RUNTIME_DIR; waits for the bridge; $log is where mpv's output went,
# $mpv its pid.
view() {
	SECONDS_LEFT=3 "$P" 2> /dev/null | env -u XDG_RUNTIME_DIR TMPDIR="$T" \
	    pp-bridge --player mpv --player-args "--vo=null --ao=null $2" \
	    > "$TEST_TMP/url$1" 2> "$TEST_TMP/bridge$1.log"
	log=$(sed -n 's/.*started mpv (pid [0-9]*), its output in \(.*\)$/\1/p' "$TEST_TMP/bridge$1.log")
	mpv=$(sed -n 's/.*started mpv (pid \([0-9]*\)).*/\1/p' "$TEST_TMP/bridge$1.log")
	[ -n "$mpv" ] && at_exit "kill $mpv 2>/dev/null"
}

view 1 --frames=15
ok "mpv ends by itself" wait_for 30 dead "${mpv:-0}"
is "$(ls -A "$T")" "pp-bridge-$(id -u)" "nothing in TMPDIR but pp-bridge's directory"
is "$(stat -c '%a %U' "$D")" "700 $(id -un)" "...which is private (0700, ours)"
like "$log" "^$D/pp-bridge-mpv-[0-9]+\\.log\$" "the player's output was in it ($log)"
first=$log

# A player that is still running when the next run starts keeps its log.
view 2 --idle=yes
second=$log
second_pid=$mpv
ok "mpv keeps running after the bridge ends" alive "${second_pid:-0}"
ok "the ended player's log is gone" test ! -e "$first"
ok "the running one's is there" test -e "$second"

view 3 --frames=15
ok "a third run leaves the log of the player still running" test -e "$second"
kill "${second_pid:-0}" 2>/dev/null
wait_for 10 dead "${second_pid:-0}"
wait_for 30 dead "${mpv:-0}"
view 4 --frames=15
wait_for 30 dead "${mpv:-0}"
is "$(ls "$D" | wc -l)" 1 "once both ended, the next run leaves only its own log"
is "$(ls -A "$T")" "pp-bridge-$(id -u)" "TMPDIR still holds only that directory"
