#!/usr/bin/env bash
# `make run`: serves node metrics on 127.0.0.1:PORT with TLS, a client
# certificate and basic auth, all made by `wardentool init` into DIR on the
# first run, and prints the curl command that scrapes it (the password
# comes from DIR/netrc, never from the command line).
# Usage: internal/scripts/run.sh BIN_DIR DIR PORT
set -euo pipefail

bin=$1 dir=$2 port=$3
fail() {
	echo "make run: $*" >&2
	exit 1
}

[[ $port =~ ^[0-9]+$ ]] && ((port > 0 && port < 65536)) || fail "PORT=$port is not a TCP port"
addr=127.0.0.1:$port

# listening PORT: whether something accepts connections on 127.0.0.1:PORT
# (a wildcard listener such as node_exporter's :9100 does too).
listening() { timeout 2 bash -c ": </dev/tcp/127.0.0.1/$1" 2>/dev/null; }
if listening "$port"; then
	free=$((port + 1))
	while ((free < 65535)) && listening "$free"; do free=$((free + 1)); done
	fail "$addr is already in use (another node_exporter?); choose another port: make run PORT=$free"
fi

if [[ ! -e $dir/web-config.yml ]]; then
	"$bin/wardentool" init --dir "$dir" --host localhost --host 127.0.0.1 --target "$addr" >/dev/null
fi
[[ -e $dir/netrc ]] ||
	fail "$dir was written by an older wardentool (no netrc file for curl): remove it (rm -r $dir) and run make run again"
if ! grep -qF "'$addr'" "$dir/prometheus-scrape.yml"; then
	echo "make run: note: $dir/prometheus-scrape.yml was written for another port; rm -r $dir to rewrite it for $port" >&2
fi

echo "Serving https://$addr/metrics (TLS, a client certificate and a password required)."
echo "Scrape it from another terminal:"
echo "  curl --cacert $dir/ca.crt --cert $dir/client.crt --key $dir/client.key --netrc-file $dir/netrc https://$addr/metrics"
exec "$bin/warden_node_exporter" --web.config.file="$dir/web-config.yml" --web.listen-address="$addr"
