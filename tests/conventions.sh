#!/bin/bash
# What every tool does the same way: --help prints the usage (its man
# page's SYNOPSIS) on stdout and exits 0, --version prints "TOOL VERSION",
# an unknown option is one line on stderr and exit 64; and each tool has a
# man page whose SYNOPSIS options its usage lists. pixelpass too, and
# --help after a subcommand (pp-tunnel check --help is not a ticket). No
# man page's example needs XDG_RUNTIME_DIR set.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/man-lib.sh"
TOOLS="pp-capture pp-encode pp-fanout pp-tunnel pp-bridge pp-repair pp-view pp-config pp-publish pp-fetch"
BENCH="pp-latency pp-bench"
need $TOOLS pixelpass
SUBCOMMANDS=("pp-fanout serve" "pp-fanout attach" "pp-tunnel listen" "pp-tunnel connect"
    "pp-tunnel check" "pp-config get" "pp-config set" "pixelpass host")
plan $((10 * 10 + 2 * 4 + 2 * 2 + 2 * 2 + 2 + 2 + 2 * ${#SUBCOMMANDS[@]} + 1))

# usage_ok TOOL ARGS...: TOOL ARGS prints the usage on stdout, nothing on
# stderr, and exits 0.
usage_ok() {
	local tool=$1 rc
	shift
	"$tool" "$@" > "$TEST_TMP/out" 2> "$TEST_TMP/err" < /dev/null
	rc=$?
	is "$rc $(wc -c < "$TEST_TMP/err")" "0 0" "$tool $*: exit 0, nothing on stderr"
	like "$(head -1 "$TEST_TMP/out")" "^usage: $tool " "$tool $*: the usage on stdout"
}

# bad_option TOOL ARGS...: exit 64, one line on stderr naming the option.
bad_option() {
	local tool=$1 rc
	shift
	"$tool" "$@" > "$TEST_TMP/out" 2> "$TEST_TMP/err" < /dev/null
	rc=$?
	is "$rc $(wc -l < "$TEST_TMP/err") $(wc -c < "$TEST_TMP/out")" "64 1 0" \
	    "$tool $*: exit 64, one line on stderr, nothing on stdout"
	like "$(cat "$TEST_TMP/err")" "^$tool: --no-such-option: unknown option" "...naming it"
}

version_ok() {
	local tool=$1 out
	out=$("$tool" --version 2> "$TEST_TMP/err" < /dev/null)
	is "$? $out $(wc -c < "$TEST_TMP/err")" "0 $tool ${out#"$tool "} 0" "$tool --version: exit 0, quietly"
	like "$out" "^$tool [0-9]+\.[0-9]+(\.[0-9]+)?$" "...prints \"$tool X.Y\" ($out)"
}

man_names_help() { [ -f "$1" ] && grep -q 'Fl \\-help' "$1" && grep -q 'Fl \\-version' "$1"; }
# man_ok TOOL: its man page exists, names --help and --version, and its
# SYNOPSIS has no option that TOOL --help leaves out.
man_ok() {
	local t=$1 man=$top_srcdir/man/$1.1 o missing=
	ok "$t(1) exists and names --help and --version" man_names_help "$man"
	# The options of the SYNOPSIS: the word after each Fl, its escapes gone.
	"$t" --help > "$TEST_TMP/help" 2>&1
	for o in $(sed -n '/^\.Sh SYNOPSIS/,/^\.Sh /p' "$man" |
	    grep -o 'Fl [^ ]*' | cut -c4- | tr -d '\\'); do
		case $o in -|--) continue ;; esac
		grep -q -- "-$o\\b" "$TEST_TMP/help" || missing="$missing -$o"
	done
	is "$missing" "" "$t --help lists every option of its man page's SYNOPSIS"
}
for t in $TOOLS; do
	usage_ok "$t" --help
	usage_ok "$t" -h
	version_ok "$t"
	bad_option "$t" --no-such-option
	man_ok "$t"
done
bad_option pp-fanout serve --no-such-option
bad_option pp-tunnel connect --no-such-option

# pixelpass: its unknown option is answered with the whole usage.
usage_ok pixelpass --help
usage_ok pixelpass -h
version_ok pixelpass
man_ok pixelpass
for c in "${SUBCOMMANDS[@]}"; do
	# shellcheck disable=SC2086 # the tool and its subcommand
	usage_ok $c --help
done

for t in $BENCH; do
	PATH=$top_builddir/bench:$PATH usage_ok "$t" --help
	PATH=$top_builddir/bench:$PATH version_ok "$t"
done

# An example that names $XDG_RUNTIME_DIR gives it a default: a session
# without it would make "$XDG_RUNTIME_DIR/x.sock" a file in /.
bare=
for man in "$top_srcdir"/man/*.1; do
	page=${man##*/}
	while IFS= read -r -d '' cmd; do
		# shellcheck disable=SC2016 # the text of the example
		case $cmd in *'$XDG_RUNTIME_DIR'* | *'${XDG_RUNTIME_DIR}'*) bare="$bare ${page%.1}"; break ;; esac
	done < <(man_examples "${page%.1}")
done
is "$bare" "" "every man page's example that names XDG_RUNTIME_DIR works without it (\${XDG_RUNTIME_DIR:-/tmp})"
