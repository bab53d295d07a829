#!/bin/bash
# cluster/bench.sh [RESULTS_DIR]   (what `make bench` runs)
#
# Build a 5-replica cluster, run one closed-loop client sweep
# (ec-bench --sweep 1,2,4,8,16,32) from the client namespace, and write into
# RESULTS_DIR (default build/results/bench-<date>-<time>):
#   sweep.csv   one row per client count (ec-bench --csv columns)
#   sweep.txt   ec-bench's table
#   info.txt    kernel, CPUs, commit, parameters
#   sweep.png   throughput vs p50 and p99 latency (if gnuplot is installed)
# The cluster is torn down whatever happens.  Environment: EC_SWEEP (client
# counts), EC_DURATION and EC_WARMUP (seconds per point, default 5 and 1),
# EC_PREFIX, EC_NET.
set -eu -o pipefail
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"

case ${1:-} in
-h | --help)
	sed -n '2,/^set -eu/{/^set -eu/d;s/^# \{0,1\}//;p}' "$0"
	exit 0
	;;
esac
EC_N=5
sweep=${EC_SWEEP:-1,2,4,8,16,32}
duration=${EC_DURATION:-5}
warmup=${EC_WARMUP:-1}
out=${1:-$EC_ROOT/build/results/bench-$(date +%Y%m%d-%H%M%S)}

ec_check_env
ec_require_root
ec_require_bins ec-replica ec-ctl ec-bench ec-port
ec_exists && ec_die "cluster '$EC_PREFIX' exists; run EC_PREFIX=$EC_PREFIX cluster/down.sh first"
mkdir -p "$out"
rm -f "$out/sweep.csv"

# Plot throughput (x) against p50 and p99 latency (y) from sweep.csv.
plot() {
	gnuplot <<GP
set terminal pngcairo size 900,600
set output '$out/sweep.png'
set datafile separator ','
set key top left
set title 'electrode-c, $EC_N replicas, closed-loop clients (labels: client count)'
set xlabel 'throughput (ops/s)'
set ylabel 'latency (us)'
set grid
plot '$out/sweep.csv' using (column("ops_per_s")):(column("p50_us")) \
	with linespoints title 'p50', \
     '' using (column("ops_per_s")):(column("p99_us")) \
	with linespoints title 'p99', \
     '' using (column("ops_per_s")):(column("p99_us")): \
	(sprintf("%d", column("clients"))) with labels offset 0,1 notitle
GP
}

ec_trap_down
ec_up "$EC_N"
{
	echo "date     $(date -Is)"
	echo "kernel   $(uname -r), $(nproc) CPUs"
	echo "commit   $(git -C "$EC_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
	echo "cluster  $EC_N replicas, sweep $sweep, ${warmup} s warmup, ${duration} s per point"
} >"$out/info.txt"
cp "$EC_CONF" "$out/cluster.conf"
ec_client "$EC_BIN/ec-bench" --config "$EC_CONF" --sweep "$sweep" \
	--duration "$duration" --warmup "$warmup" --csv "$out/sweep.csv" |
	tee "$out/sweep.txt"
if command -v gnuplot >/dev/null; then
	plot || ec_die "gnuplot failed"
	ec_info "plot: $out/sweep.png"
else
	ec_info "gnuplot not installed; no plot"
fi
ec_info "results: $out"
