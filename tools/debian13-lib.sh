# Sourced by tools/check-debian13.sh and bench/tunnel-debian13 (POSIX sh):
# a Debian 13 (trixie) chroot made with debootstrap from the Debian
# archive this machine's apt already uses (read from its sources at run
# time), with the build dependencies of debian/control and EXTRA packages,
# and this tree built in /src. The caller sets root (an empty directory)
# and defines say and fail; d13_cleanup, from its EXIT trap, unmounts and
# removes it all.
suite=trixie

d13_cleanup() {
	for m in tmp dev proc; do
		umount "$root/$m" 2> /dev/null || :
	done
	# Never follow a mount out of the chroot.
	if ! grep -q " $root/" /proc/self/mounts; then
		rm -rf --one-file-system "$root"
	fi
}

# The first URI of apt's sources for Debian's main archive (not its
# security archive), in deb822 .sources files or one-line .list files.
d13_mirror() {
	{
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
	} | head -n 1
}

# d13_make EXTRA...: debootstrap, /proc, and debian/control's
# Build-Depends (debhelper aside: the plain ./configure build) with the
# packages EXTRA.
d13_make() {
	mirror=$(d13_mirror)
	[ -n "$mirror" ] || fail "no Debian archive in apt's sources"
	say "debootstrap $suite"
	debootstrap --variant=minbase "$suite" "$root" "$mirror" > "$root.log" 2>&1 ||
		{ tail -n 20 "$root.log" >&2; rm -f "$root.log"; fail "debootstrap $suite failed"; }
	rm -f "$root.log"
	mount -t proc proc "$root/proc"
	build=$(sed -n '/^Build-Depends:/,/^[A-Z][-A-Za-z]*:/p' debian/control |
		sed '1s/^Build-Depends://; /^[A-Z][-A-Za-z]*:/d' | tr ',' '\n' |
		sed 's/([^)]*)//; s/^[ \t]*//; s/[ \t]*$//; /^$/d; /^debhelper/d')
	say "installing the build dependencies"
	# shellcheck disable=SC2086 # the lists are meant to split into words
	chroot "$root" sh -c 'apt-get update && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y --no-install-recommends "$@"' sh \
		build-essential autoconf automake $build "$@" \
		> "$root/tmp/apt.log" 2>&1 ||
		{ tail -n 20 "$root/tmp/apt.log" >&2; fail "apt-get install in $suite failed"; }
	chroot "$root" dpkg-query -W libngtcp2-dev libgstreamer1.0-dev libnice-dev \
		libpipewire-0.3-dev >&2
}

# d13_build [MAKE_ARGS...]: this tree (its files in git, and new ones not
# ignored) copied to /src and built there, then make MAKE_ARGS; the
# output in $root/tmp/build.log.
d13_build() {
	mkdir "$root/src"
	git ls-files -z --cached --others --exclude-standard |
		tar --null -T - -cf - | tar -xf - -C "$root/src"
	say "building${1:+, and make $*}"
	chroot "$root" sh -c "cd /src && ./autogen.sh && ./configure && make -j$(nproc) &&
		{ [ \$# -eq 0 ] || make \"\$@\"; }" sh "$@" > "$root/tmp/build.log" 2>&1 ||
		{ tail -n 40 "$root/tmp/build.log" >&2; fail "the build${1:+ or make $*} failed in $suite"; }
}
