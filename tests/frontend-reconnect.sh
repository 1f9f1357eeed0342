#!/bin/bash
# A viewer whose network goes away for longer than pp-tunnel's idle
# timeout (3 s here, PP_TUNNEL_IDLE_TIMEOUT) connects again by itself
# with the same ticket, and its player stays open: pixelpass says the
# connection was lost and that it is connected again, the recording goes
# on in the same file, and the player, started once, plays on (mpv, and
# pp-view on an Xvfb). Host and viewer
# are two network namespaces joined by the lab's wire, whose process is
# stopped for the outage.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/lab/lab.sh"
. "$top_srcdir/tests/frontend-lib.sh"
. "$top_srcdir/tests/encode-lib.sh"
need_root
need pixelpass pp-tunnel pp-fanout pp-capture pp-encode pp-bridge pp-view mpv Xvfb ffmpeg ffprobe ip nsenter
plan 22

lab_wire h v 10 0 || bail "cannot build the lab's wire"
wire() { kill "-$1" "${_lab_wire[h v]}"; }
at_exit 'wire CONT 2> /dev/null'
private_xdg		# after the lab: its wire is not pixelpass's
export PP_TUNNEL_IDLE_TIMEOUT=3
# In a namespace, as the same process, so that $! is pixelpass's pid
# (ip netns exec, or a shell function, would stand between).
H=(nsenter "--net=/run/netns/$LAB_NS_h") V=(nsenter "--net=/run/netns/$LAB_NS_v")

# host_start NAME: pixelpass host in the namespace h; sets HOST, TICKET.
host_start() {
	"${H[@]}" pixelpass host --source test --no-audio --rendezvous none \
		--bitrate 500 --fps 10 --layers 1 < /dev/null > "$TEST_TMP/$1.ticket" 2> "$TEST_TMP/$1.log" &
	HOST=$!
	track_pid "$HOST"
	wait_for 20 grep -qs '^pp1' "$TEST_TMP/$1.ticket" || bail "no ticket: $(cat "$TEST_TMP/$1.log")"
	TICKET=$(head -n 1 "$TEST_TMP/$1.ticket")
}
# outage SECONDS: the wire stops carrying anything for that long.
outage() { wire STOP; sleep "$1"; wire CONT; }

# --- an outage shorter than the idle timeout: the same connection -------
# 14 s with a 25-s timeout: longer than pp-fanout's own 10 s, after which
# it would drop a consumer that is still behind.
PP_TUNNEL_IDLE_TIMEOUT=25 host_start short
PP_TUNNEL_IDLE_TIMEOUT=25 "${V[@]}" pixelpass --record "$TEST_TMP/short.ts" "$TICKET" \
	< /dev/null > /dev/null 2> "$TEST_TMP/short.err" &
REC=$!
track_pid "$REC"
wait_for 20 grows "$TEST_TMP/short.ts" 20001 || bail "nothing recorded: $(cat "$TEST_TMP/short.err")"
outage 14
cut=$(size "$TEST_TMP/short.ts")
ok "14 s without a packet, then the recording goes on" \
	wait_for 20 grows "$TEST_TMP/short.ts" $((cut + 150001))
is "$(sed 1,2d "$TEST_TMP/short.err")" "" "...on the same connection, nothing to say"
like "$(cat "$TEST_TMP/short.log")" "consumer 1 is [0-9]+ ms behind: skipped" "...the host having skipped it forward"
unlike "$(cat "$TEST_TMP/short.log")" "consumer 1 left" "...not dropped it"
fe_stop "$HOST"
reap "$REC" 20
is "$?:$(tail -n 1 "$TEST_TMP/short.err")" "0:pixelpass: the host stopped sharing" "...and it ends when the host stops"

# --- a recording across a 6-s outage -------------------------------------
host_start host
"${V[@]}" pixelpass --record "$TEST_TMP/rec.ts" "$TICKET" < /dev/null > /dev/null 2> "$TEST_TMP/rec.err" &
REC=$!
track_pid "$REC"
wait_for 20 grep -q 'connected to' "$TEST_TMP/rec.err" || bail "the viewer did not connect: $(cat "$TEST_TMP/rec.err")"
wait_for 20 grows "$TEST_TMP/rec.ts" 20001 || bail "nothing recorded"
outage 6
ok "the viewer says the connection was lost and that it connects again" \
	wait_for 10 grep -q '^pixelpass: lost the connection to 10\.99\.0\.1:[0-9]*: no packet for 3 s; connecting again with the same ticket (for up to 120 s; Ctrl-C stops)$' "$TEST_TMP/rec.err"
