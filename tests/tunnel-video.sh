#!/bin/bash
# The video chain of pp-tunnel(1)'s EXAMPLES through the tunnel on this
# machine: pp-fanout serves pp-encode's test pattern, pp-tunnel listen
# runs pp-fanout attach per viewer. One viewer records what it gets: H.264
# and AAC, the first video frame a keyframe, every frame decodes with no
# error; another, at the same time, pipes it into ffprobe.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/tunnel-lib.sh"
. "$top_srcdir/tests/encode-lib.sh"
need pp-tunnel pp-fanout pp-encode ffprobe ffmpeg timeout
plan 12

# packets FILE v|a: how many packets of that stream the file holds.
packets() {
	ffprobe -v error -count_packets -select_streams "$2:0" \
	    -show_entries stream=nb_read_packets -of csv=p=0 "$1" | head -n 1
}

# decode_all_but_last FILE v|a: decodes every frame of that stream but
# the last, which a viewer that stopped reading cut short; prints ffmpeg's
# complaints (none when the stream is clean). One decoder thread: frame
# threads would decode ahead into that last, cut frame.
decode_all_but_last() {
	local n
	n=$(packets "$1" "$2")
	[ "${n:-0}" -ge 2 ] || { echo "only ${n:-0} $2 packets"; return; }
	ffmpeg -nostdin -v error -threads 1 -i "$1" -map "0:$2:0" -frames:"$2" $((n - 1)) -f null - 2>&1
}

export XDG_RUNTIME_DIR=$TEST_TMP
S=$TEST_TMP/screen.sock

# The man page's example, host side, as it is written there.
pp-fanout serve --socket $S -- pp-encode --source test 2> "$TEST_TMP/fanout.log" &
fanout=$!
track_pid "$fanout"
wait_for 10 test -S "$S" || bail "pp-fanout made no socket: $(cat "$TEST_TMP/fanout.log")"
tunnel_listen host --max-viewers 4 -- pp-fanout attach --socket $S

# Viewer two: `pp-tunnel connect TICKET | ffprobe -`, in the background.
(timeout 60 pp-tunnel connect "$tunnel_ticket" 2> "$TEST_TMP/probe.err" |
	timeout 60 ffprobe -v error -show_entries stream=index,codec_name -of csv=p=0 - \
	> "$TEST_TMP/probe.out" 2> "$TEST_TMP/probe.ffprobe"
	echo "${PIPESTATUS[*]}" > "$TEST_TMP/probe.rc") &
track_pid $!

# Viewer one records about 2 s of the stream (6 Mbit/s), a whole number
# of MPEG-TS packets, then stops reading.
timeout 60 pp-tunnel connect "$tunnel_ticket" 2> "$TEST_TMP/rec.err" |
	head -c $((188 * 10000)) > "$TEST_TMP/rec.ts"
is "${PIPESTATUS[0]} $(stat -c %s "$TEST_TMP/rec.ts")" "0 1880000" \
	"the recording viewer got 1.88 MB and exits 0 when its reader stops"
like "$(cat "$TEST_TMP/rec.err")" '^pp-tunnel: connected to .* \(path direct, IPv[46], RTT [0-9.]+ ms\)$' \
	"it says how it connected"
is "$(streams "$TEST_TMP/rec.ts")" "h264 aac" "the recording holds H.264 and AAC"
is "$(video_info "$TEST_TMP/rec.ts")" "1280x720 30/1" "1280x720 at 30 fps, as pp-encode makes it"
key=$(ffprobe -v error -select_streams v:0 -show_entries frame=key_frame,pict_type \
	-read_intervals %+#1 -of csv=p=0 "$TEST_TMP/rec.ts" | head -n 1)
like "$key" '^1,I' "the first video frame is a keyframe"
nv=$(packets "$TEST_TMP/rec.ts" v)
ok "it holds at least 30 video frames (${nv:-0})" test "${nv:-0}" -ge 30
is "$(decode_all_but_last "$TEST_TMP/rec.ts" v)" "" "every video frame decodes with no error"
is "$(decode_all_but_last "$TEST_TMP/rec.ts" a)" "" "every audio frame decodes with no error"

ok "the ffprobe viewer finished" wait_for 30 test -s "$TEST_TMP/probe.rc"
is "$(cat "$TEST_TMP/probe.rc")" "0 0" "pp-tunnel connect and ffprobe - both exit 0"
is "$(_streams_once < "$TEST_TMP/probe.out" | cut -d, -f2 | tr '\n' ' ')" "h264 aac klv " \
	"ffprobe - sees H.264, AAC and pp-encode's host clock through the tunnel"

wait_for 10 eval '[ "$(grep -c "left after" "$tunnel_log")" -ge 2 ]'
is "$(grep -c 'arrived' "$tunnel_log") $(grep -c 'left after' "$tunnel_log")" "2 2" \
	"the host logs both viewers arriving and leaving"
diag "$(grep -E 'joined|left|started' "$TEST_TMP/fanout.log" | tr '\n' ';')"
