#!/bin/sh
# One headless pixelpass session on this machine: a host sharing the test
# pattern over the direct path (--rendezvous none) and a viewer recording
# it for a few seconds; fails unless the recording holds H.264 and both
# stop cleanly. It runs whatever pixelpass comes first in PATH, so callers
# choose: the installed package (tools/check-deb.sh) or a build tree in a
# chroot (tools/check-debian13.sh). Needs ffprobe.
set -eu
work=$(mktemp -d "${TMPDIR:-/tmp}/pp-session.XXXXXX")
host=
cleanup() {
	[ -z "$host" ] || kill -TERM "$host" 2> /dev/null || :
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() { printf 'headless-session: FAIL: %s\n' "$*" >&2; exit 1; }

# Host and viewer each with a home and runtime directory of their own.
for d in host viewer; do
	mkdir -m 0700 "$work/$d" "$work/$d/run"
done
HOME=$work/host XDG_RUNTIME_DIR=$work/host/run \
	pixelpass host --source test --no-audio --rendezvous none --bitrate 1000 --fps 15 \
	> "$work/ticket" 2> "$work/host.log" < /dev/null &
host=$!
i=0
until grep -qs '^pp1' "$work/ticket"; do
	i=$((i + 1))
	[ "$i" -le 200 ] && kill -0 "$host" 2> /dev/null ||
		{ cat "$work/host.log" >&2; fail "the host printed no ticket"; }
	sleep 0.1
done
rc=0
HOME=$work/viewer XDG_RUNTIME_DIR=$work/viewer/run \
	timeout -s TERM 6 pixelpass --record "$work/rec.ts" "$(cat "$work/ticket")" \
	> /dev/null 2> "$work/viewer.log" < /dev/null || rc=$?
# timeout's SIGTERM is the viewer's clean stop: exit 0, or timeout's 124.
case $rc in
0 | 124) ;;
*) cat "$work/host.log" "$work/viewer.log" >&2; fail "the viewer exited $rc" ;;
esac
# (ffprobe lists a stream once for its program and once alone.)
codec=$(ffprobe -v error -select_streams v -show_entries stream=codec_name \
	-of csv=p=0 "$work/rec.ts" | sed '/^$/d' | sort -u)
[ "$codec" = h264 ] || { cat "$work/host.log" "$work/viewer.log" >&2
	fail "the recording's video is '$codec', not h264"; }
kill -TERM "$host"
rc=0
wait "$host" || rc=$?
host=
[ "$rc" -eq 0 ] || { cat "$work/host.log" >&2; fail "the host exited $rc on SIGTERM"; }
printf 'headless-session: ok: %s hosted, a viewer recorded %s bytes of H.264\n' \
	"$(command -v pixelpass)" "$(wc -c < "$work/rec.ts")" >&2
