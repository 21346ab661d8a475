#!/bin/sh
# deb: $1 = remove | purge | upgrade | failed-upgrade | abort-install |
# abort-upgrade | disappear; rpm: $1 = 0 (erase) | 1 (upgrade).
# remove (and rpm's erase) keeps the configuration, keys and spooled alerts;
# purge deletes them. The user warden stays, as Debian does for system users
# (files it owned elsewhere must not pass to a later user with its uid).
set -e

if [ -d /run/systemd/system ]; then
	systemctl daemon-reload || true
fi

if [ "$1" = purge ]; then
	rm -rf /etc/warden/tls /etc/warden/web-config.yml /var/lib/warden
	rmdir /etc/warden 2>/dev/null || true
fi
exit 0
