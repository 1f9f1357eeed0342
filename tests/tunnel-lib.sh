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
#   sha FILE                     its SHA-256.

tunnel_listen() {
	local name=$1
	shift
	pp-tunnel listen "$@" > "$TEST_TMP/$name.ticket" 2> "$TEST_TMP/$name.log" &
	tunnel_pid=$!
	track_pid "$tunnel_pid"
	tunnel_log=$TEST_TMP/$name.log
	if ! wait_for 10 grep -q '^pp1' "$TEST_TMP/$name.ticket"; then
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

sha() { sha256sum < "$1" | cut -d' ' -f1; }
