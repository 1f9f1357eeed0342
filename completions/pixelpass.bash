# bash completion for pixelpass and the pp-* tools.
#
# One file for all of them: it is installed as "pixelpass" in
# bash-completion's completions directory, and each pp-* name there is a
# link to it, so that bash-completion's loader, which looks a command's
# completion up by its name, finds them all. The options are those of each
# tool's --help (tests/completion.sh holds the two to each other).

# _pp_list WORDS: completes the current word from WORDS.
_pp_list() {
	COMPREPLY=($(compgen -W "$1" -- "$cur"))
}

# _pp_sub SUBCOMMANDS: prints the first of SUBCOMMANDS among the words
# before the current one, or nothing.
_pp_sub() {
	local w
	for w in "${words[@]:1:cword-1}"; do
		case " $1 " in *" $w "*) printf '%s' "$w"; return ;; esac
	done
}

# _pp_dashdash: when a "--" comes before the current word, completes the
# command after it (as bash completes the command of sudo) and succeeds.
_pp_dashdash() {
	local i
	for ((i = 1; i < cword; i++)); do
		if [[ ${words[i]} == -- ]]; then
			_command_offset $((i + 1))
			return 0
		fi
	done
	return 1
}

# _pp_value OPTION [FILE-OPTIONS]: completes the argument of OPTION when it
# takes one: a file for the options in FILE-OPTIONS, nothing for a number
# or a free-form name (the option is left to the user). Fails when OPTION
# takes no argument.
_pp_value() {
	case " ${2-} " in *" $1 "*) _filedir; return 0 ;; esac
	case $1 in
	--cursor) _pp_list "embedded hidden" ;;
	--status-fd | --pipewire-fd) _pp_list "3 4 5 6 7 8 9" ;;
	--rendezvous | --stun | --turn) _pp_list "none" ;;
	--port | --linger | --max-lag | --drop-after | --max-viewers | --timeout | \
	--bitrate | --fps | --keyint | --max-size | --tone | --display | \
	--window-id | --node | --audio-device | --app | --player-args | \
	--title | --socket | --ticket-file | --rendezvous-ca | --turn-ca | \
	--file | --record | -o | --encoder | --decoder | --sink | --layer | \
	--publish | --passphrase | --streamid)
		COMPREPLY=() ;;
	*) return 1 ;;
	esac
	return 0
}

_pp_capture() {
	local cur prev words cword split
	_init_completion -s || return
	_pp_dashdash && return
	case $prev in
	--source) _pp_list "portal x11 test"; return ;;
	--app)
		# The applications playing sound now, one a line, as pp-capture
		# lists them (a name may have spaces).
		local IFS=$'\n'
		COMPREPLY=($(compgen -W "$(timeout 2 pp-capture --list-apps 2> /dev/null)" -- "$cur"))
		return ;;
	esac
	_pp_value "$prev" && return
	[[ $cur == -* ]] && _pp_list "--source --window --window-id --cursor --app
	    --mic --no-audio --select-only --status-fd --verbose --list-apps --help
	    --version --"
}

_pp_encode() {
	local cur prev words cword split
	_init_completion -s || return
	case $prev in
	--source) _pp_list "test x11 pipewire"; return ;;
	--layers) _pp_list "1 2"; return ;;
	--encoder)
		_pp_list "vah264enc vaapih264enc nvh264enc v4l2h264enc x264enc openh264enc"
		return ;;
	esac
	_pp_value "$prev" "-o" && return
	[[ $cur == -* ]] && _pp_list "-v -o --source --bitrate --fps --keyint
	    --max-size --encoder --tone --display --window-id --cursor
	    --pipewire-fd --node --audio-device --no-audio --mic --list-encoders
	    --layers --status-fd --help --version"
}

_pp_fanout() {
	local cur prev words cword split sub
	_init_completion -s || return
	_pp_dashdash && return
	_pp_value "$prev" "--socket" && return
	sub=$(_pp_sub "serve attach")
	case $sub in
	serve)
		[[ $cur == -* ]] && _pp_list "--socket --linger --max-lag --drop-after
		    --no-keyframe-signal --status-fd --" ;;
	attach)
		[[ $cur == -* ]] && _pp_list "--socket --layer" ;;
	*)
		if [[ $cur == -* ]]; then
			_pp_list "--help --version"
		else
			_pp_list "serve attach"
		fi ;;
	esac
}

