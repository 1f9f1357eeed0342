#!/bin/bash
# The confinement of the tools that parse strangers' bytes (SECURITY in
# pp-bridge(1) and pp-tunnel(1)): once serving or connected, a
# file of the user's cannot be opened from inside the running process,
# while the command pp-tunnel listen runs for a viewer still can.
# tests/inject-open makes the process call open(2) itself (through
# ptrace), so what is seen is what an exploit in its parser would get.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/tunnel-lib.sh"
need_root
need pp-bridge pp-tunnel inject-open curl python3
inject-open $$ /dev/null > /dev/null 2>&1; [ $? -ne 77 ] ||
	{ echo "1..0 # SKIP tests/inject-open knows x86-64 only"; exit 0; }
plan 14

secret=$TEST_TMP/home/notes.txt
mkdir -p "$TEST_TMP/home"
echo "the user's own file" > "$secret"

# opens PID PATH: "fd errno" of open(PATH, O_RDONLY) called inside PID.
opens() { inject-open "$1" "$2"; }
# The kernel's Landlock ABI version, 0 without Landlock.
landlock=$(python3 -c 'import ctypes; l = ctypes.CDLL(None, use_errno=True); print(max(l.syscall(444, None, 0, 1), 0))')

sleep 60 &
ctl=$!
track_pid $ctl
like "$(opens $ctl "$secret")" '^[0-9]+ ' "a process that is not confined, made to open the file, does"

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

# pp-tunnel: the host, and a viewer held connected for a while.
tunnel_listen host -- sh -c 'cat "$0"; echo ran >> "$1"; sleep 20' \
    "$secret" "$TEST_TMP/home/cmd.log"
pp-tunnel connect "$tunnel_ticket" < /dev/null > "$TEST_TMP/viewer.out" 2> "$TEST_TMP/viewer.err" &
viewer=$!
track_pid $viewer
ok "the viewer gets what the host's command read from the user's file" \
    wait_for 20 grep -q "the user's own file" "$TEST_TMP/viewer.out"
is "$(cat "$TEST_TMP/home/cmd.log")" ran "...and the command could write there"
wait_for 10 test "$(nnp $tunnel_pid)" = 1
for who in host:$tunnel_pid viewer:$viewer; do
	is "$(nnp "${who#*:}")" 1 "pp-tunnel's ${who%%:*} cannot gain privileges"
	if [ "$landlock" -gt 0 ]; then
		is "$(opens "${who#*:}" "$secret")" "-1 13" "...nor open a file of the user's"
	else
		skip "...nor open a file of the user's" "this kernel has no Landlock"
	fi
done
unlike "$(cat "$tunnel_log" "$TEST_TMP/viewer.err")" 'confine|Landlock|denied' \
    "and neither has anything to say about it"
