#!/bin/bash
# cluster/faults.sh [RESULTS_DIR]   (what `make faults` runs)
#
# The fault matrix.  For each offload setting in EC_FAULT_COMBOS, on a
# fresh 5-replica cluster started with that setting (and the replicas'
# default --reads lease): EC_FAULT_CLIENTS clients of ec-bench in history
# mode (8 shared keys, --mix EC_FAULT_MIX) run for EC_FAULT_DURATION
# seconds while `nemesis.sh --seed S random` breaks the cluster (crashes
# with --recover, pauses, pauses of the leader past its lease, partitions
# both ways and one way, loss, duplication, delay with reordering,
# offload flips);
# S is EC_FAULT_SEED plus the setting's index.  Then, with everything
# healed: every replica must reach the same view, commit and digest within
# EC_FAULT_CONVERGE seconds (otherwise their status is printed and the
# setting fails), and ec-lincheck must find the history linearizable.
#
# EC_FAULT_COMBOS is a space-separated list of `ec-replica --offload`
# specs, or none (default: all 8 combinations of broadcast, fastack and
# quorum; flips happen in every schedule).  EC_FAULT_MIX is ec-bench's
# --mix (default get=80,put=10,cas=5,delete=5: mostly reads, which the
# leader answers under its lease, and every kind of write).  Other
# settings: EC_FAULT_SEED (default 1), EC_FAULT_DURATION (default 30),
# EC_FAULT_CLIENTS (default 16), EC_FAULT_CONVERGE (default 30),
# EC_PREFIX, EC_NET.
#
# RESULTS_DIR (default build/results/faults-<date>-<time>) gets, per
# setting, history-N.jsonl, nemesis-N.log, lincheck-N.txt, report-N.txt
# (tests/cluster/fault_report.py; clock-offset-N.txt is its third
# argument) and bench-N.out, and summary.txt: one
# row per setting with the operations checked, faults by kind, the keys
# found not linearizable, and the longest unavailability (ms without any
# completion) during a fault of each kind, each fault lasting from its
# start line in the nemesis log to its own stop line.  Exit 0 when every
# setting converged and was linearizable and its report paired every
# fault's start with a stop, 1 otherwise.
set -eu -o pipefail
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"

ec_help_if_asked "$@"
EC_N=5
combos=${EC_FAULT_COMBOS:-none broadcast fastack quorum broadcast,fastack broadcast,quorum fastack,quorum all}
seed0=${EC_FAULT_SEED:-1}
duration=${EC_FAULT_DURATION:-30}
clients=${EC_FAULT_CLIENTS:-16}
converge=${EC_FAULT_CONVERGE:-30}
mix=${EC_FAULT_MIX:-get=80,put=10,cas=5,delete=5}
out=${1:-$EC_ROOT/build/results/faults-$(date +%Y%m%d-%H%M%S)}
kinds=(crash pause pause-lease partition partition-oneway loss dup delay flip)

ec_preflight ec-replica ec-ctl ec-bench ec-port ec-lincheck
for v in "$seed0" "$duration" "$clients" "$converge"; do
	[[ $v =~ ^[0-9]{1,6}$ ]] || ec_die "EC_FAULT_* settings must be whole numbers (got '$v')"
done
((duration >= 5)) || ec_die "EC_FAULT_DURATION must be at least 5 seconds"
[[ $mix =~ ^[a-z]+=[0-9]+(,[a-z]+=[0-9]+)*$ ]] ||
	ec_die "EC_FAULT_MIX '$mix' must be an ec-bench --mix, e.g. get=90,put=10"
mkdir -p "$out"
ec_trap_down ec_down

# One "key value" line of file $1, value of key $2 (0 if absent).
val() {
	awk -v k="$2" '$1 == k { v = $2 } END { print v + 0 }' "$1"
}

