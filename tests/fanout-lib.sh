# Helpers of the pp-fanout and pp-bridge tests (sourced after libtest.sh).

# make_producer FILE: a live test pattern with a 440 Hz tone, H.264 and
# AAC in MPEG-TS on stdout, a keyframe every second. Environment: KBPS
# (video bitrate), PATTERN (videotestsrc pattern), COPY (a file that gets
# a copy of the stream), SECONDS_LEFT (ends the stream after that many
# seconds). gst-launch-1.0 would die of the fanout's SIGUSR1: ignored,
# unless DEFAULT_USR1 is set.
make_producer() {
	cat > "$1" <<'EOF'
#!/bin/sh
[ -n "${DEFAULT_USR1:-}" ] || trap '' USR1
n=-1 na=-1
if [ -n "${SECONDS_LEFT:-}" ]; then
	n=$((SECONDS_LEFT * 30)) na=$((SECONDS_LEFT * 44100 / 1024))
fi
set -- videotestsrc is-live=true num-buffers=$n pattern=${PATTERN:-ball} ! \
	video/x-raw,width=320,height=240,framerate=30/1 ! \
	x264enc tune=zerolatency speed-preset=ultrafast bitrate=${KBPS:-600} key-int-max=30 ! \
	h264parse config-interval=-1 ! mpegtsmux name=m ! fdsink \
	audiotestsrc is-live=true num-buffers=$na freq=440 ! audioconvert ! \
	avenc_aac ! aacparse ! m.
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


# psi_first FILE: the first packet is a PAT, the second the PMT it names.
psi_first() {
	python3 - "$1" <<'EOF'
import sys
d = open(sys.argv[1], 'rb').read(2 * 188)
def pid(p): return ((p[1] & 0x1f) << 8) | p[2]
def payload(p): return p[5 + p[4]:] if p[3] & 0x20 else p[4:]
if len(d) < 376 or d[0] != 0x47 or d[188] != 0x47 or pid(d) != 0:
    sys.exit("no PAT first")
pl = payload(d[:188])
sec = pl[1 + pl[0]:]
pmt = ((sec[10] & 0x1f) << 8) | sec[11]
if pid(d[188:]) != pmt:
    sys.exit("the second packet (PID %d) is not the PMT (PID %d)" % (pid(d[188:]), pmt))
EOF
}

# starts_clean FILE: PAT first, then PMT, the first video frame a
# keyframe, and the first 15 frames decode with no error at all.
starts_clean() {
	local f=$1 errs key why
	why=$(psi_first "$f" 2>&1) || { diag "$f: $why"; return 1; }
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
