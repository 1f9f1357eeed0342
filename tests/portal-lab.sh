# Sourced by tests (after libtest.sh): a private desktop for the
# screencast portal and for PipeWire audio. Everything runs inside
# $TEST_TMP on its own D-Bus session bus and is torn down at exit, the
# D-Bus-activated portals included.
#
#   lab_audio_start          D-Bus, PipeWire, WirePlumber, pipewire-pulse
#                            and a "speakers" null sink as the default
#   lab_portal_start COLOUR  the above, then a headless sway as `nobody`
#                            showing COLOUR (#rrggbb), with an animated
#                            window in a corner, and the portals ready to
#                            be activated (wlr backend, no chooser)
#   lab_portal_chooser none|decline   rewrites the wlr portal's chooser
#   lab_portal_stop_portals  ends the D-Bus-activated portal processes
#   lab_colour_share COLOUR PNG   the share in % of PNG's pixels near
#                            COLOUR (#rrggbb), for what a capture shows
#   lab_stop PID [SECS]      SIGTERM to PID; its exit status (SIGKILL and
#                            a diagnostic when it ignores that for SECS;
#                            LAB_DEBUG=1 adds its signal state and stacks)
#
# Needs $top_builddir/tests/wlr-dmabuf-shim.so (built by `make check`).

_lab_pids=()

# lab_spawn NAME CMD...: starts CMD in the background, logging to
# $TEST_TMP/NAME.log; the pid is tracked for teardown.
lab_spawn() {
	local name=$1
	shift
	"$@" >"$TEST_TMP/$name.log" 2>&1 &
	_lab_pids+=("$!")
	eval "LAB_PID_${name//-/_}=$!"
}

