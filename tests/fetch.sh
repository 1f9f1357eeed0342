#!/bin/bash
# pp-fetch and `pixelpass URL` read back what pp-publish sent to real
# servers on loopback, started here: nginx with its RTMP module (RTMP and
# its HLS) and srt-live-transmit as an SRT relay with a passphrase on
# each side. The bytes are checked with ffprobe and ffmpeg, the picture
# in pp-view's window on an Xvfb of its own and in mpv's log (RTMP, and
# HLS, which pixelpass plays in mpv); the errors a viewer meets (a server
# that is down, a stream nobody publishes, a wrong passphrase, a URL
# pixelpass cannot play) by their one line and status. Costs about 100 s
# (2 shared cores), 10 of them the wait for a stream that never comes.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/encode-lib.sh"
. "$top_srcdir/tests/frontend-lib.sh"
. "$top_srcdir/tests/publish-lib.sh"
need pixelpass pp-fetch pp-publish pp-encode pp-view nginx srt-live-transmit ffprobe ffmpeg python3 Xvfb curl
need_nginx_modules
plan 46

private_xdg
cd "$TEST_TMP" || bail "no temp dir"
read -r RTMP HTTP SRTIN SRTOUT DEAD <<< "$(free_ports 5)"
KEY=goodkey4711
nginx_rtmp_block "$RTMP" "$HTTP" | nginx_rtmp_conf "$HTTP" "$KEY"
start_nginx "$RTMP"
RURL=rtmp://127.0.0.1:$RTMP/live/$KEY
SHOWN="rtmp://127\.0\.0\.1:$RTMP/live/\*\*\*"

# fetch_for SECS OUT ERR ARGS...: pp-fetch ARGS > OUT for SECS of stream,
# counted from its connected event and its first 50 kB (starting, HLS
# above all, may take seconds on a loaded machine), then SIGTERM; its
# status. Its events in OUT.ev.
fetch_for() {
	local secs=$1 out=$2 errf=$3 pid
	shift 3
	pp-fetch --status-fd 8 "$@" > "$out" 2> "$errf" 8> "$out.ev" &
	pid=$!
	track_pid $pid
	wait_for 30 eval 'grep -q "^connected " "$out.ev" || ! kill -0 $pid 2> /dev/null'
	wait_for 20 eval '[ "$(stat -c %s "$out")" -gt 50000 ] || ! kill -0 $pid 2> /dev/null'
	sleep "$secs"
	kill -TERM $pid 2> /dev/null
	wait_gone $pid 10
	wait $pid
}

# colours FILE.rgb W H: the shares of yellow, cyan and magenta pixels in
# a raw RGB picture, "0.12 0.12 0.12" for the test pattern's bars.
colours() {
	python3 - "$@" <<-'EOF'
	import sys
	data = open(sys.argv[1], "rb").read()
	n = int(sys.argv[2]) * int(sys.argv[3])
	px = [data[i:i + 3] for i in range(0, 3 * n, 3)]
	def share(f):
	    return sum(1 for p in px if len(p) == 3 and f(*p)) / n
	print("%.2f %.2f %.2f" % (
	    share(lambda r, g, b: r > 160 and g > 160 and b < 90),
	    share(lambda r, g, b: r < 90 and g > 160 and b > 160),
	    share(lambda r, g, b: r > 160 and g < 90 and b > 160)))
	EOF
}
# bars COLOURS: each of the three makes at least 2% of the picture.
bars() { awk -v c="$1" 'BEGIN { split(c, a, " "); exit !(a[1] > 0.02 && a[2] > 0.02 && a[3] > 0.02) }'; }

# --- usage ----------------------------------------------------------------------
pp-fetch > /dev/null 2>&1
is "$?" 64 "no URL: exit 64"
pp-fetch ftp://example.org/x > /dev/null 2> scheme.err
is "$?" 69 "an ftp:// URL: exit 69"
like "$(cat scheme.err)" "^pp-fetch: ftp: not a URL pp-fetch reads \(rtmp://, rtmps://, srt://, http:// or https://\)$" \
    "...one line naming the schemes it reads"
