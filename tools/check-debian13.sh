#!/bin/sh
# Debian 13 (trixie): a chroot made with debootstrap from the Debian
# archive this machine's apt already uses (read from its sources at run
# time), the build dependencies of debian/control installed there, and
# then, inside it: pixelpass built from a copy of this tree, its unit
# tests, and one headless host -> viewer session (tools/headless-session.sh).
# Nothing of it is left afterwards. Run as root; needs debootstrap.
set -eu
cd "$(dirname "$0")/.."
suite=trixie
root=$(mktemp -d "${TMPDIR:-/tmp}/pp-debian13.XXXXXX")
cleanup() {
	umount "$root/proc" 2> /dev/null || :
	# Never follow a mount out of the chroot.
	if ! grep -q " $root/" /proc/self/mounts; then
		rm -rf --one-file-system "$root"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# Each line says how long the check has run, for .ci/run's accounts.
started=$(date +%s)
say() { printf 'check-debian13: %s (%d s)\n' "$*" $(($(date +%s) - started)) >&2; }
fail() { say "FAIL: $*"; exit 1; }

# The first URI of apt's sources for Debian's main archive (not its
# security archive), in deb822 .sources files or one-line .list files.
mirror=$({
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk '/^[ \t]*$/ { if (deb && uri != "" && suites !~ /-security/) print uri
				deb = 0; uri = ""; suites = ""; next }
			/^Types:/ { deb = ($0 ~ /[ \t]deb([ \t]|$)/) }
			/^URIs:/ { uri = $2 }
			/^Suites:/ { suites = $0 }
			END { if (deb && uri != "" && suites !~ /-security/) print uri }' "$f"
	done
	cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2> /dev/null |
		sed -n 's/^deb[ \t]\{1,\}\(\[[^]]*\][ \t]\{1,\}\)\{0,1\}\([^ \t]*\)[ \t]\{1,\}[^ \t]*.*/\2/p' |
		grep -v -- '-security' || :
} | head -n 1)
[ -n "$mirror" ] || fail "no Debian archive in apt's sources"

say "debootstrap $suite"
debootstrap --variant=minbase "$suite" "$root" "$mirror" > "$root.log" 2>&1 ||
	{ tail -n 20 "$root.log" >&2; rm -f "$root.log"; fail "debootstrap $suite failed"; }
rm -f "$root.log"
mount -t proc proc "$root/proc"

# debian/control's Build-Depends (debhelper aside: this build is the plain
# ./configure one), the compilers, and what the tests below run.
build=$(sed -n '/^Build-Depends:/,/^[A-Z][-A-Za-z]*:/p' debian/control |
	sed '1s/^Build-Depends://; /^[A-Z][-A-Za-z]*:/d' | tr ',' '\n' |
	sed 's/([^)]*)//; s/^[ \t]*//; s/[ \t]*$//; /^$/d; /^debhelper/d')
tests="build-essential autoconf automake man-db bash-completion ffmpeg curl
	gstreamer1.0-plugins-base gstreamer1.0-plugins-good
	gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-x
	fonts-dejavu-core"
say "installing the build dependencies"
# shellcheck disable=SC2086 # the lists are meant to split into words
chroot "$root" sh -c 'apt-get update && DEBIAN_FRONTEND=noninteractive \
	apt-get install -y --no-install-recommends "$@"' sh $build $tests \
	> "$root/tmp/apt.log" 2>&1 ||
	{ tail -n 20 "$root/tmp/apt.log" >&2; fail "apt-get install in $suite failed"; }
chroot "$root" dpkg-query -W libngtcp2-dev libgstreamer1.0-dev libnice-dev \
	libpipewire-0.3-dev >&2

# The C unit tests, the fuzz corpus replay, and the shell tests that need
# no services (no namespaces, display or sound server in a chroot).
unit="tests/ticket-test tests/signaling-test tests/quic-test tests/tlsrelay-test
	tests/fanq-test tests/http-test tests/status-test tests/fuzz-corpus.sh
	tests/conventions.sh tests/config.sh tests/completion.sh"
mkdir "$root/src"
git ls-files -z --cached --others --exclude-standard |
	tar --null -T - -cf - | tar -xf - -C "$root/src"
say "building, and the unit tests"
chroot "$root" sh -c "cd /src && ./autogen.sh && ./configure && make -j$(nproc) &&
	make check TESTS='$(echo $unit)'" > "$root/tmp/build.log" 2>&1 ||
	{ tail -n 40 "$root/tmp/build.log" >&2; fail "the build or the unit tests failed in $suite"; }
grep '^# [A-Z]*: ' "$root/tmp/build.log" >&2

say "a headless host -> viewer session"
chroot "$root" sh -c 'PATH=/src/cmd:$PATH /src/tools/headless-session.sh' ||
	fail "the session failed in $suite"
say "ok: $suite builds pixelpass, passes its unit tests and a session"
