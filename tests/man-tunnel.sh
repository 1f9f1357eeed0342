#!/bin/bash
# Runs the examples of pp-tunnel(1) that need no broker and no TURN
# server, as written there (extracted from the man page), host and viewer
# on this machine, and checks what each made: the shared file arrives
# whole; --status-fd writes the events the man page shows, with the same
# keys; the shell for one friend answers `uname`; the video chain plays
# the 1280x720 H.264 video and the audio in mpv (headless, through a
# private mpv.conf, for 60 frames). Substituted with sed, the minimum: the
# host gets --rendezvous none (the direct path only; the examples would
# meet on the public brokers), and the viewer the host's ticket for
# "pp1...". The examples with a broker and TURN servers of one's own are
# run by man-tunnel-lab.sh, in the NAT lab. About 20 s.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/man-lib.sh"
. "$top_srcdir/tests/encode-lib.sh"
need pp-tunnel pp-fanout pp-encode pp-bridge mpv ffprobe Xvfb
plan 14

private_xdg
export PULSE_SERVER="unix:$TEST_TMP/no-such-socket"
mkdir -p "$XDG_CONFIG_HOME/mpv"
printf 'vo=null\nao=null\nframes=60\n' > "$XDG_CONFIG_HOME/mpv/mpv.conf"
start_xvfb 320x240
mkdir "$TEST_TMP/host" "$TEST_TMP/viewer"
cd "$TEST_TMP" || bail "no temp dir"

mapfile -d '' -t ex < <(man_examples pp-tunnel)
is "${#ex[@]}" 14 "pp-tunnel(1) has the 14 example commands this test knows"

# host_cmd N / viewer_cmd N TICKET: example N with the substitutions.
host_cmd() { printf '%s' "${ex[$1]}" | sed 's/^pp-tunnel listen /&--rendezvous none /'; }
viewer_cmd() { printf '%s' "${ex[$1]}" | sed "s/pp1\\.\\.\\./$2/"; }
# host N: starts example N in host/ and waits for its ticket (stdout).
host() {
	cd "$TEST_TMP/host" || return 1
	man_start "host$1" "$(host_cmd "$1")"
	host_pid=$man_pid
	wait_for 15 grep -qs '^pp1' "host$1.out" || bail "no ticket: $(cat "host$1.err")"
	ticket=$(head -n 1 "host$1.out")
	cd "$TEST_TMP/viewer" || return 1
}

encode_for 2 host/talk.ts host/encode.err -- --source test --max-size 320x240 --bitrate 1000 ||
    bail "pp-encode made no talk.ts"

# Share a file; each viewer gets all of it.
host 0
man_run view1 30 "$(viewer_cmd 1 "$ticket")"
is "$man_rc" 0 "${ex[1]}: exit 0"
is "$(sha256sum < talk.ts)" "$(sha256sum < ../host/talk.ts)" "...talk.ts arrives whole"
man_pid=$host_pid man_stop 0
is "$man_rc" 0 "${ex[0]}: exit 0 on Control-C"

# The same, for a program that watches the viewers come and go.
host 2
man_run view2 30 "$(viewer_cmd 1 "$ticket")"
ok "a viewer of ${ex[2]} gets talk.ts whole" cmp -s talk.ts ../host/talk.ts
cd ../host || bail "no host dir"
wait_for 10 grep -qs '^viewer-left' events
man_pid=$host_pid man_stop 0
man_run cat 5 "${ex[3]}"
keys() { sed 's/=[^ ]*//g'; }
want=$(sed -n '/^host\$ cat events$/,/^\.Ed/p' "$top_srcdir/man/pp-tunnel.1" | sed '1d; $d')
is "$(keys < cat.out)" "$(printf '%s\n' "$want" | keys)" "${ex[3]}: the events of the man page, with its keys"
like "$(cat cat.out)" "^ready ticket=$ticket port=[0-9]+" "...ready names the ticket"
size=$(stat -c %s talk.ts)
like "$(cat cat.out)" "viewer-left .*reason=left bytes=$size " "...viewer-left the bytes sent, all of talk.ts"

# A shell for one friend.
host 4
man_run view4 30 "$(viewer_cmd 5 "$ticket")"
is "$man_rc" 0 "${ex[5]}: exit 0"
is "$(cat view4.out)" "$(uname)" "...the host's shell answers uname"
man_pid=$host_pid man_stop 0

# The video chain of pixelpass(1): the host's two lines in one shell.
export S=$TEST_TMP/screen.sock
cd "$TEST_TMP/host" || bail "no host dir"
man_start host7 "$(host_cmd 6)
$(host_cmd 7)"
host_pid=$man_pid
wait_for 15 grep -qs '^pp1' host7.out || bail "no ticket: $(cat host7.err)"
ticket=$(head -n 1 host7.out)
cd "$TEST_TMP/viewer" || bail "no viewer dir"
man_run view8 12 "$(viewer_cmd 8 "$ticket")"
is "$man_rc" 0 "${ex[8]}: exit 0 on Control-C"
mpv_pid=$(sed -n 's/.*started mpv (pid \([0-9]*\)).*/\1/p' view8.err)
[ -n "$mpv_pid" ] && at_exit "kill $mpv_pid 2> /dev/null"
mpv_log=$(sed -n 's/.*its output in \(.*\)$/\1/p' view8.err)
like "$(cat "$mpv_log" 2> /dev/null)" 'VO: \[null\] 1280x720' "...mpv played the 1280x720 video"
like "$(cat "$mpv_log" 2> /dev/null)" 'AO: \[null\] 48000Hz' "...and the 48 kHz audio"
man_pid=$host_pid man_stop 0
is "$man_rc" 0 "${ex[7]}: the host's exit 0 on Control-C"
