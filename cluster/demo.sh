#!/bin/bash
# cluster/demo.sh - what `make demo` runs.
#
# Build a 5-replica cluster in network namespaces, run ec-bench with 8
# closed-loop clients for 5 s (after 1 s warmup) from the client namespace,
# print its results (the last ec-bench line is the summary: ops/s, p50,
# p99), check that the replicas agree, and tear everything down whatever
# happens.  Environment: EC_PREFIX (default ec), EC_NET (default 0).
set -eu
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"

case ${1:-} in
-h | --help)
	sed -n '2,/^set -eu/{/^set -eu/d;s/^# \{0,1\}//;p}' "$0"
	exit 0
	;;
esac
EC_N=5
ec_check_env
ec_require_root
ec_require_bins ec-replica ec-ctl ec-bench ec-port
ec_exists && ec_die "cluster '$EC_PREFIX' exists; run EC_PREFIX=$EC_PREFIX cluster/down.sh first"

ec_trap_down
ec_up "$EC_N"
ec_info "ec-bench: 8 clients, 1 s warmup, 5 s measured"
ec_client "$EC_BIN/ec-bench" --config "$EC_CONF" --clients 8 --duration 5 \
	--warmup 1
state=$(ec_wait_converged 10 $(seq 0 $((EC_N - 1)))) ||
	ec_die "the replicas did not converge after the run"
ec_info "all $EC_N replicas agree: $state"
