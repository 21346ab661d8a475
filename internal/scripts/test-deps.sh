#!/usr/bin/env bash
# `make test-deps`, the first stage of `make test`. First, within seconds,
# it checks that this machine can run every later stage, and stops with
# one line per thing missing; then it installs the Debian packages the
# tests run (apt-get, left installed) and checks that they work.
#
# What the stages need:
#   root, or sudo without a password  apt-get here; test-package installs,
#                                     runs and purges the warden .deb
#   Debian or Ubuntu (apt-get, dpkg)  the packages below; the .deb
#   go on PATH                        every stage
#   no warden package, /etc/warden,   test-package installs and purges its
#   /var/lib/warden or                own, which would delete them
#   /etc/default/warden_node_exporter
#   the overlay file system           test-systemd.sh (run by test-package)
#                                     boots systemd-nspawn --volatile=overlay
set -euo pipefail

# The Debian packages, and which stage runs what from them.
packages=(
	prometheus prometheus-alertmanager # e2e: real Prometheus, promtool, Alertmanager
	gcc libc6-dev                      # unit: -race needs cgo and a C compiler
	curl                               # unit and test-package: the printed curl commands
	systemd rpm zsh groff-base man-db  # test-package: systemd-analyze, rpm, zsh -n, groff, man
	debootstrap systemd-container      # test-package's test-systemd.sh: a Debian root booted with systemd-nspawn
)
# The programs they must provide.
programs=(prometheus promtool prometheus-alertmanager gcc curl systemd-analyze systemd-socket-activate rpm zsh groff man setpriv runuser debootstrap systemd-nspawn)

problems=()
missing() { problems+=("$*"); }

if ! command -v apt-get >/dev/null || ! command -v dpkg-query >/dev/null; then
	missing "Debian or Ubuntu (apt-get and dpkg): the tests install Debian packages and test-package installs a .deb"
fi
sudo=()
if [[ $(id -u) != 0 ]]; then
	if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
		sudo=(sudo -n)
	else
		missing "root or passwordless sudo: make test installs Debian packages and test-package installs and purges the warden .deb; $(id -un) is not root and cannot sudo without a password"
	fi
fi
command -v go >/dev/null || missing "go on PATH (Go $(sed -n 's/^go //p' "$(dirname "$0")/../../go.mod" 2>/dev/null || echo 1.26))"
if command -v dpkg-query >/dev/null; then
	state=$(dpkg-query -W -f='${Status}' warden 2>/dev/null || true)
	if [[ -n $state && $state != *not-installed ]]; then
		missing "a machine without the warden package ($state): test-package installs and purges its own; dpkg --purge warden first"
	fi
fi
for p in /etc/warden /var/lib/warden /etc/default/warden_node_exporter; do
	[[ ! -e $p ]] || missing "a machine without $p: test-package installs and purges the warden package, which would delete it; move it away first"
done
# A module not loaded yet is loaded, as root.
if ! grep -qw overlay /proc/filesystems 2>/dev/null && ! "${sudo[@]}" modprobe overlay 2>/dev/null; then
	missing "the overlay file system (modprobe overlay): test-package boots the .deb under systemd-nspawn --volatile=overlay"
fi
if ((${#problems[@]})); then
	printf 'test-deps: FAIL: needs %s\n' "${problems[@]}" >&2
	exit 1
fi

need=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || need+=("$p")
done
if ((${#need[@]})); then
	echo "test-deps: installing ${need[*]} (apt-get, as $([[ ${#sudo[@]} == 0 ]] && echo root || echo "sudo"))"
	"${sudo[@]}" apt-get -o DPkg::Lock::Timeout=120 update -qq
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 \
		install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

for p in "${programs[@]}"; do
	command -v "$p" >/dev/null || missing "$p on PATH after installing ${packages[*]}"
done
# -race builds with cgo: the compiler Go uses must compile against libc.
cc=$(CGO_ENABLED=1 go env CC)
printf '#include <stdlib.h>\nint main(void) { return 0; }\n' | $cc -x c -o /dev/null - 2>/dev/null ||
	missing "a C compiler that works for cgo (go env CC: $cc) for go test -race"
if ((${#problems[@]})); then
	printf 'test-deps: FAIL: needs %s\n' "${problems[@]}" >&2
	exit 1
fi
echo "test-deps: ok: ${packages[*]} installed; $(go version | cut -d' ' -f3), $($cc --version | head -1)"
