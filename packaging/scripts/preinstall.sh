#!/bin/sh
# Before the files are unpacked, so that those owned by group warden get it.
# deb: $1 = install | upgrade; rpm: $1 = 1 (install) | 2 (upgrade).
set -e

if ! getent passwd warden >/dev/null 2>&1; then
	getent group warden >/dev/null 2>&1 || groupadd --system warden
	useradd --system --gid warden --home-dir /var/lib/warden --no-create-home \
		--shell /usr/sbin/nologin --comment "Warden node exporter" warden
fi
