# Sourced by tests (after libtest.sh and portal-lab.sh): a headless GNOME
# (gnome-shell 43 with its virtual monitor) and xdg-desktop-portal-gnome
# on the lab's private D-Bus session, PipeWire and XDG directories,
# torn down at exit. LAB.md's GNOME section has the why.
#
#   gnome_lab_start COLOUR   D-Bus (and a second bus standing in for the
#                            system bus), PipeWire, WirePlumber, then
#                            gnome-shell --headless on a 1280x720 monitor
#                            showing COLOUR (#rrggbb) with a small
#                            GNOME_LAB_MARK square moving along the bottom
#                            edge; the share dialog is answered (below)
#   gnome_lab_stop           ends all of it; the XDG directories stay, so
#                            a second gnome_lab_start is a restart
#   gnome_eval JS            runs JS in the shell (org.gnome.Shell.Eval,
#                            --unsafe-mode); prints its JSON result
#   gnome_dialogs            how many "Screen Share" dialogs have opened
#   gnome_dialog_answer share|cancel|none   what the shell does with the
#                            next ones: pick the monitor and press Share
#                            (the default), press Cancel, or leave them
#   gnome_plant_monitor      grants the monitor in the permission store
#                            and writes its restore token where
#                            pp-capture looks, so no dialog opens
#
# The dialog is answered from inside the shell: a timer there finds the
# window, and a virtual pointer clicks its monitor row (not preselected:
# Share stays insensitive until it is clicked), then Share.

GNOME_LAB_MARK='#00ff00'

_lab_env_gnome() {
	export XDG_CURRENT_DESKTOP=GNOME XDG_SESSION_TYPE=wayland WAYLAND_DISPLAY=wayland-0
	# Settings live in the shell's memory: nothing written, nothing read
	# from the machine's dconf.
	export GSETTINGS_BACKEND=memory
	# gnome-shell sees /run/systemd/seats and wants a system bus (it
	# dies in loginManager.js without one): a bus of the lab's own.
	export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$XDG_RUNTIME_DIR/system_bus"
	mkdir -p "$XDG_DATA_HOME/dbus-1/services"
	# The document portal would mount a FUSE file system in the runtime
	# directory, which then cannot be removed.
	cat >"$XDG_DATA_HOME/dbus-1/services/org.freedesktop.portal.Documents.service" <<-SVC
	[D-BUS Service]
	Name=org.freedesktop.portal.Documents
	Exec=/bin/false
	SVC
}

# gnome_eval JS: the Eval reply is "boolean true" then the result as
# "string ..." (dbus-send prints it unescaped).
gnome_eval() {
	local out
	out=$(dbus-send --session --print-reply=literal --reply-timeout=10000 \
	    --dest=org.gnome.Shell /org/gnome/Shell org.gnome.Shell.Eval \
	    "string:$1" 2>&1) || { diag "Eval: $out"; return 1; }
	case $out in
	*"boolean true"*) ;;
	*) diag "Eval failed: $out"; return 1 ;;
	esac
	out=${out#*boolean true}
	printf '%s\n' "${out#"${out%%[![:space:]]*}"}"
}

