#!/bin/bash
# pp-bridge with real players: mpv (launched by the bridge, no video
# output, frames counted) and VLC (as an unprivileged user: it refuses
# root), two HTTP clients each starting clean, bad requests, and the exit
# once stdin has ended and the clients are done.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/fanout-lib.sh"
need gst-launch-1.0 ffmpeg ffprobe mpv vlc curl setpriv
plan 46

private_xdg
P=$TEST_TMP/producer
make_producer "$P"

# url FILE: the URL pp-bridge printed (its first line of stdout).
url() { head -1 "$1"; }

# --- usage ------------------------------------------------------------------
pp-bridge --player foo < /dev/null > /dev/null 2> "$TEST_TMP/err"
is "$?" 64 "an unknown --player: exit 64"
like "$(cat "$TEST_TMP/err")" '^pp-bridge: --player foo: choose auto, mpv, vlc or none$' "...with one line"

# --- mpv, launched by the bridge --------------------------------------------
SECONDS_LEFT=6 "$P" 2> /dev/null | pp-bridge --player mpv \
	--player-args "--vo=null --ao=null --frames=45 --script=$top_srcdir/tests/mpv-frames.lua" \
	> "$TEST_TMP/out1" 2> "$TEST_TMP/log1" &
BR=$!
track_pid $BR
ok "the URL is printed" wait_for 10 test -s "$TEST_TMP/out1"
URL=$(url "$TEST_TMP/out1")
like "$URL" '^http://127\.0\.0\.1:[0-9]+/[0-9a-f]{32}/$' "...as http://127.0.0.1:PORT/TOKEN/, a secret path ($URL)"
ok "mpv is started" wait_for 10 grep -q "started mpv (pid" "$TEST_TMP/log1"
MPV=$(sed -n 's/.*started mpv (pid \([0-9]*\)).*/\1/p' "$TEST_TMP/log1")
MPVLOG=$(sed -n 's/.*started mpv (pid [0-9]*), its output in \(.*\)$/\1/p' "$TEST_TMP/log1")
at_exit "kill $MPV 2>/dev/null"
like "$MPVLOG" "^$XDG_RUNTIME_DIR/pp-bridge-mpv-[0-9]+\\.log\$" "its output goes to a log file under \$XDG_RUNTIME_DIR"
is "$(tr '\0' ' ' < /proc/$MPV/cmdline 2>/dev/null | cut -d' ' -f1-3)" "mpv --profile=low-latency --cache=no" \
	"with the low-latency options"
ok "mpv plays 45 frames and quits by itself" wait_for 30 dead "$MPV"
MLOG=$(tr '\r' '\n' < "$MPVLOG")
like "$MLOG" '\(\+\) Video --vid=1 \(h264' "mpv found the H.264 video"
like "$MLOG" '\(\+\) Audio --aid=1 \(aac' "...and the AAC audio"
FRAMES=$(printf '%s\n' "$MLOG" | sed -n 's/^\[mpv_frames\] frames shown: \([0-9]*\).*/\1/p')
diag "mpv counted ${FRAMES:-no} frames"
# Ticks that come together count once, and the last tick may move
# time-pos without a frame: a count within a few frames.
ok "mpv showed frames (${FRAMES:-none} counted, 45 asked for)" test "${FRAMES:-0}" -ge 30 -a "${FRAMES:-0}" -le 47
like "$MLOG" 'Exiting\.\.\. \(End of file\)' "...and ended normally"
like "$(cat "$TEST_TMP/log1")" 'client 1 left: closed the connection' \
	"...by itself, at the frame count, before the stream ended"
unlike "$MLOG" '[Ee]rror|corrupt|[Ii]nvalid' "with no decoding error"
wait $BR
is "$?" 0 "the bridge exits 0 once stdin has ended"
is "$(wc -l < "$TEST_TMP/out1")" 1 "its stdout is the URL and nothing else"

