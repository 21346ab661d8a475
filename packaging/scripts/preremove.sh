#!/bin/sh
# deb: $1 = remove | upgrade | deconfigure | failed-upgrade;
# rpm: $1 = 0 (erase) | 1 (upgrade).
set -e

case "$1" in
remove | deconfigure | 0)
	if [ -d /run/systemd/system ]; then
		# Remembered for an install over the kept configuration, which
		# dpkg runs as an upgrade (postinst configure <old version>): the
		# administrator's choice to serve comes back with the package.
		if systemctl is-enabled --quiet warden_node_exporter.socket 2>/dev/null && [ -d /var/lib/warden ]; then
			touch /var/lib/warden/socket-was-enabled
		fi
		if systemctl is-enabled --quiet warden_cert_renew.timer 2>/dev/null && [ -d /var/lib/warden ]; then
			touch /var/lib/warden/renew-timer-was-enabled
		fi
		systemctl disable --now warden_node_exporter.socket warden_node_exporter.service warden_cert_renew.timer || true
	fi
	;;
esac
exit 0