pp-fetch --passphrase correcthorse1 "$RURL" > /dev/null 2> pass.err
is "$?" 64 "--passphrase with an RTMP URL: exit 64"

# --- the host publishes to nginx-rtmp and to the SRT relay ---------------------
# The relay: what arrives on SRTIN (its passphrase correcthorse1) goes out
# to a caller of SRTOUT (correcthorse2). SRT's latency of 1 s on each
# hop: with its default 120 ms, a loaded machine (the sanitizer build
# beside another suite) had SRT drop a late packet, and a frame no
# longer decoded.
srt-live-transmit -q "srt://127.0.0.1:$SRTIN?mode=listener&passphrase=correcthorse1&latency=1000" \
    "srt://127.0.0.1:$SRTOUT?mode=listener&passphrase=correcthorse2&latency=1000" > relay.log 2>&1 &
track_pid $!
pp-encode --source test --max-size 320x180 2> encode.err |
    tee >(pp-publish --passphrase correcthorse1 "srt://127.0.0.1:$SRTIN" 2> srtpub.err) |
    pp-publish "$RURL" 2> rtmppub.err &
track_pid $!
wait_for 30 grep -q '^pp-publish: connected' rtmppub.err || bail "pp-publish did not connect to nginx: $(cat rtmppub.err)"
wait_for 30 grep -q '^pp-publish: connected' srtpub.err || bail "pp-publish did not connect to the relay: $(cat srtpub.err)"

# --- RTMP -----------------------------------------------------------------------
fetch_for 5 rtmp.ts rtmp.err "$RURL"
is "$?" 0 "RTMP: SIGTERM: exit 0"
is "$(codecs rtmp.ts)" "aac h264 " "RTMP read back from nginx as MPEG-TS: H.264 and AAC"
is "$(decode_errors rtmp.ts)" "" "...every frame decodes, the first one too"
like "$(head -c 3 rtmp.ts | od -An -tx1 | tr -d ' ')" "^474000$" "...and the stream starts with a PAT"
# Players choose their tracks from the first PMT (mpv takes no stream
# that comes later), and FLV's audio comes before its video.
is "$(first_pmt rtmp.ts)" "1b 0f" "...whose first PMT names both the video and the audio"
like "$(cat rtmp.ts.ev)" "^connected url=$SHOWN$" "the connected event, the stream name redacted"
is "$(cat rtmp.err)" "pp-fetch: receiving rtmp://127.0.0.1:$RTMP/live/***" "one line on stderr, without the name"
ffmpeg -nostdin -v error -i rtmp.ts -map 0:v:0 -frames:v 1 -f rawvideo -pix_fmt rgb24 -y frame.rgb
c=$(colours frame.rgb 320 180)
ok "...and its picture has the test pattern's yellow, cyan and magenta ($c)" bars "$c"

# --- HLS ------------------------------------------------------------------------
wait_for 20 test -s "hls/$KEY.m3u8" || bail "nginx wrote no HLS playlist"
fetch_for 4 hls.ts hls.err "http://127.0.0.1:$HTTP/hls/$KEY.m3u8"
c=$(codecs hls.ts)
is "$c" "aac h264 " "nginx's HLS read back: H.264 and AAC"
# It failed now and then under load, with nothing read: what pp-fetch saw.
[ "$c" = "aac h264 " ] ||
	diag "pp-fetch said: $(cat hls.err); its events: $(cat hls.ts.ev); the playlist: $(tr '\n' ' ' < "hls/$KEY.m3u8")"
is "$(decode_errors hls.ts)" "" "...every frame decodes"

