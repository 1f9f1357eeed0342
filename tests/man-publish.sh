#!/bin/bash
# Runs the examples of pp-publish(1), as written there (extracted from
# the man page), and checks what each server received:
#  - RTMP: pp-fanout attach | pp-publish to nginx-rtmp configured with the
#    nginx.conf block of pixelpass(1) (extracted from that man page too,
#    as pp-publish(1) points to it); $S is a pp-fanout serve of pp-encode
#    --source test, as pixelpass host runs it. nginx serves RTMP with
#    H.264 and AAC at 1280x720, and HLS at /hls/talk.m3u8 with both;
#    pp-publish exits 0 on Control-C.
#  - the refused key: the line pp-publish prints for its second attempt
#    is the man page's, word for word.
#  - RTMPS through a TLS terminator (nginx's stream module) with a
#    self-signed certificate (cert.pem in the example's directory): nginx
#    serves what arrived, H.264 and AAC at 1280x720; exit 0 on Control-C.
#  - SRT: srt-live-transmit listening with a passphrase writes got.ts,
#    H.264 and AAC at 1280x720; pp-publish exits 0 on Control-C.
# Substituted with sed, the minimum: the ports 1935, 1936 and 9000 by
# free ones, so that tests running at once do not meet; in the nginx.conf
# block, listen on 127.0.0.1 only, hls_path in the test's directory
# rather than /var/www/hls, and an on_publish check (an http server of
# the test's allows streams named talk...) so that another key is
# refused, as the man page's line shows. About 25 s.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/man-lib.sh"
. "$top_srcdir/tests/encode-lib.sh"
. "$top_srcdir/tests/publish-lib.sh"
need pp-publish pp-encode pp-fanout srt-live-transmit ffprobe ffmpeg openssl curl python3
need_nginx_modules
plan 16

private_xdg
export PULSE_SERVER="unix:$TEST_TMP/no-such-socket"
mkdir "$TEST_TMP/ex"
cd "$TEST_TMP/ex" || bail "no temp dir"

mapfile -d '' -t ex < <(man_examples pp-publish)
is "${#ex[@]}|${ex[0]%%|*}|${ex[1]%% *}|${ex[2]%% |*}|${ex[3]%%|*}" \
    '5|pp-fanout attach --socket "$S" |srt-live-transmit|pp-encode --source test|pp-encode --source test ' \
    "pp-publish(1) has the RTMP, SRT and RTMPS examples this test knows, and the refused key's line"

# nginx-rtmp as pixelpass(1) configures it.
read -r RTMP HTTP TLS <<< "$(free_ports 3)"
nginx_man_block "$RTMP" > rtmp.block
is "$(head -n 1 rtmp.block)" "rtmp {" "pixelpass(1) has the nginx.conf block"
sed -e "s|^\([[:space:]]*\)live on;|&\n\1notify_method get;\n\1on_publish http://127.0.0.1:$HTTP/auth;|" \
    rtmp.block | nginx_rtmp_conf "$HTTP" talk
start_nginx "$RTMP"

# The host's stream.
export S=$TEST_TMP/fan.sock
pp-fanout serve --socket "$S" -- pp-encode --source test 2> "$TEST_TMP/fanout.err" &
track_pid $!
wait_for 10 test -S "$S" || bail "pp-fanout did not start: $(tail -n 3 "$TEST_TMP/fanout.err")"

# Publish the host's stream to nginx-rtmp.
man_start rtmp "$(printf '%s' "${ex[0]}" | sed "s/:1935\b/:$RTMP/")"
ok "${ex[0]%% rtmp:*} rtmp://...: connected" wait_for 20 grep -q "connected to rtmp://127\.0\.0\.1:$RTMP/live/\*\*\*" rtmp.err
URL=rtmp://127.0.0.1:$RTMP/live/talk
is "$(served_codecs "$URL")" "aac h264 " "...nginx serves rtmp://.../live/talk: H.264 and AAC"
is "$(video_size "$URL")" 1280x720 "...at the test pattern's size"
HLS=http://127.0.0.1:$HTTP/hls/talk.m3u8
wait_for 20 curl -sf -o /dev/null "$HLS"
is "$(served_codecs "$HLS")" "aac h264 " "...and HLS at /hls/talk.m3u8: H.264 and AAC"
man_stop 0
is "$man_rc" 0 "...pp-publish exits 0 on Control-C"

# A key the server refuses: the man page's line, the second attempt's.
man_start refused "pp-encode --source test --max-size 320x240 | pp-publish rtmp://127.0.0.1:$RTMP/live/refused"
wait_for 20 grep -q 'retrying in 2 s' refused.err
man_stop 0
is "$(grep -m 1 'retrying in 2 s' refused.err)" "$(printf '%s' "${ex[4]}" | sed "s/:1935\b/:$RTMP/")" \
    "a refused key: the man page's line, word for word"

# To RTMPS through a TLS terminator with a self-signed certificate.
tls_terminator "$TLS" "$RTMP"
cp "$TEST_TMP/cert.pem" .
man_start rtmps "$(printf '%s' "${ex[3]}" | sed "s/:1936\b/:$TLS/")"
ok "pp-encode --source test | pp-publish --ca-file cert.pem rtmps://...: connected" \
    wait_for 30 grep -q "connected to rtmps://127\.0\.0\.1:$TLS/live/\*\*\*" rtmps.err
is "$(served_codecs "$URL")" "aac h264 " "...nginx serves what came through TLS: H.264 and AAC"
is "$(video_size "$URL")" 1280x720 "...at the test pattern's size"
man_stop 0
is "$man_rc" 0 "...exit 0 on Control-C"

port=$(python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
man_run srt 6 "$(printf '%s\n%s' "${ex[1]}" "${ex[2]}" | sed "s/:9000\\b/:$port/g")"
is "$man_rc" 0 "pp-encode --source test | pp-publish --passphrase ... srt://...: exit 0 on Control-C"
like "$(cat srt.err)" "srt://127\\.0\\.0\\.1:$port" "...it names where it publishes"
is "$(streams got.ts)" "h264 aac" "srt-live-transmit ... > got.ts: H.264 and AAC"
is "$(video_info got.ts | cut -d' ' -f1)" 1280x720 "...at the test pattern's size"
