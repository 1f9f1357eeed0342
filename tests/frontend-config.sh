#!/bin/bash
# The upstream pre-flight and config.toml, against a local HTTP endpoint:
# measured (0.8 times the rate, and the cap derived from it), skipped in
# the menu and sticky, failed with the endpoint down, --reconfigure, the
# user's [network] table and comments kept; a damaged config named with
# its line, exit 65, the file left as it was.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/frontend-lib.sh"
need pixelpass pp-tunnel pp-fanout python3 curl tmux cmp
plan 49

private_xdg
CONF=$XDG_CONFIG_HOME/pixelpass/config.toml
python3 "$top_srcdir/tests/upload-sink.py" > "$TEST_TMP/sink.port" &
SINK=$!
track_pid $SINK
wait_for 10 test -s "$TEST_TMP/sink.port" || bail "the upload sink did not start"
export PIXELPASS_SPEEDTEST_URL="http://127.0.0.1:$(cat "$TEST_TMP/sink.port")/up"

# cap_of LOG: the cap a host said it uses.
cap_of() { sed -n 's/^pixelpass: viewer cap: \([0-9]*\) .*/\1/p' "$1"; }
# host_once NAME ARGS: a host up to its ticket, then stopped.
host_once() {
	local name=$1
	shift
	fe_host "$name" --source test --rendezvous none "$@"
	fe_stop "$fe_pid"
}
getkey() { sed -n "s/^$1 = \"\{0,1\}\([^\"]*\)\"\{0,1\}\$/\1/p" "$CONF"; }

# --- measured -----------------------------------------------------------------
# The user's own lines come first: they must survive every rewrite.
mkdir -p "$(dirname "$CONF")"
cat > "$CONF" <<'TOML'
# my settings
[network]
rendezvous = "none"   # direct only
TOML
pixelpass --reconfigure > "$TEST_TMP/m.out" 2> "$TEST_TMP/m.err"
is "$?" 0 "--reconfigure measures and exits 0"
like "$(cat "$TEST_TMP/m.err")" "uploading 5 MB to $PIXELPASS_SPEEDTEST_URL" "it says where it uploads"
is "$(getkey status)" measured "status = \"measured\""
UP=$(getkey upstream_mbps)
like "$UP" '^[0-9]+$' "upstream_mbps is a whole number ($UP)"
SAID=$(sed -n 's/.*upstream: \([0-9.]*\) Mbit\/s measured.*/\1/p' "$TEST_TMP/m.err")
is "$UP" "$(awk -v m="$SAID" 'BEGIN { printf "%d", m * 0.8 }')" "...0.8 times the $SAID Mbit/s measured"
like "$(getkey measured_at)" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' "measured_at is RFC 3339"
is "$(stat -c %a "$CONF")" 600 "the file is mode 0600"
like "$(cat "$CONF")" '# my settings' "the user's comment is kept"
like "$(cat "$CONF")" 'rendezvous = "none"   # direct only' "...and the [network] table"
is "$(cat "$TEST_TMP/m.out")" "" "nothing on stdout"

host_once h1 --bitrate 2000
EXP=$((UP * 1000 / 2128))
[ "$EXP" -ge 1 ] || EXP=1
is "$(cap_of "$TEST_TMP/h1.log")" "$EXP" "the cap fits the measured upstream: $UP Mbit/s / 2128 kbit/s"
like "$(cat "$TEST_TMP/h1.log")" "$UP Mbit/s of upstream, measured" "...and the host says why"

# A known upstream: 20 Mbit/s carries 3 streams of 6128 kbit/s, 3 of
# 6000 without sound, 1 of 30000 (at least 1).
sed -i 's/^upstream_mbps = .*/upstream_mbps = 20/' "$CONF"
host_once h2
is "$(cap_of "$TEST_TMP/h2.log")" 3 "20 Mbit/s, 6000 kbit/s and sound: cap 3"
host_once h3 --bitrate 30000 --no-audio
is "$(cap_of "$TEST_TMP/h3.log")" 1 "20 Mbit/s, 30000 kbit/s: cap 1 (at least one)"
host_once h4 --max-viewers 7
is "$(cap_of "$TEST_TMP/h4.log")" 7 "--max-viewers overrides it"

# --- failed (the endpoint is down), then measured again -----------------------
kill $SINK
wait $SINK 2> /dev/null
pixelpass --reconfigure > /dev/null 2> "$TEST_TMP/f.err"
is "$?" 69 "--reconfigure with the endpoint down: exit 69"
like "$(cat "$TEST_TMP/f.err")" 'the upstream test failed \(.*\); the viewer cap stays at 2' "...saying so"
is "$(getkey status)" failed "status = \"failed\""
is "$(getkey upstream_mbps)" "" "no upstream_mbps is kept"
host_once h5
is "$(cap_of "$TEST_TMP/h5.log")" 2 "failed: cap 2"
like "$(cat "$TEST_TMP/h5.log")" 'viewer cap: 2 \(the upstream test failed at ' "...and why"
like "$(cat "$CONF")" 'rendezvous = "none"   # direct only' "[network] is still there"

