#!/bin/bash
# pp-config(1): get, set, unset, check and dump; the lines it does not
# own kept byte for byte; a damaged file refused and left as it was; a
# symbolic link, a read-only file and a directory that cannot be made;
# modes 0600 and 0700; --help is the SYNOPSIS; every example of the man
# page, run as written, prints what the page says.
. "$top_srcdir/tests/libtest.sh"
need pp-config man cmp
plan 85

private_xdg
CONF=$XDG_CONFIG_HOME/pixelpass/config.toml
F=$TEST_TMP/f.toml

# run ARGS...: pp-config ARGS; sets rc, out (stdout) and err (stderr).
run() {
	out=$(pp-config "$@" 2> "$TEST_TMP/err")
	rc=$?
	err=$(cat "$TEST_TMP/err")
}
# refused STATUS REGEX DESC -- ARGS...: exits STATUS with one line on
# stderr matching REGEX, nothing on stdout, and $F as it was.
refused() {
	local want=$1 re=$2 desc=$3
	shift 4
	[ -e "$F" ] && cp -P "$F" "$TEST_TMP/before"
	run "$@"
	is "$rc $(wc -l <<< "$err") ${#out}" "$want 1 0" "$desc: exit $want, one line, no output"
	like "$err" "^pp-config: $re" "$desc: says why"
	if [ -e "$F" ]; then
		ok "$desc: the file is left as it was" cmp -s "$F" "$TEST_TMP/before"
	else
		ok "$desc: no file is made" [ ! -e "$F" ]
	fi
}

# --- usage --------------------------------------------------------------------
run --help
is "$rc" 0 "--help: exit 0"
synopsis=$(MANWIDTH=200 man -l "$top_srcdir/man/pp-config.1" 2> /dev/null |
    sed -n '/^SYNOPSIS/,/^DESCRIPTION/{/^[A-Z]/d;p}' | tr -s ' \n' ' ' | sed 's/^ //; s/ $//')
is "$(sed 's/^usage: //' <<< "$out" | tr -s ' \n' ' ' | sed 's/^ //; s/ $//')" "$synopsis" "--help prints the SYNOPSIS of pp-config(1)"
is "$err" "" "--help: nothing on stderr"
run --version
like "$rc $out" '^0 pp-config [0-9]+\.[0-9]+' "--version: pp-config VERSION, exit 0"
run
is "$rc ${#out}" "64 0" "no command: exit 64"
like "$err" '^usage: pp-config ' "...with the usage on stderr"
refused 64 'frob: not a command' "an unknown command" -- frob
refused 64 'status: expected table.key' "a name without a table" -- get status
refused 64 'bandwidth.speed: unknown key "speed" in \[bandwidth\] \(pixelpass knows' "set of an unknown key" -- --file "$F" set bandwidth.speed 3

# --- set, get, unset on a new file --------------------------------------------
rm -rf "$XDG_CONFIG_HOME/pixelpass"
run set bandwidth.status skipped
is "$rc$out$err" 0 "set in a new directory: exit 0, quiet"
is "$(stat -c %a "$XDG_CONFIG_HOME/pixelpass") $(stat -c %a "$CONF")" "700 600" "the directory is made 0700, the file 0600"
is "$(cat "$CONF")" $'# pixelpass settings: see pixelpass(1), FILES, and pp-config(1).\n\n[bandwidth]\nstatus = "skipped"' "a new file: a comment, the table and the key"
run get bandwidth.status
is "$rc $out" "0 skipped" "get prints the value"
run get bandwidth.upstream_mbps
is "$rc ${#out} ${#err}" "1 0 0" "get of a key that is not there: exit 1, no output"
run set bandwidth.upstream_mbps 007 bandwidth.status measured
run get bandwidth.upstream_mbps
is "$rc $out" "0 7" "an integer key is written as a number"
like "$(cat "$CONF")" $'\nupstream_mbps = 7\n' "...unquoted in the file"
run set network.stun 192.0.2.1:3478 network.turn 'turn://u:p"\@t.example'
like "$(cat "$CONF")" 'turn = "turn://u:p\\"\\\\@t.example"' "a string is quoted, its \" and \\ escaped"
run get network.turn
is "$out" 'turn://u:p"\@t.example' "...and reads back as it was given"
run dump
is "$rc" 0 "dump: exit 0"
is "$out" $'bandwidth.status=measured\nbandwidth.upstream_mbps=7\nnetwork.stun=192.0.2.1:3478\nnetwork.turn=turn://u:p"\\@t.example' "dump: every key as TABLE.KEY=VALUE, in the order of the file"
run unset network.turn network.stun bandwidth.measured_at
is "$rc" 0 "unset: exit 0, also for a key that is not there"
run get network.stun
is "$rc" 1 "...the keys are gone"
run set bandwidth.status failed bandwidth.upstream_mbps ''
is "$(pp-config dump)" "bandwidth.status=failed" "an empty value removes the key in the same write"
ls -A "$XDG_CONFIG_HOME/pixelpass" > "$TEST_TMP/ls"
is "$(cat "$TEST_TMP/ls")" "config.toml" "no temporary file is left behind"
cp "$CONF" "$TEST_TMP/c1"
touch -d '2020-01-01' "$CONF"
run unset bandwidth.test_url
is "$(stat -c %Y "$CONF")" "$(date -d 2020-01-01 +%s)" "unset of keys that are not there does not write"

