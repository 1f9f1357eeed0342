#!/bin/bash
# pp-capture on GNOME with the monitor granted beforehand in the
# permission store (no dialog): the share stopped from the shell's own
# "Stop Screen Sharing" control ends pp-encode cleanly, its stream
# decodes to the end and the portal's node is gone.
# Cost: one lab start (about 3 s) and one 2 s encode: 9 s and 5 s of CPU
# on two cores (up to 40 s when they are busy).
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/portal-lab.sh"
. "$top_srcdir/tests/gnome-lab.sh"
need pp-capture pp-encode ffprobe ffmpeg pw-cli gdbus

plan 11
bg='#50a030'
gnome_lab_start "$bg"
gnome_dialog_answer none
ok "the monitor is granted in the permission store" gnome_plant_monitor

node_exists() { pw-cli info "$1" 2>/dev/null | grep -q 'type: PipeWire:Interface:Node'; }

# 1: stopped from the shell. The shell passes SIGTERM on to pp-encode
# and notes its status.
out="$TEST_TMP/stop.ts"
pp-capture --verbose --source portal -- sh -c '
	trap "kill -TERM \$enc" TERM
	echo "$PP_PIPEWIRE_NODE" >"$1/node"
	pp-encode --no-audio --fps 15 -o "$1/stop.ts" & enc=$!
	wait $enc; wait $enc; rc=$?; echo $rc >"$1/status"; exit $rc' sh "$TEST_TMP" \
    2>"$TEST_TMP/stop.err" &
pid=$!
track_pid $pid
wait_for 20 grep -q '^pp-encode: source' "$TEST_TMP/stop.err" ||
    bail "pp-encode did not start: $(tail -n 3 "$TEST_TMP/stop.err" | tr '\n' ' ')"
is "$(gnome_dialogs)" 0 "the planted permission needs no dialog"
node=$(cat "$TEST_TMP/node")
ok "the portal's node $node exists while sharing" node_exists "$node"
sleep 2
is "$(gnome_eval 'Main.panel.statusArea.screenSharing.visible')" true \
    "the shell shows its screen-sharing indicator"
gnome_eval 'Main.panel.statusArea.screenSharing._stopSharing(); 0' >/dev/null
wait_for 15 lab_exited $pid
ok "pp-capture ends when the shell stops the share" lab_exited $pid
lab_stop $pid
is "$?" 0 "with status 0"
is "$(cat "$TEST_TMP/status" 2>/dev/null)" 0 "pp-encode was stopped cleanly (status 0)"
like "$(cat "$TEST_TMP/stop.err")" 'stopped from the desktop' "pp-capture says the share was stopped from the desktop"
is "$(ffmpeg -nostdin -v error -i "$out" -map 0:v -f null - 2>&1 | wc -l)" 0 \
    "every frame decodes, to the end"
ok "the node is gone" wait_for 10 eval '! node_exists $node'
share=$(colour_share "$bg" "$out" 1280:600:0:60)
ok "the planted monitor is the one on screen ($share% background)" test "$share" -ge 98
