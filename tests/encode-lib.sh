# Helpers shared by the pp-encode tests (sourced after libtest.sh).

# encode_for SECS OUT ERR [SIGNAL] -- ARGS...: runs pp-encode ARGS with its
# stdout in OUT and stderr in ERR, lets it stream for SECS seconds after
# its start line, stops it with SIGNAL (default TERM) and returns its exit
# status.
encode_for() {
	local secs=$1 out=$2 errf=$3 sig=TERM pid rc
	shift 3
	if [ "$1" != "--" ]; then
		sig=$1
		shift
	fi
	shift
	pp-encode "$@" >"$out" 2>"$errf" &
	pid=$!
	track_pid "$pid"
	# SECS of stream: counted from the start line, as starting may take
	# long on a loaded machine (or one whose GStreamer registry is new).
	wait_for 60 eval 'grep -q "^pp-encode: source" "$errf" || ! kill -0 $pid 2>/dev/null'
	sleep "$secs"
	kill -"$sig" "$pid" 2>/dev/null
	# Bounded: pp-encode gives up draining after 5 s itself.
	wait_gone "$pid" 10
	wait "$pid"
	rc=$?
	return "$rc"
}

# ffprobe lists each stream twice (in its program and on its own): the
# first line per stream index is kept.
_streams_once() {
	awk -F, 'NF > 1 && !seen[$1]++'
}

# streams FILE: the codec names of its streams, in order, on one line,
# but for pp-encode's host clock (a KLV data stream, pp-encode(1)), which
# every stream of pp-encode has: clock_packets looks at that one.
streams() {
	ffprobe -v error -show_entries stream=index,codec_name -of csv=p=0 \
	    "$1" | _streams_once | cut -d, -f2 | grep -vx klv | tr '\n' ' ' |
	    sed 's/ $//'
}

# clock_packets FILE: "PTS_SECONDS WALL_MICROSECONDS" of each of the host
# clock's packets (the KLV layout of pp-encode(1)), in stream order.
clock_packets() {
	ffprobe -v error -select_streams d -show_packets -show_data -of json \
	    "$1" | python3 -c '
import json, sys
for p in json.load(sys.stdin).get("packets", []):
    hexd = "".join(w for line in p.get("data", "").splitlines()
                   if ":" in line
                   for w in line.split(":", 1)[1].split("  ")[0].split())
    b = bytes.fromhex(hexd)
    if b[:16] == b"pixelpass clock\x01" and b[16] == 8 and len(b) >= 25:
        print(p["pts_time"], int.from_bytes(b[17:25], "big", signed=True))'
}

# video_info FILE: "WIDTHxHEIGHT RATE" of the first video stream. RATE is
# the frame rate its H.264 SPS declares (VUI timing, what players go by),
# e.g. 30/1, followed by " (avg N/D)" when the rate the frames actually
# came at is more than 10% off it. Not ffprobe's r_frame_rate: that is a
# guess from the timestamps of the first frames, and on a loaded machine
# it once said 240/1 for a stream whose SPS said 30.
video_info() {
	local size rate avg
	size=$(ffprobe -v error -select_streams v:0 \
	    -show_entries stream=index,width,height -of csv=p=0 "$1" |
	    _streams_once | awk -F, '{ print $2 "x" $3 }')
	avg=$(ffprobe -v error -select_streams v:0 \
	    -show_entries stream=index,avg_frame_rate -of csv=p=0 "$1" |
	    _streams_once | cut -d, -f2)
	rate=$(sps_rate "$1")
	awk -v s="$size" -v r="${rate:-none}" -v a="${avg:-0/0}" 'BEGIN {
		split(r, rr, "/"); split(a, aa, "/")
		ok = rr[2] > 0 && aa[2] > 0
		if (ok) { want = rr[1] / rr[2]; got = aa[1] / aa[2]
			ok = got > want * 0.9 && got < want * 1.1 }
		printf "%s %s%s\n", s, r, ok ? "" : " (avg " a ")" }'
}

# sps_rate FILE: the frame rate the first SPS of its H.264 stream declares
# (time_scale / 2 num_units_in_tick) as N/D, nothing when it declares none.
sps_rate() {
	ffmpeg -nostdin -v trace -i "$1" -map 0:v:0 -c copy \
	    -bsf:v trace_headers -frames:v 1 -f null - 2>&1 |
	awk '/ num_units_in_tick / { n = $NF } / time_scale / { t = $NF }
	    / fixed_frame_rate_flag / && n > 0 && t > 0 {
		d = 2 * n; a = t; b = d
		while (b) { c = a % b; a = b; b = c }
		print t / a "/" d / a; exit }'
}

