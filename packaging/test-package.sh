#!/usr/bin/env bash
# End-to-end test of Warden's packages, run by `make test-package` (root, on
# Debian): builds the .deb and .rpm with `make package`, inspects their
# contents, modes and scripts, checks the man pages, completions, Dockerfile
# and reproducible build, installs the .deb with dpkg, checks the user, files
# and permissions, runs the installed exporter exactly as its systemd units
# would (socket activation, user warden, no capabilities, the installed
# flags and default web config) and scrapes it, then removes and purges the
# package and checks what goes and what stays. It cleans up after itself
# (package, test user, temporary files) and is bounded in time.
# Last, packaging/test-systemd.sh installs the .deb in a container booted
# with systemd as PID 1 and upgrades to it from the previous commit's
# package (WARDEN_TEST_UPGRADE_FROM, default HEAD~1, built from `git
# archive` of that commit); WARDEN_TEST_SYSTEMD=0 skips that part.
set -euo pipefail

# Bound the whole run: re-run this script under timeout(1).
if [[ -z ${WARDEN_TEST_PACKAGE_BOUNDED:-} ]]; then
	export WARDEN_TEST_PACKAGE_BOUNDED=1
	exec timeout --kill-after=30 "${WARDEN_TEST_PACKAGE_TIMEOUT:-900}" "$0" "$@"
fi

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
start=$SECONDS
work=$(mktemp -d /tmp/warden-test-package.XXXXXX)
chmod 0755 "$work"
exporter_pid=
package_pid=
checks_pid=
old_pid=
installed_by_us=no
user_existed=no
group_existed=no

step() { printf '\n== %s\n' "$*"; }
ok() { printf '   ok: %s\n' "$*"; }
fail() {
	printf '\ntest-package: FAIL: %s\n' "$*" >&2
	exit 1
}

package_state() { dpkg-query -W -f='${Status}' warden 2>/dev/null || echo "unknown ok not-installed"; }

# dpkg, waiting for the dpkg lock when another apt or dpkg holds it.
dpkg_wait() {
	local out i
	for ((i = 0; i < 60; i++)); do
		if out=$(dpkg "$@" 2>&1); then
			printf '%s\n' "$out"
			return 0
		fi
		if ! grep -qiE 'lock|locked' <<<"$out"; then
			printf '%s\n' "$out" >&2
			return 1
		fi
		sleep 2
	done
	printf '%s\n' "$out" >&2
	return 1
}

