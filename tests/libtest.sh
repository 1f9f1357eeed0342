# Shared helpers of the shell tests: TAP output, a private temporary
# directory, and teardown that runs even when a test fails.
#
# A test script sources this file, calls `plan N`, then asserts with ok/is/
# like. The pp-* tools under test come first in PATH (AM_TESTS_ENVIRONMENT).

set -u

TEST_NAME=$(basename "$0" .sh)
TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/pp-$TEST_NAME.XXXXXX")
_test_n=0
_test_failed=0
_test_cleanups=()
_test_pids=()

# at_exit CMD: runs CMD (with eval) at exit, last registered first.
at_exit() { _test_cleanups+=("$1"); }

# track_pid PID: sent SIGTERM, then SIGKILL, at exit if still running.
track_pid() { _test_pids+=("$1"); }

_test_teardown() {
	local rc=$? i pid
	set +e
	for ((i = ${#_test_cleanups[@]} - 1; i >= 0; i--)); do
		eval "${_test_cleanups[$i]}"
	done
	for pid in "${_test_pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${_test_pids[@]}"; do
		wait_gone "$pid" 2
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	if [ -n "${PP_KEEP_TMP:-}" ]; then
		echo "# kept $TEST_TMP" >&2
	else
		rm -rf "$TEST_TMP"
	fi
	[ "$_test_failed" -eq 0 ] || rc=1
	exit "$rc"
}
trap _test_teardown EXIT
trap 'exit 130' INT TERM

plan() { echo "1..$1"; }
diag() { printf '# %s\n' "$*"; }

# bail REASON: stops the whole test as failed (TAP "Bail out!").
bail() { echo "Bail out! $*"; _test_failed=1; exit 1; }

_test_result() {
	_test_n=$((_test_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $_test_n - $2"
	else
		echo "not ok $_test_n - $2"
		_test_failed=1
	fi
}

# skip "DESCRIPTION" REASON: an assertion that cannot apply on this
# machine (hardware it lacks, say), reported as TAP's SKIP, never as a pass.
skip() {
	_test_n=$((_test_n + 1))
	echo "ok $_test_n - $1 # SKIP $2"
}

# ok "DESCRIPTION" CMD ARGS...: passes when CMD succeeds.
ok() {
	local desc=$1
	shift
	"$@"
	_test_result $? "$desc"
}

# is GOT EXPECTED DESCRIPTION
is() {
	if [ "$1" = "$2" ]; then
		_test_result 0 "$3"
	else
		_test_result 1 "$3"
		diag "got:      '$1'"
		diag "expected: '$2'"
	fi
}

# like GOT EXTENDED-REGEX DESCRIPTION
like() {
	if printf '%s' "$1" | grep -Eq -- "$2"; then
		_test_result 0 "$3"
	else
		_test_result 1 "$3"
		diag "got:      '$1'"
		diag "expected to match: /$2/"
	fi
}

# unlike GOT EXTENDED-REGEX DESCRIPTION
unlike() {
	if printf '%s' "$1" | grep -Eq -- "$2"; then
		_test_result 1 "$3"
		diag "got:      '$1'"
		diag "expected not to match: /$2/"
	else
		_test_result 0 "$3"
	fi
}

# need CMD...: every CMD must be installed. CI installs them all, so a
# missing one fails the test; PP_ALLOW_SKIP=1 (a developer's machine) skips.
need() {
	local c missing=
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || missing="$missing $c"
	done
	[ -z "$missing" ] && return 0
	if [ -n "${PP_ALLOW_SKIP:-}" ]; then
		echo "1..0 # SKIP missing:$missing"
		exit 0
	fi
	bail "missing:$missing (tools/install-deps.sh installs them)"
}

# need_root: for tests that make network namespaces.
need_root() {
	[ "$(id -u)" -eq 0 ] && return 0
	if [ -n "${PP_ALLOW_SKIP:-}" ]; then
		echo "1..0 # SKIP needs root (network namespaces)"
		exit 0
	fi
	bail "needs root (network namespaces)"
}

# wait_for SECONDS CMD ARGS...: polls CMD every 0.1 s until it succeeds.
wait_for() {
	local tries=$(($1 * 10))
	shift
	while [ "$tries" -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		tries=$((tries - 1))
	done
	return 1
}

# wait_gone PID SECS: waits until PID (or, given as -PGID, every process
# of that group) is gone, polling every 0.1 s for at most SECS seconds;
# fails if it is still there then. A child of this shell counts as gone
# once bash has reaped it (its status is kept for `wait`).
wait_gone() {
	local tries=$(($2 * 10))
	while [ "$tries" -gt 0 ]; do
		kill -0 -- "$1" 2>/dev/null || return 0
		sleep 0.1
		tries=$((tries - 1))
	done
	! kill -0 -- "$1" 2>/dev/null
}

# reap PID [SECS]: waits up to SECS (5) for the child PID to end, kills it
# if it has not, and returns its status as `wait` does (137 if killed):
# a child that hangs fails its check instead of holding the test.
reap() {
	wait_gone "$1" "${2:-5}" || kill -KILL "$1" 2> /dev/null
	wait "$1"
}

# size FILE: its size in bytes (0 when missing).
size() { stat -c %s "$1" 2>/dev/null || echo 0; }

# grows FILE BYTES: true once FILE holds at least BYTES.
grows() { [ "$(size "$1")" -ge "$2" ]; }

# nobody_prefix: sets AS_NOBODY, a command prefix that runs what follows as
# the user nobody (VLC refuses root), with a home and a runtime directory
# of its own under $TEST_TMP. A prefix, not a function, so that the
# command keeps the pid that $! gives (it execs all the way).
nobody_prefix() {
	local u=$TEST_TMP/nobody-user
	mkdir -p "$u/home" "$u/run"
	chmod 0711 "$TEST_TMP"
	chown -R nobody "$u"
	chmod 0700 "$u/run"
	AS_NOBODY=(env HOME="$u/home" XDG_RUNTIME_DIR="$u/run"
	    setpriv --reuid=nobody --regid=nogroup --clear-groups)
}

# A private D-Bus session and XDG directories, for tests that start
# desktop services; nothing of the caller's session is touched.
private_xdg() {
	export HOME="$TEST_TMP/home"
	export XDG_RUNTIME_DIR="$TEST_TMP/run"
	export XDG_CONFIG_HOME="$HOME/.config"
	export XDG_DATA_HOME="$HOME/.local/share"
	export XDG_STATE_HOME="$HOME/.local/state"
	export XDG_CACHE_HOME="$HOME/.cache"
	mkdir -p "$HOME" "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$XDG_STATE_HOME" "$XDG_CACHE_HOME"
	mkdir -m 0700 -p "$XDG_RUNTIME_DIR"
}

# new_xvfb [WxH]: an X server of its own (default 640x480, 24 bits),
# stopped at exit; sets XVFB_DISPLAY (":N") and XVFB_PID. The server
# picks its number (-displayfd: servers that start at once do not race
# for one), and is tried three times on a busy machine; -noreset keeps
# what was drawn when the last client leaves.
new_xvfb() {
	local fifo n try
	for try in 1 2 3; do
		fifo=$(mktemp -u "$TEST_TMP/xvfb.XXXXXX")
		mkfifo "$fifo"
		Xvfb -displayfd 3 -noreset -screen 0 "${1:-640x480}x24" -nolisten tcp \
		    3> "$fifo" 2> "$TEST_TMP/xvfb.log" &
		XVFB_PID=$!
		track_pid $XVFB_PID
		n=
		read -r -t 30 n < "$fifo"
		rm -f "$fifo"
		if [ -n "$n" ] && kill -0 $XVFB_PID 2> /dev/null; then
			XVFB_DISPLAY=:$n
			return 0
		fi
		kill $XVFB_PID 2> /dev/null
		diag "Xvfb try $try failed: $(tr '\n' ' ' < "$TEST_TMP/xvfb.log")"
	done
	bail "Xvfb did not start: $(tr '\n' ' ' < "$TEST_TMP/xvfb.log")"
}

# start_xvfb [WxH]: new_xvfb, and DISPLAY set to it.
start_xvfb() {
	new_xvfb "$@"
	export DISPLAY=$XVFB_DISPLAY
}
# screen_share WxH UNIT COND: how much of the screen's top-left WxH
# crop has a pixel for which the Python expression COND on r, g, b holds,
# in parts of UNIT (100: %); how the view tests see what pp-view shows.
screen_share() {
	xwd -root -silent > "$TEST_TMP/shot.xwd" || return 1
	ffmpeg -v error -y -i "$TEST_TMP/shot.xwd" -vf "crop=${1%x*}:${1#*x}:0:0" \
		-f rawvideo -pix_fmt rgb24 - | python3 -c '
import sys
d = sys.stdin.buffer.read()
n = len(d) // 3
hit = sum(1 for i in range(n) if (lambda r, g, b: '"$3"')(*d[3*i:3*i+3]))
print(round('"$2"' * hit / max(n, 1)))'
}
