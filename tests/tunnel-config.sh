#!/bin/bash
# pp-tunnel's [network] table of config.toml: the strict reader names the
# file and line of anything it does not understand (exit 64, before any
# network), and the keys take effect: rendezvous = "none" gives a ticket
# for the direct path only, which a viewer uses without any broker.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/tunnel-lib.sh"
need pp-tunnel timeout
plan 13
private_xdg
conf=$XDG_CONFIG_HOME/pixelpass/config.toml
mkdir -p "${conf%/*}"

# bad CONTENT: pp-tunnel listen exits 64 with FILE:LINE.
bad() {
	printf '%s' "$1" > "$conf"
	timeout 10 pp-tunnel listen -- cat > /dev/null 2> "$TEST_TMP/bad.err"
	bad_rc=$?
	bad_msg=$(cat "$TEST_TMP/bad.err")
}

bad $'# pixelpass\n[network]\nstun = "192.0.2.1:3478"\nturn = nope\n'
is "$bad_rc" 64 "a value that is not a value exits 64"
like "$bad_msg" "^pp-tunnel: $conf:4: not a value" "naming the file and line"
is "$(wc -l < "$TEST_TMP/bad.err")" 1 "in one line"
bad $'[network]\nrendezvous = "none"\nstunn = "x"\n'
is "$bad_rc" 64 "an unknown key in [network] exits 64"
like "$bad_msg" "$conf:3: unknown key stunn in \\[network\\]" "naming it, the file and line"
bad $'[network\n'
like "$bad_msg" "$conf:1: not a \\[table\\] header" "a broken table header is named"
bad $'[network]\nstun = ["a", "b"\n'
like "$bad_msg" "$conf:2: not a list of strings" "an unfinished list is named"
bad $'[network]\nrendezvous = "none"\nrendezvous = "none"\n'
like "$bad_msg" "$conf:3: a key that was already there" "a repeated key is named"

# Other tables (the frontend's) and comments are fine; rendezvous none and
# a STUN list take effect.
cat > "$conf" <<'EOF2'
# written by pixelpass
[frontend]
first_run = false
quality = 'high'   # a comment
[network]
rendezvous = "none"
stun = ["192.0.2.1:3478", 'stun:192.0.2.2']
EOF2
echo "from the config" > "$TEST_TMP/f"
pp-tunnel listen -- cat "$TEST_TMP/f" > "$TEST_TMP/t" 2> "$TEST_TMP/h.log" &
track_pid $!
hpid=$!
ok "a good config.toml: the host prints a ticket" wait_for 10 grep -qs '^pp1' "$TEST_TMP/t"
unlike "$(cat "$TEST_TMP/h.log")" 'rendezvous' "with rendezvous none, no broker"
tunnel_connect v "$(head -n 1 "$TEST_TMP/t")" < /dev/null
is "$tunnel_rc" 0 "a viewer connects on the direct path"
is "$(cat "$TEST_TMP/v.out")" "from the config" "and gets the stream"
kill -TERM "$hpid"
# A ticket for the direct path only: with the host gone, the viewer does
# not go looking for a broker; it says nobody listens.
wait "$hpid"
tunnel_connect gone "$(head -n 1 "$TEST_TMP/t")" --timeout 3 < /dev/null
is "$tunnel_rc" 69 "a direct-only ticket of a stopped host: 69, no rendezvous tried"