# --- other lines kept byte for byte -------------------------------------------
printf '%s\n' '# my settings' '' '[frontend]   # another program' 'first_run = false' "quality = 'high'   # a comment" \
    '[bandwidth]' '  status   =   "skipped"   # mine, kept' 'test_url = "http://127.0.0.1/up"' \
    '' '[network]' 'rendezvous = "none"   # direct only' "stun = ['a:1', \"b:2\"]" > "$F"
printf 'turn = "x"\r\n# no newline at the end' >> "$F"
run --file "$F" set bandwidth.status measured bandwidth.upstream_mbps 20 bandwidth.measured_at 2026-01-31T12:00:00Z
is "$rc" 0 "set in a file with other tables and comments: exit 0"
{
	printf '%s\n' '# my settings' '' '[frontend]   # another program' 'first_run = false' "quality = 'high'   # a comment" \
	    '[bandwidth]' '  status   =   "measured"   # mine, kept' 'test_url = "http://127.0.0.1/up"' \
	    'upstream_mbps = 20' 'measured_at = "2026-01-31T12:00:00Z"' \
	    '' '[network]' 'rendezvous = "none"   # direct only' "stun = ['a:1', \"b:2\"]"
	printf 'turn = "x"\r\n# no newline at the end\n'
} > "$TEST_TMP/want"
ok "every other line is kept byte for byte, the key's own indentation and comment too" cmp "$F" "$TEST_TMP/want"
run --file "$F" unset bandwidth.test_url
grep -v '^test_url' "$TEST_TMP/want" > "$TEST_TMP/want2"
ok "unset removes that line and only that line" cmp "$F" "$TEST_TMP/want2"
run --file "$F" get frontend.quality
is "$rc $out" "0 high" "get reads a table pixelpass does not know"
run --file "$F" get network.stun
is "$out" $'a:1\nb:2' "get prints a list one string a line"
printf '[bandwidth]\nupstream_mbps = +1_000   # as TOML allows\n' > "$F"
is "$(pp-config --file "$F" dump)" "bandwidth.upstream_mbps=1000" "an integer is printed in decimal, without + or underscores"
printf '%s\n' '# my settings' '[frontend]' 'x = 1' > "$F"
refused 65 "$F:2: unknown table \\[frontend\\] \\(pixelpass knows \\[bandwidth\\] and \\[network\\]\\); fix or delete that line \\(the file was left as it was\\)$" \
    "check of a table pixelpass does not know" -- --file "$F" check

# --- check: the schema ----------------------------------------------------------
checks() {
	printf '%s\n' "$1" > "$F"
	refused 65 "$F:$2: $3" "$4" -- --file "$F" check
}
checks $'[bandwidth]\nstatus = "great"' 2 'status "great": expected "measured", "skipped", "failed" or "unmeasured"; fix or delete' "an unknown status"
checks $'[bandwidth]\nupstream_mbps = 1_000_000' 2 'upstream_mbps = 1000000: expected a whole number of Mbit/s, 0 to 999999' "upstream_mbps too large"
checks $'[bandwidth]\nupstream_mbps = "20"' 2 'upstream_mbps: not a whole number' "upstream_mbps as a string"
checks $'status = "skipped"' 1 '"status" is outside any \[table\]' "a key outside any table"
printf '[bandwidth]\nstatus = "measured"\n' > "$F"
refused 65 "$F: \\[bandwidth\\] status is \"measured\" but upstream_mbps is missing; add it, or run pixelpass --reconfigure$" "measured without upstream_mbps" -- --file "$F" check

