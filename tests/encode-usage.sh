#!/bin/bash
# pp-encode refuses what it cannot do with one line and the right status:
# 69 for an encoder that does not exist or does not work here (naming the
# ones that do), 64 for bad option and environment values.
. "$top_srcdir/tests/libtest.sh"
need pp-encode
plan 36

# fails STATUS REGEX DESC -- ARGS...: pp-encode ARGS exits STATUS, printing
# one line on stderr that matches REGEX, and nothing on stdout.
fails() {
	local want=$1 re=$2 desc=$3 rc out
	shift 4
	out=$(pp-encode "$@" 2>"$TEST_TMP/err" </dev/null)
	rc=$?
	is "$rc $(wc -l <"$TEST_TMP/err") ${#out}" "$want 1 0" "$desc: exit $want, one line, no output"
	like "$(cat "$TEST_TMP/err")" "^pp-encode: .*$re" "$desc: says why"
}

unset DISPLAY PP_SOURCE PP_DISPLAY

list=$(pp-encode --list-encoders 2>/dev/null)
is "$?" 0 "--list-encoders exits 0"
like "$list" '^x264enc +works$' "--list-encoders: x264enc works"
like "$list" 'vaapih264enc +(works|unusable: .+)' "--list-encoders: vaapih264enc works or says why not"
is "$(printf '%s\n' "$list" | wc -l)" 6 "--list-encoders: the six encoders, one a line"

fails 69 'unknown encoder nosuch; working encoders here: .*x264enc' \
    "--encoder nosuch" -- --source test --encoder nosuch
if ! printf '%s\n' "$list" | grep -q '^vah264enc  *works'; then
	fails 69 'encoder vah264enc is not usable here \(.+\); working encoders here: .*x264enc' \
	    "--encoder vah264enc without a VA-API device" -- --source test --encoder vah264enc
else
	skip "--encoder vah264enc without a VA-API device: exit 69, one line, no output" "vah264enc works here"
	skip "--encoder vah264enc without a VA-API device: says why" "vah264enc works here"
fi

fails 64 '--fps 0: too small' "--fps 0" -- --source test --fps 0
fails 64 '--bitrate x: invalid' "--bitrate x" -- --source test --bitrate x
fails 64 '--max-size 12: expected WIDTHxHEIGHT' "--max-size 12" -- --source test --max-size 12
fails 64 '--source vnc: expected test, x11 or pipewire' "--source vnc" -- --source vnc
PP_CURSOR=shown fails 64 "PP_CURSOR shown: expected embedded or hidden" "PP_CURSOR=shown" -- --source test
fails 64 'no source: pass --source' "no source, no display" --
fails 64 '--tone works with --source test only' "--tone with x11" -- --source x11 --display :0 --tone 300
fails 64 '--max-size 640x99999: a side is too large' "--max-size 640x99999" -- --source test --max-size 640x99999
fails 64 '--window-id zz: expected a window id' "--window-id zz" -- --source x11 --display :0 --window-id zz
fails 64 '--pipewire-fd 77: not an open file descriptor' "--pipewire-fd 77 (closed)" -- --source pipewire --pipewire-fd 77
fails 69 'cannot open X display :9473' "an X display that is not there" -- --source x11 --display :9473 --no-audio
exec 5</dev/null
fails 69 'video-source: .*; check the PipeWire fd \(--pipewire-fd\) and node \(--node\)$' "a PipeWire fd that is no PipeWire" -- --source pipewire --pipewire-fd 5 --no-audio -o /dev/null
exec 5<&-
fails 64 '--no-audio contradicts' "--no-audio --mic" -- --source x11 --display :0 --no-audio --mic
fails 73 "cannot create $TEST_TMP/nodir/x.ts: No such file or directory; check" \
    "-o in a directory that does not exist" -- --source test --no-audio \
    -o "$TEST_TMP/nodir/x.ts"
