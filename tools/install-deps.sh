#!/bin/sh
# Installs, on Debian 12, everything pixelpass needs to build, run and be
# tested: compilers and libraries, the GStreamer plugins it drives, the
# players, and the real services its tests start (Xvfb, PipeWire, sway, GNOME
# and the portals, mosquitto, coturn). Run as root.
set -e

build="build-essential autoconf automake pkgconf
	libglib2.0-dev libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
	libbsd-dev libgnutls28-dev libngtcp2-dev libngtcp2-crypto-gnutls-dev
	libnice-dev libmosquitto-dev libportal-dev libpipewire-0.3-dev
	libx11-dev"

# pp-encode and the media tests: GStreamer's plugins, the players, ffmpeg
# to check streams, Xvfb and a font for the test pattern's clock.
media="gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
	gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav
	gstreamer1.0-pipewire gstreamer1.0-x
	ffmpeg mpv vlc-bin vlc-plugin-base curl
	xvfb x11-utils x11-apps x11-xserver-utils fonts-dejavu-core
	python3 sox bc procps psmisc coreutils"

# pp-capture: the Wayland portal on a headless sway, PipeWire audio.
capture="pipewire pipewire-bin pipewire-pulse wireplumber pulseaudio-utils
	dbus-daemon dbus sway xdg-desktop-portal xdg-desktop-portal-wlr
	util-linux libxtst6"

# The portal on a headless GNOME (tests/gnome-lab.sh): about 90 packages,
# 93 MB to download and 295 MB installed, Mesa's llvmpipe among them.
gnome="gnome-shell mutter xdg-desktop-portal-gnome"

# pp-tunnel and the network lab: namespaces, NAT, a broker, STUN/TURN;
# python3-cryptography seals the QUIC Initials of tests/quic-flood.py.
network="iproute2 iptables nftables iputils-ping iperf3 gnutls-bin
	mosquitto mosquitto-clients coturn time python3-cryptography"

# pp-publish's test: nginx with its RTMP module (and HLS) and its stream
# module as a TLS terminator, srt-live-transmit as an SRT listener;
# rtmpdump for bench/publish's clients (lighter than ffmpeg).
servers="nginx-light libnginx-mod-rtmp libnginx-mod-stream srt-tools openssl
	rtmpdump"

# pixelpass, the frontend: its menu is tested in tmux, the clipboard
# with xclip (under Xvfb); curl for the upstream test; bash-completion
# for tests/completion.sh, zsh for tests/completion-zsh.sh.
frontend="tmux xclip util-linux curl bash-completion zsh"

# Fuzzing and leak checks: clang with libFuzzer (./configure CC=clang
# --enable-fuzzing), valgrind for tests/memcheck.sh. gcc's ASan and UBSan
# runtimes come with build-essential. gdb for the backtraces
# tests/portal-lab.sh prints of a portal that hangs.
fuzz="clang libclang-rt-14-dev valgrind gdb"

# The Debian package (tools/check-deb.sh): debhelper builds it, lintian
# checks it, man-db finds its man pages; git lists the files to build from.
# debootstrap makes the Debian 13 chroot of tools/check-debian13.sh.
package="debhelper dpkg-dev lintian man-db git debootstrap"

export DEBIAN_FRONTEND=noninteractive
apt-get update
# shellcheck disable=SC2086 # the lists are meant to split into words
apt-get install -y --no-install-recommends $build $media $capture $gnome $network $servers $frontend $fuzz $package
