#!/bin/bash
# tests/cluster/run.sh [TEST...]
#
# Run the cluster integration tests (default: every tests/cluster/test_*.sh),
# each as its own process under a time limit of EC_TEST_TIMEOUT seconds
# (default 180).  Prints PASS, FAIL or SKIP per test and ends with
# "cluster: N passed, N failed, N skipped"; exits 1 if any test failed, or
# if any was skipped and EC_TEST_STRICT is true (1, true, yes or on, in
# any case; as in CI, where a skip would hide a missing kernel feature).
# A test that leaves part of its cluster behind fails.
set -u
dir=$(cd "$(dirname "$0")" && pwd)
limit=${EC_TEST_TIMEOUT:-180}
# EC_TEST_STRICT: any true value, in any case (tests/run-unit.sh reads it
# the same way).
case ${EC_TEST_STRICT:-} in
1 | [Tt][Rr][Uu][Ee] | [Yy][Ee][Ss] | [Oo][Nn]) strict=1 ;;
*) strict=0 ;;
esac

case ${1:-} in
-h | --help)
	sed -n '2,/^set -u/{/^set -u/d;s/^# \{0,1\}//;p}' "$0"
	exit 0
	;;
esac

# The tests' own prefix, to look for leftovers.
EC_PREFIX=${EC_TEST_PREFIX:-ect}
EC_NET=${EC_TEST_NET:-254}
# shellcheck source=SCRIPTDIR/../../cluster/lib.sh
. "$dir/../../cluster/lib.sh"

if [ $# -gt 0 ]; then
	tests=()
	for t in "$@"; do
		t=${t##*/}
		tests+=("$dir/${t%.sh}.sh")
	done
else
	tests=("$dir"/test_*.sh)
fi

pass=0 fail=0 skip=0
for t in "${tests[@]}"; do
	name=$(basename "$t" .sh)
	echo "== $name"
	start=$SECONDS
	if [ ! -r "$t" ]; then
		rc=1
		echo "no such test: $t"
	else
		timeout -k 15 "$limit" bash "$t"
		rc=$?
	fi
	secs=$((SECONDS - start))
	if [ "$(id -u)" -eq 0 ]; then
		left=$(ec_leftovers)
		if [ -n "$left" ]; then
			echo "$name left behind: $left"
			ec_down
			[ "$rc" -eq 0 ] && rc=1
		fi
	fi
	case $rc in
	0)
		echo "PASS $name (${secs} s)"
		pass=$((pass + 1))
		;;
	77)
		echo "SKIP $name"
		skip=$((skip + 1))
		;;
	124 | 137)
		echo "FAIL $name (timed out after ${limit} s)"
		fail=$((fail + 1))
		;;
	*)
		echo "FAIL $name (status $rc, ${secs} s)"
		fail=$((fail + 1))
		;;
	esac
done
echo "cluster: $pass passed, $fail failed, $skip skipped"
if [ "$strict" -eq 1 ] && [ "$skip" -gt 0 ]; then
	echo "cluster: EC_TEST_STRICT=$EC_TEST_STRICT and $skip skipped" >&2
	exit 1
fi
[ "$fail" -eq 0 ]
