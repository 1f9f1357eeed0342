#!/bin/sh
# Builds the Debian package (debian/) from a copy of this tree, so that the
# tree stays as clean as it was for the VPATH builds that follow in CI;
# fails on lintian's errors; installs the package with apt-get; and then,
# from the installed files alone: pixelpass --version, every man page, the
# bash completions, and one headless host -> viewer session whose
# recording must hold H.264. The package is removed again at the end.
# Run as root on Debian with the build dependencies installed
# (tools/install-deps.sh).
set -eu
cd "$(dirname "$0")/.."
work=$(mktemp -d "${TMPDIR:-/tmp}/pp-deb.XXXXXX")
installed=
host=
cleanup() {
	[ -z "$host" ] || kill -TERM "$host" 2> /dev/null || :
	[ -z "$installed" ] || apt-get remove -y pixelpass > /dev/null 2>&1 || :
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
say() { printf 'check-deb: %s\n' "$*" >&2; }
fail() { say "FAIL: $*"; exit 1; }

# The tracked files and the new ones not ignored: what a commit would hold,
# without what autogen.sh, configure or a build left here.
mkdir "$work/pixelpass"
git ls-files -z --cached --others --exclude-standard |
	tar --null -T - -cf - | tar -xf - -C "$work/pixelpass"
version=$(cd "$work/pixelpass" && dpkg-parsechangelog -S Version)
arch=$(dpkg --print-architecture)
# The source package too, so that lintian checks debian/ itself.
say "building pixelpass $version"
(cd "$work/pixelpass" && dpkg-buildpackage -us -uc) > "$work/build.log" 2>&1 ||
	{ tail -n 40 "$work/build.log" >&2; fail "dpkg-buildpackage failed"; }
deb=$work/pixelpass_${version}_$arch.deb
[ -f "$deb" ] || fail "no $deb"

say "lintian"
lintian --fail-on error --info "$work/pixelpass_${version}_$arch.changes" ||
	fail "lintian found errors"

say "installing $(basename "$deb")"
installed=1
(cd "$work" && DEBIAN_FRONTEND=noninteractive apt-get install -y "./$(basename "$deb")") \
	> "$work/install.log" 2>&1 ||
	{ tail -n 20 "$work/install.log" >&2; fail "apt-get install failed"; }

# From here on only the installed files: the system's PATH, no build tree.
PATH=/usr/bin:/bin:/usr/sbin:/sbin
export PATH
for t in pixelpass pp-capture pp-encode pp-fanout pp-tunnel pp-bridge pp-repair pp-view pp-config; do
	[ "$(command -v "$t")" = "/usr/bin/$t" ] || fail "$t is not /usr/bin/$t"
done
[ "$(pixelpass --version)" = "pixelpass $version" ] ||
	fail "pixelpass --version says '$(pixelpass --version)', not 'pixelpass $version'"
for m in $(dpkg -L pixelpass | sed -n 's|^/usr/share/man/man1/\(.*\)\.1\.gz$|\1|p'); do
	man -w "$m" > /dev/null || fail "man -w $m"
	n=$((${n:-0} + 1))
done
[ "${n:-0}" -eq 9 ] || fail "${n:-0} man pages installed, not 9"
bash -c '. /usr/share/bash-completion/bash_completion &&
	__load_completion pp-tunnel && complete -p pp-tunnel' | grep -q _pp_tunnel ||
	fail "bash-completion does not load the completion of pp-tunnel"

# One host and one viewer on this machine over the direct path, each with
# a home and runtime directory of its own.
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
HOME=$work/viewer XDG_RUNTIME_DIR=$work/viewer/run \
	timeout -s TERM 6 pixelpass --record "$work/rec.ts" "$(cat "$work/ticket")" \
	> /dev/null 2> "$work/viewer.log" < /dev/null || rc=$?
# timeout's SIGTERM is the viewer's clean stop: exit 0 or timeout's 124.
case ${rc:-0} in 0 | 124) ;; *) cat "$work/viewer.log" >&2; fail "the viewer exited ${rc}" ;; esac
# (ffprobe lists a stream once for its program and once alone.)
codec=$(ffprobe -v error -select_streams v -show_entries stream=codec_name \
	-of csv=p=0 "$work/rec.ts" | sed '/^$/d' | sort -u)
[ "$codec" = h264 ] || { cat "$work/viewer.log" >&2; fail "the recording's video is '$codec', not h264"; }
kill -TERM "$host"
wait "$host" || fail "the host exited $? on SIGTERM"
host=

apt-get remove -y pixelpass > /dev/null
installed=
[ ! -e /usr/bin/pixelpass ] || fail "/usr/bin/pixelpass is still there after apt-get remove"
say "ok: pixelpass $version builds, passes lintian, installs, hosts and views, and is removed"