# Run setting $2 (an --offload spec or none) as number $1; appends its row
# to summary.txt.  Returns 1 if it did not converge or was not
# linearizable.
run() {
	local n=$1 spec=$2 seed=$(($1 + seed0)) args=() offset bench_pid rc=0
	local hist=$out/history-$n.jsonl report=$out/report-$n.txt bad row k
	[ "$spec" = none ] || args=(--offload "$spec")
	ec_info "setting $n: offloads $spec, nemesis seed $seed, ${duration} s"
	ec_up "$EC_N" "${args[@]}"
	offset=$(python3 -c 'import time; print(time.time_ns() - time.monotonic_ns())')
	echo "$offset" >"$out/clock-offset-$n.txt"
	ec_client "$EC_BIN/ec-bench" --config "$EC_CONF" --clients "$clients" \
		--duration "$duration" --warmup 0 --give-up-ms 2000 --mix "$mix" \
		--history "$hist" >"$out/bench-$n.out" 2>&1 &
	bench_pid=$!
	"$EC_ROOT/cluster/nemesis.sh" --seed "$seed" random \
		--duration $((duration - 3)) >"$out/nemesis-$n.out" 2>&1 || rc=1
	wait "$bench_pid" || rc=1
	cp "$EC_RUN/nemesis.log" "$out/nemesis-$n.log"
	if [ "$rc" -ne 0 ]; then
		echo "setting $n: ec-bench or the nemesis failed:" >&2
		tail -n 5 "$out/bench-$n.out" "$out/nemesis-$n.out" >&2
	fi
	if ! ec_wait_converged "$converge" $(seq 0 $((EC_N - 1))) \
		>"$out/converged-$n.txt"; then
		echo "setting $n: the replicas did not converge within ${converge} s" >&2
		rc=1
	fi
	bad=-
	if "$EC_BIN/ec-lincheck" "$hist" >"$out/lincheck-$n.txt" 2>&1; then
		bad=0
	else
		bad=$(grep -c '^key .*: NOT linearizable' "$out/lincheck-$n.txt" || :)
		echo "setting $n: ec-lincheck:" >&2
		head -n 40 "$out/lincheck-$n.txt" >&2
		rc=1
	fi
	# each fault from its start line to its stop line (fault_report.py)
	if ! python3 "$EC_ROOT/tests/cluster/fault_report.py" "$hist" \
		"$out/nemesis-$n.log" "$offset" >"$report"; then
		echo "setting $n: fault_report.py failed on $out/nemesis-$n.log" >&2
		rc=1
	elif [ "$(val "$report" open)" -ne 0 ]; then
		echo "setting $n: $(val "$report" open) faults in $out/nemesis-$n.log never stopped" >&2
		rc=1
	fi
	row=$(printf '%-26s %8s %6s %4s' "$spec" "$(val "$report" ops)" \
		"$(val "$report" faults)" "$bad")
	for k in "${kinds[@]}"; do
		row+=$(printf ' %3s/%-7s' "$(val "$report" "faults.$k")" \
			"$(awk -v k="unavail_ms.$k" '$1 == k { v = $2 } END { print v == "" ? "-" : int(v) }' "$report")")
	done
	echo "$row $([ "$rc" -eq 0 ] && echo ok || echo FAILED)" >>"$out/summary.txt"
	ec_down
	return "$rc"
}

{
	echo "fault matrix: seed $seed0, ${duration} s per setting, $clients clients, mix $mix, 5 replicas"
	printf '%-26s %8s %6s %4s' offloads ops faults bad
	for k in "${kinds[@]}"; do
		printf ' %-11s' "${k:0:11}"
	done
	echo " result"
	echo "(per kind: faults/longest ms without a completion while one was active)"
} >"$out/summary.txt"
status=0 n=0
for spec in $combos; do
	run "$n" "$spec" || status=1
	n=$((n + 1))
done
cat "$out/summary.txt"
ec_info "results in $out"
exit "$status"
