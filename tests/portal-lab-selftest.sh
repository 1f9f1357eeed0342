#!/bin/bash
# The portal lab itself: the compositor, the portals and PipeWire come up
# on a private bus, and its teardown leaves nothing running.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/portal-lab.sh"
need gdbus pactl

plan 6
lab_portal_start '#00ff00'

out=$(gdbus call --session --dest org.freedesktop.portal.Desktop \
    --object-path /org/freedesktop/portal/desktop \
    --method org.freedesktop.DBus.Properties.Get \
    org.freedesktop.portal.ScreenCast version 2>&1)
like "$out" '^\(<uint32 [0-9]+>,\)$' "the ScreenCast portal is activated on the private bus"
is "$(pactl get-default-sink)" speakers "the speakers sink is the default"
like "$(ls "$XDG_RUNTIME_DIR")" 'wayland-1' "sway listens on wayland-1"
portals=$(lab_bus_pids | wc -l)
ok "D-Bus-activated portal processes are found ($portals)" test "$portals" -ge 2

all=("${_lab_pids[@]}" $(lab_bus_pids))
_lab_teardown
left=
for p in "${all[@]}"; do
	kill -0 "$p" 2>/dev/null && left="$left $p"
done
is "$left" "" "teardown ends every lab process"
is "$(lab_bus_pids)" "" "no process of the private bus is left"
