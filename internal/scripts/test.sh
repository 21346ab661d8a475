#!/usr/bin/env bash
# `make test`: runs each stage given as an argument with `$MAKE STAGE`, in
# order, stops at the first that fails, and ends with one line per stage
# saying how it went and how long it took, so that a failure after ten
# minutes of output says at once where it was.
set -uo pipefail

make=${MAKE:-make}
summary=()
failed=
start_all=$SECONDS

duration() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

for stage in "$@"; do
	if [[ -n $failed ]]; then
		summary+=("$(printf '  %-14s %s' "$stage" "not run")")
		continue
	fi
	printf '\n=== make %s\n' "$stage"
	start=$SECONDS
	if $make --no-print-directory "$stage"; then
		result=ok
	else
		result=FAIL
		failed=$stage
	fi
	summary+=("$(printf '  %-14s %-8s %s' "$stage" "$result" "$(duration $((SECONDS - start)))")")
done

printf '\nmake test: %s in %s\n' "$([[ -z $failed ]] && echo PASS || echo "FAIL at $failed")" "$(duration $((SECONDS - start_all)))"
printf '%s\n' "${summary[@]}"
[[ -z $failed ]]
