#!/bin/bash
# pixelpass(1)'s self-hosted rendezvous example, on loopback: a host that
# meets its viewers on a mosquitto broker of its own says so, its ticket
# names the broker, and a viewer's recording decodes.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/frontend-lib.sh"
need pixelpass pp-tunnel mosquitto python3 ffprobe ffmpeg
plan 4

private_xdg
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf 'user root\nlistener %s 127.0.0.1\nallow_anonymous true\n' "$PORT" > "$TEST_TMP/mosquitto.conf"
mosquitto -c "$TEST_TMP/mosquitto.conf" > "$TEST_TMP/mosquitto.log" 2>&1 &
track_pid $!
wait_for 10 sh -c "ss -Hltn 'sport = :$PORT' | grep -q ." || bail "mosquitto did not start: $(tail -n 3 "$TEST_TMP/mosquitto.log")"

fe_host host --source test --no-audio --fps 15 --rendezvous "mqtt://127.0.0.1:$PORT" --stun none
ok "the host meets viewers on the broker given" wait_for 10 grep -q "rendezvous mqtt://127.0.0.1:$PORT" "$TEST_TMP/host.log"
pixelpass --record "$TEST_TMP/rec.ts" "$fe_ticket" > /dev/null 2> "$TEST_TMP/v.err" &
V=$!
track_pid $V
ok "a viewer connects" wait_for 20 grep -qs 'connected ' "$TEST_TMP/v.err"
sleep 3
fe_stop $V
ok "its recording decodes" decodes "$TEST_TMP/rec.ts"
fe_stop "$fe_pid"
is "$(fe_leftovers)" "" "the host leaves nothing behind"
