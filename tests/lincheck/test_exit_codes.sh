#!/bin/bash
# test_exit_codes.sh - ec-lincheck's exit status and output, end to end:
# 0 linearizable, 1 not (with a sub-history that fails again when fed
# back), 2 malformed (FILE:LINE) or bad usage, 3 search limit; and on
# random histories of gen_history.py, with and without a stale read.
# Run from the top of the tree; EC_LINCHECK overrides the binary (make
# unit-test sets it to the checker of its own build: build-san/ with SAN=1).
set -u
bin=${EC_LINCHECK:-build/bin/ec-lincheck}
if [ ! -x "$bin" ]; then
	echo "FAIL: no checker at $bin"
	exit 1
fi
echo "# testing $bin"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0

# ev PROCESS TYPE F KEY VALUE-JSON TIME
ev() {
	printf '{"process": %s, "type": "%s", "f": "%s", "key": "%s", "value": %s, "time": %s}\n' "$@"
}

# expect NAME STATUS FILE [ARGS...]: run the checker, compare the status.
expect() {
	local name=$1 want=$2 file=$3 got
	shift 3
	"$bin" "$@" "$file" >"$tmp/out" 2>&1
	got=$?
	if [ "$got" -ne "$want" ]; then
		echo "FAIL: $name: exit $got, want $want"
		sed 's/^/  | /' "$tmp/out"
		failed=1
	else
		echo "ok: $name (exit $got)"
	fi
}

# expect_text NAME REGEX: the last run's output matches.
expect_text() {
	if ! grep -qE -- "$2" "$tmp/out"; then
		echo "FAIL: $1: no line matches /$2/"
		sed 's/^/  | /' "$tmp/out"
		failed=1
	fi
}

{
	ev 0 invoke put a '"x"' 1
	ev 1 invoke get a null 2
	ev 1 ok get a '"x"' 3
	ev 0 ok put a '"x"' 4
} >"$tmp/valid"
expect "valid history" 0 "$tmp/valid"
expect_text "valid history" 'linearizable$'
expect "valid history on stdin" 0 - <"$tmp/valid"

{
	ev 0 invoke put a '"x"' 1
	ev 0 ok put a '"x"' 2
	ev 2 invoke get b null 3
	ev 2 ok get b null 4
	ev 1 invoke put a '"y"' 5
	ev 1 ok put a '"y"' 6
	ev 2 invoke get a null 7
	ev 2 ok get a '"x"' 8
} >"$tmp/stale"
expect "stale read" 1 "$tmp/stale"
expect_text "stale read" '^key "a": NOT linearizable'
expect_text "stale read" '^minimal failing sub-history of key "a": 3 of 3 ops, lines 1, 2, 5, 6, 7, 8:'
grep '^{' "$tmp/out" >"$tmp/sub"
expect "shrunk sub-history fed back" 1 "$tmp/sub"

{
	ev 0 invoke get a null 1
	ev 0 invoke get a null 2
} >"$tmp/bad"
expect "malformed history" 2 "$tmp/bad"
expect_text "malformed history" "^$tmp/bad:2: process 0 invokes while"

expect "missing file" 2 "$tmp/nonexistent"
expect "bad option" 2 "$tmp/valid" --max-states=lots

{
	for p in $(seq 0 11); do ev "$p" invoke put a "\"v$p\"" "$p"; done
	for p in $(seq 0 11); do ev "$p" ok put a "\"v$p\"" "$((20 + p))"; done
	ev 99 invoke get a null 40
	ev 99 ok get a '"none"' 41
} >"$tmp/explode"
expect "search limit" 3 "$tmp/explode" --max-states 20
expect_text "search limit" '^key "a": undecided, search limit hit'
expect "same history, enough states" 1 "$tmp/explode"

# Larger random histories from gen_history.py: overlapping processes,
# info ops (taken effect or not), failed cas, JSON escapes.  Linearizable
# by construction, and again with one stale read injected, which the
# checker must find in the key the generator names.
gen=$(dirname "$0")/gen_history.py
python3 "$gen" --ops 20000 --seed 1 >"$tmp/gen" || failed=1
expect "generated history, 20000 ops" 0 "$tmp/gen"
expect_text "generated history, 20000 ops" ': linearizable$'
python3 "$gen" --ops 20000 --seed 2 --bug stale-read >"$tmp/gen" 2>"$tmp/gen.err" ||
	failed=1
key=$(sed -n 's/^gen_history: stale read of \([^ ]*\) at time .*/\1/p' "$tmp/gen.err")
if [ -z "$key" ]; then
	echo "FAIL: gen_history.py --bug stale-read injected no stale read"
	failed=1
else
	expect "generated history with a stale read of $key" 1 "$tmp/gen"
	expect_text "generated history with a stale read of $key" "^key \"$key\": NOT linearizable"
fi

"$bin" --help >"$tmp/out" 2>&1
expect_text "--help" '^exit status: 0 linearizable; 1 not linearizable; 2 bad usage'

exit $failed
