# Helpers for the tests that run a man page's EXAMPLES as written there
# (sourced after libtest.sh), so that a change to a man page is tested.
#
#   man_examples PAGE   the commands of EXAMPLES in man/PAGE.1, in order,
#                       each ended by a NUL (read them with mapfile -d ''):
#                       the text of each ".Dl $ " line, and each line of a
#                       ".Bd -literal" block. In a block with prompts
#                       ("$ ", "host$ ", "viewer$ ") only the prompted
#                       lines are commands, the prompt left off; the others
#                       are what they print. A line ending in a backslash
#                       or a pipe goes on with the next, the newline kept.
#                       The mdoc escapes \e, \- and \& are undone.
#   man_run NAME SECS CMD
#                       runs CMD with bash (pipefail) in its own process
#                       group, stdout in NAME.out and stderr in NAME.err of
#                       the current directory; stops the group with SIGINT
#                       (Control-C) after SECS seconds unless it ended; its
#                       exit status in man_rc. What it left running in the
#                       background then gets SIGTERM (SIGKILL 10 s later).
#   man_start NAME CMD  the first half of man_run: CMD started, its pid in
#                       man_pid;
#   man_stop SECS       the second half: waits up to SECS s for it, stops
#                       it, and sets man_rc.

man_examples() {
	sed 's/\\e/\\/g; s/\\-/-/g; s/\\&//g' "$top_srcdir/man/$1.1" | awk '
	function flush(   i, cmd, cont) {
		cmd = ""; cont = 0
		for (i = 0; i < n; i++) {
			if (cont) {
				cmd = cmd "\n" lines[i]
			} else if (!prompted) {
				cmd = lines[i]
			} else if (lines[i] ~ /^[a-z]*\$ /) {
				cmd = lines[i]
				sub(/^[a-z]*\$ /, "", cmd)
			} else {
				continue
			}
			cont = lines[i] ~ /[\\|]$/
			if (!cont)
				printf "%s%c", cmd, 0
		}
		n = 0
	}
	/^\.Sh EXAMPLES/ { ex = 1; next }
	/^\.Sh / { ex = 0 }
	!ex { next }
	/^\.Dl \$ / { sub(/^\.Dl \$ /, ""); printf "%s%c", $0, 0; next }
	/^\.Bd -literal/ { inb = 1; n = 0; prompted = 0; next }
	/^\.Ed/ { if (inb) flush(); inb = 0; next }
	inb { lines[n++] = $0; if ($0 ~ /^[a-z]*\$ /) prompted = 1 }
	'
}

man_start() {
	set -m
	bash -o pipefail -c "$2" > "$1.out" 2> "$1.err" &
	man_pid=$!
	set +m
	track_pid "$man_pid"
	at_exit "kill -KILL -- -$man_pid 2> /dev/null"
}

man_stop() {
	local pid=$man_pid secs=$1
	wait_gone "$pid" "$secs"
	kill -INT -- "-$pid" 2> /dev/null
	wait_gone "$pid" 10
	wait "$pid"
	man_rc=$?
	# What the example started in the background (a shell ignores SIGINT
	# there) is stopped as the tools are meant to be: SIGTERM.
	kill -TERM -- "-$pid" 2> /dev/null
	wait_gone "-$pid" 10
	kill -KILL -- "-$pid" 2> /dev/null
	return 0
}

man_run() {
	man_start "$1" "$3"
	man_stop "$2"
}