cut=$(size "$TEST_TMP/rec.ts")
ok "...then that it is connected again, and after how long" \
	wait_for 30 grep -Eq '^pixelpass: connected to 10\.99\.0\.1:[0-9]+ \(path direct, IPv4, RTT [0-9.]+ ms\) again, [0-9]+ s after the connection was lost$' "$TEST_TMP/rec.err"
ok "...and the recording goes on in the same file" \
	wait_for 20 grows "$TEST_TMP/rec.ts" $((cut + 150001))
ok "the host saw the viewer vanish and join again" \
	wait_for 10 eval "grep -q 'vanished' '$TEST_TMP/host.log'"
fe_stop "$HOST"
is "$fe_rc" 0 "the host stops on SIGTERM with status 0"
reap "$REC" 20
is "$?:$(tail -n 1 "$TEST_TMP/rec.err")" "0:pixelpass: the host stopped sharing" \
	"...and the viewer ends with it, status 0"
# What came after the reconnection starts with its own tables and a
# keyframe, and decodes whole.
tail -c +$((cut + 1)) "$TEST_TMP/rec.ts" > "$TEST_TMP/after.ts"
ok "the stream after the reconnection decodes, every frame" decodes "$TEST_TMP/after.ts"
is "$(codecs "$TEST_TMP/rec.ts")" "h264 " "...and the whole recording is H.264"

# --- mpv across a 6-s outage ------------------------------------------------
host_start host2
"${V[@]}" pixelpass --player mpv --player-args "--vo=null --ao=null" \
	"$TICKET" < /dev/null > /dev/null 2> "$TEST_TMP/mpv.err" &
VIEW=$!
track_pid "$VIEW"
wait_for 20 grep -q '^pixelpass: playing in mpv' "$TEST_TMP/mpv.err" || bail "mpv does not play: $(cat "$TEST_TMP/mpv.err")"
MPV=$(sed -n 's/.*playing in mpv (pid \([0-9]*\).*/\1/p' "$TEST_TMP/mpv.err")
MPVLOG=$(sed -n 's/.*its output in \(.*\)); Ctrl-C stops$/\1/p' "$TEST_TMP/mpv.err")
wait_for 20 grep -qs '^VO: \[null\]' "$MPVLOG" || bail "mpv shows nothing: $(tail -n 3 "$MPVLOG")"
sleep 2
outage 6
ok "connected again" wait_for 30 grep -q 'again, [0-9]* s after the connection was lost$' "$TEST_TMP/mpv.err"
ok "...with the same mpv, still playing" kill -0 "$MPV"
# mpv's status line counts the time it has played: it goes on.
played() { tr '\r' '\n' < "$MPVLOG" | sed -En 's/^(\x1b\[K)?(AV|A|V): ([0-9:]+).*/\3/p' | tail -n 1; }
before=$(played)
sleep 3
after=$(played)
ok "...its playing time going on ($before, then $after)" test -n "$after" -a "$after" != "$before"

fe_stop "$HOST"
reap "$VIEW" 20
is "$?:$(tail -n 1 "$TEST_TMP/mpv.err")" "0:pixelpass: the host stopped sharing" \
	"the host stops: the viewer ends with it, status 0"
ok "...and mpv with it" wait_for 20 eval '! kill -0 "$MPV" 2> /dev/null'

# --- pp-view, the default player, across a 6-s outage ----------------------
new_xvfb 1280x720
host_start host3
DISPLAY=$XVFB_DISPLAY "${V[@]}" pixelpass --player pp-view --player-args --stats \
	"$TICKET" < /dev/null > /dev/null 2> "$TEST_TMP/view.err" &
VIEW=$!
track_pid "$VIEW"
# shown: the pictures pp-view has shown, as its latest --stats line says.
shown() { sed -n 's/^pp-view: stats: received [0-9]*, shown \([0-9]*\),.*/\1/p' "$TEST_TMP/view.err" | tail -n 1; }
wait_for 20 eval '[ "$(shown)" -gt 20 ]' 2> /dev/null || bail "pp-view shows nothing: $(tail -n 3 "$TEST_TMP/view.err")"
outage 6
ok "connected again" wait_for 30 grep -q 'again, [0-9]* s after the connection was lost$' "$TEST_TMP/view.err"
at=$(shown)
ok "...and pp-view shows the new connection's pictures (more than $at + 20)" \
	wait_for 15 eval '[ "$(shown)" -gt $((at + 20)) ]'
fe_stop "$HOST"
reap "$VIEW" 20
is "$?:$(tail -n 1 "$TEST_TMP/view.err")" "0:pixelpass: the host stopped sharing" \
	"the host stops: the viewer ends with it, status 0"
is "$(fe_leftovers)" "" "no process, socket or file of pixelpass is left"