# Processes started by the bus (portals, permission store) are not our
# children: find them by our bus address in their environment.
lab_bus_pids() {
	local f pid p
	[ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] || return 0
	for f in $(grep -lzF "DBUS_SESSION_BUS_ADDRESS=$DBUS_SESSION_BUS_ADDRESS" \
	    /proc/[0-9]*/environ 2>/dev/null); do
		pid=${f#/proc/}
		pid=${pid%/environ}
		# (the bus appends ",guid=..." for what it activates)
		# Skip this shell's own descendants (tracked by the test itself);
		# what the bus or the compositor daemonised hangs off init.
		p=$pid
		while [ -n "$p" ] && [ "$p" -gt 1 ] && [ "$p" != "$$" ]; do
			p=$(awk '{print $4}' "/proc/$p/stat" 2>/dev/null)
		done
		[ "$p" = "$$" ] || echo "$pid"
	done
	return 0
}

_lab_kill() {
	local pid
	for pid in "$@"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "$@"; do
		wait_gone "$pid" 2
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	return 0
}

# lab_exited PID: gone, or a zombie waiting for this shell to reap it.
lab_exited() {
	[ ! -e "/proc/$1" ] || [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]
}

# A stop that never hangs the test: a process that does not react to
# SIGTERM fails the test's assertion on its status instead.
lab_stop() {
	local pid=$1 secs=${2:-20}
	kill -TERM "$pid" 2>/dev/null
	if ! wait_for "$secs" lab_exited "$pid"; then
		diag "pid $pid did not exit within $secs s of SIGTERM: killed"
		if [ -n "${LAB_DEBUG:-}" ]; then
			grep -E 'State|Sig|ShdPnd' "/proc/$pid/status" | sed 's/^/# /'
			gdb -batch -p "$pid" -ex "thread apply all bt" 2>/dev/null | grep -E '^#|^Thread' | sed 's/^/# /'
			ps -o pid,stat,args --ppid "$pid" | sed 's/^/# /'
		fi
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid"
}

lab_colour_share() {
	ffmpeg -v error -i "$2" -f rawvideo -pix_fmt rgb24 - | python3 -c '
import sys
want = bytes.fromhex(sys.argv[1].lstrip("#"))
data = sys.stdin.buffer.read()
n = len(data) // 3
hit = sum(1 for i in range(0, n, 7)
          if all(abs(data[3*i+k] - want[k]) < 16 for k in range(3)))
print(round(100 * hit / max(1, len(range(0, n, 7)))))' "$1"
}

# The portals only: what the bus activated (it sets DBUS_STARTER_* in
# their environment), and what they started; not swaybg, which sway
# started outside this shell's tree with the bus in its environment too.
lab_portal_stop_portals() {
	local pid started=()
	for pid in $(lab_bus_pids); do
		grep -qzx 'DBUS_STARTER_BUS_TYPE=session' "/proc/$pid/environ" 2>/dev/null &&
			started+=("$pid")
	done
	_lab_kill "${started[@]}"
}

_lab_teardown() {
	local i rev=()
	[ -z "${LAB_PID_nudge:-}" ] || _lab_kill "$LAB_PID_nudge"
	# shellcheck disable=SC2046
	_lab_kill $(lab_bus_pids)
	for ((i = ${#_lab_pids[@]} - 1; i >= 0; i--)); do
		rev+=("${_lab_pids[$i]}")
	done
	_lab_kill "${rev[@]}"
}

# The user the compositor runs as (sway refuses root) must reach its
# files: open the path down to $TEST_TMP for traversal.
_lab_open_path() {
	local d=$1
	while [ "$d" != / ] && [ -n "$d" ]; do
		chmod o+x "$d" 2>/dev/null
		d=$(dirname "$d")
	done
}

lab_audio_start() {
	need dbus-daemon pipewire wireplumber pipewire-pulse pw-cli pw-dump pactl
	private_xdg
	unset DISPLAY
	# The bus fixes the environment of what it activates when it starts.
	# _lab_wayland names the desktop: 1 is sway, another NAME has its
	# lab define _lab_env_NAME (tests/gnome-lab.sh).
	case ${_lab_wayland:-} in
	'')
		unset WAYLAND_DISPLAY ;;
	1)
		export XDG_CURRENT_DESKTOP=sway WAYLAND_DISPLAY=wayland-1
		_lab_portal_services ;;
	*)
		"_lab_env_$_lab_wayland" ;;
	esac
	export DBUS_SESSION_BUS_ADDRESS="unix:path=$XDG_RUNTIME_DIR/bus"
	export PULSE_SERVER="unix:$XDG_RUNTIME_DIR/pulse/native"
	export PIPEWIRE_RUNTIME_DIR="$XDG_RUNTIME_DIR"
	unset PIPEWIRE_REMOTE
	at_exit _lab_teardown
	lab_spawn dbus dbus-daemon --session --nofork --nopidfile \
	    --address="$DBUS_SESSION_BUS_ADDRESS"
	wait_for 10 test -S "$XDG_RUNTIME_DIR/bus" || bail "dbus-daemon did not start"
	lab_spawn pipewire pipewire
	wait_for 10 test -S "$XDG_RUNTIME_DIR/pipewire-0" || bail "pipewire did not start"
	lab_spawn wireplumber wireplumber
	lab_spawn pipewire-pulse pipewire-pulse
	wait_for 10 test -S "$XDG_RUNTIME_DIR/pulse/native" || bail "pipewire-pulse did not start"
	wait_for 10 pactl info >/dev/null 2>&1 || bail "pipewire-pulse does not answer"
	# Without a sink the first one made (ours, under test) would become
	# the default and swallow every stream: make the speakers first.
	pw-cli create-node adapter '{ factory.name=support.null-audio-sink node.name=speakers node.description=Speakers media.class=Audio/Sink object.linger=true audio.position=[FL FR] }' >/dev/null ||
	    bail "cannot create the speakers sink"
	wait_for 10 sh -c 'pactl list short sinks | grep -q speakers' ||
	    bail "speakers sink did not appear"
	pactl set-default-sink speakers
	wait_for 10 sh -c 'test "$(pactl get-default-sink)" = speakers' ||
	    bail "speakers is not the default sink"
}

lab_portal_chooser() {
	local dir="$XDG_CONFIG_HOME/xdg-desktop-portal-wlr"
	mkdir -p "$dir"
	case $1 in
	none)
		printf '[screencast]\nchooser_type=none\noutput_name=HEADLESS-1\n' >"$dir/config" ;;
	decline)
		printf '[screencast]\nchooser_type=simple\nchooser_cmd=true\n' >"$dir/config" ;;
	esac
}

