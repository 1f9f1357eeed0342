#!/bin/sh
# Installs, on Debian 12, everything pixelpass needs to build, run and be
# tested: compilers and libraries, the GStreamer plugins it drives, the
# players, and the real services its tests start (Xvfb, PipeWire, sway and
# the portals, mosquitto, coturn). Run as root.
set -e
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends \
	build-essential autoconf automake pkgconf \
	libglib2.0-dev libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev \
	libbsd-dev libgnutls28-dev libngtcp2-dev libngtcp2-crypto-gnutls-dev \
	libnice-dev libmosquitto-dev libportal-dev libpipewire-0.3-dev \
	gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good \
	gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav \
	gstreamer1.0-pipewire gstreamer1.0-x \
	ffmpeg mpv vlc-bin vlc-plugin-base \
	xvfb x11-utils x11-apps \
	pipewire pipewire-bin pipewire-pulse wireplumber pulseaudio-utils \
	dbus-daemon dbus \
	mosquitto coturn iproute2 iptables nftables \
	python3 sox bc procps psmisc \
	x11-xserver-utils fonts-dejavu-core \
	sway xdg-desktop-portal xdg-desktop-portal-wlr util-linux \
	mosquitto-clients iperf3 gnutls-bin iputils-ping coreutils \
	time
