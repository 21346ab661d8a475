#!/usr/bin/env bash
# The .deb under systemd as PID 1, run by packaging/test-package.sh (root):
#
#   packaging/test-systemd.sh NEW.deb OLD.deb
#
# A Debian bookworm root file system (debootstrap --variant=minbase with
# systemd, systemd-sysv, dbus and curl, from the mirror apt uses here) is
# made once into $WARDEN_TEST_CACHE (default /var/cache/warden-test) and
# reused: each run boots it with systemd-nspawn --volatile=overlay, so what a
# run writes goes to a tmpfs and the cached tree stays clean. The container
# has its own network namespace (--private-network: only loopback), so its
# port 9100 is not the host's and concurrent test runs cannot collide. The
# script runs commands in it with nsenter into its PID 1 and checks:
#
#   1. dpkg -i NEW: the user, the secure default config, the socket enabled
#      and listening, nothing else listening; the first scrape starts the
#      service through the socket; it runs as warden in the unit's sandbox;
#      every collector and metric family of the binary run as root outside
#      the sandbox (a plain transient unit) is there under the unit, except
#      those in sandbox_blocked below; the textfile directory and the alert
#      spool (StateDirectory=) work; `systemctl stop` takes under a second;
#      the exposure of `systemd-analyze security`.
#   2. dpkg --purge removes what the README says, and keeps the user.
#   3. dpkg -i OLD, configure alerts, spool one, run; dpkg -i NEW over it: the
#      web config, keys, the edited /etc/default file and the spooled alert
#      stay, and the running service is restarted on the new binary.
#
# It fails on the first check that fails, printing the unit's journal.
set -euo pipefail

new_deb=$(realpath "$1")
old_deb=$(realpath "$2")
cache=${WARDEN_TEST_CACHE:-/var/cache/warden-test}
suite=bookworm
include=systemd,systemd-sysv,dbus,curl

step() { printf '\n== systemd: %s\n' "$*"; }
ok() { printf '   ok: %s\n' "$*"; }
fail() {
	printf '\ntest-systemd: FAIL: %s\n' "$*" >&2
	if [[ -n ${leader:-} ]]; then
		echo "--- journal of warden_node_exporter.service and .socket:" >&2
		in_ct journalctl --no-pager -n 40 -u warden_node_exporter.service -u warden_node_exporter.socket >&2 || true
	fi
	exit 1
}

# Collectors that succeed as root outside the sandbox but not under the
# unit, each with the reason (also in README.md, "The .deb under systemd").
# Empty: the sandbox blocks none on this machine.
declare -A sandbox_blocked=()

# The Debian mirror apt uses here: the first URI of a deb822 stanza or a
# one-line entry for $suite (not the security suite); Debian's by default.
debian_mirror() {
	local m
	m=$(awk -v s="$suite" 'BEGIN { RS = "" } /(^|\n)Types:[^\n]*deb( |\n|$)/ && $0 ~ "(^|\n)Suites:[^\n]*[ ]" s "([ ]|\n|$)" {
		if (match($0, /(^|\n)URIs:[ ]*[^ \n]+/)) { u = substr($0, RSTART, RLENGTH); sub(/.*URIs:[ ]*/, "", u); print u; exit } }' \
		/etc/apt/sources.list.d/*.sources 2>/dev/null || true)
	[[ -n $m ]] || m=$(awk -v s="$suite" '$1 == "deb" { i = 2; if ($i ~ /^\[/) while ($i !~ /\]$/) i++; if ($i ~ /^\[/ || $i ~ /\]$/) i++; if ($(i + 1) == s) { print $i; exit } }' \
		/etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true)
	echo "${m:-http://deb.debian.org/debian}"
}