# --- SRT ------------------------------------------------------------------------
fetch_for 4 srt.ts srt.err --passphrase correcthorse2 "srt://127.0.0.1:$SRTOUT"
is "$(served_codecs srt.ts)" "aac h264 klv " "SRT through the relay: the TS as it is, with pp-encode's host clock"
is "$(decode_errors srt.ts)" "" "...from the relay's middle of the stream, but every frame decodes"
like "$(head -c 3 srt.ts | od -An -tx1 | tr -d ' ')" "^474000$" "...since it starts with the PAT, then a keyframe"
pp-fetch --passphrase wrongwrong12 "srt://127.0.0.1:$SRTOUT" > srtbad.ts 2> srtbad.err
is "$?" 69 "a wrong passphrase: exit 69"
like "$(cat srtbad.err)" "^pp-fetch: cannot play srt://127\.0\.0\.1:$SRTOUT: .*passphrase" \
    "...one line that says so"
is "$(stat -c %s srtbad.ts)" 0 "...and nothing on stdout"

# --- what goes wrong ------------------------------------------------------------
pp-fetch "rtmp://127.0.0.1:$DEAD/live/$KEY" > /dev/null 2> dead.err
is "$?" 69 "no server: exit 69"
like "$(cat dead.err)" "^pp-fetch: cannot play rtmp://127\.0\.0\.1:$DEAD/live/\*\*\*: .*[Cc]onnection refused" \
    "...one line: connection refused"
# (GStreamer 1.22's HTTP source says only "Internal data stream error")
pp-fetch "http://127.0.0.1:$DEAD/hls/x.m3u8" > /dev/null 2> httpdead.err
is "$?:$(cat httpdead.err)" "69:pp-fetch: cannot play http://127.0.0.1:$DEAD/hls/x.m3u8: Could not connect to 127.0.0.1: Connection refused" \
    "an HTTP server that is down: exit 69, and the line says the connection was refused"
pp-fetch "http://127.0.0.1:$HTTP/hls/nosuch.m3u8" > /dev/null 2> 404.err
is "$?" 69 "an HLS playlist that is not there: exit 69"
like "$(cat 404.err)" "^pp-fetch: cannot play http://127\.0\.0\.1:$HTTP/hls/nosuch\.m3u8: Not Found" "...Not Found"
start=$SECONDS
pp-fetch "rtmp://127.0.0.1:$RTMP/live/${KEY}none" > /dev/null 2> none.err
is "$?" 69 "a stream nobody publishes (nginx takes the player and waits): exit 69"
like "$(cat none.err)" "^pp-fetch: nothing came from $SHOWN in 10 s: is the stream being published there\?$" \
    "...after 10 s ($((SECONDS - start)) s), saying so"
start=$SECONDS
pp-fetch "$RURL" 2> head.err | head -c 100000 > /dev/null
is "${PIPESTATUS[0]}" 0 "the reader closes the pipe: exit 0"
ok "...at once ($((SECONDS - start)) s)" test $((SECONDS - start)) -lt 8

# --- pixelpass URL -------------------------------------------------------------
pixelpass --record rec.ts "$RURL" 2> rec.err &
pid=$!
track_pid $pid
wait_for 30 test -s rec.ts
sleep 3
fe_stop $pid
is "$fe_rc" 0 "pixelpass --record FILE URL: exit 0 on SIGTERM"
ok "...the recording decodes" decodes rec.ts
like "$(head -n 1 rec.err)" "^pixelpass: receiving $SHOWN$" "...and it says what it receives"

pixelpass --record dead.ts "rtmp://127.0.0.1:$DEAD/live/$KEY" > /dev/null 2> pdead.err
is "$?" 69 "pixelpass URL of a server that is down: exit 69"
like "$(cat pdead.err)" "^pixelpass: cannot play rtmp://127\.0\.0\.1:$DEAD/live/\*\*\*: .*[Cc]onnection refused" \
    "...one line from pp-fetch"
ok "...and no recording is left" test ! -e dead.ts
pixelpass --rendezvous none "$RURL" > /dev/null 2> net.err
is "$?:$(cat net.err)" "64:pixelpass: --rendezvous, --stun and --turn are for tickets: a URL is read from its server directly" \
    "--rendezvous with a URL: exit 64"