python3 "$top_srcdir/tests/upload-sink.py" > "$TEST_TMP/sink2.port" &
track_pid $!
wait_for 10 test -s "$TEST_TMP/sink2.port" || bail "the upload sink did not start"
export PIXELPASS_SPEEDTEST_URL="http://127.0.0.1:$(cat "$TEST_TMP/sink2.port")/up"
host_once h6 --reconfigure
is "$(getkey status)" measured "host --reconfigure measures again, then hosts"

# --- skipped in the menu, and sticky ------------------------------------------
rm "$CONF"
fe_tmux_start
fe_term skip "pixelpass --source test --no-audio --rendezvous none"
fe_see 10 skip 'Choose 1 or 2' || bail "no menu"
fe_keys skip 1 Enter
ok "the first host offers the upstream test" fe_see 10 skip 'measure the upstream once'
fe_keys skip n Enter
ok "skipped: the host goes on to the ticket" fe_see 15 skip '^pp1[a-z2-7]+$'
is "$(getkey status)" skipped "status = \"skipped\""
like "$(fe_screen skip)" 'viewer cap: 2 \(the upstream test was skipped' "cap 2, and why"
fe_keys skip q
ok "q stops the host" wait_for 15 fe_dead skip
fe_term skip2 "pixelpass --source test --no-audio --rendezvous none"
fe_see 10 skip2 'Choose 1 or 2' || bail "no menu"
fe_keys skip2 1 Enter
ok "the next host goes straight to the ticket" fe_see 15 skip2 '^pp1[a-z2-7]+$'
unlike "$(fe_screen skip2)" 'measure the upstream once' "...without asking again"
fe_keys skip2 C-c
wait_for 15 fe_dead skip2

# --- a damaged config ----------------------------------------------------------
damaged() {
	printf '%s\n' "$1" > "$CONF"
	cp "$CONF" "$TEST_TMP/before"
	pixelpass host --source test --rendezvous none < /dev/null > "$TEST_TMP/d.out" 2> "$TEST_TMP/d.err"
	is "$?" 65 "$2: exit 65"
	like "$(cat "$TEST_TMP/d.err")" "^pixelpass: $CONF:$3: $4" "...naming the file and line $3"
	ok "...the file left as it was" cmp -s "$CONF" "$TEST_TMP/before"
}
damaged $'# upstream\n[bandwidth]\nstatus = "measured"\nupstream_mbps = 12.5' "a fraction" 4 "something after the value"
damaged $'[bandwidth]\nstatus = "great"' "an unknown status" 2 'status "great": expected'
damaged $'[network]\nstun = "a:1"\n[bandwith]\nstatus = "skipped"' "a misspelt table" 3 'unknown table \[bandwith\]'
damaged $'[network]\nstunn = "a:1"' "an unknown key of [network]" 2 'unknown key "stunn" in \[network\] \(pixelpass knows rendezvous, stun, turn and turn_ca\); fix or delete that line \(the file was left as it was\)$'
is "$(cat "$TEST_TMP/d.out")" "" "no ticket was printed"
printf '[bandwidth]\nstatus = "measured"\n' > "$CONF"
pixelpass host --source test --rendezvous none < /dev/null > /dev/null 2> "$TEST_TMP/d.err"
is "$?" 65 "status measured without upstream_mbps: exit 65"
like "$(cat "$TEST_TMP/d.err")" "^pixelpass: $CONF: \[bandwidth\] status is \"measured\" but upstream_mbps is missing; add it, or run pixelpass --reconfigure$" "...saying what to do"

# --- a config that cannot be written ---------------------------------------------
# A read-only file is kept as it is: a headless first host, which records
# "unmeasured", stops with 73 and says why.
printf '# pinned\n[network]\nrendezvous = "none"\n' > "$CONF"
chmod 0400 "$CONF"
cp "$CONF" "$TEST_TMP/before"
pixelpass host --source test --rendezvous none < /dev/null > "$TEST_TMP/ro.out" 2> "$TEST_TMP/ro.err"
is "$?" 73 "a read-only config.toml to write: exit 73"
like "$(cat "$TEST_TMP/ro.err")" "^pixelpass: $CONF: read-only \(mode 0400\), not replaced" "...naming the file"
ok "...the file left as it was" cmp -s "$CONF" "$TEST_TMP/before"
is "$(cat "$TEST_TMP/ro.out")" "" "...and no ticket was printed"
