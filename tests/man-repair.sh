#!/bin/bash
# Runs the example of pp-repair(1), as written there (extracted from the
# man page), and checks that each command prints what the man page shows
# and exits 0, and that the sink is really gone. "After a host was
# killed": a pp-capture --app appA (the host's capture) killed with
# SIGKILL in the audio lab; its pid stands for the man page's 4242
# (substituted with sed). About 3 s.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/portal-lab.sh"
need pp-capture pp-repair pw-play pw-dump sox python3
plan 6

lab_audio_start
sox -n -r 48000 -c 2 -b 16 "$TEST_TMP/a.wav" synth 30 sine 440 vol 0.5 ||
    bail "sox cannot make the test tone"
pw-play -P "{ application.name=appA }" "$TEST_TMP/a.wav" &
track_pid $!
routes() { pw-dump | python3 "$top_srcdir/tests/pw-routes.py"; }
routed() { routes | grep -qx "$1"; }
wait_for 10 routed "appA -> speakers" || bail "appA does not play"

pp-capture --source test --app appA -- sleep 60 &
killed=$!
track_pid $killed
wait_for 10 routed "appA -> pixelpass_capture_$killed" || bail "appA was not routed"
kill -KILL $killed
wait $killed 2> /dev/null

# The block's "$ " lines are run in order; the lines under each are what
# it prints; a "$" alone ends the block.
sed -n '/^\.Sh EXAMPLES/,/^\.Sh/{/^\.Bd/,/^\.Ed/p}' "$top_srcdir/man/pp-repair.1" |
    sed '/^\.Bd/d; /^\.Ed/d; s/\\-/-/g' | sed "s/4242/$killed/g" > "$TEST_TMP/example"
n=0 got='' want='' sep='' rcs=''
while IFS= read -r l; do
	if [[ $l == '$ '* ]]; then
		n=$((n + 1))
		out=$(bash -c "${l#\$ }" 2>&1)
		rcs+="$? "
		got+="${sep}> ${l#\$ }${out:+$'\n'}$out"
		want+="${sep}> ${l#\$ }"
		sep=$'\n'
	elif [ "$l" != '$' ]; then
		want+=$'\n'"$l"
	fi
done < "$TEST_TMP/example"
is "$n" 3 "pp-repair(1)'s example has the 3 commands this test knows"
is "$got" "$want" "each prints what the man page shows"
is "$rcs" "0 0 0 " "...and exits 0"
r=$(routes)
unlike "$r" "pixelpass_capture_$killed" "the killed host's sink is gone"
ok "appA is back on the speakers" wait_for 10 routed "appA -> speakers"
like "$(sed -n 2p "$TEST_TMP/example")" "^pixelpass_capture_$killed\$" "(the example names the sink the test substituted)"
