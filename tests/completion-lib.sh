# Sourced by tests/completion.sh (bash) and tests/completion-zsh.sh:
# the tools, and the options each --help gives in each synopsis.
TOOLS="pp-capture pp-encode pp-fanout pp-tunnel pp-bridge pp-repair pp-view pp-config pp-publish pp-fetch"

# help_entries TOOL: TOOL --help's usage, one line per synopsis (its
# continuation lines joined), as "SUB|OPTIONS-BEFORE|OPTIONS-AFTER":
# SUB is the synopsis's subcommand (the first plain lowercase word outside
# brackets, before any "--"), empty when it has none.
help_entries() {
	"$1" --help | awk -v tool="$1" '
	function flush() { if (line != "") print line; line = "" }
	$1 == "usage:" && $2 == tool { flush(); sub(/^usage: /, ""); line = $0; next }
	$1 == tool { flush(); line = $0; next }
	{ line = line " " $0 }
	END { flush() }' | awk '{
		sub_ = ""; before = ""; after = ""; depth = 0; stop = 0
		for (i = 2; i <= NF; i++) {
			w = $i; o = w; gsub(/^\[+|\]+$/, "", o)
			if (w == "--" && depth == 0) stop = 1
			if (o ~ /^--?[a-zA-Z][a-zA-Z0-9-]*$/) {
				if (sub_ == "") before = before " " o; else after = after " " o
			} else if (!stop && depth == 0 && sub_ == "" && w ~ /^[a-z]+$/)
				sub_ = w
			n = gsub(/\[/, "[", w); m = gsub(/\]/, "]", w); depth += n - m
		}
		print sub_ "|" before "|" after
	}'
}
