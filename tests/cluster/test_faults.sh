#!/bin/bash
# The fault matrix, short: cluster/faults.sh with the offloads off and
# with all on, EC_FAULTS_DURATION seconds each (default 30) under a random
# nemesis schedule (seed EC_FAULTS_SEED, default 1): crashes of the leader
# and others with --recover, pauses, pauses of the leader past its lease,
# partitions both ways and one way, loss, duplication, delay with
# reordering, offload flips.  Each setting must converge after the
# schedule heals, its client history (8 shared keys, faults.sh's
# read-heavy default mix of get/put/cas/delete, the gets mostly answered
# under the lease) must be linearizable (ec-lincheck), at
# least 20000 operations must have been checked, and its fault report
# (fault_report.py) must show every kind of fault, each as often as the
# nemesis summary says it ran, with none left open and an unavailability
# for each kind.  `make faults` is the long version over every offload
# combination.
set -eu
# shellcheck source=SCRIPTDIR/common.sh
. "$(dirname "$0")/common.sh"
t_begin ec-port ec-replica ec-ctl ec-bench ec-lincheck

secs=${EC_FAULTS_DURATION:-30}
min_ops=20000
res=$T_OUT/results

EC_PREFIX=$EC_PREFIX EC_NET=$EC_NET EC_FAULT_COMBOS="none all" \
	EC_FAULT_DURATION=$secs EC_FAULT_SEED=${EC_FAULTS_SEED:-1} \
	"$EC_ROOT/cluster/faults.sh" "$res" || rc=$?
[ "${rc:-0}" -eq 0 ] || t_fail "the fault matrix failed (status ${rc}; see above and $res)"
kinds=(crash pause pause-lease partition partition-oneway loss dup delay flip)

# Value of key $2 in "key value" file $1 (empty if absent).
val() {
	awk -v k="$2" '$1 == k { print $2 }' "$1"
}

for n in 0 1; do
	report=$res/report-$n.txt
	ops=$(val "$report" ops)
	[ "${ops:-0}" -ge "$min_ops" ] ||
		t_fail "setting $n: only ${ops:-0} operations checked, want >= $min_ops"
	summary=$(grep '^nemesis summary: ' "$res/nemesis-$n.out") ||
		t_fail "setting $n: no nemesis summary in $res/nemesis-$n.out"
	t_eq "$(val "$report" open)" 0 "setting $n: faults the report found never stopped"
	total=0
	for k in "${kinds[@]}"; do
		got=$(val "$report" "faults.$k")
		[[ $summary =~ \ $k\ ([0-9]+) ]] || t_fail "setting $n: no $k in: $summary"
		ran=${BASH_REMATCH[1]}
		[ "${got:-0}" -ge 1 ] || t_fail "setting $n: no $k fault in the report ($report)"
		t_eq "$got" "$ran" "setting $n: $k faults in the report, as the nemesis summary counts them"
		[ -n "$(val "$report" "unavail_ms.$k")" ] ||
			t_fail "setting $n: no unavailability for $k faults in $report"
		total=$((total + got))
	done
	t_eq "$(val "$report" faults)" "$total" "setting $n: faults in the report"
	t_info "setting $n: $ops operations, $total faults ($summary)"
done
t_info "both settings converged and were linearizable under every kind of fault"
