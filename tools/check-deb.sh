#!/bin/sh
# Builds the Debian package (debian/) from a copy of this tree, so that the
# tree stays as clean as it was for the VPATH builds that follow in CI;
# fails on lintian's errors; installs the package with apt-get; and then,
# from the installed files alone: pixelpass --version, every man page, the
# bash and zsh completions, and one headless host -> viewer session whose
# recording must hold H.264. The package is removed again at the end.
# Run as root on Debian with the build dependencies installed
# (tools/install-deps.sh).
set -eu
cd "$(dirname "$0")/.."
work=$(mktemp -d "${TMPDIR:-/tmp}/pp-deb.XXXXXX")
installed=
cleanup() {
	[ -z "$installed" ] || apt-get remove -y pixelpass > /dev/null 2>&1 || :
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# Each line says how long the check has run, for .ci/run's accounts.
started=$(date +%s)
say() { printf 'check-deb: %s (%d s)\n' "$*" $(($(date +%s) - started)) >&2; }
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
for t in pixelpass pp-capture pp-encode pp-fanout pp-tunnel pp-bridge pp-repair pp-view pp-config pp-publish pp-fetch; do
	[ "$(command -v "$t")" = "/usr/bin/$t" ] || fail "$t is not /usr/bin/$t"
done
[ "$(pixelpass --version)" = "pixelpass $version" ] ||
	fail "pixelpass --version says '$(pixelpass --version)', not 'pixelpass $version'"
for m in $(dpkg -L pixelpass | sed -n 's|^/usr/share/man/man1/\(.*\)\.1\.gz$|\1|p'); do
	man -w "$m" > /dev/null || fail "man -w $m"
	n=$((${n:-0} + 1))
done
pages=$(ls man/*.1 | wc -l)
[ "${n:-0}" -eq "$pages" ] || fail "${n:-0} man pages installed, not the $pages of man/"
bash -c '. /usr/share/bash-completion/bash_completion &&
	__load_completion pp-tunnel && complete -p pp-tunnel' | grep -q _pp_tunnel ||
	fail "bash-completion does not load the completion of pp-tunnel"
# zsh finds its completion on its default fpath.
[ "$(zsh -f -c 'autoload -Uz compinit && compinit -u -D && print -r -- $_comps[pp-tunnel]')" = _pixelpass ] ||
	fail "zsh's compinit does not find the completion of pp-tunnel"

# mpv's live script is installed where pp-bridge looks for it.
live=/usr/share/pixelpass/pixelpass-live.lua
[ -f "$live" ] || fail "$live is not installed"
echo | env -u PP_DATADIR pp-bridge --player none 2>&1 >/dev/null | grep -qF -- "--script=$live " ||
	fail "the installed pp-bridge does not give mpv $live"

# One host and one viewer, both the installed pixelpass.
tools/headless-session.sh || fail "the session from /usr/bin failed"

apt-get remove -y pixelpass > /dev/null
installed=
[ ! -e /usr/bin/pixelpass ] || fail "/usr/bin/pixelpass is still there after apt-get remove"
say "ok: pixelpass $version builds, passes lintian, installs, hosts and views, and is removed"
