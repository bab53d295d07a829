#!/bin/bash
# test_replica_options.sh - README.md's list of ec-replica's options
# (the table under "### ec-replica's options") and `ec-replica --help`
# name the same options with the same arguments, both ways, and --help
# has no placeholder of the option table (replica/options.c) left
# unreplaced.  So the README cannot drift from the option table.
# Run from the top of the tree; EC_REPLICA overrides the binary (make
# unit-test sets it to the replica of its own build).
set -u
bin=${EC_REPLICA:-build/bin/ec-replica}
readme=README.md
if [ ! -x "$bin" ]; then
	echo "FAIL: no replica at $bin"
	exit 1
fi
echo "# testing $bin --help against $readme"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0

if ! "$bin" --help >"$tmp/help"; then
	echo "FAIL: $bin --help exits non-zero"
	exit 1
fi

# Each option as "-v, --verbose" or "--name ARG": from the help lines
# that start with two spaces and a dash, and from the first column of
# the README table's rows (backquotes dropped).
sed -nE 's/^  ((-[a-zA-Z], )?--[a-z][a-z-]*( [A-Z]+)?)( .*)?$/\1/p' \
	"$tmp/help" | sort >"$tmp/from_help"
awk '/^### ec-replica.s options$/ { on = 1; next }
     on && /^#/ { exit }
     on && /^\| `-/ { split($0, col, "|"); print col[2] }' "$readme" |
	sed -E 's/`//g; s/^ +//; s/ +$//' | sort >"$tmp/from_readme"

if [ ! -s "$tmp/from_help" ]; then
	echo "FAIL: no option found in --help"
	failed=1
fi
if [ ! -s "$tmp/from_readme" ]; then
	echo "FAIL: no option table under \"### ec-replica's options\" in $readme"
	failed=1
fi
while read -r opt; do
	echo "FAIL: --help lists '$opt', $readme does not"
	failed=1
done < <(comm -23 "$tmp/from_help" "$tmp/from_readme")
while read -r opt; do
	echo "FAIL: $readme lists '$opt' as ec-replica's, --help does not"
	failed=1
done < <(comm -13 "$tmp/from_help" "$tmp/from_readme")
if grep -n '{' "$tmp/help"; then
	echo "FAIL: --help has a placeholder left (above)"
	failed=1
fi
[ "$failed" -eq 0 ] &&
	echo "ok: $(wc -l <"$tmp/from_help") options, the same in --help and $readme"
exit $failed