cleanup() {
	local rc=$?
	set +e
	trap - EXIT
	for pid in $package_pid $checks_pid $old_pid; do
		kill -- "-$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	if [[ -n $exporter_pid ]] && kill -0 "$exporter_pid" 2>/dev/null; then
		kill "$exporter_pid"
		wait "$exporter_pid" 2>/dev/null
	fi
	if [[ $installed_by_us == yes && $(package_state) != "unknown ok not-installed" ]]; then
		echo "test-package: cleanup: purging the package"
		dpkg_wait --purge warden >/dev/null
	fi
	if [[ $installed_by_us == yes && $user_existed == no ]] && getent passwd warden >/dev/null; then
		echo "test-package: cleanup: deleting the user warden this test created"
		userdel warden
	fi
	if [[ $installed_by_us == yes && $group_existed == no ]] && getent group warden >/dev/null; then
		groupdel warden
	fi
	rm -rf "$work"
	if ((rc == 0)); then
		printf '\ntest-package: PASS in %ds\n' "$((SECONDS - start))"
	else
		printf '\ntest-package: FAILED (exit %d) after %ds\n' "$rc" "$((SECONDS - start))" >&2
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'echo "test-package: interrupted or timed out" >&2; exit 124' TERM INT HUP

# expect_mode PATH MODE OWNER:GROUP
expect_mode() {
	[[ -e $1 ]] || fail "$1 is missing"
	local got
	got=$(stat -c '%a %U:%G' "$1")
	[[ $got == "$2 $3" ]] || fail "$1 is $got, want $2 $3"
}

# free_port prints a TCP port no socket on this machine uses.
free_port() {
	local port hex
	for ((;;)); do
		port=$((20000 + RANDOM % 12000))
		hex=$(printf '%04X' "$port")
		if ! awk -v p=":$hex" 'NR > 1 && substr($2, length($2) - 4) == p { found = 1 } END { exit !found }' \
			/proc/net/tcp /proc/net/tcp6 2>/dev/null; then
			echo "$port"
			return
		fi
	done
}

step "preconditions"
[[ $(id -u) == 0 ]] || fail "must run as root: it installs the package with dpkg"
command -v dpkg >/dev/null || fail "needs dpkg (Debian)"
[[ $(package_state) == "unknown ok not-installed" ]] ||
	fail "package warden is already on this machine ($(package_state)); remove it first: dpkg --purge warden"
for p in /etc/warden /var/lib/warden /etc/default/warden_node_exporter; do
	[[ ! -e $p ]] || fail "$p exists; this test installs and purges the package, which would delete it: move it away first"
done
getent passwd warden >/dev/null && user_existed=yes
getent group warden >/dev/null && group_existed=yes
ok "root, dpkg, no warden package or files (user warden existed before: $user_existed)"

step "make package and packaging/checks (in the background), and the Debian packages the test needs"
# Each in its own process group, which cleanup ends if the test stops early.
setsid make --no-print-directory package >"$work/package.log" 2>&1 &
package_pid=$!
# shellcheck disable=SC2016 # expanded by the inner bash
setsid bash -c 'cd packaging/checks && export CGO_ENABLED=0 &&
	go build -o "$1/checks" . && go test -c -o "$1/checks.test" .' _ "$work" >"$work/checks-build.log" 2>&1 &
checks_pid=$!
# The previous version's package, for the upgrade under systemd: the same
# Makefile target on the tree of WARDEN_TEST_UPGRADE_FROM, with the version
# fields git would give there (the copy has no .git).
upgrade_from=${WARDEN_TEST_UPGRADE_FROM:-HEAD~1}
if [[ ${WARDEN_TEST_SYSTEMD:-1} != 0 ]]; then
	git rev-parse --verify -q "$upgrade_from^{commit}" >/dev/null || fail "WARDEN_TEST_UPGRADE_FROM=$upgrade_from is not a commit"
	mkdir "$work/old"
	git archive "$upgrade_from" | tar -x -C "$work/old"
	setsid make -C "$work/old" --no-print-directory package \
		VERSION="$(git describe --tags --always "$upgrade_from")" REVISION="$(git rev-parse "$upgrade_from")" \
		BRANCH="$(git rev-parse --abbrev-ref HEAD)" COMMIT_EPOCH="$(git log -1 --format=%ct "$upgrade_from")" \
		BUILD_DATE="$(git log -1 --format=%cd --date=format:%Y%m%d-%H:%M:%S "$upgrade_from")" >"$work/old-package.log" 2>&1 &
	old_pid=$!
fi
need=()
for p in systemd curl rpm zsh groff-base man-db; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || need+=("$p")
done
if ((${#need[@]})); then
	echo "   installing ${need[*]}"
	for ((i = 0; i < 30; i++)); do
		apt-get -o DPkg::Lock::Timeout=120 update -qq && break
		sleep 4
	done
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 install -y -qq --no-install-recommends "${need[@]}" >/dev/null ||
		fail "apt-get install ${need[*]} failed"
fi
ok "tools present: systemd-analyze, systemd-socket-activate, curl, rpm, zsh, groff, man"
rc=0
wait "$package_pid" || rc=$?
package_pid=
((rc == 0)) || { cat "$work/package.log" >&2; fail "make package failed"; }
wait "$checks_pid" || rc=$?
checks_pid=
((rc == 0)) || { cat "$work/checks-build.log" >&2; fail "building packaging/checks failed"; }
shopt -s nullglob
debs=(dist/warden_*.deb)
rpms=(dist/warden-*.rpm)
shopt -u nullglob
((${#debs[@]} == 1)) || fail "want one .deb in dist/, got: ${debs[*]:-none}"
((${#rpms[@]} == 1)) || fail "want one .rpm in dist/, got: ${rpms[*]:-none}"
deb=${debs[0]} rpm=${rpms[0]}
ok "built $deb and $rpm"

step "package version from the build"
bin_version=$(bin/warden_node_exporter --version 2>&1 | sed -n 's/.*, version \([^ ]*\) (branch.*revision: \([0-9a-f]*\)).*/\1 \2/p')
read -r describe revision <<<"$bin_version"
[[ -n $describe && -n $revision ]] || fail "cannot read version and revision from bin/warden_node_exporter --version"
stamp=$(date -u -d "@$(git log -1 --format=%ct "$revision")" +%Y%m%d%H%M%S)
want_version=$(packaging/pkg-version.sh "$describe" "$stamp")-1
arch=$(dpkg --print-architecture)
got=$(dpkg-deb -f "$deb" Package Version Architecture | tr '\n' ' ')
[[ $got == "Package: warden Version: $want_version Architecture: $arch " ]] ||
	fail "deb control says '$got', want warden $want_version $arch (from git describe $describe)"
for c in "v1.2.0 1.2.0" "v1.2.0-rc.1 1.2.0~rc.1" "v1.2.0-3-gabc1234 1.2.0+3.gabc1234" \
	"v1.2.0-3-gabc1234-dirty 1.2.0+3.gabc1234.dirty" "abc1234 0.0.0+git20261123101938.abc1234"; do
	read -r in want <<<"$c"
	[[ $(packaging/pkg-version.sh "$in" 20261123101938) == "$want" ]] || fail "pkg-version.sh $in: $(packaging/pkg-version.sh "$in" 20261123101938), want $want"
done
commit_time=$(TZ=UTC date -d "@$(git log -1 --format=%ct "$revision")" '+%Y-%m-%d %H:%M')
[[ -z $(TZ=UTC dpkg-deb -c "$deb" | awk -v t="$commit_time" '$4 " " $5 != t') ]] || fail "deb file times are not the commit's ($commit_time)"
ok "deb warden $want_version ($arch), from git describe $describe; file times are the commit's ($commit_time UTC)"

step "deb contents and modes (dpkg-deb -c, -I)"
dpkg-deb -I "$deb" >"$work/deb-info"
for s in preinst postinst prerm postrm; do
	grep -q " $s " "$work/deb-info" || fail "deb has no $s script"
	dpkg-deb --ctrl-tarfile "$deb" | tar -xO "./$s" >"$work/$s"
	sh -n "$work/$s" || fail "$s is not valid sh"
done
[[ $(dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles) == /etc/default/warden_node_exporter ]] ||
	fail "conffiles must list /etc/default/warden_node_exporter only"
dpkg-deb -c "$deb" | awk '{ print $1, $2, $6 }' | sort >"$work/deb-contents"
sort >"$work/deb-want" <<'EOF'
drwxr-xr-x root/root ./etc/
drwxr-xr-x root/root ./etc/default/
-rw-r--r-- root/root ./etc/default/warden_node_exporter
drwxr-x--- root/warden ./etc/warden/
drwxr-xr-x root/root ./usr/
drwxr-xr-x root/root ./usr/bin/
-rwxr-xr-x root/root ./usr/bin/warden_node_exporter
-rwxr-xr-x root/root ./usr/bin/wardentool
drwxr-xr-x root/root ./usr/lib/
drwxr-xr-x root/root ./usr/lib/systemd/
drwxr-xr-x root/root ./usr/lib/systemd/system/
-rw-r--r-- root/root ./usr/lib/systemd/system/warden_cert_renew.service
-rw-r--r-- root/root ./usr/lib/systemd/system/warden_cert_renew.timer
-rw-r--r-- root/root ./usr/lib/systemd/system/warden_node_exporter.service
-rw-r--r-- root/root ./usr/lib/systemd/system/warden_node_exporter.socket
drwxr-xr-x root/root ./usr/lib/sysusers.d/
-rw-r--r-- root/root ./usr/lib/sysusers.d/warden.conf
drwxr-xr-x root/root ./usr/lib/tmpfiles.d/
-rw-r--r-- root/root ./usr/lib/tmpfiles.d/warden.conf
drwxr-xr-x root/root ./usr/libexec/
drwxr-xr-x root/root ./usr/libexec/warden/
-rwxr-xr-x root/root ./usr/libexec/warden/setup-default-config
drwxr-xr-x root/root ./usr/share/
drwxr-xr-x root/root ./usr/share/bash-completion/
drwxr-xr-x root/root ./usr/share/bash-completion/completions/
-rw-r--r-- root/root ./usr/share/bash-completion/completions/warden_node_exporter
-rw-r--r-- root/root ./usr/share/bash-completion/completions/wardentool
drwxr-xr-x root/root ./usr/share/doc/
drwxr-xr-x root/root ./usr/share/doc/warden/
-rw-r--r-- root/root ./usr/share/doc/warden/LICENSE
-rw-r--r-- root/root ./usr/share/doc/warden/NOTICE
-rw-r--r-- root/root ./usr/share/doc/warden/copyright
drwxr-xr-x root/root ./usr/share/man/
drwxr-xr-x root/root ./usr/share/man/man1/
-rw-r--r-- root/root ./usr/share/man/man1/warden_node_exporter.1.gz
-rw-r--r-- root/root ./usr/share/man/man1/wardentool.1.gz
drwxr-xr-x root/root ./usr/share/zsh/
drwxr-xr-x root/root ./usr/share/zsh/vendor-completions/
-rw-r--r-- root/root ./usr/share/zsh/vendor-completions/_warden_node_exporter
-rw-r--r-- root/root ./usr/share/zsh/vendor-completions/_wardentool
drwxr-xr-x root/root ./var/
drwxr-xr-x root/root ./var/lib/
drwxr-xr-x root/root ./var/lib/warden/
drwx------ warden/warden ./var/lib/warden/alert-spool/
drwxr-xr-x root/root ./var/lib/warden/textfile/
EOF
diff -u "$work/deb-want" "$work/deb-contents" >&2 || fail "deb contents differ from the expected list (- want, + got)"
ok "$(wc -l <"$work/deb-contents") entries with the expected modes and owners; conffile; maintainer scripts parse"

step "rpm contents, config files and scripts"
rpm_q() { rpm -qp "$@" "$rpm" 2>/dev/null; }
got=$(rpm_q --qf '%{NAME} %{VERSION}-%{RELEASE} %{ARCH}')
[[ $got == "warden $want_version $(uname -m)" ]] || fail "rpm is '$got', want warden $want_version $(uname -m)"
rpm_q --qf '[%{FILEMODES:perms} %{FILEUSERNAME}/%{FILEGROUPNAME} %{FILENAMES}\n]' | sort >"$work/rpm-contents"
# The rpm holds what the deb holds (its own directories and Debian's
# copyright file aside), with zsh completion in Fedora's site-functions.
grep -v -e '^d' -e '/doc/warden/copyright$' "$work/deb-want" |
	sed -e 's# \./# /#' -e 's#/zsh/vendor-completions/#/zsh/site-functions/#' | sort >"$work/rpm-want"
grep -v '^d' "$work/rpm-contents" | diff -u "$work/rpm-want" - >&2 || fail "rpm files differ from the deb's (- want, + got)"
for d in "drwxr-x--- root/warden /etc/warden" "drwx------ warden/warden /var/lib/warden/alert-spool" \
	"drwxr-xr-x root/root /var/lib/warden/textfile"; do
	grep -qxF "$d" "$work/rpm-contents" || fail "rpm lacks the directory '$d'"
done
[[ $(rpm_q -c) == /etc/default/warden_node_exporter ]] || fail "rpm config files: $(rpm_q -c)"
rpm_q --scripts >"$work/rpm-scripts"
for s in preinstall postinstall preuninstall postuninstall; do
	grep -q "^$s scriptlet" "$work/rpm-scripts" || fail "rpm has no $s scriptlet"
done
ok "rpm $got: same files and modes, config file, four scriptlets"

step "licence: Apache-2.0, with LICENSE, NOTICE and Debian's copyright file"
got=$(dpkg-deb -f "$deb" License)
[[ $got == Apache-2.0 ]] || fail "deb control License is '$got', want Apache-2.0"
got=$(rpm_q --qf '%{LICENSE}')
[[ $got == Apache-2.0 ]] || fail "rpm License is '$got', want Apache-2.0"
dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/share/doc/warden/LICENSE | cmp -s - LICENSE ||
	fail "the deb's /usr/share/doc/warden/LICENSE is not LICENSE"
grep -q '^ *Apache License$' LICENSE && grep -q '^ *Version 2.0, January 2004$' LICENSE ||
	fail "LICENSE is not the Apache License 2.0"
dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/share/doc/warden/NOTICE | cmp -s - NOTICE ||
	fail "the deb's /usr/share/doc/warden/NOTICE is not NOTICE"
for want in 'prometheus/node_exporter' 'prometheus/exporter-toolkit' 'The Prometheus Authors'; do
	grep -qF "$want" NOTICE || fail "NOTICE does not credit $want"
done
dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/share/doc/warden/copyright >"$work/copyright"
head -1 "$work/copyright" | grep -qx 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/' ||
	fail "copyright is not in Debian's machine-readable format"
[[ $(sed -n 's/^License: //p' "$work/copyright" | sort -u) == Apache-2.0 ]] ||
	fail "copyright names licences other than Apache-2.0: $(grep '^License:' "$work/copyright")"
ok "deb control and rpm say License: Apache-2.0; /usr/share/doc/warden has LICENSE, NOTICE and copyright"

step "man pages and shell completion"
for name in warden_node_exporter wardentool; do
	man_page=$work/$name.1
	zcat "dist/generated/man/$name.1.gz" >"$man_page"
	warnings=$(groff -man -ww -Wbreak -z "$man_page" 2>&1)
	[[ -z $warnings ]] || fail "groff warns about $name.1: $warnings"
	grep -q "^\.TH ${name^^} 1 " "$man_page" || fail "$name.1: bad .TH line"
	[[ $(sed -n '/^\.SH "NAME"/{n;p;}' "$man_page") == "$name \\- "?* ]] || fail "$name.1: NAME is not 'name \\- description'"
	bash -n "dist/generated/bash/$name" || fail "bash completion for $name does not parse"
	zsh -n "dist/generated/zsh/_$name" || fail "zsh completion for $name does not parse"
	head -1 "dist/generated/zsh/_$name" | grep -qx "#compdef $name" || fail "zsh completion for $name lacks #compdef"
done
grep -q 'web.systemd-socket' "$work/warden_node_exporter.1" || fail "man page lacks the flags"
ok "man pages render without groff warnings; completions parse"

step "static binaries, Dockerfile (no container engine here: parsed and checked, not built)"
ldd bin/warden_node_exporter >/dev/null 2>&1 && fail "ldd says bin/warden_node_exporter is dynamic"
(cd packaging/checks && "$work/checks.test" -test.count=1 >"$work/checks-test.log" 2>&1) || {
	cat "$work/checks-test.log" >&2
	fail "packaging/checks tests failed"
}
"$work/checks" static-elf bin/warden_node_exporter bin/wardentool || fail "binaries not static"
"$work/checks" dockerfile packaging/Dockerfile . || fail "Dockerfile check failed"
ok "binaries static; Dockerfile: distroless/static base, non-root, EXPOSE 9100, copies only static binaries the context sends"

step "reproducible build"
make --no-print-directory reproducible-check || fail "make reproducible-check"

step "dpkg -i"
installed_by_us=yes
dpkg_wait -i "$deb" | sed 's/^/   | /' || fail "dpkg -i $deb failed"
[[ $(package_state) == "install ok installed" ]] || fail "package state after dpkg -i: $(package_state)"
ok "installed"

step "user and group"
IFS=: read -r _ _ uid gid gecos home shell <<<"$(getent passwd warden)" || fail "no user warden"
((uid < 1000)) || fail "warden has uid $uid, want a system uid"
[[ $(getent group "$gid" | cut -d: -f1) == warden ]] || fail "warden's primary group is $gid, want warden"
[[ $home == /var/lib/warden && $shell == /usr/sbin/nologin ]] || fail "warden: home $home shell $shell"
[[ -z $(systemd-sysusers --dry-run /usr/lib/sysusers.d/warden.conf 2>&1) ]] ||
	fail "the user created differs from sysusers.d/warden.conf: $(systemd-sysusers --dry-run /usr/lib/sysusers.d/warden.conf 2>&1)"
ok "system user warden (uid $uid, group warden, home $home, shell $shell, '$gecos')"

step "files and permissions"
expect_mode /etc/warden 750 root:warden
expect_mode /etc/warden/web-config.yml 640 root:warden
expect_mode /etc/warden/tls 750 root:warden
expect_mode /etc/warden/tls/server.key 640 root:warden
expect_mode /etc/warden/tls/server.crt 644 root:root
expect_mode /etc/warden/tls/ca.crt 644 root:root
expect_mode /etc/warden/tls/client.crt 644 root:root
expect_mode /etc/warden/tls/client.key 600 root:root
expect_mode /etc/warden/tls/password 600 root:root
expect_mode /etc/warden/tls/prometheus-scrape.yml 644 root:root
expect_mode /etc/default/warden_node_exporter 644 root:root
expect_mode /var/lib/warden 755 root:root
expect_mode /var/lib/warden/textfile 755 root:root
expect_mode /var/lib/warden/alert-spool 700 warden:warden
expect_mode /usr/bin/warden_node_exporter 755 root:root
expect_mode /usr/libexec/warden/setup-default-config 755 root:root
[[ ! -e /etc/warden/tls/web-config.yml ]] || fail "/etc/warden/tls/web-config.yml left behind"
[[ -z $(find /etc/warden -name '*ca.key*') ]] || fail "a CA key was kept in /etc/warden"
/usr/bin/wardentool check web-config /etc/warden/web-config.yml || fail "installed web config does not pass wardentool check"
for want in 'cert_file: tls/server.crt' 'key_file: tls/server.key' 'client_ca_file: tls/ca.crt' \
	'client_auth_type: RequireAndVerifyClientCert' 'basic_auth_users:'; do
	grep -qF "$want" /etc/warden/web-config.yml || fail "web config lacks '$want'"
done
as_warden() { runuser -u warden -- "$@" 2>/dev/null; }
as_warden cat /etc/warden/web-config.yml /etc/warden/tls/server.key >/dev/null || fail "warden cannot read its web config and server key"
for f in /etc/warden/tls/client.key /etc/warden/tls/password; do
	as_warden cat "$f" >/dev/null && fail "warden can read $f"
done
for f in /etc/warden/x /var/lib/warden/textfile/x.prom /var/lib/warden/x; do
	as_warden touch "$f" && fail "warden can write $f"
done
as_warden touch /var/lib/warden/alert-spool/probe || fail "warden cannot write its alert spool"
rm -f /var/lib/warden/alert-spool/probe
[[ -z $(pgrep -u warden || true) ]] || fail "the installation started processes as warden: $(pgrep -a -u warden)"
/usr/libexec/warden/setup-default-config >/dev/null
ok "modes and owners; web config requires TLS, a client certificate and a password; warden reads only what it needs; nothing started"

step "systemd units (systemd-analyze offline; under systemd as PID 1 in the last step)"
units=(/usr/lib/systemd/system/warden_node_exporter.socket /usr/lib/systemd/system/warden_node_exporter.service)
out=$(systemd-analyze verify "${units[@]}" 2>&1) || fail "systemd-analyze verify: $out"
[[ -z $out ]] || fail "systemd-analyze verify warns: $out"
score=$(systemd-analyze security --offline=true --no-pager "${units[1]}" 2>&1 | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
[[ -n $score ]] || fail "no exposure score from systemd-analyze security"
awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' || fail "exposure score $score, want 2.0 or less"
ok "verify clean; systemd-analyze security exposure $score"

step "installed man pages and completion"
[[ $(man -w warden_node_exporter) == /usr/share/man/man1/warden_node_exporter.1.gz ]] || fail "man -w warden_node_exporter"
[[ $(man -w wardentool) == /usr/share/man/man1/wardentool.1.gz ]] || fail "man -w wardentool"
complete_words() { # completion script, words...; prints the completions of the last word
	bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); f=$(complete -p "$1" | sed "s/.*-F \([^ ]*\) .*/\1/"); "$f"; printf "%s\n" "${COMPREPLY[@]}"' _ "$@"
}
[[ $(complete_words /usr/share/bash-completion/completions/wardentool wardentool ch) == check ]] ||
	fail "bash completion of 'wardentool ch' is not 'check'"
[[ $(complete_words /usr/share/bash-completion/completions/warden_node_exporter warden_node_exporter --web.sys) == --web.systemd-socket ]] ||
	fail "bash completion of 'warden_node_exporter --web.sys' is not --web.systemd-socket"
"$work/checks" static-elf /usr/bin/warden_node_exporter /usr/bin/wardentool >/dev/null || fail "installed binaries are not static"
ok "man finds both pages; bash completes commands and flags; installed binaries static"

# The command line of the installed units: ExecStart with the environment
# file's variables, as user and group of the service, on the socket's port.
service=${units[1]} socket=${units[0]}
exec_start=$(sed -n 's/^ExecStart=//p' "$service")
env_file=$(sed -n 's/^EnvironmentFile=-\{0,1\}//p' "$service")
[[ $(sed -n 's/^User=//p' "$service") == warden && $(sed -n 's/^Group=//p' "$service") == warden ]] || fail "service not User=/Group=warden"
[[ $(sed -n 's/^ListenStream=//p' "$socket") == 9100 ]] || fail "socket does not listen on 9100"
[[ $exec_start == *--web.systemd-socket* ]] || fail "ExecStart lacks --web.systemd-socket"
# shellcheck disable=SC2016 # expanded by the inner bash, from the file only
args=$(env -i bash -c 'set -a; . "$1"; printf %s "$ARGS"' _ "$env_file")
expanded=${exec_start//\$ARGS/$args}
[[ $expanded != *'$'* ]] || fail "unexpanded variable in ExecStart: $expanded"
read -ra service_cmd <<<"$expanded"

# run_service LOG CMD...: starts CMD as the service would, on a socket for
# every address (like ListenStream=9100) on a free port; sets port, pid.
run_service() {
	local log=$1
	shift
	port=$(free_port)
	(
		cd /
		exec systemd-socket-activate -l "$port" \
			setpriv --reuid warden --regid warden --init-groups --no-new-privs \
			--inh-caps=-all --ambient-caps=-all --bounding-set=-all "$@"
	) >"$log" 2>&1 &
	exporter_pid=$!
	for ((i = 0; i < 100; i++)); do
		grep -qi ":$(printf '%04X' "$port") 00000000000000000000000000000000:0000 0A" /proc/net/tcp6 /proc/net/tcp 2>/dev/null && return 0
		grep -qi ":$(printf '%04X' "$port") 00000000:0000 0A" /proc/net/tcp 2>/dev/null && return 0
		sleep 0.1
	done
	fail "socket on port $port not listening: $(cat "$log")"
}

step "the installed service refuses to serve its socket without TLS and authentication"
insecure=()
for a in "${service_cmd[@]}"; do [[ $a == --web.config.file=* ]] || insecure+=("$a"); done
run_service "$work/insecure.log" "${insecure[@]}"
curl -s --max-time 10 "http://127.0.0.1:$port/metrics" >/dev/null && fail "served /metrics over plain HTTP on a socket for every address"
rc=0
timeout 20 tail --pid="$exporter_pid" -f /dev/null || fail "the insecure exporter did not stop"
wait "$exporter_pid" || rc=$?
exporter_pid=
((rc != 0)) || fail "the exporter exited 0 without a web config on a non-loopback socket"
grep -q 'only loopback addresses are served' "$work/insecure.log" || fail "no refusal in the log: $(cat "$work/insecure.log")"
ok "without --web.config.file it exits $rc: $(grep -m1 -o 'err=.*' "$work/insecure.log" | cut -c1-110)..."

step "run the installed service (${service_cmd[*]}) as warden, socket-activated, and scrape it"
echo "warden_package_test_info{run=\"$$\"} 1" >/var/lib/warden/textfile/package_test.prom
run_service "$work/exporter.log" "${service_cmd[@]}"
tls=/etc/warden/tls
password=$(cat "$tls/password")
scrape() { curl -sS --max-time 20 --cacert "$tls/ca.crt" "$@"; }
scrape --fail --cert "$tls/client.crt" --key "$tls/client.key" -u "prometheus:$password" \
	-o "$work/metrics" "https://127.0.0.1:$port/metrics" || fail "scrape with the installed credentials failed: $(cat "$work/exporter.log")"
for want in '^node_cpu_seconds_total\{' '^node_memory_MemTotal_bytes ' '^node_filesystem_size_bytes\{' \
	'^node_scrape_collector_success\{collector="filesystem"\} 1$' '^node_scrape_collector_success\{collector="textfile"\} 1$' \
	"^warden_package_test_info\{run=\"$$\"\} 1$" "^warden_node_exporter_build_info\{.*version=\"$describe\""; do
	grep -qE "$want" "$work/metrics" || fail "metrics lack $want"
done
[[ $(readlink "/proc/$exporter_pid/exe") == /usr/bin/warden_node_exporter ]] || fail "pid $exporter_pid is not the installed exporter"
status=/proc/$exporter_pid/status
grep -qE "^Uid:\s+$uid\s+$uid\s+$uid\s+$uid$" "$status" || fail "exporter not running as warden: $(grep ^Uid "$status")"
{ grep -qE '^CapEff:\s+0+$' "$status" && grep -qE '^CapBnd:\s+0+$' "$status"; } || fail "exporter has capabilities"
grep -qE '^NoNewPrivs:\s+1$' "$status" || fail "exporter may gain privileges"
ok "scraped $(grep -c '^node_' "$work/metrics") node_ samples (cpu, memory, filesystems, textfile) as uid $uid without capabilities"
code=$(scrape --cert "$tls/client.crt" --key "$tls/client.key" -o /dev/null -w '%{http_code}' "https://127.0.0.1:$port/metrics") || true
[[ $code == 401 ]] || fail "without the password: HTTP $code, want 401"
scrape -o /dev/null -u "prometheus:$password" "https://127.0.0.1:$port/metrics" 2>/dev/null && fail "served without a client certificate"
code=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/metrics") || true
[[ $code == 400 ]] || fail "plain HTTP: $code, want 400"
ok "no password: 401; no client certificate: handshake refused; plain HTTP: 400"
kill -TERM "$exporter_pid"
rc=0
wait "$exporter_pid" || rc=$?
exporter_pid=
((rc == 0)) || fail "exporter exited $rc on SIGTERM: $(tail -5 "$work/exporter.log")"
! grep -q 'level=ERROR' "$work/exporter.log" || fail "errors logged: $(grep 'level=ERROR' "$work/exporter.log")"
ok "stopped cleanly on SIGTERM, no errors logged"

step "setup-default-config --force rotates the keys and password"
old_key=$(sha256sum </etc/warden/tls/server.key) old_password=$(cat /etc/warden/tls/password)
/usr/libexec/warden/setup-default-config --force >/dev/null || fail "setup-default-config --force failed"
[[ $(sha256sum </etc/warden/tls/server.key) != "$old_key" && $(cat /etc/warden/tls/password) != "$old_password" ]] ||
	fail "--force kept the old key or password"
/usr/bin/wardentool check web-config /etc/warden/web-config.yml >/dev/null || fail "rotated web config is invalid"
expect_mode /etc/warden/web-config.yml 640 root:warden
expect_mode /etc/warden/tls/server.key 640 root:warden
expect_mode /etc/warden/tls/password 600 root:root
ok "new server key and password, valid web config, same modes"

step "dpkg -i again keeps the configuration and keys"
before=$(sha256sum /etc/warden/web-config.yml /etc/warden/tls/*)
dpkg_wait -i "$deb" >"$work/reinstall.log" || fail "reinstall failed: $(cat "$work/reinstall.log")"
[[ $(sha256sum /etc/warden/web-config.yml /etc/warden/tls/*) == "$before" ]] || fail "reinstalling changed /etc/warden"
ok "unchanged"

step "dpkg -r"
dpkg_wait -r warden >/dev/null || fail "dpkg -r failed"
[[ $(package_state) == "deinstall ok config-files" ]] || fail "state after dpkg -r: $(package_state)"
for gone in /usr/bin/warden_node_exporter /usr/bin/wardentool /usr/libexec/warden "${units[@]}" \
	/usr/share/man/man1/warden_node_exporter.1.gz /usr/share/bash-completion/completions/wardentool \
	/usr/share/zsh/vendor-completions/_wardentool /usr/lib/sysusers.d/warden.conf /usr/lib/tmpfiles.d/warden.conf \
	/usr/share/doc/warden; do
	[[ ! -e $gone ]] || fail "$gone is still there after dpkg -r"
done
for kept in /etc/default/warden_node_exporter /etc/warden/web-config.yml /etc/warden/tls/server.key \
	/var/lib/warden/textfile/package_test.prom; do
	[[ -e $kept ]] || fail "$kept was removed by dpkg -r"
done
ok "programs, units, docs gone; configuration, keys and textfiles kept"

step "dpkg --purge"
dpkg_wait --purge warden >/dev/null || fail "dpkg --purge failed"
[[ $(package_state) == "unknown ok not-installed" ]] || fail "state after purge: $(package_state)"
for gone in /etc/default/warden_node_exporter /etc/warden /var/lib/warden; do
	[[ ! -e $gone ]] || fail "$gone is still there after purge"
done
getent passwd warden >/dev/null || fail "purge deleted the user warden (system users are kept)"
ok "/etc/default/warden_node_exporter, /etc/warden, /var/lib/warden gone; user warden kept, as Debian keeps system users"

step "the .deb under systemd as PID 1 (packaging/test-systemd.sh)"
if [[ ${WARDEN_TEST_SYSTEMD:-1} == 0 ]]; then
	echo "   skipped: WARDEN_TEST_SYSTEMD=0"
else
	rc=0
	wait "$old_pid" || rc=$?
	old_pid=
	((rc == 0)) || { tail -20 "$work/old-package.log" >&2; fail "make package of $upgrade_from failed"; }
	old_debs=("$work"/old/dist/warden_*.deb)
	((${#old_debs[@]} == 1)) && [[ -f ${old_debs[0]} ]] || fail "want one .deb built from $upgrade_from, got: ${old_debs[*]}"
	ok "previous version: $(basename "${old_debs[0]}") (from $upgrade_from, $(git rev-parse --short "$upgrade_from"))"
	packaging/test-systemd.sh "$deb" "${old_debs[0]}" || fail "packaging/test-systemd.sh failed"
fi