# Installed into the shell once it answers: the picture and the dialog's
# answerer, as global.pp.
_gnome_lab_js() {
	cat <<-JS
	const { Clutter, Gio, GLib, St } = imports.gi;
	const Main = imports.ui.main;
	const bg = new Gio.Settings({ schema_id: 'org.gnome.desktop.background' });
	bg.set_string('picture-options', 'none');
	bg.set_string('color-shading-type', 'solid');
	bg.set_string('primary-color', '$1');
	// No banners (the shell says that screen locking needs GDM).
	new Gio.Settings({ schema_id: 'org.gnome.desktop.notifications' })
	    .set_boolean('show-banners', false);
	Main.messageTray.getSources().forEach(s => s.destroy());
	// Nothing on screen changes, no frame is sent: a square keeps moving.
	const mark = new St.Widget({ style: 'background-color: $GNOME_LAB_MARK',
	    x: 0, y: 680, width: 40, height: 40 });
	Main.layoutManager.uiGroup.add_child(mark);
	GLib.timeout_add(GLib.PRIORITY_DEFAULT, 33, () => {
	    mark.x = (mark.x + 8) % 1240;
	    return GLib.SOURCE_CONTINUE;
	});
	const seat = Clutter.get_default_backend().get_default_seat();
	const ptr = seat.create_virtual_device(Clutter.InputDeviceType.POINTER_DEVICE);
	const now = () => GLib.get_monotonic_time();
	const later = (ms, f) => GLib.timeout_add(GLib.PRIORITY_DEFAULT, ms, () => { f(); return GLib.SOURCE_REMOVE; });
	// The first events of a new virtual device are dropped: move, then
	// press a while later.
	const click = (x, y, then) => {
	    ptr.notify_absolute_motion(now(), x, y);
	    later(250, () => {
	        ptr.notify_button(now(), Clutter.BUTTON_PRIMARY, Clutter.ButtonState.PRESSED);
	        ptr.notify_button(now(), Clutter.BUTTON_PRIMARY, Clutter.ButtonState.RELEASED);
	        if (then)
	            later(300, then);
	    });
	};
	// A first motion, which gets lost, long before the dialog.
	ptr.notify_absolute_motion(now(), 1000, 500);
	// Each dialog is counted once, and answered up to three times two
	// seconds apart (should a click be lost).
	const dialogs = new Map();
	global.pp = { dialogs: 0, answer: 'share' };
	GLib.timeout_add(GLib.PRIORITY_DEFAULT, 100, () => {
	    for (const a of global.get_window_actors()) {
	        const w = a.get_meta_window();
	        if (w.get_wm_class() !== 'xdg-desktop-portal-gnome' ||
	            w.get_title() !== 'Screen Share')
	            continue;
	        const r = w.get_frame_rect();
	        if (!a.visible || r.width === 0)
	            continue;
	        if (!dialogs.has(w)) {
	            dialogs.set(w, { tries: 0, at: now() + 500000 });
	            global.pp.dialogs++;
	        }
	        const d = dialogs.get(w);
	        if (global.pp.answer === 'none' || d.tries === 3 || now() < d.at)
	            continue;
	        d.tries++;
	        d.at = now() + 2000000;
	        // Positions in this portal version's dialog: the monitor
	        // row below the header bar, Cancel at its left, Share at its
	        // right.
	        if (global.pp.answer === 'share')
	            click(r.x + r.width / 2, r.y + 175,
	                () => click(r.x + r.width - 40, r.y + 24));
	        else
	            click(r.x + 40, r.y + 24);
	    }
	    return GLib.SOURCE_CONTINUE;
	});
	'ready';
	JS
}

