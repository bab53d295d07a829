#!/bin/bash
# The fault matrix, short: cluster/faults.sh with the offloads off and
# with all on, EC_FAULTS_DURATION seconds each (default 30) under a random
# nemesis schedule (seed EC_FAULTS_SEED, default 1): crashes of the leader
# and others with --recover, pauses, partitions both ways and one way,
# loss, duplication, delay with reordering, offload flips.  Each setting
# must converge after the schedule heals, its client history (8 shared
# keys, get/put/cas/delete) must be linearizable (ec-lincheck), and at
# least 20000 operations must have been checked.  `make faults` is the
# long version over every offload combination.
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
for n in 0 1; do
	ops=$(awk '$1 == "ops" { print $2 }' "$res/report-$n.txt")
	faults=$(awk '$1 == "faults" { print $2 }' "$res/report-$n.txt")
	[ "${ops:-0}" -ge "$min_ops" ] ||
		t_fail "setting $n: only ${ops:-0} operations checked, want >= $min_ops"
	[ "${faults:-0}" -gt 0 ] || t_fail "setting $n: the nemesis ran no fault"
done
t_info "both settings converged and were linearizable under faults"
