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

# absent OFFERED OPTION...: the OPTIONs that are not words of OFFERED.
absent() {
	local got=" $(tr -s ' \t\n' '   ' <<< "$1") " o out=
	shift
	for o in "$@"; do
		case $got in *" $o "*) ;; *) out="$out $o" ;; esac
	done
	printf '%s' "${out# }"
}

# every_option_offered WHO MISSING: one check per tool that every option
# of each synopsis of its --help is offered after the tool (and its
# subcommand, if the synopsis has one) and "-", then one for pixelpass,
# whose --help lists its options by mode. MISSING "WORDS" OPTION... prints
# the OPTIONs that completing WORDS followed by "-" does not offer; WHO
# names the completion in the checks' words.
every_option_offered() {
	local t bad n m sub before after all host
	for t in $TOOLS; do
		bad=
		n=0
		while IFS='|' read -r sub before after; do
			n=$((n + 1))
			# shellcheck disable=SC2086 # the option lists are meant to split
			m=$("$2" "$t" $before)
			[ -n "$m" ] && bad="$bad [$t -: $m]"
			if [ -n "$sub" ]; then
				# shellcheck disable=SC2086
				m=$("$2" "$t $sub" $after)
				[ -n "$m" ] && bad="$bad [$t $sub -: $m]"
			fi
		done < <(help_entries "$t")
		is "$n${bad:+ $bad}" "$("$t" --help | grep -c "^\(usage: \|  *\)$t")" \
		    "$t: $1 offers every option of each synopsis of its --help"
	done
	all=$(pixelpass --help | grep -o -- '--[a-z][a-z-]*' | sort -u)
	host=$(pixelpass --help | sed -n '/^Host:/,/^View:/p;/^Both:/p' | grep -v '^View:' |
	    grep -o -- '--[a-z][a-z-]*' | sort -u)
	# shellcheck disable=SC2086
	is "$("$2" pixelpass $all)/$("$2" "pixelpass host" $host)" "/" \
	    "pixelpass: $1 offers every option of its --help, and the host's after host"
}
