#!/bin/bash
# Run Check test binaries (and script tests); print each one's summary and
# a total line.
# Usage: tests/run-unit.sh LABEL BIN...
#
# Each BIN runs under a wall-clock limit of EC_UNIT_TIMEOUT seconds
# (default 600; Check's own per-test limits, CK_DEFAULT_TIMEOUT 30 s unless
# a test case sets its own, stay in force inside it); one that runs past it
# is killed (SIGTERM, SIGKILL 10 s later: Check kills its forked test on
# SIGTERM) and counted as failed, with "FAILED: BIN (timed out after N s)".
# EC_TEST_STRICT (a test that cannot run fails instead of skipping) holds
# for any true value, 1, true, yes or on in any case, as in
# tests/cluster/run.sh; the tests are given it as 1, or 0 when it is set
# to anything else.
set -u
label=$1
shift
limit=${EC_UNIT_TIMEOUT:-600}
if [ -n "${EC_TEST_STRICT+set}" ]; then
	case $EC_TEST_STRICT in
	1 | [Tt][Rr][Uu][Ee] | [Yy][Ee][Ss] | [Oo][Nn]) EC_TEST_STRICT=1 ;;
	*) EC_TEST_STRICT=0 ;;
	esac
	export EC_TEST_STRICT
fi
pass=0 fail=0
for bin in "$@"; do
	echo "== $bin"
	start=$SECONDS
	CK_DEFAULT_TIMEOUT=${CK_DEFAULT_TIMEOUT:-30} timeout -k 10 "$limit" "$bin"
	rc=$?
	if [ "$rc" -eq 0 ]; then
		pass=$((pass + 1))
		continue
	fi
	fail=$((fail + 1))
	secs=$((SECONDS - start))
	# 124: timeout's TERM ended it; 137 past the limit: its KILL did
	if [ "$rc" -eq 124 ] || { [ "$rc" -eq 137 ] && [ "$secs" -ge "$limit" ]; }; then
		echo "FAILED: $bin (timed out after $limit s)"
	else
		echo "FAILED: $bin (status $rc, $secs s)"
	fi
done
echo "$label: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
