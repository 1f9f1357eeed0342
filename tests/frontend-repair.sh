#!/bin/bash
# pixelpass --repair after a killed host: a host sharing only appA's
# sound is killed with SIGKILL (every process of it) while a viewer
# watches, so its capture sink lingers with appA in it; --repair removes
# it and appA plays on the speakers again; a second run has nothing to do;
# without PipeWire it says so.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/portal-lab.sh"
. "$top_srcdir/tests/frontend-lib.sh"
need pixelpass pp-repair pp-capture pw-play pw-dump sox python3
plan 10

lab_audio_start
fe_tone 60
wait_for 10 routed 'appA -> speakers' || bail "appA does not play"

# descendants PID: every process below PID.
descendants() {
	local p
	for p in $(ps -o pid= --ppid "$1"); do
		echo "$p"
		descendants "$p"
	done
}

fe_host host --source test --app appA --rendezvous none
pixelpass --record "$TEST_TMP/rec.ts" "$fe_ticket" > /dev/null 2> "$TEST_TMP/view.log" &
VIEW=$!
track_pid $VIEW
ok "while a viewer watches, appA goes to the host's capture sink" wait_for 15 routed 'appA -> pixelpass_capture_[0-9]+'
SINK=$(routes | sed -n 's/^appA -> \(pixelpass_capture_[0-9]*\)$/\1/p')
# shellcheck disable=SC2046
kill -KILL "$fe_pid" $(descendants "$fe_pid") 2> /dev/null
wait "$fe_pid" 2> /dev/null
fe_stop $VIEW
# (until its parent is reaped too, the killed pp-capture is a zombie,
# which pp-repair counts as running)
wait_for 10 test ! -e "/proc/${SINK#pixelpass_capture_}" || diag "pp-capture ${SINK#pixelpass_capture_} is still there"
ok "killed, the host leaves its sink with appA in it" routed "appA -> $SINK"

out=$(pixelpass --repair 2> "$TEST_TMP/r1.err")
is "$?" 0 "pixelpass --repair exits 0"
is "$out" "removed $SINK" "...and says what it removed"
ok "appA is back on the speakers" wait_for 10 routed 'appA -> speakers'
unlike "$(routes)" pixelpass_capture "no capture node is left"

out=$(pixelpass --repair 2> "$TEST_TMP/r2.err")
is "$?$out" 0 "a second --repair has nothing to remove"
is "$(cat "$TEST_TMP/r2.err")" "pixelpass: nothing to repair: no sound routing is left from a stopped host" "...and says so"

PIPEWIRE_RUNTIME_DIR=$TEST_TMP/nowhere pixelpass --repair > /dev/null 2> "$TEST_TMP/r3.err"
is "$?" 69 "without PipeWire: exit 69"
is "$(cat "$TEST_TMP/r3.err")" "pixelpass: no PipeWire in this session: nothing to repair" "...in words"
