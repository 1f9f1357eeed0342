#!/bin/bash
# Runs the examples of pixelpass(1) that publish, as written there
# (extracted from the man page), each a host of the screen (an Xvfb) and
# the sound (the audio lab), and checks what the servers got:
#  - nginx with its RTMP module, configured with the man page's nginx.conf
#    block: the host prints the man page's line, and the audience's URLs,
#    rtmp://.../live/talk and http://.../hls/talk.m3u8, serve H.264 and
#    AAC, the video the 640x360 screen; the host exits 0 on Control-C;
#  - SRT with a passphrase: what the listener receives is H.264 and AAC,
#    and the passphrase is in no message of the host;
#  - a platform's RTMP ingest, rtmp://.../app/KEY: the host says it
#    publishes with the key hidden, and the ingest serves H.264 and AAC.
# Substituted with sed, the minimum: media.example.org and
# live.example.com by 127.0.0.1 and a free port (the RTMP, HTTP or SRT
# one); in the nginx.conf block, listen on 127.0.0.1 and its port,
# hls_path in the test's directory rather than /var/www/hls, and for the
# platform an application "app" beside "live" (a platform's ingest is not
# ours to run: nginx stands in for it). MediaMTX is not packaged in
# Debian 12: srt-live-transmit, listening with the mediamtx.yml block's
# passphrase, stands in for it (it takes any streamid). Not in the
# commands: config.toml says rendezvous = "none" and stun = "none" (no
# traffic leaves the machine: the defaults are public servers), and the
# upstream is marked measured (so no host asks to measure it). About 35 s.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/portal-lab.sh"
. "$top_srcdir/tests/man-lib.sh"
. "$top_srcdir/tests/publish-lib.sh"
need pixelpass pp-tunnel pp-fanout pp-capture pp-encode pp-publish pp-config srt-live-transmit \
    ffprobe ffmpeg Xvfb curl python3
need_nginx_modules
plan 16

lab_audio_start
start_xvfb 640x360
mkdir -p "$XDG_CONFIG_HOME/pixelpass" "$TEST_TMP/ex"
printf '[network]\nrendezvous = "none"\nstun = "none"\n' > "$XDG_CONFIG_HOME/pixelpass/config.toml"
pp-config set bandwidth.status measured bandwidth.upstream_mbps 50 || bail "pp-config set failed"
cd "$TEST_TMP/ex" || bail "no temp dir"

mapfile -d '' -t ex < <(man_examples pixelpass)
is "${ex[22]}|${ex[27]%%$'\n'*}|${ex[28]}" \
    'pixelpass host --publish rtmp://media.example.org/live/talk|pixelpass host --publish \|pixelpass host --publish rtmp://live.example.com/app/KEY' \
    "pixelpass(1) has the RTMP, SRT and platform examples this test knows"

# shown: the line the man page shows under the RTMP example.
shown() {
	sed -n '/^\$ pixelpass host --publish rtmp:\/\/media/{n;p;}' "$top_srcdir/man/pixelpass.1"
}

read -r RTMP HTTP <<< "$(free_ports 2)"
SRT=$(python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
# The man page's block, and beside its application "live" one named "app"
# for the platform's ingest.
nginx_man_block "$RTMP" |
    sed 's|^\([[:space:]]*\)application live {|\1application app {\n\1\tlive on;\n\1}\n&|' |
    nginx_rtmp_conf "$HTTP" ''
start_nginx "$RTMP"

# --- Publish to nginx with its RTMP module --------------------------------------
man_start rtmp "$(printf '%s' "${ex[22]}" | sed "s|//media\\.example\\.org/|//127.0.0.1:$RTMP/|")"
wait_for 30 grep -q 'publishing to' rtmp.err
is "$(grep 'publishing to' rtmp.err)" "$(shown | sed "s|//media\\.example\\.org/|//127.0.0.1:$RTMP/|")" \
    "${ex[22]}: the man page's line"
URL=rtmp://127.0.0.1:$RTMP/live/talk
wait_for 20 sh -c "test \"\$(timeout 5 ffprobe -v error -show_entries stream=codec_name -of csv=p=0 '$URL' 2> /dev/null)\" != ''"
is "$(served_codecs "$URL")" "aac h264 " "...the audience plays rtmp://.../live/talk: H.264 and AAC"
is "$(video_size "$URL")" 640x360 "...of the 640x360 screen"
HLS=http://127.0.0.1:$HTTP/hls/talk.m3u8
wait_for 20 curl -sf -o /dev/null "$HLS"
is "$(served_codecs "$HLS")" "aac h264 " "...or http://.../hls/talk.m3u8: H.264 and AAC"
# The audience with pixelpass: pp-view on the same screen.
host_pid=$man_pid
man_start aud "$(printf '%s' "${ex[23]}" | sed "s|//media\.example\.org/|//127.0.0.1:$RTMP/|")"
ok "${ex[23]}: plays in pp-view" wait_for 30 grep -q '^pixelpass: playing in pp-view' aud.err
is "$(grep receiving aud.err)" "$(sed -n '/^\$ pixelpass rtmp:\/\/media/{n;p;}' "$top_srcdir/man/pixelpass.1" |
    sed "s|//media\.example\.org/|//127.0.0.1:$RTMP/|")" "...and says what it receives, as the man page shows"
man_stop 0
is "$man_rc" 0 "...and exits 0 on Control-C"
man_pid=$host_pid
man_stop 0
is "$man_rc" 0 "...the host exits 0 on Control-C"

# --- Publish to MediaMTX over SRT, with a passphrase --------------------------------
pass=$(sed -n 's/^ *srtPublishPassphrase: //p' "$top_srcdir/man/pixelpass.1")
srt-live-transmit -q "srt://127.0.0.1:$SRT?mode=listener&passphrase=$pass" file://con > got.ts 2> listener.err &
track_pid $!
sleep 0.5
man_start srt "$(printf '%s' "${ex[27]}" | sed "s|//media\\.example\\.org:8890?|//127.0.0.1:$SRT?|")"
ok "pixelpass host --publish 'srt://...?streamid=publish:talk&passphrase=...': publishing" \
    wait_for 30 grep -q 'publishing to' srt.err
wait_for 30 sh -c 'test "$(stat -c %s got.ts)" -gt 300000'
man_stop 0
is "$man_rc" 0 "...the host exits 0 on Control-C"
is "$(served_codecs got.ts)" "aac h264 klv " "...the SRT listener got H.264 and AAC, and pp-encode's host clock"
unlike "$(cat srt.err srt.out)" "$pass" "...and the passphrase is in no message of the host"

# --- Publish to a platform's RTMP ingest ------------------------------------------
man_start key "$(printf '%s' "${ex[28]}" | sed "s|//live\\.example\\.com/|//127.0.0.1:$RTMP/|")"
wait_for 30 grep -q 'publishing to' key.err
is "$(grep 'publishing to' key.err)" "pixelpass: publishing to rtmp://127.0.0.1:$RTMP/app/***" \
    "${ex[28]}: it says so, the key hidden"
URL=rtmp://127.0.0.1:$RTMP/app/KEY
wait_for 20 sh -c "test \"\$(timeout 5 ffprobe -v error -show_entries stream=codec_name -of csv=p=0 '$URL' 2> /dev/null)\" != ''"
is "$(served_codecs "$URL")" "aac h264 " "...the ingest has H.264 and AAC"
man_stop 0
is "$man_rc" 0 "...the host exits 0 on Control-C"
