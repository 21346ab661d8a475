#!/bin/sh
# deb: $1 = remove | upgrade | deconfigure | failed-upgrade;
# rpm: $1 = 0 (erase) | 1 (upgrade).
set -e

case "$1" in
remove | deconfigure | 0)
	if [ -d /run/systemd/system ]; then
		systemctl disable --now warden_node_exporter.socket warden_node_exporter.service || true
	fi
	;;
esac
exit 0
