#!/bin/bash
# The zsh completions (completions/_pixelpass) as a zsh user meets them:
# an interactive zsh in tmux, compinit with the file on its fpath, a line
# typed and Tab pressed, and what zsh lists or inserts read off the
# screen. Every option of each synopsis of each tool's --help is listed
# after its subcommand and "-", as tests/completion.sh holds the bash ones; then
# subcommands, enumerated values, files, and the command after "--".
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/completion-lib.sh"
need $TOOLS pixelpass zsh tmux
plan $((10 + 1 + 11))

export ZDOTDIR=$TEST_TMP/zdot
mkdir -p "$ZDOTDIR" "$TEST_TMP/d"
: > "$TEST_TMP/d/talk.ts" && : > "$TEST_TMP/d/tick.txt"
cat > "$ZDOTDIR/.zshrc" <<EOF
fpath=("$top_srcdir/completions" \$fpath)
autoload -Uz compinit && compinit -u -d "$TEST_TMP/zcompdump"
PS1='zsh%% '
LISTMAX=10000
unsetopt beep
cd "$TEST_TMP/d"
EOF
zt() { tmux -S "$TEST_TMP/tmux.sock" -f /dev/null "$@"; }
zt new-session -d -x 250 -y 120 "PATH='$PATH' zsh -i" || bail "tmux does not start"
at_exit 'zt kill-server 2> /dev/null'
screen() { zt capture-pane -p -J | sed 's/ *$//'; }
wait_for 10 sh -c "tmux -S '$TEST_TMP/tmux.sock' capture-pane -p | grep -q '^zsh%'" ||
	bail "zsh shows no prompt: $(screen | grep . | tail -n 3)"

# completes LINE [TABS]: types LINE, presses Tab (TABS times, waiting for
# the screen to settle after each), prints the screen (the line as
# completed, then any list), and clears it. A second Tab lists what the
# first one only extended to a common prefix ("-" to "--").
completes() {
	local before now tries tab
	zt send-keys C-u C-l
	wait_for 5 sh -c "[ \"\$(tmux -S '$TEST_TMP/tmux.sock' capture-pane -p | grep -c .)\" = 1 ]"
	zt send-keys -l "$1"
	now=$(screen)
	for tab in $(seq "${2:-1}"); do
		zt send-keys Tab
		# Until the screen changes (2 s at most: Tab may change nothing),
		# then until it stays as it is for 0.2 s.
		before=$now tries=10
		while [ "$tries" -gt 0 ] && [ "$now" = "$before" ]; do
			sleep 0.2
			now=$(screen)
			tries=$((tries - 1))
		done
		before= tries=50
		while [ "$tries" -gt 0 ] && [ "$now" != "$before" ]; do
			before=$now
			sleep 0.2
			now=$(screen)
			tries=$((tries - 1))
		done
	done
	printf '%s\n' "$now" | grep .
	zt send-keys C-c
}

# missing WORDS OPTION...: the OPTIONs that zsh does not list for WORDS
# and "-".
missing() {
	local words=$1
	shift
	absent "$(completes "$words -" 2 | tail -n +2)" "$@"
}

every_option_offered "zsh's completion" missing

first() { completes "$1" | head -n 1; }
# list LINE [TABS]: what zsh lists, sorted: the first word of a line that
# describes it ("WORD -- what it is"), every word of one that does not.
list() {
	completes "$1" "${2:-1}" | tail -n +2 |
		awk '/ -- / { print $1; next } { for (i = 1; i <= NF; i++) print $i }' |
		sort | tr '\n' ' '
}
like "$(list 'pp-tunnel ')" 'check connect listen' "pp-tunnel: its subcommands, described"
like "$(completes 'pp-tunnel ')" 'listen +-- host: run a command for each viewer' "...with what each does"
is "$(list 'pixelpass --player ')" "mpv none pp-view vlc " "pixelpass --player: pp-view mpv vlc none"
is "$(first 'pixelpass --source=t')" "zsh% pixelpass --source=test" "pixelpass --source=t: test"
host=$(list 'pixelpass host -' 2)
like "$host" '--bitrate' "pixelpass host -: the host's options"
unlike "$host" '--player|--record' "...not the viewer's"
is "$(list 'pp-config set bandwidth.status ')" "failed measured skipped unmeasured " \
    "pp-config set bandwidth.status: its values"
is "$(first 'pp-tunnel listen --ticket-file ti')" "zsh% pp-tunnel listen --ticket-file tick.txt" \
    "pp-tunnel listen --ticket-file: a file"
is "$(first 'pp-encode --bitrate ')" "zsh% pp-encode --bitrate" "pp-encode --bitrate: no guess at a number"
is "$(first 'pp-fanout serve --socket s -- pp-enc')" "zsh% pp-fanout serve --socket s -- pp-encode" \
    "pp-fanout serve ... --: a command"
is "$(list 'pp-fetch ')" "http:// https:// rtmp:// rtmps:// srt:// " "pp-fetch: the URL schemes it reads"
