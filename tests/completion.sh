#!/bin/bash
# The bash completions (completions/pixelpass.bash) under bash-completion:
# subcommands, enumerated values, files and the command after "--", each
# by simulating COMP_WORDS and COMP_CWORD as bash would set them; and every
# option that each tool's --help prints is offered by its completion in
# the context the usage gives it (after its subcommand, if any), so that
# the two cannot drift apart.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/completion-lib.sh"
need $TOOLS pixelpass
BASH_COMPLETION=${BASH_COMPLETION:-/usr/share/bash-completion/bash_completion}
if [ ! -r "$BASH_COMPLETION" ]; then
	[ -n "${PP_ALLOW_SKIP:-}" ] && { echo "1..0 # SKIP no bash-completion"; exit 0; }
	bail "no $BASH_COMPLETION (tools/install-deps.sh installs bash-completion)"
fi
. "$BASH_COMPLETION"
. "$top_srcdir/completions/pixelpass.bash"
plan $((11 + 30))

# complete_words WORD...: the completions bash would offer for the last
# WORD (which may be empty), one a line, sorted.
complete_words() {
	local spec fn
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	COMP_LINE="$*"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	spec=$(complete -p "$1" 2> /dev/null) || return 1
	fn=${spec#*-F }
	fn=${fn%% *}
	"$fn" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	printf '%s\n' "${COMPREPLY[@]}" | sort
}

# offered WORDS... : the completions as one line of words.
offered() { complete_words "$@" | tr '\n' ' ' | sed 's/ $//'; }

# missing_options "WORDS" OPTION...: the OPTIONs that completing WORDS
# followed by "-" does not offer.
missing_options() {
	local words=$1
	shift
	# shellcheck disable=SC2086 # WORDS is meant to split
	absent "$(offered $words -)" "$@"
}

every_option_offered "its completion" missing_options

# The assertions above would pass with a completion that offers nothing at
# all for no tool; these fail then.
is "$(offered pp-fanout '')" "attach serve" "pp-fanout: its subcommands"
is "$(offered pp-tunnel '')" "check connect listen" "pp-tunnel: its subcommands"
is "$(offered pp-config '')" "check dump get set unset" "pp-config: its subcommands"
is "$(offered pixelpass h)" "host" "pixelpass: host"
is "$(offered pixelpass host '')" "" "pixelpass host: nothing more but options (the ticket is the viewer's)"
like "$(offered pp-fanout serve -)" "--socket" "pp-fanout serve -: --socket"
unlike "$(offered pp-fanout attach -)" "--linger" "pp-fanout attach -: not serve's options"
unlike "$(offered pixelpass host -)" "--player|--record" "pixelpass host -: not the viewer's options"
like "$(offered pixelpass -)" "--player --player-args" "pixelpass -: the viewer's options too"

# Enumerated values.
is "$(offered pixelpass --source '')" "portal test x11" "pixelpass --source: portal x11 test"
is "$(offered pixelpass --player '')" "mpv none pp-view vlc" "pixelpass --player: pp-view mpv vlc none"
is "$(offered pixelpass --player m)" "mpv" "pixelpass --player m: mpv"
is "$(offered pixelpass --source=t)" "test" "pixelpass --source=t: test"
is "$(offered pp-capture --source '')" "portal test x11" "pp-capture --source: portal x11 test"
is "$(offered pp-capture --cursor '')" "embedded hidden" "pp-capture --cursor: embedded hidden"
is "$(offered pp-encode --source '')" "pipewire test x11" "pp-encode --source: test x11 pipewire"
is "$(offered pp-encode --encoder '')" "nvh264enc openh264enc v4l2h264enc vaapih264enc vah264enc x264enc" \
    "pp-encode --encoder: the encoders of pp-encode(1)"
is "$(offered pp-bridge --player '')" "auto mpv none vlc" "pp-bridge --player: auto mpv vlc none"
like "$(offered pp-view --decoder '')" "avdec_h264" "pp-view --decoder: the decoders of pp-view(1)"
is "$(offered pp-tunnel listen --stun '')" "none" "pp-tunnel listen --stun: none"
is "$(offered pp-config get bandwidth.u)" "bandwidth.upstream_mbps" "pp-config get: the keys"
is "$(offered pp-config set bandwidth.status '')" "failed measured skipped unmeasured" \
    "pp-config set bandwidth.status: its values"
is "$(offered pp-config set bandwidth.status failed net)" "network.rendezvous network.stun network.turn network.turn_ca" \
    "pp-config set KEY VALUE: a key again"
is "$(offered pp-encode --bitrate '')" "" "pp-encode --bitrate: no guess at a number"

# Files where an option takes one, and only there.
mkdir "$TEST_TMP/d" && : > "$TEST_TMP/d/talk.ts" && : > "$TEST_TMP/d/tick.txt"
cd "$TEST_TMP/d" || bail "cd $TEST_TMP/d"
is "$(offered pixelpass --record t)" "talk.ts tick.txt" "pixelpass --record: files"
is "$(offered pp-tunnel listen --ticket-file ti)" "tick.txt" "pp-tunnel listen --ticket-file: files"
is "$(offered pp-config --file ta)" "talk.ts" "pp-config --file: files"
is "$(offered pixelpass --app t)" "" "pixelpass --app: no files"

# The command after "--" is completed as a command, its options as its own.
# (_command_offset's compopt says it is not in a real completion: it is not.)
is "$(offered pp-fanout serve --socket s -- pp-enc 2> /dev/null)" "pp-encode" "pp-fanout serve ... --: a command"
is "$(offered pp-fanout serve --socket s -- pp-encode --sou 2> /dev/null)" "--source" \
    "pp-fanout serve ... -- pp-encode --sou: pp-encode's option"
