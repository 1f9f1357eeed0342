#!/bin/bash
# pp-tunnel on loopback: a 100 MB file each way, identical by SHA-256;
# half-close (the viewer's stdin is empty); the ticket file, and one
# that is a planted symbolic link; the ticket from PP_TICKET; what both
# sides print.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/tunnel-lib.sh"
need pp-tunnel sha256sum head timeout script
plan 31

head -c 100000000 /dev/urandom > "$TEST_TMP/big"
want=$(sha "$TEST_TMP/big")
head -c 5000000 "$TEST_TMP/big" > "$TEST_TMP/small"

# Host to viewer: `listen -- cat FILE`, the viewer's stdin at EOF at once.
# A ticket file name that is a symbolic link someone planted, to a file
# of the user's, is refused (73), and the file is left alone.
echo "the user's own file" > "$TEST_TMP/victim"
ln -s "$TEST_TMP/victim" "$TEST_TMP/link"
timeout 20 pp-tunnel listen --rendezvous none --ticket-file "$TEST_TMP/link" -- true \
    > /dev/null 2> "$TEST_TMP/link.err"
is "$?:$(cat "$TEST_TMP/victim")" "73:the user's own file" "--ticket-file over a symbolic link: exit 73, and what it points at is untouched"
like "$(cat "$TEST_TMP/link.err")" '^pp-tunnel: .*/link is a symbolic link: give the ticket file a name of its own$' "...in one line that says why"
tunnel_listen host1 --rendezvous none --ticket-file "$TEST_TMP/t1" -- cat "$TEST_TMP/big"
like "$tunnel_ticket" '^pp1[a-z2-7]+$' "the ticket is pp1 and lowercase base32"
is "$(cat "$TEST_TMP/t1")" "$tunnel_ticket" "--ticket-file holds the same ticket"
is "$(stat -c %a "$TEST_TMP/t1")" 600 "the ticket file is mode 0600"
like "$(ticket-test addrs "$tunnel_ticket")" '^127\.0\.0\.1:[0-9]+$|
127\.0\.0\.1:' "the ticket has loopback among its addresses"

start=$(date +%s.%N)
tunnel_connect v1 "$tunnel_ticket" < /dev/null
secs=$(echo "$(date +%s.%N) - $start" | bc)
diag "100 MB host to viewer in $secs s"
is "$tunnel_rc" 0 "connect exits 0 after the whole stream"
is "$(sha "$TEST_TMP/v1.out")" "$want" "the viewer got the 100 MB file, identical"
is "$(wc -l < "$TEST_TMP/v1.err")" 1 "connect prints one line on stderr"
like "$(cat "$TEST_TMP/v1.err")" '^pp-tunnel: connected to .* \(path direct, IPv[46], RTT [0-9.]+ ms\)$' \
	"it says the path, the address family and the RTT"
wait_for 5 grep -q 'left after' "$tunnel_log"
like "$(cat "$tunnel_log")" 'viewer .* arrived \(IPv[46], RTT [0-9.]+ ms\)' "the host logs the arrival"
like "$(cat "$tunnel_log")" 'viewer .* left after .*sent 100\.0 MB' "the host logs the departure"

# Viewer to host: the viewer's stdin reaches CMD's stdin, EOF included.
tunnel_listen host2 -- sh -c "cat > '$TEST_TMP/up'; echo eof > '$TEST_TMP/up.eof'"
start=$(date +%s.%N)
tunnel_connect v2 "$tunnel_ticket" < "$TEST_TMP/big"
secs=$(echo "$(date +%s.%N) - $start" | bc)
diag "100 MB viewer to host in $secs s"
is "$tunnel_rc" 0 "connect exits 0 after sending its stdin"
ok "the host's command saw EOF" wait_for 10 test -s "$TEST_TMP/up.eof"
is "$(sha "$TEST_TMP/up")" "$want" "the host's command got the 100 MB, identical"
is "$(wc -c < "$TEST_TMP/v2.out")" 0 "the viewer got nothing back (CMD wrote nothing)"

# Each family alone, through a ticket whose only address is loopback.
for a in 127.0.0.1 ::1; do
	case $a in *:*) fam=IPv6 ;; *) fam=IPv4 ;; esac
	if [ $fam = IPv6 ] && ! grep -q '^0\{31\}1 ' /proc/net/if_inet6 2>/dev/null; then
		_test_n=$((_test_n + 1))
		echo "ok $_test_n # SKIP no IPv6 loopback on this machine"
		continue
	fi
	tunnel_connect fam "$(ticket-test addr "$a" "$tunnel_ticket")" < "$TEST_TMP/small"
	is "$tunnel_rc $(grep -c "connected to .*path direct, $fam" "$TEST_TMP/fam.err")" "0 1" "connect over $fam alone"
done

# Both ways at once through `cat`: what goes in comes back. The ticket
# in PP_TICKET, where ps cannot show it.
tunnel_listen host3 -- cat
PP_TICKET=$tunnel_ticket tunnel_connect v3 < "$TEST_TMP/small"
is "$tunnel_rc" 0 "connect through an echoing host exits 0, the ticket from PP_TICKET"
is "$(sha "$TEST_TMP/v3.out")" "$(sha "$TEST_TMP/small")" "5 MB echoed back, identical"

# The man page's shell example.
tunnel_listen shell --max-viewers 1 -- sh -c 'exec sh 2>&1'
echo 'echo "hello from $(basename /bin/sh)"; ls /nonexistent-pp' | tunnel_connect sh "$tunnel_ticket"
is "$tunnel_rc" 0 "a shell through the tunnel exits 0"
like "$(head -n 1 "$TEST_TMP/sh.out")" '^hello from sh$' "runs the viewer's commands"
like "$(cat "$TEST_TMP/sh.out")" 'nonexistent-pp' "and sends back their stderr"

# A reader that goes away (head) ends the viewer quietly; the host goes on.
tunnel_listen zero -- cat /dev/zero
timeout 60 pp-tunnel connect "$tunnel_ticket" < /dev/null 2> "$TEST_TMP/z.err" | head -c 1000000 > "$TEST_TMP/z.out"
is "${PIPESTATUS[0]} $(wc -c < "$TEST_TMP/z.out")" "0 1000000" "a viewer whose reader quit exits 0"
tunnel_connect z2 "$tunnel_ticket" < /dev/null &
z2=$!
track_pid "$z2"
ok "the host serves the next viewer" wait_for 10 test -s "$TEST_TMP/z2.out"
kill -TERM "$tunnel_pid"
wait "$z2"
is "$?" 0 "the viewer of a host that stops exits 0"
like "$(cat "$TEST_TMP/z2.err")" 'the host stopped sharing' "saying the host stopped"
wait "$tunnel_pid"
is "$?" 0 "the host exits 0 on SIGTERM"
pp-tunnel > /dev/null 2>&1
is "$?" 64 "no arguments: usage, 64"

# A viewer on a terminal (script gives it one) that types nothing ends
# when the host's stream ends, rather than waiting for ^D.
tunnel_listen tty -- cat "$TEST_TMP/small"
sleep 30 | timeout 60 script -qec "pp-tunnel connect $tunnel_ticket > '$TEST_TMP/tty.out'" /dev/null > "$TEST_TMP/tty.err"
is "$?" 0 "a viewer on a terminal exits 0 at the end of the host's stream"
is "$(sha "$TEST_TMP/tty.out")" "$(sha "$TEST_TMP/small")" "with all of it"
