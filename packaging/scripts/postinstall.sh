#!/bin/sh
# deb: $1 = configure, $2 = the version replaced (empty on a first install);
# rpm: $1 = 1 (install) | 2 (upgrade).
# Creates the user and directories, writes the secure default configuration
# when there is none (/usr/libexec/warden/setup-default-config), and tells
# systemd. What it may start serves only with TLS and authentication: the
# exporter refuses a non-loopback socket without both.
set -e

first=
case "$1" in
configure) [ -n "${2:-}" ] || first=1 ;;
1) first=1 ;;
2) ;;
*) exit 0 ;;
esac

if ! getent passwd warden >/dev/null 2>&1; then
	if command -v systemd-sysusers >/dev/null 2>&1; then
		systemd-sysusers /usr/lib/sysusers.d/warden.conf
	else
		getent group warden >/dev/null 2>&1 || groupadd --system warden
		useradd --system --gid warden --home-dir /var/lib/warden --no-create-home \
			--shell /usr/sbin/nologin --comment "Warden node exporter" warden
	fi
fi

if command -v systemd-tmpfiles >/dev/null 2>&1; then
	systemd-tmpfiles --create /usr/lib/tmpfiles.d/warden.conf
else
	install -d -m 0755 -o root -g root /var/lib/warden /var/lib/warden/textfile
	install -d -m 0700 -o warden -g warden /var/lib/warden/alert-spool
fi
chown root:warden /etc/warden
chmod 0750 /etc/warden

/usr/libexec/warden/setup-default-config

# Enabled when it was before a remove (see preremove), as on a first install.
if [ -e /var/lib/warden/socket-was-enabled ]; then
	first=1
	rm -f /var/lib/warden/socket-was-enabled
fi

if [ -d /run/systemd/system ]; then
	systemctl daemon-reload || true
	if [ -n "$first" ]; then
		if /usr/bin/wardentool check web-config /etc/warden/web-config.yml >/dev/null 2>&1; then
			systemctl enable --now warden_node_exporter.socket ||
				echo "warden: could not start warden_node_exporter.socket (is port 9100 taken?)" >&2
		fi
	else
		systemctl try-restart warden_node_exporter.service || true
	fi
	# The CA machine's renewal timer, likewise, is enabled again when it
	# was before a remove.
	if [ -e /var/lib/warden/renew-timer-was-enabled ]; then
		systemctl enable --now warden_cert_renew.timer || true
	fi
fi
rm -f /var/lib/warden/renew-timer-was-enabled
exit 0