# --- two curl clients, bad requests, --player none --------------------------
SECONDS_LEFT=6 "$P" 2> /dev/null | pp-bridge --player none \
	> "$TEST_TMP/out2" 2> "$TEST_TMP/log2" &
BR=$!
track_pid $BR
wait_for 10 test -s "$TEST_TMP/out2" || bail "no URL"
URL=$(url "$TEST_TMP/out2")
ok "--player none prints the mpv command" wait_for 5 grep -qF \
	"play it with: mpv --profile=low-latency --cache=no --title=pixelpass --script=$PP_DATADIR/pixelpass-live.lua $URL" "$TEST_TMP/log2"
like "$(cat "$TEST_TMP/log2")" "or: vlc --network-caching=200 $URL" "...and the VLC one"
curl -s --max-time 3 -o "$TEST_TMP/c1.ts" "$URL" &
C1=$!
sleep 1
curl -s --max-time 2 -o "$TEST_TMP/c2.ts" "$URL" &
C2=$!
HEAD=$(curl -sI --max-time 5 "$URL" | tr -d '\r')
like "$HEAD" '^HTTP/1.0 200 OK' "HEAD: 200"
like "$HEAD" 'Content-Type: video/mp2t' "...and the MPEG-TS type"
is "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "${URL}nope")" 404 "another path: 404"
is "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X BREW "$URL")" 405 "another method: 405"
PORT=${URL#http://127.0.0.1:}
PORT=${PORT%%/*}
ROOT=http://127.0.0.1:$PORT/
is "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$ROOT")" 404 "the root, without the URL's secret: 404"
is "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "${ROOT}stream.ts")" 404 "/stream.ts without it: 404"
is "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H 'Host: rebound.example:'"$PORT" "$URL")" 403 \
	"a Host other than the loopback's (DNS rebinding): 403"
is "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "Host: localhost:$PORT" -I "${URL}stream.ts")" 200 \
	"Host localhost:PORT and /TOKEN/stream.ts: 200"
exec 5<> "/dev/tcp/127.0.0.1/$PORT"
LINE=
printf 'not http at all\r\n\r\n' >&5
read -r -t 5 LINE <&5
exec 5<&-
is "${LINE%$'\r'}" "HTTP/1.0 400 Bad Request" "garbage: 400"
wait $C1 $C2
ok "client 1: PAT, PMT, a keyframe, 15 frames without a decoding error" starts_clean "$TEST_TMP/c1.ts"
ok "client 2, later: the same" starts_clean "$TEST_TMP/c2.ts"
ok "both got a few seconds of stream" test "$(size "$TEST_TMP/c1.ts")" -gt 50000 -a "$(size "$TEST_TMP/c2.ts")" -gt 30000
wait $BR
is "$?" 0 "the bridge exits 0 after stdin ended"

# --- VLC, launched by the bridge, as a user (VLC refuses root) --------------
nobody_prefix
SECONDS_LEFT=6 "$P" 2> /dev/null | "${AS_NOBODY[@]}" \
	pp-bridge --player vlc --player-args "-I dummy --vout dummy --aout dummy -vv --play-and-exit --run-time=3" \
	> "$TEST_TMP/out3" 2> "$TEST_TMP/log3" &
BR=$!
track_pid $BR
ok "VLC is started" wait_for 10 grep -q "started vlc (pid" "$TEST_TMP/log3"
VLC=$(sed -n 's/.*started vlc (pid \([0-9]*\)).*/\1/p' "$TEST_TMP/log3")
VLCLOG=$(sed -n 's/.*started vlc (pid [0-9]*), its output in \(.*\)$/\1/p' "$TEST_TMP/log3")
at_exit "kill $VLC 2>/dev/null"
unlike "$(cat "$TEST_TMP/log3")" "VLC lacks the plugins" "the VLC plugins it needs are there"
ok "VLC plays and quits by itself" wait_for 30 dead "$VLC"
VL=$(cat "$VLCLOG")
like "$VL" 'using demux module "ts"' "VLC demuxed the MPEG-TS"
like "$VL" 'using video decoder module "avcodec"' "...decoded the H.264"
like "$VL" 'Received first picture' "...and got a picture"
wait $BR
is "$?" 0 "the bridge exits 0"
like "$(cat "$TEST_TMP/log3")" "client 1 left: .* \\([1-9][0-9]{4,} bytes" "VLC read the stream from the bridge"

# --- the VLC plugin check ---------------------------------------------------
mkdir -p "$TEST_TMP/noplugins"
VLC_PLUGIN_PATH=$TEST_TMP/noplugins pp-bridge --player none < /dev/null > /dev/null 2> "$TEST_TMP/log4"
like "$(cat "$TEST_TMP/log4")" 'VLC lacks the plugins .*demux/libts_plugin.so, codec/libavcodec_plugin.so.*apt-get install vlc-plugin-base' \
	"missing VLC plugins are named, with the Debian package"

# --- --port -----------------------------------------------------------------
python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
print(s.getsockname()[1], flush=True); time.sleep(30)' > "$TEST_TMP/busy" &
BUSY=$!
track_pid $BUSY
wait_for 5 test -s "$TEST_TMP/busy"
pp-bridge --port "$(cat "$TEST_TMP/busy")" --player none < /dev/null > /dev/null 2> "$TEST_TMP/err"
is "$?" 75 "--port on a port in use: exit 75"
like "$(cat "$TEST_TMP/err")" "^pp-bridge: port [0-9]+ on 127.0.0.1 is in use" "...saying so"
kill $BUSY
pp-bridge --port "$PORT" --player none < /dev/null > "$TEST_TMP/out5" 2>/dev/null
like "$(cat "$TEST_TMP/out5")" "^http://127.0.0.1:$PORT/[0-9a-f]{32}/\$" "--port PORT serves there (and an empty input ends it at once)"

# --- limits: clients past the cap, descriptors running out -----------------------
# conns PORT N SECONDS: opens N connections that send nothing, holds them,
# and prints how many were answered 503 at once.
conns() {
	python3 - "$@" <<'PY'
import socket, sys, time
port, n, hold = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
socks, refused = [], 0
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    socks.append(s)
time.sleep(0.5)
for s in socks:
    s.setblocking(False)
    try:
        if s.recv(64).startswith(b"HTTP/1.0 503"):
            refused += 1
    except BlockingIOError:
        pass
time.sleep(hold)
print(refused)
PY
}
sleep 30 | pp-bridge --player none > "$TEST_TMP/out6" 2> "$TEST_TMP/log6" &
BR=$!
track_pid $BR
wait_for 10 test -s "$TEST_TMP/out6"
P6=$(sed 's#^http://127.0.0.1:\([0-9]*\)/.*#\1#' "$TEST_TMP/out6")
is "$(conns "$P6" 70 0)" 6 "70 clients at once: the 6 past the limit of 64 are answered 503"
kill $BR
# With 24 descriptors, 40 connections: the bridge waits for a free one
# rather than spinning on accept.
(ulimit -n 24; exec pp-bridge --player none < <(sleep 30)) > "$TEST_TMP/out7" 2> "$TEST_TMP/log7" &
BR=$!
track_pid $BR
wait_for 10 test -s "$TEST_TMP/out7"
P7=$(sed 's#^http://127.0.0.1:\([0-9]*\)/.*#\1#' "$TEST_TMP/out7")
T0=$(awk '{ print $14 + $15 }' "/proc/$BR/stat")
conns "$P7" 40 3 > /dev/null
T1=$(awk '{ print $14 + $15 }' "/proc/$BR/stat")
is "$(grep -c 'new connections wait until a descriptor is free' "$TEST_TMP/log7")" 1 "out of descriptors: said once"
ok "...and no spinning: $((T1 - T0)) ticks of CPU in 3.5 s" test $((T1 - T0)) -lt 50
kill $BR
