#!/usr/bin/env bash
# Prints the package version for a `git describe --tags --always --dirty`
# output ($1), in a form deb and rpm both accept and order correctly (a digit
# first, no '-'): v1.2.0 -> 1.2.0; v1.2.0-rc.1 -> 1.2.0~rc.1;
# v1.2.0-3-gabc1234 -> 1.2.0+3.gabc1234; no tag: abc1234 ->
# 0.0.0+git20261123101938.abc1234 with the commit time ($2, YYYYmmddHHMMSS),
# so that later commits sort higher. A dirty tree adds "dirty".
set -euo pipefail

describe=${1:?usage: pkg-version.sh GIT_DESCRIBE COMMIT_TIME}
stamp=${2:-0}
dirty=
if [[ $describe == *-dirty ]]; then
	describe=${describe%-dirty}
	dirty=dirty
fi
base=${describe#v}
extra=
if [[ $base =~ ^(.+)-([0-9]+)-(g[0-9a-f]+)$ ]]; then
	base=${BASH_REMATCH[1]}
	extra=${BASH_REMATCH[2]}.${BASH_REMATCH[3]}
fi
if [[ $base =~ ^[0-9a-f]{4,40}$ && -z $extra ]]; then
	# No tag: git describe --always printed an abbreviated commit hash.
	extra=git$stamp.$base
	base=0.0.0
elif [[ $base =~ ^[0-9][0-9A-Za-z.~-]*$ && ($describe == v* || $base == *.*) ]]; then
	base=${base//-/\~}
else
	extra=unknown
	base=0.0.0
fi
if [[ -n $dirty ]]; then
	extra=${extra:+$extra.}$dirty
fi
echo "$base${extra:++$extra}"
