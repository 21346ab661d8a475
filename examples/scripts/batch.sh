#!/usr/bin/env bash
# batch.sh sends many alerts at once with `wardentool alert send --file`
# (in batches of the config's batch_size, 1000 by default) and says what
# became of them. No credential is ever on the command line: they are in
# the files the configuration names (password_file, key files).
#
#   batch.sh FILE     a JSON array or JSON lines of alerts, in Alertmanager's form:
#                     {"labels":{"alertname":"X","instance":"a"},"annotations":{"summary":"..."}}
#   batch.sh -        the same on standard input, e.g. from a loop:
#     for h in web1 web2; do printf '{"labels":{"alertname":"Unreachable","instance":"%s"}}\n' "$h"; done | batch.sh -
#
# Where to send, from the environment:
#   WARDEN_ALERT_CONFIG      an --alert.config.file (default /etc/warden/alert.yml), or
#   WARDEN_ALERTMANAGER_URL  an Alertmanager URL, with WARDEN_HTTP_CONFIG (an HTTP
#                            client config file, amtool's --http.config.file format)
#                            and WARDEN_SPOOL_DIR (where alerts wait while it is down)
#   WARDEN_ALERT_TIMEOUT     how long to try before spooling (default 30s)
#
# The exit code is wardentool's: 0 accepted, 3 spooled (delivered later),
# 2 not delivered and not spooled, 1 invalid input or configuration: then
# nothing at all was sent, as every alert is checked before the first goes.
set -u

if [ $# -ne 1 ]; then
	echo "usage: $0 FILE|-" >&2
	exit 1
fi
if ! command -v wardentool >/dev/null; then
	echo "batch.sh: wardentool is not on PATH" >&2
	exit 1
fi

if [ -n "${WARDEN_ALERTMANAGER_URL:-}" ]; then
	target=(--alertmanager.url="$WARDEN_ALERTMANAGER_URL")
	if [ -n "${WARDEN_HTTP_CONFIG:-}" ]; then target+=(--http.config.file="$WARDEN_HTTP_CONFIG"); fi
	if [ -n "${WARDEN_SPOOL_DIR:-}" ]; then target+=(--spool.dir="$WARDEN_SPOOL_DIR"); fi
else
	target=(--alert.config.file="${WARDEN_ALERT_CONFIG:-/etc/warden/alert.yml}")
fi

# wardentool prints "delivered N, spooled M" and each Alertmanager's answer.
wardentool alert send "${target[@]}" --timeout="${WARDEN_ALERT_TIMEOUT:-30s}" --file="$1"
code=$?
case $code in
0) echo "batch.sh: all alerts accepted by Alertmanager" ;;
3) echo "batch.sh: alerts spooled: no Alertmanager answered in time; the next send or 'wardentool alert flush' delivers them" >&2 ;;
2) echo "batch.sh: alerts NOT delivered and not spooled: refused (password, CA, client certificate), rejected by Alertmanager, or the spool is full" >&2 ;;
1) echo "batch.sh: nothing sent: invalid alerts or configuration" >&2 ;;
*) echo "batch.sh: wardentool exited with unexpected code $code" >&2 ;;
esac
exit "$code"