gnome_lab_start() {
	local colour=${1:-#ff0000}
	need gnome-shell dbus-send /usr/libexec/xdg-desktop-portal /usr/libexec/xdg-desktop-portal-gnome
	_lab_wayland=gnome
	lab_audio_start
	cat >"$TEST_TMP/system-bus.conf" <<-CONF
	<busconfig>
	  <type>system</type>
	  <listen>unix:path=$XDG_RUNTIME_DIR/system_bus</listen>
	  <policy context="default">
	    <allow send_destination="*" eavesdrop="true"/>
	    <allow eavesdrop="true"/>
	    <allow own="*"/>
	  </policy>
	</busconfig>
	CONF
	lab_spawn system-bus dbus-daemon --config-file="$TEST_TMP/system-bus.conf" \
	    --nofork --nopidfile
	wait_for 10 test -S "$XDG_RUNTIME_DIR/system_bus" || bail "the lab's system bus did not start"
	lab_spawn gnome-shell gnome-shell --headless --wayland --no-x11 \
	    --wayland-display="$WAYLAND_DISPLAY" --virtual-monitor 1280x720 --unsafe-mode
	# Each try bounded too: a shell that hangs in its start would hold
	# dbus-send for its default 25 s, and the 300 tries for two hours.
	wait_for 30 sh -c 'dbus-send --session --print-reply --reply-timeout=1000 --dest=org.gnome.Shell \
	    /org/gnome/Shell org.gnome.Shell.Eval string:1 2>/dev/null | grep -q "boolean true"' ||
	    bail "gnome-shell does not answer: $(tail -n 3 "$TEST_TMP/gnome-shell.log" | tr '\n' ' ')"
	[ "$(gnome_eval "$(_gnome_lab_js "$colour")")" = '"ready"' ] ||
	    bail "cannot set up the GNOME lab's picture"
	# The shell ends its start in the overview: leave it once it is there.
	wait_for 20 _gnome_desktop_shown || bail "the GNOME overview does not go away"
}

_gnome_desktop_shown() {
	[ "$(gnome_eval 'Main.overview.hide();
	    !Main.layoutManager._startingUp && !Main.overview.visible')" = true ]
}

gnome_lab_stop() {
	_lab_teardown
	_lab_pids=()
	rm -rf "$XDG_RUNTIME_DIR"
	mkdir -m 0700 "$XDG_RUNTIME_DIR"
}

gnome_dialogs() { gnome_eval 'global.pp.dialogs'; }
gnome_dialog_answer() { gnome_eval "global.pp.answer = '$1'" >/dev/null; }

# gnome_record OUT [PP-CAPTURE-ARGS...]: pp-capture --source portal --
# pp-encode --no-audio into OUT (MPEG-TS) for about three seconds of
# picture, then SIGTERM; returns pp-capture's status. OUT.err has both
# tools' words.
gnome_record() {
	local out=$1 pid
	shift
	pp-capture --source portal "$@" -- pp-encode --no-audio --fps 15 -o "$out" \
	    2>"$out.err" &
	pid=$!
	track_pid $pid
	wait_for 40 grep -q '^pp-encode: source' "$out.err" ||
	    diag "pp-encode did not start: $(tail -n 3 "$out.err" | tr '\n' ' ')"
	sleep 3
	lab_stop $pid
}

# colour_share COLOUR TS W:H:X:Y [N]: the share (percent) of the pixels in
# that rectangle of frame N (default 10) of TS within 20 of COLOUR in
# each of red, green and blue.
colour_share() {
	ffmpeg -nostdin -v error -i "$2" -map 0:v \
	    -vf "select=gte(n\,${4:-10}),crop=$3" -frames:v 1 \
	    -f rawvideo -pix_fmt rgb24 - | python3 -c '
import sys
want = bytes.fromhex(sys.argv[1].lstrip("#"))
data = sys.stdin.buffer.read()
n = len(data) // 3
hit = sum(1 for i in range(n)
          if all(abs(data[3*i+k] - want[k]) < 20 for k in range(3)))
print(round(100 * hit / n) if n else -1)' "$1"
}

# The permission xdg-desktop-portal-gnome 43 stores when the dialog's
# "Remember this selection" is kept: the virtual monitor, by its
# vendor, product and serial, for applications without an id (''),
# with the times in microseconds. Its id is the restore token.
gnome_plant_monitor() {
	local id now
	id=$(cat /proc/sys/kernel/random/uuid)
	now=$(($(date +%s%N) / 1000))
	gdbus call --session --dest org.freedesktop.impl.portal.PermissionStore \
	    --object-path /org/freedesktop/impl/portal/PermissionStore \
	    --method org.freedesktop.impl.portal.PermissionStore.Set \
	    screencast true "$id" "{'': ['yes']}" \
	    "<('GNOME', uint32 1, <(int64 $now, int64 $now, [(uint32 0, uint32 1, <'MetaVendor:MetaVirtualMonitor:0x00'>)])>)>" \
	    >/dev/null || return 1
	mkdir -p "$XDG_STATE_HOME/pixelpass"
	echo "$id" >"$XDG_STATE_HOME/pixelpass/screencast-monitor.token"
}
