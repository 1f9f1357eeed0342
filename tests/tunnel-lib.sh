# Helpers for tests that run pp-tunnel; source after libtest.sh.
#
#   tunnel_listen NAME ARGS...   starts `pp-tunnel listen ARGS...` in the
#                                background (ARGS end with -- CMD ...) and
#                                waits for its ticket. Sets:
#       tunnel_ticket   the ticket
#       tunnel_pid      the listener's pid (stopped at exit)
#       tunnel_log      its stderr ($TEST_TMP/NAME.log)
#   tunnel_connect NAME TICKET [ARGS...] < in
#                                runs `pp-tunnel connect` in the foreground
#                                with a bound against hangs; stdout goes to
#                                $TEST_TMP/NAME.out, stderr to NAME.err; sets
#                                tunnel_rc.
#   tunnel_listen_ns NS NAME ARGS...
#                                as tunnel_listen, inside network namespace
#                                NS (ip netns exec, which execs: tunnel_pid
#                                is the listener's own pid, a child of this
#                                shell, and `wait $tunnel_pid` gives its
#                                exit status). The pid also goes to
#                                $TEST_TMP/NAME.pid; tunnel_stop_ns stops
#                                every one (call it from at_exit, before
#                                deleting the namespace).
#   sha FILE                     its SHA-256.

tunnel_listen() {
	local name=$1
	shift
	pp-tunnel listen --rendezvous none "$@" > "$TEST_TMP/$name.ticket" 2> "$TEST_TMP/$name.log" &
	tunnel_pid=$!
	track_pid "$tunnel_pid"
	tunnel_log=$TEST_TMP/$name.log
	if ! wait_for 10 grep -qs '^pp1' "$TEST_TMP/$name.ticket"; then
		diag "$(cat "$tunnel_log")"
		bail "pp-tunnel listen printed no ticket"
	fi
	tunnel_ticket=$(head -n 1 "$TEST_TMP/$name.ticket")
}

tunnel_connect() {
	local name=$1
	shift
	timeout 120 pp-tunnel connect "$@" > "$TEST_TMP/$name.out" 2> "$TEST_TMP/$name.err"
	tunnel_rc=$?
}

tunnel_listen_ns() {
	local ns=$1 name=$2
	shift 2
	ip netns exec "$ns" sh -c 'echo $$ > "$0"; exec pp-tunnel listen --rendezvous none "$@"' \
		"$TEST_TMP/$name.pid" "$@" \
		> "$TEST_TMP/$name.ticket" 2> "$TEST_TMP/$name.log" &
	tunnel_pid=$!
	track_pid "$tunnel_pid"
	tunnel_log=$TEST_TMP/$name.log
	if ! wait_for 10 grep -qs '^pp1' "$TEST_TMP/$name.ticket"; then
		diag "$(cat "$tunnel_log")"
		bail "pp-tunnel listen printed no ticket in namespace $ns"
	fi
	tunnel_ticket=$(head -n 1 "$TEST_TMP/$name.ticket")
}

tunnel_stop_ns() {
	local f
	for f in "$TEST_TMP"/*.pid; do
		[ -s "$f" ] && kill -TERM "$(cat "$f")" 2>/dev/null
	done
	for f in "$TEST_TMP"/*.pid; do
		[ -s "$f" ] && timeout 10 tail --pid="$(cat "$f")" -f /dev/null
	done
}

sha() { sha256sum < "$1" | cut -d' ' -f1; }