step "tools (debootstrap, systemd-container)"
need=()
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v systemd-nspawn >/dev/null || need+=(systemd-container)
if ((${#need[@]})); then
	apt-get -o DPkg::Lock::Timeout=120 update -qq
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 install -y -qq --no-install-recommends "${need[@]}" >/dev/null ||
		fail "apt-get install ${need[*]} failed"
fi
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null || fail "no overlay file system (systemd-nspawn --volatile=overlay needs it)"
ok "$(systemd-nspawn --version | head -1)"

step "root file system: debootstrap $suite (cached in $cache)"
mirror=$(debian_mirror)
key=$(printf '%s %s %s %s\n' "$suite" minbase "$include" "$mirror" | sha256sum | cut -c1-12)
rootfs=$cache/$suite-minbase-$key
mkdir -p "$cache"
chmod 0755 "$cache"
t0=$SECONDS
(
	flock 9
	if [[ ! -e $rootfs/.warden-test-complete ]]; then
		echo "   debootstrap --variant=minbase --include=$include $suite from $mirror (first run; later runs reuse it)"
		tmp=$(mktemp -d "$cache/.debootstrap.XXXXXX")
		if ! debootstrap --variant=minbase --include="$include" "$suite" "$tmp" "$mirror" >"$tmp.log" 2>&1; then
			tail -20 "$tmp.log" >&2
			rm -rf "$tmp" "$tmp.log"
			exit 1
		fi
		# No getty on the console: nothing reads it.
		rm -f "$tmp/etc/systemd/system/getty.target.wants/"*
		# apt's timers would only fail without a network.
		rm -f "$tmp/etc/systemd/system/timers.target.wants/apt-daily"*
		touch "$tmp/.warden-test-complete"
		rm -rf "$rootfs" "$tmp.log"
		mv "$tmp" "$rootfs"
	fi
) 9>"$cache/.lock" || fail "debootstrap $suite from $mirror failed"
ok "$rootfs ($((SECONDS - t0))s; $(du -sh "$rootfs" | cut -f1))"

step "boot systemd in the container (systemd-nspawn --boot --volatile=overlay --private-network)"
share=$(mktemp -d /tmp/warden-test-systemd.XXXXXX)
chmod 0755 "$share"
cp "$new_deb" "$share/new.deb"
cp "$old_deb" "$share/old.deb"
nspawn_pid=
leader=
stop_container() {
	local i
	[[ -n $nspawn_pid ]] || return 0
	if [[ -n $leader ]] && kill -0 "$leader" 2>/dev/null; then
		in_ct systemctl poweroff --no-block >/dev/null 2>&1 || true
	fi
	for ((i = 0; i < 100; i++)); do
		kill -0 "$nspawn_pid" 2>/dev/null || break
		sleep 0.2
	done
	kill -0 "$nspawn_pid" 2>/dev/null && kill -TERM "$nspawn_pid" 2>/dev/null && sleep 2
	kill -0 "$nspawn_pid" 2>/dev/null && kill -KILL "$nspawn_pid" 2>/dev/null
	wait "$nspawn_pid" 2>/dev/null || true
	nspawn_pid= leader=
}
cleanup() {
	local rc=$?
	set +e
	stop_container
	rm -rf "$share"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 124' TERM INT HUP

# in_ct CMD...: runs CMD as root in the container's namespaces and root.
in_ct() {
	nsenter --target "$leader" --mount --uts --ipc --net --pid --cgroup --root -- \
		/usr/bin/env -i -C / PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 SYSTEMD_COLORS=0 "$@"
}

t0=$SECONDS
# adjtimex(2): nspawn's own seccomp filter denies it without CAP_SYS_TIME,
# even read-only, so that the timex collector is compared below at all.
systemd-nspawn --quiet --boot --register=no --keep-unit --private-network --volatile=overlay --system-call-filter=adjtimex \
	--console=passive --machine=warden-test --bind-ro="$share:/warden-test" -D "$rootfs" \
	>"$share/console.log" 2>&1 &
nspawn_pid=$!
my_pidns=$(readlink /proc/self/ns/pid)
for ((i = 0; i < 100; i++)); do
	for c in $(pgrep -P "$nspawn_pid" || true); do
		[[ $(readlink "/proc/$c/ns/pid" 2>/dev/null) != "$my_pidns" && $(cat "/proc/$c/comm" 2>/dev/null) == systemd ]] && leader=$c
	done
	[[ -n $leader ]] && break
	kill -0 "$nspawn_pid" 2>/dev/null || fail "systemd-nspawn exited: $(tail -20 "$share/console.log")"
	sleep 0.1
done
[[ -n $leader ]] || fail "no systemd in the container after 10 s: $(tail -20 "$share/console.log")"
# Until PID 1 has created /run/systemd/system, systemctl answers "offline"
# (sd_booted() is false); until its private bus exists, it cannot connect.
# Both are early boot on a busy machine, not failures: retry for up to 60 s.
for ((i = 0; i < 300; i++)); do
	state=$(timeout 60 nsenter --target "$leader" --mount --pid --root --wd=/ -- /bin/systemctl is-system-running --wait 2>&1) || true
	[[ $state == offline || $state == *"Failed to connect"* ]] || break
	kill -0 "$leader" 2>/dev/null || break
	sleep 0.2
done
[[ $state == running || $state == degraded ]] || fail "the container's systemd is '$state': $(tail -20 "$share/console.log")"
[[ $state == running ]] || echo "   (degraded: $(in_ct systemctl --failed --no-legend --plain | awk '{print $1}' | tr '\n' ' '))"
[[ $(in_ct cat /proc/1/comm) == systemd ]] || fail "PID 1 in the container is not systemd"
ok "systemd $(in_ct systemctl --version | sed -n '1s/systemd \([0-9]*\).*/\1/p') is PID 1 ($state) after $((SECONDS - t0))s; debian $(in_ct cat /etc/debian_version)"

# Helpers on the installed package, in the container.
unit=warden_node_exporter.service
sock=warden_node_exporter.socket
prop() { in_ct systemctl show -P "$2" "$1"; }
password=
scrape() { # PORT CURL-ARGS...: the metrics with the installed credentials
	local port=$1
	shift
	in_ct curl -sS --fail --max-time 20 --cacert /etc/warden/tls/ca.crt --cert /etc/warden/tls/client.crt \
		--key /etc/warden/tls/client.key -u "prometheus:$password" "$@" "https://127.0.0.1:$port/metrics"
}
# listeners prints the container's listening TCP ports (hex), one a line.
listeners() {
	in_ct cat /proc/net/tcp /proc/net/tcp6 | awk 'NR > 1 && $4 == "0A" { split($2, a, ":"); print a[2] }' | sort -u
}
# successes FILE: "collector value" for each node_scrape_collector_success.
successes() { sed -n 's/^node_scrape_collector_success{collector="\([^"]*\)"} \(.*\)$/\1 \2/p' "$1" | sort; }
families() { sed -n 's/^# TYPE \([^ ]*\) .*/\1/p' "$1" | sort; }
dpkg_in() { in_ct env DEBIAN_FRONTEND=noninteractive dpkg --force-confold "$@"; }

step "dpkg -i $(basename "$new_deb") (first installation)"
dpkg_in -i /warden-test/new.deb >"$share/install.log" 2>&1 || fail "dpkg -i: $(cat "$share/install.log")"
new_version=$(in_ct dpkg-query -W -f='${Version}' warden)
IFS=: read -r _ _ uid gid _ home shell <<<"$(in_ct getent passwd warden)" || fail "no user warden"
((uid < 1000)) && [[ $home == /var/lib/warden && $shell == /usr/sbin/nologin ]] || fail "user warden: uid $uid home $home shell $shell"
[[ $(in_ct stat -c '%a %U:%G' /etc/warden/web-config.yml /etc/warden/tls/server.key /etc/warden/tls/client.key /etc/warden/tls/password | tr '\n' ' ') == \
	"640 root:warden 640 root:warden 600 root:root 600 root:root " ]] || fail "modes of the default config are wrong"
in_ct wardentool check web-config /etc/warden/web-config.yml >/dev/null || fail "the default web config does not pass wardentool check"
for want in 'client_auth_type: RequireAndVerifyClientCert' 'client_ca_file: tls/ca.crt' 'basic_auth_users:'; do
	in_ct grep -qF "$want" /etc/warden/web-config.yml || fail "default web config lacks '$want'"
done
ok "warden $new_version; user warden (uid $uid); /etc/warden/web-config.yml requires TLS, a client certificate and a password"

[[ $(in_ct systemctl is-enabled "$sock") == enabled ]] || fail "$sock is not enabled"
[[ $(in_ct systemctl is-active "$sock") == active ]] || fail "$sock is not active"
[[ $(in_ct systemctl is-active "$unit") == inactive ]] || fail "$unit runs before any connection"
renew_state=$(in_ct systemctl is-enabled warden_cert_renew.timer || true)
[[ $renew_state == disabled ]] || fail "warden_cert_renew.timer is $renew_state, want installed and disabled (off by default)"
[[ $(listeners) == "$(printf '%04X' 9100)" ]] || fail "listening ports (hex) are not just 9100: $(listeners | tr '\n' ' ')"
[[ $(prop "$sock" Listen) == "[::]:9100 (Stream)" ]] || fail "$sock listens on $(prop "$sock" Listen)"
ok "socket enabled and listening on [::]:9100, the only listener; the service not started yet"

step "first scrape starts the service through the socket"
password=$(in_ct cat /etc/warden/tls/password)
in_ct sh -c 'echo "warden_systemd_test_info{run=\"1\"} 1" >/var/lib/warden/textfile/systemd_test.prom'
scrape 9100 >"$share/unit.prom" 2>"$share/err" || fail "scrape: $(cat "$share/err")"
[[ $(in_ct systemctl is-active "$unit") == active ]] || fail "$unit is not active after the scrape"
[[ $(prop "$unit" TriggeredBy) == "$sock" ]] || fail "$unit is triggered by '$(prop "$unit" TriggeredBy)'"
in_ct journalctl --no-pager -u "$unit" | grep -q 'Listening on systemd activated listeners' || fail "the service did not take the socket from systemd"
pid=$(prop "$unit" MainPID)
((pid > 0)) || fail "no MainPID"
ok "scrape answered; $unit active (MainPID $pid), triggered by $sock, serving systemd's socket"

step "the service runs as warden in the unit's sandbox"
status=$(in_ct cat "/proc/$pid/status")
grep -qE "^Uid:\s+$uid\s+$uid\s+$uid\s+$uid$" <<<"$status" || fail "not running as warden: $(grep ^Uid <<<"$status")"
grep -qE "^Gid:\s+$gid\s+$gid\s+$gid\s+$gid$" <<<"$status" || fail "not running as group warden: $(grep ^Gid <<<"$status")"
for f in CapEff CapPrm CapBnd CapAmb; do
	grep -qE "^$f:\s+0+$" <<<"$status" || fail "$f is not empty: $(grep "^$f" <<<"$status")"
done
grep -qE '^NoNewPrivs:\s+1$' <<<"$status" || fail "NoNewPrivs is not set"
grep -qE '^Seccomp:\s+2$' <<<"$status" || fail "no seccomp filter"
[[ $(in_ct readlink "/proc/$pid/exe") == /usr/bin/warden_node_exporter ]] || fail "MainPID is not /usr/bin/warden_node_exporter"
# mountinfo: field 5 is the mount point, field 6 its options.
mounts=$(in_ct cat "/proc/$pid/mountinfo")
mount_opts() { awk -v m="$1" '$5 == m { o = $6 } END { print o }' <<<"$mounts"; }
[[ $(mount_opts /) == ro,* ]] || fail "/ is not read-only for the service: $(mount_opts /)"
[[ $(mount_opts /var/lib/warden/alert-spool) == rw,* ]] || fail "the alert spool is not writable for the service: $(mount_opts /var/lib/warden/alert-spool)"
[[ -n $(mount_opts /tmp) ]] || fail "no private /tmp for the service"
[[ $(mount_opts /proc/sys) == ro,* ]] || fail "/proc/sys is not mounted read-only for the service: '$(mount_opts /proc/sys)'"
awk '$5 == "/dev" && $0 ~ / - tmpfs /' <<<"$mounts" | grep -q . || fail "/dev is not private"
ok "uid/gid warden, no capabilities, NoNewPrivs, seccomp; / and /proc/sys read-only, private /tmp and /dev, spool writable"

step "collectors and metric families: the unit against the binary as root outside the sandbox"
args=$(in_ct sh -c '. /etc/default/warden_node_exporter; printf %s "$ARGS"')
# A plain transient unit: root, no sandbox; and the same as warden, to tell
# what the sandbox blocks from what the user may not read.
in_ct systemd-run --quiet --unit=warden-root --collect /usr/bin/warden_node_exporter \
	--web.listen-address=127.0.0.1:9101 $args || fail "systemd-run as root failed"
in_ct systemd-run --quiet --unit=warden-plain --collect -p User=warden -p Group=warden /usr/bin/warden_node_exporter \
	--web.listen-address=127.0.0.1:9102 $args || fail "systemd-run as warden failed"
for port in 9101 9102; do
	for ((i = 0; i < 50; i++)); do
		listeners | grep -qx "$(printf '%04X' "$port")" && break
		sleep 0.1
	done
done
scrape 9101 >"$share/root.prom" || fail "scrape of the binary as root failed: $(in_ct journalctl --no-pager -u warden-root | tail -5)"
scrape 9102 >"$share/plain.prom" || fail "scrape of the binary as warden failed: $(in_ct journalctl --no-pager -u warden-plain | tail -5)"
scrape 9100 >"$share/unit.prom" || fail "second scrape of the unit failed"
in_ct systemctl stop warden-root warden-plain
blocked=() by_user=()
while read -r c v; do
	[[ $v == 1 ]] || continue
	u=$(successes "$share/unit.prom" | awk -v c="$c" '$1 == c { print $2 }')
	p=$(successes "$share/plain.prom" | awk -v c="$c" '$1 == c { print $2 }')
	[[ $u == 1 ]] && continue
	if [[ $p == 1 ]]; then blocked+=("$c"); else by_user+=("$c"); fi
done < <(successes "$share/root.prom")
n_root=$(successes "$share/root.prom" | awk '$2 == 1' | wc -l)
n_unit=$(successes "$share/unit.prom" | awk '$2 == 1' | wc -l)
echo "   collectors succeeding: as root $n_root, under the unit $n_unit, of $(successes "$share/root.prom" | wc -l) enabled"
failed_root=$(successes "$share/root.prom" | awk '$2 != 1 { print $1 }' | tr '\n' ' ')
[[ -z $failed_root ]] || echo "   failing even as root outside the sandbox (not the sandbox's doing): $failed_root"
((${#by_user[@]} == 0)) || echo "   failing as warden with or without the sandbox (files only root reads): ${by_user[*]}"
for c in "${blocked[@]}" "${by_user[@]}"; do
	[[ -n ${sandbox_blocked[$c]:-} ]] || fail "collector $c succeeds as root but fails under the unit (as warden without the sandbox: $(successes "$share/plain.prom" | awk -v c="$c" '$1 == c { print $2 }'))"
	echo "   known: $c: ${sandbox_blocked[$c]}"
done
# The unit allows adjtimex(2) after its deny list, which would take it
# back: without it the timex collector sends nothing (and succeeds).
grep -q '^node_timex_sync_status ' "$share/root.prom" || fail "no node_timex_* as root in the container: adjtimex(2) is denied there, and the unit's filter goes untested"
missing=$(comm -23 <(families "$share/root.prom" | grep -v '^warden_config\|^go_\|^process_\|^promhttp_') <(families "$share/unit.prom"))
if [[ -n $missing ]]; then
	# A family may be missing only as part of a known collector's output.
	for f in $missing; do
		printf '   family only as root: %s\n' "$f"
	done
	((${#sandbox_blocked[@]})) || fail "metric families present as root are missing under the unit: $(tr '\n' ' ' <<<"$missing")"
fi
ok "every collector that succeeds as root succeeds under the unit; $(families "$share/unit.prom" | wc -l) metric families, none missing"

step "textfile directory and alert spool (StateDirectory=) under the sandbox"
grep -q '^warden_systemd_test_info{run="1"} 1$' "$share/unit.prom" || fail "the textfile metric is missing"
grep -q '^node_textfile_scrape_error 0$' "$share/unit.prom" || fail "node_textfile_scrape_error is not 0"
rc=0
in_ct runuser -u warden -- wardentool alert send --alertmanager.url=http://127.0.0.1:9 --spool.dir=/var/lib/warden/alert-spool \
	--timeout=5s WardenSystemdTest job=test-systemd >"$share/alert.log" 2>&1 || rc=$?
((rc == 3)) || fail "wardentool alert send to a closed port: exit $rc, want 3 (spooled): $(cat "$share/alert.log")"
in_ct sh -c 'umask 027; printf "%s\n" "alertmanagers:" "  - urls: [\"http://127.0.0.1:9\"]" "spool:" "  directory: /var/lib/warden/alert-spool" >/etc/warden/alert.yml; chgrp warden /etc/warden/alert.yml'
in_ct sed -i 's#^ARGS="\(.*\)"$#ARGS="\1 --alert.config.file=/etc/warden/alert.yml"#' /etc/default/warden_node_exporter
in_ct grep -q 'alert.config.file' /etc/default/warden_node_exporter || fail "could not add --alert.config.file to ARGS"
in_ct systemctl restart "$unit"
scrape 9100 >"$share/unit.prom" || fail "scrape with alerts configured failed"
grep -q '^warden_alertclient_spool_alerts 1$' "$share/unit.prom" || fail "the service does not see the spooled alert: $(grep alertclient_spool "$share/unit.prom")"
in_ct systemctl stop "$unit"
[[ $(in_ct stat -c %U /var/lib/warden/alert-spool/flush.lock 2>&1) == warden ]] ||
	fail "the service did not write its flush lock into the spool: $(in_ct ls -la /var/lib/warden/alert-spool)"
spooled=$(in_ct sh -c 'ls /var/lib/warden/alert-spool/*.json' | wc -l)
((spooled == 1)) || fail "$spooled batches in the spool, want 1"
ok "textfile metric served; the service read the spooled alert and wrote into its StateDirectory (flush.lock, as warden)"

step "systemctl stop ends the service within a second"
in_ct sed -i 's# --alert.config.file=/etc/warden/alert.yml##' /etc/default/warden_node_exporter
scrape 9100 >/dev/null || fail "scrape failed"
[[ $(in_ct systemctl is-active "$unit") == active ]] || fail "$unit is not active"
t0=$(date +%s%N)
in_ct systemctl stop "$unit"
ms=$((($(date +%s%N) - t0) / 1000000))
[[ $(in_ct systemctl is-active "$unit") == inactive ]] || fail "$unit is $(in_ct systemctl is-active "$unit") after stop"
[[ $(prop "$unit" Result) == success ]] || fail "$unit stopped with result $(prop "$unit" Result)"
((ms < 1000)) || fail "systemctl stop took ${ms} ms"
[[ $(in_ct systemctl is-active "$sock") == active ]] || fail "the socket stopped with the service"
ok "stopped in ${ms} ms (result success); the socket still listens"

step "no insecure access"
code=$(in_ct curl -s --max-time 10 -o /dev/null -w '%{http_code}' http://127.0.0.1:9100/metrics) || true
[[ $code == 400 ]] || fail "plain HTTP: $code, want 400"
in_ct curl -s --max-time 10 --cacert /etc/warden/tls/ca.crt -u "prometheus:$password" -o /dev/null https://127.0.0.1:9100/metrics &&
	fail "served without a client certificate"
code=$(in_ct curl -s --max-time 10 --cacert /etc/warden/tls/ca.crt --cert /etc/warden/tls/client.crt --key /etc/warden/tls/client.key \
	-o /dev/null -w '%{http_code}' https://127.0.0.1:9100/metrics) || true
[[ $code == 401 ]] || fail "without the password: $code, want 401"
ok "plain HTTP 400, no client certificate refused, no password 401"

step "systemd-analyze security $unit (live, in the container)"
in_ct systemd-analyze security --no-pager "$unit" >"$share/security.txt" 2>&1 || true
score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$share/security.txt")
[[ -n $score ]] || fail "no exposure score: $(tail -3 "$share/security.txt")"
grep -E '^✗' "$share/security.txt" | sed 's/^/   /' | head -40
awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' || fail "exposure $score, want 2.0 or less"
ok "overall exposure level $score"
echo "$score" >"$share/exposure"

step "dpkg -r, then dpkg -i over the kept configuration"
# As on the CA machine, where the administrator turned renewal on.
in_ct systemctl enable --now warden_cert_renew.timer >/dev/null 2>&1 || fail "could not enable warden_cert_renew.timer"
dpkg_in -r warden >"$share/remove.log" 2>&1 || fail "dpkg -r: $(cat "$share/remove.log")"
[[ -z $(listeners) ]] || fail "still listening after remove: $(listeners | tr '\n' ' ')"
in_ct test -e /etc/warden/web-config.yml || fail "remove deleted the web config"
dpkg_in -i /warden-test/new.deb >"$share/reinstall.log" 2>&1 || fail "dpkg -i after remove: $(cat "$share/reinstall.log")"
[[ $(in_ct systemctl is-enabled "$sock") == enabled && $(in_ct systemctl is-active "$sock") == active ]] ||
	fail "after remove and install, $sock is $(in_ct systemctl is-enabled "$sock")/$(in_ct systemctl is-active "$sock"), want enabled/active as before"
scrape 9100 >/dev/null || fail "scrape after remove and install failed"
renew_state=$(in_ct systemctl is-enabled warden_cert_renew.timer || true)
[[ $renew_state == enabled ]] || fail "after remove and install, warden_cert_renew.timer is $renew_state, want enabled as before"
ok "the configuration and the keys were kept, and the socket and the renewal timer are enabled again, as they were before the remove"

step "dpkg --purge"
dpkg_in --purge warden >"$share/purge.log" 2>&1 || fail "dpkg --purge: $(cat "$share/purge.log")"
[[ $(in_ct dpkg-query -W -f='${Status}' warden 2>/dev/null || echo not-installed) == not-installed || \
	$(in_ct dpkg-query -W -f='${Status}' warden 2>/dev/null) == "unknown ok not-installed" ]] || fail "warden still known to dpkg"
for gone in /etc/warden/tls /etc/warden/web-config.yml /var/lib/warden /etc/default/warden_node_exporter \
	/usr/bin/warden_node_exporter /usr/lib/systemd/system/$unit /usr/lib/systemd/system/$sock \
	/etc/systemd/system/sockets.target.wants/$sock; do
	in_ct test -e "$gone" && fail "$gone is still there after purge"
done
# A file the administrator added (here the alert config) is not the
# package's: it stays, and /etc/warden with it.
[[ $(in_ct ls -A /etc/warden) == alert.yml ]] || fail "after purge /etc/warden holds '$(in_ct ls -A /etc/warden)', want only the added alert.yml"
in_ct rm -r /etc/warden
[[ -z $(listeners) ]] || fail "still listening after purge: $(listeners | tr '\n' ' ')"
in_ct getent passwd warden >/dev/null || fail "purge deleted the user warden"
ok "web config, keys, /etc/default file, spool, textfiles, units and socket gone (an added /etc/warden/alert.yml stays); nothing listens; the user warden stays"

step "upgrade from $(basename "$old_deb")"
old_version=$(dpkg-deb -f "$old_deb" Version)
dpkg --compare-versions "$old_version" lt "$new_version" || fail "the old package's version $old_version is not lower than $new_version"
dpkg_in -i /warden-test/old.deb >"$share/install-old.log" 2>&1 || fail "dpkg -i old: $(cat "$share/install-old.log")"
[[ $(in_ct systemctl is-active "$sock") == active ]] || fail "the old package did not start the socket"
password=$(in_ct cat /etc/warden/tls/password)
in_ct runuser -u warden -- wardentool alert send --alertmanager.url=http://127.0.0.1:9 --spool.dir=/var/lib/warden/alert-spool \
	--timeout=5s WardenUpgradeTest job=test-systemd >/dev/null 2>&1 || true
in_ct sh -c 'umask 027; printf "%s\n" "alertmanagers:" "  - urls: [\"http://127.0.0.1:9\"]" "spool:" "  directory: /var/lib/warden/alert-spool" >/etc/warden/alert.yml; chgrp warden /etc/warden/alert.yml'
in_ct sed -i 's#^ARGS="\(.*\)"$#ARGS="\1 --alert.config.file=/etc/warden/alert.yml"#' /etc/default/warden_node_exporter
scrape 9100 >"$share/old.prom" || fail "scrape of the old package failed"
grep -q '^warden_alertclient_spool_alerts 1$' "$share/old.prom" || fail "old: the spooled alert is not seen"
before=$(in_ct sh -c 'sha256sum /etc/warden/web-config.yml /etc/warden/alert.yml /etc/warden/tls/* /etc/default/warden_node_exporter /var/lib/warden/alert-spool/*.json')
invocation=$(prop "$unit" InvocationID)
[[ $(in_ct systemctl is-active "$unit") == active ]] || fail "the old service is not running"
dpkg_in -i /warden-test/new.deb >"$share/upgrade.log" 2>&1 || fail "upgrade: $(cat "$share/upgrade.log")"
[[ $(in_ct dpkg-query -W -f='${Version}' warden) == "$new_version" ]] || fail "not upgraded"
after=$(in_ct sh -c 'sha256sum /etc/warden/web-config.yml /etc/warden/alert.yml /etc/warden/tls/* /etc/default/warden_node_exporter /var/lib/warden/alert-spool/*.json')
[[ $after == "$before" ]] || fail "the upgrade changed the configuration, keys or spool: $(diff <(echo "$before") <(echo "$after"))"
[[ $(in_ct systemctl is-active "$unit") == active ]] || fail "$unit is not running after the upgrade"
[[ $(prop "$unit" InvocationID) != "$invocation" ]] || fail "$unit was not restarted by the upgrade"
pid=$(prop "$unit" MainPID)
[[ $(in_ct readlink "/proc/$pid/exe") == /usr/bin/warden_node_exporter ]] || fail "the service runs a deleted binary: $(in_ct readlink "/proc/$pid/exe")"
[[ $(in_ct systemctl is-enabled "$sock") == enabled && $(in_ct systemctl is-active "$sock") == active ]] || fail "the socket is not enabled and active after the upgrade"
scrape 9100 >"$share/upgraded.prom" || fail "scrape after the upgrade failed"
grep -q '^warden_alertclient_spool_alerts 1$' "$share/upgraded.prom" || fail "after the upgrade the spooled alert is not seen"
want_bin=$(in_ct warden_node_exporter --version 2>&1 | sed -n 's/.*, version \([^ ]*\) .*/\1/p')
grep -q "^warden_node_exporter_build_info{.*version=\"$want_bin\"" "$share/upgraded.prom" || fail "the running exporter is not version $want_bin"
ok "$old_version -> $new_version: web config, keys, /etc/default, alert config and spooled alert unchanged; service restarted on the new binary ($want_bin)"
dpkg_in --purge warden >/dev/null 2>&1 || fail "purge after the upgrade failed"
in_ct test -e /var/lib/warden && fail "/var/lib/warden survived the purge"
in_ct test -e /etc/warden/tls && fail "/etc/warden/tls survived the purge"
ok "purged again"
