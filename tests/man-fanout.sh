#!/bin/bash
# Runs the examples of pp-fanout(1), as written there (extracted from the
# man page), with XDG_RUNTIME_DIR private, and checks what each made: the
# attached consumer records the test pattern (H.264 and AAC, 1280x720),
# the producer lingers its 5 s after the last consumer left; ffprobe of
# a served standard input finds the H.264 video and the AAC audio; a
# recording served to a viewer of pp-tunnel arrives from its start. The
# second example runs again without XDG_RUNTIME_DIR, in a /tmp of its own.
# Substituted with sed, the minimum: pp-tunnel listen gets --rendezvous
# none (the direct path only, on this machine). Each is stopped with
# SIGINT after a few seconds, as Control-C would. About 20 s.
. "$top_srcdir/tests/libtest.sh"
. "$top_srcdir/tests/man-lib.sh"
. "$top_srcdir/tests/encode-lib.sh"
need pp-fanout pp-encode pp-tunnel ffprobe
plan 12

private_xdg
export PULSE_SERVER="unix:$TEST_TMP/no-such-socket"
mkdir "$TEST_TMP/ex"
cd "$TEST_TMP/ex" || bail "no temp dir"

mapfile -d '' -t ex < <(man_examples pp-fanout)
is "${#ex[@]}" 8 "pp-fanout(1) has the 8 example commands this test knows"

# Share a test pattern: the three lines in one shell, as typed.
man_run 1 5 "${ex[0]}
${ex[1]}
${ex[2]}"
is "$man_rc" 0 "${ex[2]}: exit 0 on Control-C"
is "$(streams talk.ts)" "h264 aac" "...talk.ts: H.264 and AAC"
is "$(video_info talk.ts | cut -d' ' -f1)" 1280x720 "...at the test pattern's size"
like "$(cat 1.err)" 'no consumer for 5 s: stopping the producer|consumer 1 left' "...the consumer left"

# Serve a stream from the standard input and look at it.
man_run 2 10 "${ex[3]}
${ex[4]}
${ex[5]}"
like "$(cat 2.err)" 'Stream #0:0.*Video: h264' "${ex[5]}: ffprobe finds the H.264 video"
like "$(cat 2.err)" 'Stream #0:1.*Audio: aac' "...and the AAC audio"

# The same without XDG_RUNTIME_DIR, as a session that has none runs it:
# in a /tmp of its own (a mount namespace), which it leaves as it was. The
# test's own directory, when it is under /tmp, stays where it is in that
# /tmp (HOME and the GStreamer registry are there).
F=$TEST_TMP/slash-tmp
mkdir "$F"
keep=
case $TEST_TMP in /tmp/*) keep=${TEST_TMP#/tmp/}; mkdir -p "$F/$keep" ;; esac
# shellcheck disable=SC2016 # for the namespace's shell
ns='[ -z "$1" ] || mount --bind "$2" "$0/$1" || exit
mount --rbind "$0" /tmp && unset XDG_RUNTIME_DIR && eval "$3"'
# The programs must stay in sight: a tree under /tmp would be hidden by
# that /tmp.
case $top_builddir/ in /tmp/*) in_tmp=the\ build\ tree\ is\ under\ /tmp ;; *) in_tmp= ;; esac
if [ -z "$in_tmp" ] && unshare -m --propagation private true 2> /dev/null; then
	man_run 2u 10 "exec unshare -m --propagation private bash -o pipefail -c $(printf '%q ' "$ns" "$F" "$keep" "$TEST_TMP" "${ex[3]}
${ex[4]}
${ex[5]}")"
	like "$(cat 2u.err)" 'Stream #0:0.*Video: h264' "...and without XDG_RUNTIME_DIR, in /tmp"
	is "$(ls -A "$F") $( [ -z "$keep" ] || ls -A "$F/$keep")" "${keep%%/*} " "...which it leaves as it found it"
else
	skip "...and without XDG_RUNTIME_DIR, in /tmp" "${in_tmp:-no mount namespace here (unshare -m)}"
	skip "...which it leaves as it found it" "${in_tmp:-no mount namespace here (unshare -m)}"
fi

# A recording to several viewers: talk.ts of the first example, served
# to a viewer of the ticket.
mkdir viewer
man_start 3 "${ex[6]}
$(printf '%s' "${ex[7]}" | sed 's/^pp-tunnel listen /&--rendezvous none /')"
ok "${ex[7]}: a ticket" wait_for 20 grep -qs '^pp1' 3.out
ticket=$(head -n 1 3.out)
(cd viewer && timeout 60 pp-tunnel connect "$ticket" > talk.ts 2> connect.err)
is "$(streams viewer/talk.ts)" "h264 aac" "...its viewer gets H.264 and AAC"
n=$(stat -c %s viewer/talk.ts 2> /dev/null || echo 0)
ok "...the recording from its start to its end ($n of $(stat -c %s talk.ts) bytes)" \
    test "$n" -ge $(($(stat -c %s talk.ts) * 9 / 10))
man_stop 0