# --- a damaged file: refused, left as it was ------------------------------------
printf '# upstream\n[bandwidth]\nstatus = "measured"\nupstream_mbps = 12.5\n' > "$F"
refused 65 "$F:4: something after the value \\(a number must be whole\\); fix or delete that line \\(the file was left as it was\\)$" "set in a damaged file" -- --file "$F" set bandwidth.status skipped
printf '[network]\nstun = "a"\0\n' > "$F"
refused 65 "$F:2: a NUL byte" "a NUL byte" -- --file "$F" set network.stun b
printf '[bandwidth]\nstatus = "skipped"\n' > "$F"
refused 64 'status "nope": expected' "set of a value the key does not take" -- --file "$F" set bandwidth.status nope
refused 64 'upstream_mbps: not a whole number' "set of a fraction" -- --file "$F" set bandwidth.upstream_mbps 1.5

# --- where it cannot write ------------------------------------------------------
chmod 0400 "$F"
refused 73 "$F: read-only \\(mode 0400\\), not replaced \\(the file was left as it was\\)" "a read-only file" -- --file "$F" set bandwidth.status failed
chmod 0600 "$F"
: > "$TEST_TMP/plain"
F=$TEST_TMP/plain/config.toml
refused 66 "$F: cannot read it: Not a directory" "a file under a file" -- --file "$F" set bandwidth.status failed
# /proc/self: no file can be made there, not even by root.
F=/proc/self/pp-config-test.toml
refused 73 "/proc/self: cannot create a file there" "a directory where no file can be made" -- --file "$F" set bandwidth.status failed
F=$TEST_TMP/link.toml
mkdir "$TEST_TMP/dots"
printf '# in my dotfiles\n[bandwidth]\nstatus = "skipped"\n' > "$TEST_TMP/dots/config.toml"
chmod 0644 "$TEST_TMP/dots/config.toml"
ln -s dots/config.toml "$F"
run --file "$F" set bandwidth.status failed
is "$rc" 0 "a symbolic link: exit 0"
ok "...the link is kept" [ -L "$F" ]
is "$(cat "$TEST_TMP/dots/config.toml")" $'# in my dotfiles\n[bandwidth]\nstatus = "failed"' "...and the file it names is changed"
is "$(stat -c %a "$TEST_TMP/dots/config.toml")" 600 "...mode 0600"
ln -s nowhere/config.toml "$TEST_TMP/dangling.toml"
F=$TEST_TMP/dangling.toml
refused 73 "$F: a symbolic link that does not resolve" "a dangling symbolic link" -- --file "$F" set bandwidth.status failed

# --- the examples of pp-config(1), as written -------------------------------------
# Each "$ " line of EXAMPLES is run in order (one shell, HOME private);
# the lines under it are what it prints, stdout and stderr.
rm -rf "$XDG_CONFIG_HOME/pixelpass"
unset XDG_CONFIG_HOME
mkdir "$TEST_TMP/ex"
sed -n '/^\.Sh EXAMPLES/,/^\.Sh/{/^\.Bd/,/^\.Ed/p}' "$top_srcdir/man/pp-config.1" |
    sed '/^\.Bd/d; /^\.Ed/d; s/\\e/\\/g; s/\\-/-/g' > "$TEST_TMP/examples"
n=0
script='' want='' sep=''
while IFS= read -r l; do
	if [[ $l == '$ '* ]]; then
		n=$((n + 1))
		script+="printf '\\n>%s\\n' $n; ${l#\$ } 2>&1"$'\n'
		want+="${sep}>$n"
	else
		want+=$'\n'"$l"
	fi
	sep=$'\n'
done < "$TEST_TMP/examples"
is "$n" 10 "pp-config(1) has the 10 examples this test knows"
got=$(cd "$TEST_TMP/ex" && bash -c "$script" | sed '1{/^$/d}' | sed '/^$/{N;/\n>/{s/^\n//}}')
is "$got" "$want" "every example prints what the man page says"
