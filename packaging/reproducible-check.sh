#!/usr/bin/env bash
# Checks that `make build` is reproducible: it copies the tree twice, to
# paths of different lengths, builds each copy with `make build` a second
# apart, and requires byte-identical binaries that name neither path and
# carry the commit's date, not the clock's. REPRO_FRESH_CACHE=1 builds the
# second copy with an empty Go build cache, so that nothing is shared.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/warden-repro.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() {
	echo "reproducible-check: FAIL: $*" >&2
	exit 1
}

# One snapshot of the tree (with .git, for git describe), copied twice.
mkdir "$work/a" "$work/copy-of-the-tree-b"
tar -C "$root" --exclude=./bin --exclude=./dist --exclude=./.warden -cf - . | tar -C "$work/a" -xf -
tar -C "$work/a" -cf - . | tar -C "$work/copy-of-the-tree-b" -xf -

build() {
	local dir=$1
	shift
	echo "reproducible-check: make build in $dir"
	env "$@" make --no-print-directory -C "$dir" build >"$dir.log" 2>&1 || {
		cat "$dir.log" >&2
		fail "make build failed in $dir"
	}
}
build "$work/a"
sleep 1.1
if [[ ${REPRO_FRESH_CACHE:-} == 1 ]]; then
	build "$work/copy-of-the-tree-b" GOCACHE="$work/gocache"
else
	build "$work/copy-of-the-tree-b"
fi

for bin in warden_node_exporter wardentool; do
	a=$work/a/bin/$bin b=$work/copy-of-the-tree-b/bin/$bin
	cmp -s "$a" "$b" || fail "$bin differs between the two builds: $(sha256sum "$a" "$b" | tr '\n' ' ')"
	if grep -aqF -e "$work/a" -e "$work/copy-of-the-tree-b" "$a" "$b"; then
		fail "$bin contains its build directory (-trimpath missing?)"
	fi
	echo "reproducible-check: $bin identical: $(sha256sum <"$a" | cut -c1-64)"
done

# The build date is the commit's (the Makefile's BUILD_DATE), not the clock's.
commit_date=$(git -C "$work/a" log -1 --format=%cd --date=format:%Y%m%d-%H:%M:%S)
got=$("$work/a/bin/warden_node_exporter" --version 2>&1 | sed -n 's/^ *build date: *//p')
[[ $got == "$commit_date" ]] || fail "build date $got, want the commit's $commit_date"
echo "reproducible-check: build date $got is the commit's"
echo "reproducible-check: PASS"
