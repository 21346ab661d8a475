#!/usr/bin/env bash
# send.sh raises one alert in Alertmanager with `wardentool alert send` and
# says what became of it. No credential is ever on the command line: they
# are in the files the configuration names (password_file, key files).
#
#   send.sh ALERTNAME [name=value ...] [--annotation=name=value ...]
#
# Where to send, from the environment:
#   WARDEN_ALERT_CONFIG      an --alert.config.file (default /etc/warden/alert.yml), or
#   WARDEN_ALERTMANAGER_URL  an Alertmanager URL, with WARDEN_HTTP_CONFIG (an HTTP
#                            client config file, amtool's --http.config.file format)
#                            and WARDEN_SPOOL_DIR (where alerts wait while it is down)
#   WARDEN_ALERT_TIMEOUT     how long to try before spooling (default 30s)
#
# The exit code is wardentool's: 0 accepted, 3 spooled (delivered later),
# 2 not delivered and not spooled, 1 invalid input or configuration.
set -u

if [ $# -eq 0 ]; then
	echo "usage: $0 ALERTNAME [name=value ...] [--annotation=name=value ...]" >&2
	exit 1
fi
if ! command -v wardentool >/dev/null; then
	echo "send.sh: wardentool is not on PATH" >&2
	exit 1
fi

if [ -n "${WARDEN_ALERTMANAGER_URL:-}" ]; then
	target=(--alertmanager.url="$WARDEN_ALERTMANAGER_URL")
	if [ -n "${WARDEN_HTTP_CONFIG:-}" ]; then target+=(--http.config.file="$WARDEN_HTTP_CONFIG"); fi
	if [ -n "${WARDEN_SPOOL_DIR:-}" ]; then target+=(--spool.dir="$WARDEN_SPOOL_DIR"); fi
else
	target=(--alert.config.file="${WARDEN_ALERT_CONFIG:-/etc/warden/alert.yml}")
fi

wardentool alert send "${target[@]}" --timeout="${WARDEN_ALERT_TIMEOUT:-30s}" "$@"
code=$?
case $code in
0) echo "send.sh: $1 accepted by Alertmanager" ;;
3) echo "send.sh: $1 spooled: no Alertmanager answered in time; the next send or 'wardentool alert flush' delivers it" >&2 ;;
2) echo "send.sh: $1 NOT delivered and not spooled: refused (password, CA, client certificate), rejected by Alertmanager, or the spool is full" >&2 ;;
1) echo "send.sh: $1 not sent: invalid alert or configuration" >&2 ;;
*) echo "send.sh: wardentool exited with unexpected code $code" >&2 ;;
esac
exit "$code"
