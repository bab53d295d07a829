#!/bin/bash
# tests/fuzz/run.sh DIR SECONDS [RUNS]
#
# Run every libFuzzer harness DIR/bin/fuzz_*: write the seed inputs
# (DIR/bin/make_seeds) into DIR/seeds/, replay the committed regression
# inputs (tests/fuzz/corpus/HARNESS/, each a crash once found), then fuzz
# each harness for SECONDS, or for RUNS inputs when RUNS is given, from
# the seeds, the regressions and what earlier runs kept in DIR/corpus/.
# A crash leaves its input as DIR/crash-* (copy it into the regressions
# once fixed).  FUZZ_SEED sets libFuzzer's seed.  Prints the inputs run
# per harness; exits 1 if any harness failed.
set -u
dir=$1 secs=$2 runs=${3:-}
root=$(cd "$(dirname "$0")/../.." && pwd)
rc=0

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
		${FUZZ_SEED:+-seed="$FUZZ_SEED"} \
		"$dir/corpus/$h" "$dir/seeds/$h" "$regress" >"$dir/$h.log" 2>&1
	st=$?
	units=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/$h.log")
	speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/$h.log")
	if [ "$st" -ne 0 ]; then
		echo "$h: FAILED after ${units:-?} inputs (see $dir/$h.log)"
		grep -m1 -E '^(==[0-9]+==ERROR|SUMMARY|fuzz_)' "$dir/$h.log"
		rc=1
	else
		echo "$h: ${units:-?} inputs, ${speed:-?} per second, no crash"
	fi
done
exit "$rc"
