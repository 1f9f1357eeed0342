#!/bin/bash
# The ticket and a TURN password are never on a command line, where ps
# shows them to every local user: while a host and a viewer that were
# given both on theirs run, no process's cmdline holds either; the viewer
# still gets the stream, and pp-tunnel is handed them in its environment.
# About 15 s.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/portal-lab.sh"
. "$top_srcdir/tests/frontend-lib.sh"
need pixelpass pp-tunnel ffprobe ffmpeg
plan 7

lab_audio_start
PASS=s3cretPW42
TURN="turn://pixuser:$PASS@127.0.0.1:3478"

fe_host host --source test --rendezvous none --bitrate 500 --fps 15 --turn "$TURN"
pixelpass --record "$TEST_TMP/rec.ts" --turn "$TURN" "$fe_ticket" \
    > /dev/null 2> "$TEST_TMP/viewer.err" &
V=$!
track_pid $V
ok "the viewer connects" wait_for 20 grep -qs 'connected to' "$TEST_TMP/viewer.err"

# every_cmdline: each process's command line, NULs as spaces, one a line.
every_cmdline() {
	local f
	for f in /proc/[0-9]*/cmdline; do
		tr '\0' ' ' < "$f" 2> /dev/null && echo
	done
}
# Two looks, a second apart: processes come and go. (The secrets go to
# grep in a file, or grep's own command line would hold them.)
printf '%s\n' "$fe_ticket" "$PASS" > "$TEST_TMP/secrets"
found=
for look in 1 2; do
	found+=$(every_cmdline | grep -F -f "$TEST_TMP/secrets")
	sleep 1
done
is "$found" "" "no command line holds the ticket or the TURN password"
ok "...though the frontends run" test -n "$(every_cmdline | grep -E '^/bin/bash .*pixelpass')"

# The viewer's pp-tunnel: its status fd is in this test's directories.
tun=
for p in $(pgrep -f '^pp-tunnel connect'); do
	case $(readlink "/proc/$p/fd/8") in "$TEST_TMP"/*) tun=$p ;; esac
done
ok "the viewer's pp-tunnel has the TURN URL in its environment" \
    grep -qzx "PP_TURN=$TURN" "/proc/$tun/environ"
is "$(stat -c '%a %U' "/proc/$tun/environ")" "400 $(id -un)" \
    "...which only its owner can read"

fe_stop $V
is "$(codecs "$TEST_TMP/rec.ts")" "aac h264 " "the recording has H.264 and AAC"
fe_stop "$fe_pid"
is "$fe_rc" 0 "the host stops on SIGTERM with status 0"