pixelpass gopher://example.org/x > /dev/null 2> gopher.err
is "$?:$(cat gopher.err)" "64:pixelpass: gopher:// is not a stream pixelpass plays: give a ticket, or an rtmp://, rtmps://, srt://, http:// or https:// URL" \
    "a URL of another scheme: exit 64"

# What the viewer sees: pp-view's window on a screen of its own.
start_xvfb 320x180
pixelpass "$RURL" > /dev/null 2> view.err &
pid=$!
track_pid $pid
wait_for 30 grep -q 'playing in pp-view' view.err
# shown: the screen has the bars now (the first picture may take seconds
# on a loaded machine); their shares in c.
shown() {
	ffmpeg -nostdin -v error -f x11grab -video_size 320x180 -i "$DISPLAY" -frames:v 1 \
	    -f rawvideo -pix_fmt rgb24 -y screen.rgb
	c=$(colours screen.rgb 320 180)
	bars "$c"
}
for _ in $(seq 40); do shown && break; sleep 0.5; done
ok "pixelpass URL: pp-view's window shows the test pattern's bars ($c)" bars "$c"
like "$(cat view.err)" "pixelpass: playing in pp-view" "...and says it plays in pp-view"
fe_stop $pid
is "$fe_rc" 0 "...SIGTERM: exit 0"

# player_log ERR: the player's log, from pixelpass's "playing in" line.
player_log() { sed -n 's/.*its output in \(.*\)); .*/\1/p' "$1"; }

# mpv chooses its tracks from the first PMT: the picture, not the sound
# alone.
pixelpass --player mpv "$RURL" > /dev/null 2> rtmp-mpv.err &
pid=$!
track_pid $pid
wait_for 30 grep -q 'playing in' rtmp-mpv.err
mpv_log=$(player_log rtmp-mpv.err)
ok "pixelpass --player mpv RTMP-URL: mpv shows the picture (its video output opened at 320x180)" \
    wait_for 30 grep -q '^VO: .* 320x180 ' "$mpv_log"
fe_stop $pid

# HLS comes a fragment at a time, which pp-view shows choppily: mpv by
# default, and a word when pp-view is asked for.
HURL=http://127.0.0.1:$HTTP/hls/$KEY.m3u8
pixelpass "$HURL" > /dev/null 2> hls-view.err &
pid=$!
track_pid $pid
wait_for 30 grep -q 'playing in' hls-view.err
like "$(cat hls-view.err)" "pixelpass: playing in mpv " "pixelpass HLS-URL: mpv, not pp-view, by default"
mpv_log=$(player_log hls-view.err)
ok "...and mpv shows the picture (its video output opened at 320x180)" \
    wait_for 30 grep -q '^VO: .* 320x180 ' "$mpv_log"
fe_stop $pid
pixelpass --player pp-view "$HURL" > /dev/null 2> hls-ppview.err &
pid=$!
track_pid $pid
wait_for 30 grep -q 'playing in' hls-ppview.err
like "$(cat hls-ppview.err)" "pixelpass: pp-view shows HLS choppily .*--player mpv plays it smoothly" \
    "--player pp-view on HLS: it plays, with a word on why mpv is better here"
fe_stop $pid
# A transport stream over plain HTTP (pp-bridge's URL) is no HLS.
timeout 40 pp-encode --source test --max-size 320x240 --fps 15 --bitrate 800 2> /dev/null |
	pp-bridge --player none > bridge.url 2> bridge.err &
track_pid $!
wait_for 10 test -s bridge.url
pixelpass --player pp-view "$(cat bridge.url)" > /dev/null 2> ts-ppview.err &
pid=$!
track_pid $pid
wait_for 30 grep -q 'playing in' ts-ppview.err
like "$(cat ts-ppview.err)" "pixelpass: playing in pp-view" "pixelpass --player pp-view HTTP-URL of a TS: it plays"
unlike "$(cat ts-ppview.err)" "HLS" "...with no word of HLS"
fe_stop $pid
