# Helpers of the pp-fanout and pp-bridge tests (sourced after libtest.sh).

# make_producer FILE: a live test pattern with a 440 Hz tone, H.264 and
# AAC in MPEG-TS on stdout, a keyframe every second. Environment: KBPS
# (video bitrate), PATTERN (videotestsrc pattern), COPY (a file that gets
# a copy of the stream), SECONDS_LEFT (ends the stream after that many
# seconds). gst-launch-1.0 would die of the fanout's SIGUSR1: ignored.
make_producer() {
	cat > "$1" <<'EOF'
#!/bin/sh
trap '' USR1
n=-1
[ -n "${SECONDS_LEFT:-}" ] && n=$((SECONDS_LEFT * 30))
set -- videotestsrc is-live=true num-buffers=$n pattern=${PATTERN:-ball} ! \
	video/x-raw,width=320,height=240,framerate=30/1 ! \
	x264enc tune=zerolatency speed-preset=ultrafast bitrate=${KBPS:-600} key-int-max=30 ! \
	h264parse config-interval=-1 ! mpegtsmux name=m ! fdsink \
	audiotestsrc is-live=true freq=440 ! audioconvert ! avenc_aac ! aacparse ! m.
if [ -n "${COPY:-}" ]; then
	exec gst-launch-1.0 -q "$@" | tee "$COPY"
fi
exec gst-launch-1.0 -q "$@"
EOF
	chmod +x "$1"
}

# record_ts FILE SECONDS: a few seconds of that stream in a file.
record_ts() {
	gst-launch-1.0 -q videotestsrc num-buffers=$(($2 * 30)) pattern=ball ! \
		video/x-raw,width=320,height=240,framerate=30/1 ! \
		x264enc tune=zerolatency speed-preset=ultrafast bitrate=600 key-int-max=30 ! \
		h264parse config-interval=-1 ! mpegtsmux name=m ! filesink location="$1" \
		audiotestsrc num-buffers=$(($2 * 44100 / 1024)) freq=440 ! \
		audioconvert ! avenc_aac ! aacparse ! m.
}

# size FILE: its size in bytes (0 when missing).
size() { stat -c %s "$1" 2>/dev/null || echo 0; }

# grows FILE BYTES: true once FILE holds at least BYTES.
grows() { [ "$(size "$1")" -ge "$2" ]; }

# first_pid FILE: the PID of the first packet, in decimal.
first_pid() {
	od -An -tu1 -j1 -N2 "$1" | awk '{ print ($1 % 32) * 256 + $2 }'
}

# starts_clean FILE: PAT first, then PMT, the first video frame a
# keyframe, and the first 15 frames decode with no error at all.
starts_clean() {
	local f=$1 errs key
	[ "$(od -An -tx1 -N1 "$f" | tr -d ' ')" = 47 ] || { diag "$f: no sync byte"; return 1; }
	[ "$(first_pid "$f")" = 0 ] || { diag "$f: does not start with the PAT"; return 1; }
	key=$(ffprobe -v error -select_streams v:0 -show_entries frame=key_frame \
		-read_intervals %+#1 -of default=nw=1:nk=1 "$f" | head -1)
	[ "$key" = 1 ] || { diag "$f: first video frame is no keyframe ($key)"; return 1; }
	errs=$(ffmpeg -nostdin -v error -i "$f" -map 0:v:0 -frames:v 15 -f null - 2>&1)
	[ -z "$errs" ] || { diag "$f: $errs"; return 1; }
}

# producer_pids LOG: the PIDs of the producers the fanout started.
producer_pids() {
	sed -n 's/.*started the producer .* (pid \([0-9]*\)).*/\1/p' "$1"
}

alive() { kill -0 "$1" 2>/dev/null; }
dead() { ! kill -0 "$1" 2>/dev/null; }
