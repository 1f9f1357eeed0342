#!/bin/sh
# Debian 13 (trixie): a chroot made with debootstrap from the Debian
# archive this machine's apt already uses (read from its sources at run
# time), the build dependencies of debian/control installed there, and
# then, inside it: pixelpass built from a copy of this tree, its unit
# tests, and one headless host -> viewer session (tools/headless-session.sh).
# Nothing of it is left afterwards. Run as root; needs debootstrap.
set -eu
cd "$(dirname "$0")/.."
root=$(mktemp -d "${TMPDIR:-/tmp}/pp-debian13.XXXXXX")
. tools/debian13-lib.sh
trap d13_cleanup EXIT
trap 'exit 130' INT TERM
# Each line says how long the check has run, for .ci/run's accounts.
started=$(date +%s)
say() { printf 'check-debian13: %s (%d s)\n' "$*" $(($(date +%s) - started)) >&2; }
fail() { say "FAIL: $*"; exit 1; }

# What the tests below run.
d13_make man-db bash-completion ffmpeg curl \
	gstreamer1.0-plugins-base gstreamer1.0-plugins-good \
	gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-x \
	fonts-dejavu-core

# The C unit tests, the fuzz corpus replay, and the shell tests that need
# no services (no namespaces, display or sound server in a chroot).
unit="tests/ticket-test tests/signaling-test tests/quic-test tests/tlsrelay-test
	tests/fanq-test tests/http-test tests/status-test tests/fuzz-corpus.sh
	tests/conventions.sh tests/config.sh tests/completion.sh"
d13_build check TESTS="$(echo $unit)"
grep '^# [A-Z]*: ' "$root/tmp/build.log" >&2

say "a headless host -> viewer session"
chroot "$root" sh -c 'PATH=/src/cmd:$PATH /src/tools/headless-session.sh' ||
	fail "the session failed in $suite"
say "ok: $suite builds pixelpass, passes its unit tests and a session"
