#!/bin/bash
# Clean stops: SIGTERM to pp-capture reaches the child, which ends
# cleanly, and the portal session (its PipeWire node) is closed; the share
# stopped from the desktop side (the portal backend goes away) ends the
# child cleanly too.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/portal-lab.sh"
need pp-capture pw-cli

plan 9
lab_portal_start '#ffff00'

# The child streams from the node until SIGTERM, then notes it and exits 0.
cat >"$TEST_TMP/child.sh" <<'CHILD'
#!/bin/bash
out=$1
echo "$PP_PIPEWIRE_NODE" >"$out/node"
gst-launch-1.0 -q pipewiresrc fd=3 path="$PP_PIPEWIRE_NODE" ! videoconvert ! fakesink &
gst=$!
exec 3<&-
# gst-launch with pipewiresrc sometimes hangs on SIGINT: SIGTERM ends it.
trap 'kill -TERM $gst; wait $gst; echo clean >"$out/stopped"; exit 0' TERM
wait $gst
echo "stream ended by itself" >"$out/stopped"
exit 3
CHILD
chmod +x "$TEST_TMP/child.sh"

node_exists() { pw-cli info "$1" >/dev/null 2>&1 && pw-cli info "$1" | grep -q 'type: PipeWire:Interface:Node'; }

# 1: SIGTERM to pp-capture.
mkdir "$TEST_TMP/term"
pp-capture --source portal -- "$TEST_TMP/child.sh" "$TEST_TMP/term" 2>"$TEST_TMP/term/err" &
pid=$!
track_pid $pid
wait_for 20 test -s "$TEST_TMP/term/node" || bail "the child did not start: $(tail -n 3 "$TEST_TMP/term/err" | tr "\n" " ")"
node=$(cat "$TEST_TMP/term/node")
ok "the portal's node $node exists while sharing" node_exists "$node"
sleep 1
lab_stop $pid
is "$?" 0 "pp-capture exits 0 after SIGTERM"
is "$(cat "$TEST_TMP/term/stopped" 2>/dev/null)" clean "the child was stopped cleanly by SIGTERM"
ok "the session is closed: node $node is gone" wait_for 10 eval '! node_exists $node'

# 2: the desktop ends the share: the wlr portal backend goes away.
mkdir "$TEST_TMP/desk"
pp-capture --source portal -- "$TEST_TMP/child.sh" "$TEST_TMP/desk" 2>"$TEST_TMP/desk/err" &
pid=$!
track_pid $pid
wait_for 20 test -s "$TEST_TMP/desk/node" || bail "the child did not start: $(tail -n 3 "$TEST_TMP/desk/err" | tr "\n" " ")"
sleep 1
wlr=
for p in $(lab_bus_pids); do
	[ "$(cat /proc/$p/comm 2>/dev/null)" = xdg-desktop-por ] &&
	    grep -qz wlr "/proc/$p/cmdline" && wlr="$wlr $p"
done
ok "the wlr portal backend is found" test -n "$wlr"
kill -TERM $wlr
wait_for 15 lab_exited $pid
ok "pp-capture ends when the share is stopped" lab_exited $pid
lab_stop $pid	# its status (a SIGTERM now if it had not ended)
is "$?" 0 "with the child's status 0"
is "$(cat "$TEST_TMP/desk/stopped" 2>/dev/null)" clean "the child was stopped cleanly"
like "$(cat "$TEST_TMP/desk/err")" 'stopped from the desktop' "pp-capture says the share was stopped from the desktop"
