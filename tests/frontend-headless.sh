#!/bin/bash
# pixelpass headless, host and viewers on one machine over the direct
# path (--rendezvous none): the ticket alone on stdout, the default cap of
# 2 when the upstream is not measured, a recording that decodes (H.264 and
# AAC), the player command with --player none, the third viewer told the
# host is full, a damaged ticket, no working encoder, and nothing left
# behind once the host is stopped.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/portal-lab.sh"
. "$top_srcdir/tests/frontend-lib.sh"
need pixelpass pp-tunnel pp-fanout pp-capture pp-encode pp-bridge ffmpeg ffprobe curl setsid
plan 33

lab_audio_start		# PipeWire: the host's sound is the speakers' monitor

fe_host host --source test --rendezvous none --bitrate 1000 --fps 15
is "$(wc -l < "$TEST_TMP/host.ticket")" 1 "the host's stdout is one line"
like "$fe_ticket" '^pp1[a-z2-7]+$' "...the ticket"
like "$(cat "$TEST_TMP/host.log")" 'viewer cap: 2 \(the upstream is not measured' \
	"the cap is 2 when the upstream is not measured, and it says why"
CONF=$XDG_CONFIG_HOME/pixelpass/config.toml
like "$(cat "$CONF")" 'status = "unmeasured"' "a headless first run records the upstream as unmeasured"

# Viewer 1 records through pixelpass, viewer 2 runs the bridge with no
# player, viewer 3 finds the host full.
pixelpass --record "$TEST_TMP/rec.ts" "$fe_ticket" > "$TEST_TMP/v1.out" 2> "$TEST_TMP/v1.err" &
V1=$!
track_pid $V1
ok "viewer 1 connects" wait_for 15 grep -qs 'connected to' "$TEST_TMP/v1.err"
like "$(cat "$TEST_TMP/v1.err")" '^pixelpass: connected to [^ ]+ \(path direct, IPv(4|6), RTT [0-9.]+ ms\)' \
	"...and says how"
# The second layer by default where there are two cores or more (at 15
# fps), as pixelpass(1) says; its encoder starts with the first viewer.
if [ "$(nproc)" -ge 2 ]; then
	ok "two layers by default on $(nproc) cores: the encoder makes a 250 kbit/s second layer" \
		wait_for 10 grep -q '^pp-encode: second layer: half the width and height, 250 kbit/s' "$TEST_TMP/host.log"
else
	ok "one layer by default on one core" eval "! grep -q '^pp-encode: second layer' '$TEST_TMP/host.log'"
fi
pixelpass --player none "$fe_ticket" > "$TEST_TMP/v2.out" 2> "$TEST_TMP/v2.err" &
V2=$!
track_pid $V2
ok "viewer 2 (--player none) prints the local URL" wait_for 15 grep -q '^http://127.0.0.1:' "$TEST_TMP/v2.out"
URL=$(head -n 1 "$TEST_TMP/v2.out")
ok "...and the player command on stderr" wait_for 5 grep -qF "play it with: mpv --profile=low-latency --cache=no --title=pixelpass --script=$PP_DATADIR/pixelpass-live.lua $URL" "$TEST_TMP/v2.err"
is "$(grep -c "$URL" "$TEST_TMP/v2.err")" 2 "...the URL said once on stderr, in the two commands that play it"
curl -s --max-time 3 -o "$TEST_TMP/v2.ts" "$URL"
ok "the URL serves a stream that decodes" decodes "$TEST_TMP/v2.ts"

timeout 30 pixelpass --record "$TEST_TMP/v3.ts" "$fe_ticket" > /dev/null 2> "$TEST_TMP/v3.err"
is "$?" 75 "viewer 3: exit 75"
like "$(cat "$TEST_TMP/v3.err")" '^pixelpass: the host is full \(2/2 viewers\): try again' "...the host is full, in words"
ok "the host logs the refusal" wait_for 5 grep -q 'viewer .* refused: host is full (2/2 viewers)' "$TEST_TMP/host.log"

fe_stop $V1
is "$fe_rc" 0 "viewer 1 stops on SIGTERM with status 0"
fe_stop $V2
is "$(codecs "$TEST_TMP/rec.ts")" "aac h264 " "the recording has H.264 and AAC"
ok "every frame of the recording decodes" decodes "$TEST_TMP/rec.ts"

# PP_TICKET=T pp-tunnel connect > talk.ts records too (pixelpass(1),
# EXAMPLES).
PP_TICKET=$fe_ticket timeout 4 pp-tunnel connect > "$TEST_TMP/talk.ts" 2> /dev/null
ok "PP_TICKET=TICKET pp-tunnel connect > talk.ts records a stream that decodes" decodes "$TEST_TMP/talk.ts"

fe_stop "$fe_pid"
is "$fe_rc" 0 "the host stops on SIGTERM with status 0"
is "$(fe_leftovers)" "" "no process, socket or file of it is left"

