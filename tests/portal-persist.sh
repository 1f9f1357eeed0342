#!/bin/bash
# The screen choice is remembered: --select-only stores the portal's
# restore token, and a later session reuses it even though the chooser
# now declines every request (and fails without the token). A declined
# dialog exits 77; no portal at all exits 69 naming what to install.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/portal-lab.sh"
need pp-capture dbus-daemon

plan 14
lab_portal_start '#00ff00'
token="$XDG_STATE_HOME/pixelpass/screencast-monitor.token"

# chooser KIND: the wlr portal reads its configuration when it starts.
chooser() {
	lab_portal_chooser "$1"
	lab_portal_stop_portals
}

chooser decline
pp-capture --source portal -- true 2>"$TEST_TMP/err"
is "$?" 77 "a declined dialog exits 77"
is "$(wc -l <"$TEST_TMP/err")" 1 "with one line"
like "$(cat "$TEST_TMP/err")" '^pp-capture: the screen share dialog was cancelled' "saying the dialog was cancelled"
ok "no token is stored for a declined dialog" test ! -e "$token"

chooser none
pp-capture --source portal --select-only 2>"$TEST_TMP/err"
is "$?" 0 "--select-only exits 0 once a screen is picked"
ok "--select-only stores the restore token" test -s "$token"

chooser decline
pp-capture --source portal -- sh -c 'test -n "$PP_PIPEWIRE_NODE"' 2>"$TEST_TMP/err"
is "$?" 0 "the next session reuses the choice without the (declining) dialog"
ok "a fresh token is kept for the next time" test -s "$token"
pp-capture --source portal -- true 2>/dev/null
is "$?" 0 "and the one after that too"
rm -f "$token"
pp-capture --source portal -- true 2>/dev/null
is "$?" 77 "without the token the declining dialog refuses"

# No portal: a bus with no services on it, then no bus at all.
cat >"$TEST_TMP/empty-bus.conf" <<CONF
<busconfig>
  <type>session</type>
  <listen>unix:path=$TEST_TMP/empty-bus</listen>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
CONF
dbus-daemon --config-file="$TEST_TMP/empty-bus.conf" --nofork --nopidfile &
track_pid $!
wait_for 10 test -S "$TEST_TMP/empty-bus" || bail "the empty bus did not start"
DBUS_SESSION_BUS_ADDRESS="unix:path=$TEST_TMP/empty-bus" \
    pp-capture --source portal -- true 2>"$TEST_TMP/err"
is "$?" 69 "no portal on the bus exits 69"
like "$(cat "$TEST_TMP/err")" '^pp-capture: no desktop portal .*install xdg-desktop-portal' "naming the package to install"
is "$(wc -l <"$TEST_TMP/err")" 1 "in one line"
DBUS_SESSION_BUS_ADDRESS="unix:path=$TEST_TMP/no-such-bus" \
    pp-capture --source portal -- true 2>"$TEST_TMP/err"
is "$?" 69 "no session bus at all exits 69"
