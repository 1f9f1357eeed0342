#!/bin/bash
# The confinement of the tools that parse strangers' bytes (SECURITY in
# pp-bridge(1) and pp-view(1)): once serving or playing, a file of the
# user's cannot be opened from inside the running process. gdb makes the process call open(2) itself,
# so what is seen is what an exploit in its parser would get.
. "$top_srcdir/tests/libtest.sh"
need_root
need pp-bridge pp-view gdb curl python3 Xvfb xwininfo gst-launch-1.0
plan 11

secret=$TEST_TMP/home/notes.txt
mkdir -p "$TEST_TMP/home"
echo "the user's own file" > "$secret"

# opens PID PATH: "fd errno" of open(PATH, O_RDONLY) called inside PID.
opens() {
	gdb -p "$1" -batch -ex "call (int)open(\"$2\", 0)" \
	    -ex 'call (int)*__errno_location()' 2> /dev/null |
		sed -n 's/^\$[0-9]* = //p' | paste -sd ' '
}
# The kernel's Landlock ABI version, 0 without Landlock.
landlock=$(python3 -c 'import ctypes; l = ctypes.CDLL(None, use_errno=True); print(max(l.syscall(444, None, 0, 1), 0))')

sleep 60 &
ctl=$!
track_pid $ctl
like "$(opens $ctl "$secret")" '^[0-9]+ ' "gdb makes a process that is not confined open the file"

# nnp PID: its no_new_privs flag, set as it enters its confinement.
nnp() { awk '/^NoNewPrivs:/ { print $2 }' "/proc/$1/status"; }
sleep 60 | pp-bridge --player none > "$TEST_TMP/url" 2> "$TEST_TMP/bridge.err" &
pid=$!
track_pid $pid
ok "pp-bridge serves" wait_for 10 test -s "$TEST_TMP/url"
wait_for 5 test "$(nnp $pid)" = 1
is "$(nnp $pid)" 1 "pp-bridge cannot gain privileges (no_new_privs)"
if [ "$landlock" -gt 0 ]; then
	is "$(opens "$pid" "$secret")" "-1 13" "...nor open a file of the user's (EACCES)"
	is "$(opens "$pid" /etc/passwd)" "-1 13" "...nor one of the system's"
else
	skip "...nor open a file of the user's" "this kernel has no Landlock"
	skip "...nor one of the system's" "this kernel has no Landlock"
fi
url=$(cat "$TEST_TMP/url")
is "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "${url%/*/}/wrong/")" 404 \
    "confined, it still answers on its socket"
unlike "$(cat "$TEST_TMP/bridge.err")" 'confine|Landlock|denied' "and has nothing to say about it"

# pp-view, playing a stream (its sender may be hostile) on an Xvfb.
start_xvfb 320x240
gst-launch-1.0 -q videotestsrc is-live=true num-buffers=900 ! \
	video/x-raw,width=160,height=120,framerate=15/1 ! \
	x264enc tune=zerolatency speed-preset=ultrafast ! h264parse ! \
	mpegtsmux ! fdsink 2> /dev/null | pp-view --no-audio 2> "$TEST_TMP/view.err" &
pid=$!
track_pid $pid
ok "pp-view plays" wait_for 30 sh -c 'xwininfo -root -tree | grep -q "\"pixelpass\""'
wait_for 10 test "$(nnp $pid)" = 1
ok "...and cannot gain privileges" test "$(nnp $pid)" = 1
if [ "$landlock" -gt 0 ]; then
	is "$(opens "$pid" "$secret")" "-1 13" "...nor open a file of the user's"
else
	skip "...nor open a file of the user's" "this kernel has no Landlock"
fi
unlike "$(cat "$TEST_TMP/view.err")" '.' "...and has nothing to say about it"