# Service files (read by the bus when it starts) for the portals.
_lab_portal_services() {
	local shim="$top_builddir/tests/wlr-dmabuf-shim.so"
	mkdir -p "$XDG_DATA_HOME/dbus-1/services"
	cat >"$XDG_DATA_HOME/dbus-1/services/org.freedesktop.impl.portal.desktop.wlr.service" <<-SVC
	[D-BUS Service]
	Name=org.freedesktop.impl.portal.desktop.wlr
	Exec=/usr/bin/env LD_PRELOAD=$shim /usr/libexec/xdg-desktop-portal-wlr
	SVC
	# The document portal would mount a FUSE file system in the runtime
	# directory, which then cannot be removed.
	cat >"$XDG_DATA_HOME/dbus-1/services/org.freedesktop.portal.Documents.service" <<-SVC
	[D-BUS Service]
	Name=org.freedesktop.portal.Documents
	Exec=/bin/false
	SVC
	lab_portal_chooser none
}

# xdg-desktop-portal-wlr 0.7 sometimes leaves D-Bus messages that came in
# while it started unprocessed until the next one arrives (the frontend
# then waits 25 s for it). A ping every half second wakes it up.
_lab_xdpw_nudge() {
	local owner
	while :; do
		# Its unique name: a ping to that never starts the portal again.
		owner=$(gdbus call --session --dest org.freedesktop.DBus \
		    --object-path /org/freedesktop/DBus \
		    --method org.freedesktop.DBus.GetNameOwner \
		    org.freedesktop.impl.portal.desktop.wlr 2>/dev/null |
		    sed -n "s/^('\(:[0-9.]*\)',)\$/\1/p")
		if [ -n "$owner" ]; then
			gdbus call --session --dest "$owner" \
			    --object-path /org/freedesktop/portal/desktop \
			    --method org.freedesktop.DBus.Peer.Ping >/dev/null 2>&1
		fi
		sleep 0.5
	done
}

lab_portal_start() {
	local colour=${1:-#ff0000} shim="$top_builddir/tests/wlr-dmabuf-shim.so"
	need sway setpriv gst-launch-1.0 gdbus /usr/libexec/xdg-desktop-portal /usr/libexec/xdg-desktop-portal-wlr
	[ -f "$shim" ] || bail "$shim not built (make check builds it)"
	_lab_wayland=1
	lab_audio_start
	_lab_open_path "$TEST_TMP"
	chmod 0755 "$HOME" "$HOME/.config"
	chown nobody "$XDG_RUNTIME_DIR"


	mkdir -p "$TEST_TMP/sway"
	cat >"$TEST_TMP/sway/config" <<-CFG
	xwayland disable
	output HEADLESS-1 resolution 640x360 bg $colour solid_color
	default_border none
	default_floating_border none
	for_window [shell="xdg_shell"] floating enable, move position 0 0
	CFG
	chmod -R a+rX "$TEST_TMP/sway"
	lab_spawn sway env WLR_BACKENDS=headless WLR_LIBINPUT_NO_DEVICES=1 \
	    WLR_RENDERER=pixman HOME="$TEST_TMP/sway" \
	    setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    sway --config "$TEST_TMP/sway/config"
	wait_for 10 test -S "$XDG_RUNTIME_DIR/$WAYLAND_DISPLAY" || bail "sway did not start"
	# screencopy only sends frames when the screen changes: keep a small
	# animated window in the top-left corner.
	lab_spawn nudge _lab_xdpw_nudge
	lab_spawn animation gst-launch-1.0 -q videotestsrc is-live=true pattern=ball \
	    ! video/x-raw,width=48,height=48,framerate=15/1 ! waylandsink
}
