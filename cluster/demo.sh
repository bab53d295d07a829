#!/bin/bash
# cluster/demo.sh - what `make demo` runs.
#
# Build a 5-replica cluster in network namespaces, run ec-bench with 8
# closed-loop clients for 5 s (after 1 s warmup) from the client namespace
# twice on the same cluster: BPF offloads off, then all on (switched at run
# time), check after each that the replicas agree, and tear everything down
# whatever happens.  A line says when the cluster is ready; then each run
# prints a line naming its offloads, ec-bench's output (its parameters,
# the detail line, the summary) and the state the replicas agree on
# (view, commit, digest).  The last line is the all-on
# summary: replicas, clients and seconds measured, ops/s, p50, p90, p99
# and p99.9 in microseconds, then the throughput ratio to the offloads-off
# run and that run's ops/s.
# Environment: EC_PREFIX (default ec), EC_NET (default 0), EC_BIN (default
# build/bin).
set -eu
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"

ec_help_if_asked "$@"
EC_N=5
ec_preflight ec-replica ec-ctl ec-bench ec-port

ec_trap_down ec_down
ec_up "$EC_N"
# Run the 8-client point with the given offload switches on every
# replica; print ec-bench's output; leave its summary line in $summary.
run_point() {
	local spec=$1 out
	ec_offloads_all "$spec"
	ec_info "offloads $spec: ec-bench, 8 clients, 1 s warmup, 5 s measured"
	out=$(ec_client "$EC_BIN/ec-bench" --config "$EC_CONF" --clients 8 \
		--duration 5 --warmup 1)
	echo "$out"
	summary=$(echo "$out" | tail -n 1)
	state=$(ec_wait_converged 10 $(seq 0 $((EC_N - 1)))) ||
		ec_die "the replicas did not converge after the run"
	ec_info "all $EC_N replicas agree: $state"
}

# ops/s figure of an ec-bench summary line
ops_of() { sed -n 's/.* \([0-9][0-9]*\) ops\/s.*/\1/p' <<<"$1"; }

run_point none
off=$(ops_of "$summary")
run_point all
on=$(ops_of "$summary")
ratio=$(awk -v a="$on" -v b="$off" 'BEGIN { printf "%.2f", b ? a / b : 0 }')
echo "offloads all on: ${summary#summary: }; ${ratio}x the throughput with offloads off ($off ops/s)"