_pp_tunnel() {
	local cur prev words cword split sub
	_init_completion -s || return
	_pp_dashdash && return
	_pp_value "$prev" "--ticket-file --rendezvous-ca --turn-ca" && return
	sub=$(_pp_sub "listen connect check")
	case $sub in
	listen)
		[[ $cur == -* ]] && _pp_list "--max-viewers --port --ticket-file
		    --rendezvous --rendezvous-ca --stun --turn --turn-ca --status-fd
		    --" ;;
	connect)
		[[ $cur == -* ]] && _pp_list "--timeout --rendezvous --rendezvous-ca
		    --stun --turn --turn-ca --status-fd" ;;
	check) ;;
	*)
		if [[ $cur == -* ]]; then
			_pp_list "--help --version"
		else
			_pp_list "listen connect check"
		fi ;;
	esac
}

_pp_bridge() {
	local cur prev words cword split
	_init_completion -s || return
	case $prev in
	--player) _pp_list "auto mpv vlc none"; return ;;
	esac
	_pp_value "$prev" && return
	[[ $cur == -* ]] && _pp_list "--port --player --player-args --max-lag
	    --status-fd --check --help --version"
}

_pp_repair() {
	local cur prev words cword split
	_init_completion -s || return
	[[ $cur == -* ]] && _pp_list "--dry-run --all --verbose --help --version"
}

_pp_view() {
	local cur prev words cword split
	_init_completion -s || return
	case $prev in
	--decoder)
		_pp_list "vah264dec vaapih264dec nvh264dec v4l2h264dec avdec_h264 openh264dec"
		return ;;
	--sink) _pp_list "xvimagesink ximagesink waylandsink autovideosink"; return ;;
	esac
	_pp_value "$prev" && return
	if [[ $cur == -* ]]; then
		_pp_list "--stats --no-audio --fullscreen --title --decoder --sink
		    --check --help --version -"
	else
		_filedir ts
	fi
}

_pp_config() {
	local cur prev words cword split sub keys
	_init_completion -s || return
	_pp_value "$prev" "--file" && return
	keys="bandwidth.status bandwidth.upstream_mbps bandwidth.measured_at
	    bandwidth.test_url network.rendezvous network.stun network.turn
	    network.turn_ca"
	sub=$(_pp_sub "get set unset check dump")
	case $sub in
	get | unset) _pp_list "$keys" ;;
	set)
		# Keys and values alternate after "set".
		local i n=0
		for ((i = cword - 1; i > 0; i--)); do
			[[ ${words[i]} == set ]] && break
			n=$((n + 1))
		done
		if ((n % 2 == 0)); then
			_pp_list "$keys"
		else
			case $prev in
			bandwidth.status) _pp_list "measured skipped failed unmeasured" ;;
			network.rendezvous | network.stun | network.turn) _pp_list "none" ;;
			network.turn_ca) _filedir ;;
			esac
		fi ;;
	check | dump) ;;
	*)
		if [[ $cur == -* ]]; then
			_pp_list "--file --help --version"
		else
			_pp_list "get set unset check dump"
		fi ;;
	esac
}

# pp-publish and pp-fetch: the same options; URLs of the SCHEMES.
_pp_media() {
	local cur prev words cword split
	_init_completion -s || return
	_pp_value "$prev" "--ca-file" && return
	if [[ $cur == -* ]]; then
		_pp_list "--passphrase --streamid --ca-file --status-fd --verbose
		    --help --version"
	else
		_pp_list "$1"
		compopt -o nospace 2> /dev/null
	fi
}
_pp_publish() { _pp_media "rtmp:// rtmps:// srt://"; }
_pp_fetch() { _pp_media "rtmp:// rtmps:// srt:// http:// https://"; }

_pixelpass() {
	local cur prev words cword split host both
	_init_completion -s || return
	case $prev in
	--source) _pp_list "portal x11 test"; return ;;
	--player) _pp_list "pp-view mpv vlc none"; return ;;
	--layers) _pp_list "1 2"; return ;;
	esac
	_pp_value "$prev" "--record" && return
	host="--max-viewers --bitrate --fps --layers --source --window --app --mic
	    --no-audio --measure --reconfigure --publish"
	both="--rendezvous --stun --turn"
	if [[ $cur == -* ]]; then
		if [[ -n $(_pp_sub host) ]]; then
			_pp_list "$host $both"
		else
			_pp_list "$host $both --player --player-args --record --repair
			    --help --version"
		fi
	elif [[ -z $(_pp_sub host) ]]; then
		_pp_list "host"
	fi
}

complete -F _pixelpass pixelpass
complete -F _pp_capture pp-capture
complete -F _pp_encode pp-encode
complete -F _pp_fanout pp-fanout
complete -F _pp_tunnel pp-tunnel
complete -F _pp_bridge pp-bridge
complete -F _pp_repair pp-repair
complete -F _pp_view pp-view
complete -F _pp_config pp-config
complete -F _pp_publish pp-publish
complete -F _pp_fetch pp-fetch