# stream_duration FILE a|v: the duration in seconds of its first audio or
# video stream.
stream_duration() {
	ffprobe -v error -select_streams "$2:0" \
	    -show_entries stream=index,duration -of csv=p=0 "$1" |
	    _streams_once | cut -d, -f2
}

# decode_errors FILE: what ffmpeg says while decoding every frame
# (nothing when the stream is clean).
decode_errors() {
	ffmpeg -nostdin -v error -i "$1" -f null - 2>&1
}

# cc_jumps FILE: the packets whose continuity counter jumps, as ffmpeg's
# demuxer reports them (nothing when no packet was lost or cut out).
cc_jumps() {
	ffmpeg -nostdin -v debug -i "$1" -f null - 2>&1 |
	    grep -o 'Continuity check failed for pid [0-9]* expected [0-9]* got [0-9]*'
}

# video_frames FILE: how many video frames decode.
video_frames() {
	ffprobe -v error -count_frames -select_streams v:0 \
	    -show_entries stream=index,nb_read_frames -of csv=p=0 "$1" |
	    _streams_once | cut -d, -f2
}

# tone FILE: "FREQ RMS SPREAD" of its audio (see tests/tonefreq.py).
tone() {
	ffmpeg -nostdin -v error -i "$1" -map 0:a:0 -ac 1 -ar 48000 \
	    -f s16le - | python3 "$top_srcdir/tests/tonefreq.py" 48000
}

# near GOT WANT TOLERANCE: |GOT - WANT| <= TOLERANCE (decimals allowed).
near() {
	awk -v g="$1" -v w="$2" -v t="$3" \
	    'BEGIN { d = g - w; if (d < 0) d = -d; exit !(d <= t) }'
}

# keyframes FILE: the presentation times of its video keyframes, one a line.
keyframes() {
	ffprobe -v error -select_streams v:0 -show_entries frame=key_frame,pts_time \
	    -of csv=p=0 "$1" | awk -F, '$1 == 1 { print $2 }'
}

# nal_counts FILE: "SPS IDR" — how many sequence parameter sets and IDR
# slices (first slice of each picture) its H.264 stream holds.
nal_counts() {
	ffmpeg -nostdin -v error -i "$1" -map 0:v:0 -c copy -f h264 - |
	python3 -c '
import re, sys
data = sys.stdin.buffer.read()
sps = idr = 0
for m in re.finditer(b"\x00\x00\x01", data):
    i = m.end()
    if i + 1 >= len(data):
        break
    t = data[i] & 0x1f
    if t == 7:
        sps += 1
    elif t == 5 and data[i + 1] & 0x80:  # first_mb_in_slice == 0
        idr += 1
print(sps, idr)'
}

# start_audio_server: PipeWire, WirePlumber and pipewire-pulse on a private
# D-Bus session, all in $TEST_TMP (call private_xdg first); sets
# PULSE_SERVER and waits until the server answers.
start_audio_server() {
	export DBUS_SESSION_BUS_ADDRESS="unix:path=$XDG_RUNTIME_DIR/bus"
	export PULSE_SERVER="unix:$XDG_RUNTIME_DIR/pulse/native"
	unset PIPEWIRE_REMOTE
	dbus-daemon --session --address="$DBUS_SESSION_BUS_ADDRESS" --nofork \
	    --nopidfile >"$TEST_TMP/dbus.log" 2>&1 &
	track_pid $!
	wait_for 10 test -S "$XDG_RUNTIME_DIR/bus" || bail "dbus-daemon did not start"
	pipewire >"$TEST_TMP/pipewire.log" 2>&1 &
	track_pid $!
	wait_for 10 test -S "$XDG_RUNTIME_DIR/pipewire-0" || bail "pipewire did not start"
	wireplumber >"$TEST_TMP/wireplumber.log" 2>&1 &
	track_pid $!
	pipewire-pulse >"$TEST_TMP/pipewire-pulse.log" 2>&1 &
	track_pid $!
	wait_for 10 eval 'pactl info >/dev/null 2>&1' || bail "pipewire-pulse does not answer"
}

# play_tone HZ SINK: a sine tone played into SINK until the test ends.
play_tone() {
	gst-launch-1.0 -q audiotestsrc is-live=true freq="$1" volume=0.5 ! \
	    pulsesink device="$2" client-name="tone-$1" \
	    >"$TEST_TMP/tone-$1.log" 2>&1 &
	track_pid $!
}
