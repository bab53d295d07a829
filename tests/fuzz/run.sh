#!/bin/bash
# tests/fuzz/run.sh DIR SECONDS [RUNS]
#
# Run every libFuzzer harness DIR/bin/fuzz_*: write the seed inputs
# (DIR/bin/make_seeds) into DIR/seeds/, replay the committed regression
# inputs (tests/fuzz/corpus/HARNESS/, each a crash once found), then fuzz
# each harness for SECONDS, or for RUNS inputs when RUNS is given, from
# the seeds, the regressions and what earlier runs kept in DIR/corpus/.
# A crash leaves its input as DIR/crash-* (copy it into the regressions
# once fixed).  Every harness fuzzes with libFuzzer's -seed=FUZZ_SEED
# (a positive integer; when unset, one drawn at random here), printed
# first so that a run can be repeated: the same seed and the same corpus
# give the same mutations (a time bound may stop a repeat at another
# input).  make fuzz-ci sets FUZZ_SEED (FUZZ_CI_SEED).  Prints the seed
# and the inputs run per harness; exits 1 if any harness failed.
set -u
dir=$1 secs=$2 runs=${3:-}
root=$(cd "$(dirname "$0")/../.." && pwd)
rc=0

seed=${FUZZ_SEED:-}
if [ -z "$seed" ]; then
	seed=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
	seed=$((seed % 2147483647 + 1))
	how="drawn at random"
else
	how="from FUZZ_SEED"
fi
if ! [[ $seed =~ ^[0-9]+$ ]] || [ "$seed" -lt 1 ] || [ "$seed" -gt 4294967295 ]; then
	echo "fuzz: FUZZ_SEED must be an integer from 1 to 4294967295, not '$seed'" >&2
	exit 2
fi
echo "fuzz: libFuzzer -seed=$seed ($how; FUZZ_SEED=$seed uses it again)"

rm -rf "$dir/seeds"
"$dir/bin/make_seeds" "$dir/seeds" || exit 1
for bin in "$dir"/bin/fuzz_*; do
	h=$(basename "$bin")
	regress=$root/tests/fuzz/corpus/$h
	mkdir -p "$dir/corpus/$h" "$regress"
	if compgen -G "$regress/*" >/dev/null &&
		! "$bin" "$regress"/* >"$dir/$h.replay.log" 2>&1; then
		echo "$h: a regression input fails again (see $dir/$h.replay.log)"
		rc=1
		continue
	fi
	if [ -n "$runs" ]; then
		bound=(-runs="$runs")
	else
		bound=(-max_total_time="$secs")
	fi
	"$bin" "${bound[@]}" -print_final_stats=1 -artifact_prefix="$dir/" \
		-seed="$seed" \
		"$dir/corpus/$h" "$dir/seeds/$h" "$regress" >"$dir/$h.log" 2>&1
	st=$?
	units=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/$h.log")
	speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/$h.log")
	if [ "$st" -ne 0 ]; then
		echo "$h: seed $seed, FAILED after ${units:-?} inputs (see $dir/$h.log)"
		grep -m1 -E '^(==[0-9]+==ERROR|SUMMARY|fuzz_)' "$dir/$h.log"
		rc=1
	else
		echo "$h: seed $seed, ${units:-?} inputs, ${speed:-?} per second, no crash"
	fi
done
exit "$rc"
