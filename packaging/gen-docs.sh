#!/usr/bin/env bash
# Writes man pages and bash/zsh completion scripts for Warden's binaries,
# from kingpin's --help-man and --completion-script-{bash,zsh}.
#   gen-docs.sh BINDIR OUTDIR VERSION DATE(YYYY-MM-DD)
# OUTDIR/man/NAME.1.gz, OUTDIR/bash/NAME, OUTDIR/zsh/_NAME
set -euo pipefail

bindir=$1 out=$2 version=$3 date=$4
mkdir -p "$out/man" "$out/bash" "$out/zsh"

for name in warden_node_exporter wardentool; do
	bin=$bindir/$name
	[ -x "$bin" ] || { echo "gen-docs: $bin not built" >&2; exit 1; }
	# Kingpin's .TH line carries the whole multi-line --version text and its
	# NAME section has no description: rewrite both for man(7) and whatis.
	# wardentool's kingpin goes on to print its usage after --help-man and
	# --completion-script-*: drop it (reading to the end, so that the
	# binary never gets SIGPIPE).
	desc=$("$bin" --help | sed -n '3p')
	"$bin" --help-man | awk -v name="$name" -v ver="$version" -v date="$date" -v desc="$desc" '
		BEGIN { head = 1 }
		head && /^\.SH "NAME"/ {
			head = 0
			gsub(/\\/, "\\\\", desc); gsub(/-/, "\\-", desc)
			printf ".TH %s 1 \"%s\" \"Warden %s\" \"Warden\"\n", toupper(name), date, ver
			print
			getline
			printf "%s \\- %s\n", $0, desc
			next
		}
		head { next }
		/^usage: / { tail = 1 }
		!tail { print }
	' >"$out/man/$name.1"
	[ -s "$out/man/$name.1" ] || { echo "gen-docs: empty man page for $name" >&2; exit 1; }
	gzip -9nf "$out/man/$name.1"
	"$bin" --completion-script-bash | sed '/^usage: /,$d' >"$out/bash/$name"
	"$bin" --completion-script-zsh | sed '/^usage: /,$d' >"$out/zsh/_$name"
done