# stdout not a terminal and no word: a headless host as well.
pixelpass --source test --no-audio --max-viewers 3 --rendezvous none < /dev/null > "$TEST_TMP/h2.ticket" 2> "$TEST_TMP/h2.log" &
H2=$!
track_pid $H2
ok "pixelpass with stdout not a terminal hosts" wait_for 20 grep -qs '^pp1' "$TEST_TMP/h2.ticket"
like "$(cat "$TEST_TMP/h2.log")" 'viewer cap: 3 \(--max-viewers\)' "--max-viewers sets the cap"
fe_stop $H2

# Clear words for what the tools report.
is "$(pixelpass host --layers 3 2>&1 < /dev/null; echo "exit $?")" \
	"$(printf 'pixelpass: --layers 3: choose 1 or 2\nexit 64')" "--layers 3: exit 64, in one line"
T=$(head -n 1 "$TEST_TMP/h2.ticket")
C=a
[ "${T:20:1}" = a ] && C=b
pixelpass "${T:0:20}$C${T:21}" > /dev/null 2> "$TEST_TMP/bad.err"
is "$?" 65 "a damaged ticket: exit 65"
is "$(cat "$TEST_TMP/bad.err")" "pixelpass: the ticket is damaged: copy it again, whole (it starts with pp1 and is one word)" "...in words"
timeout 60 pixelpass --record "$TEST_TMP/x.ts" "$T" > /dev/null 2> "$TEST_TMP/gone.err"
is "$?" 69 "a host that stopped: exit 69"
like "$(cat "$TEST_TMP/gone.err")" '^pixelpass: cannot reach the host: ' "...cannot reach the host"

mkdir "$TEST_TMP/bin"
printf '#!/bin/sh\necho "x264enc       unusable: no such element"\nexit 0\n' > "$TEST_TMP/bin/pp-encode"
chmod +x "$TEST_TMP/bin/pp-encode"
PATH=$TEST_TMP/bin:$PATH pixelpass host --source test --rendezvous none < /dev/null > "$TEST_TMP/noenc.out" 2> "$TEST_TMP/noenc.err"
is "$?" 69 "no working H.264 encoder: exit 69"
like "$(cat "$TEST_TMP/noenc.err")" 'no H.264 encoder works on this machine' "...before any ticket, in words"

# --rendezvous and --stun go to pp-tunnel as they are, for the host and
# for the viewer; --turn (it may hold a password) and the ticket in its
# environment, PP_TURN and PP_TICKET (a stand-in pp-tunnel notes its
# arguments and those two, and refuses them, as one with the direct path
# only does).
cat > "$TEST_TMP/bin/pp-tunnel" <<'SH'
#!/bin/sh
[ "$1" = check ] && exit 0
echo "$* PP_TURN=${PP_TURN-} PP_TICKET=${PP_TICKET-}" >> "$PP_ARGS_LOG"
echo "pp-tunnel: --rendezvous mqtt://127.0.0.1:1883: this version of pp-tunnel only has the direct path" >&2
exit 64
SH
chmod +x "$TEST_TMP/bin/pp-tunnel"
export PP_ARGS_LOG=$TEST_TMP/args
rm -f "$TEST_TMP/bin/pp-encode"
NET="--rendezvous mqtt://127.0.0.1:1883 --stun 127.0.0.1:3478 --turn turn://u:p@127.0.0.1:3478"
# shellcheck disable=SC2086
PATH=$TEST_TMP/bin:$PATH pixelpass host --source test $NET < /dev/null > /dev/null 2> "$TEST_TMP/rv.err"
is "$?" 64 "a rendezvous pp-tunnel refuses: exit 64"
like "$(cat "$TEST_TMP/rv.err")" '^pixelpass: --rendezvous mqtt://127.0.0.1:1883: this version of pp-tunnel' "...with pp-tunnel's reason"
# shellcheck disable=SC2086
PATH=$TEST_TMP/bin:$PATH pixelpass $NET --record "$TEST_TMP/x.ts" "$T" > /dev/null 2>&1
ARGV_NET="--rendezvous mqtt://127.0.0.1:1883 --stun 127.0.0.1:3478"
ENV_NET="PP_TURN=turn://u:p@127.0.0.1:3478"
like "$(sed -n 1p "$TEST_TMP/args")" "^listen --max-viewers 2 $ARGV_NET --status-fd 8 -- pp-fanout attach --socket $XDG_RUNTIME_DIR/pixelpass-[0-9]+\\.[A-Za-z0-9]+/fanout\\.sock $ENV_NET PP_TICKET=\$" \
	"the host passes them to pp-tunnel listen"
is "$(sed -n 2p "$TEST_TMP/args")" "connect $ARGV_NET --status-fd 8 $ENV_NET PP_TICKET=$T" "the viewer passes them to pp-tunnel connect"
