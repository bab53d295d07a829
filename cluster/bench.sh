#!/bin/bash
# cluster/bench.sh [RESULTS_DIR]   (what `make bench` runs)
#
# Compare offload and batching settings side by side in one invocation, on
# a machine whose speed drifts: every configuration runs EC_REPEATS times,
# in rounds whose order alternates forward and reversed (round 1 A B C,
# round 2 C B A, round 3 A B C...), so that a drift linear in time hits
# every configuration alike on average; figures are medians over the runs
# with their spread (min..max), and ratios are taken between medians of
# the same invocation.
#
# Configurations (5 replicas, offloads set at start; "+batch": --batch
# EC_BATCH, else --batch 1, batching off):
#   broadcast fastack quorum off all off+batch all+batch
# then "unreplicated": 1 replica without BPF, with batching (--batch
# EC_BATCH), its best setting.  These run with --reads log (every GET
# through the log: they compare the consensus path, as before leases)
# and ec-bench's default mix, get=50,put=50.  Then the
# read mixes: for each GET percentage M in EC_READ_MIXES, under --mix
# get=M,put=100-M, with --batch EC_BATCH: xdp<M>, 5 replicas with all four
# offloads and --reads lease (reads answered in the leader's XDP program
# when they can be); lease<M> and log<M>, 5 replicas with the three
# consensus offloads (the read offload off) and --reads lease or --reads
# log; single<M>, the unreplicated server: 1 replica without BPF, --reads
# lease (xdp95 lease95 log95 single95 ... for 95, 90 and 50 by default).  Each run starts a fresh
# cluster (no run inherits another's log); a read-mix run does only the
# client sweep, over EC_READ_SWEEP (the leader's figures below are per
# committed request, which a lease read never is); the others do:
#   - a closed-loop client sweep (ec-bench --sweep EC_SWEEP);
#   - a measured point of EC_HIGH_CLIENTS clients during which the
#     leader's own counters are read: per committed request (growth of its
#     batched_requests), its syscalls (io.syscalls: recvmmsg and sendmmsg
#     calls), its event-loop wake-ups (io.wakeups), its CPU time
#     (utime+stime) and the host's busy CPU time (/proc/stat: every
#     process and softirq); and the fractions of PREPAREs the followers'
#     XDP acked and of PREPARE_OKs the leader's XDP dropped.
# Then, for each replica count in EC_REPLICAS, all and all+batch at one
# point of EC_HIGH_CLIENTS clients, in rounds ordered the same way.
#
# RESULTS_DIR (default build/results/bench-<date>-<time>) gets:
#   results.csv    config, round, then ec-bench's --csv columns (clients,
#                  ops, seconds, ops_per_s, mean_us, p50_us, p90_us,
#                  p99_us, ...), one row per sweep point per run
#   kinds.csv      config, round, then ec-bench's --csv-kinds columns
#                  (clients, kind, ops, mean_us, p50_us..p999_us, lease,
#                  stale_replies): the same points, one row per op kind
#   medians.csv    per config and client count: runs, then median, min
#                  and max of ops_per_s, p50_us and p99_us
#   leader.csv     per run: config, round, replicas, clients, ops_per_s,
#                  p50_us, p99_us, requests, ops, requests_per_op,
#                  syscalls_per_req, wakeups_per_req, cpu_us_per_req,
#                  host_cpu_us_per_req, fraction_acked_in_kernel,
#                  fraction_dropped_in_kernel (the measured point)
#   replicas-runs.csv  the same columns for the replica-count runs
#   replicas.csv   per replica count and config: median, min, max of
#                  ops_per_s, median p50/p99 and syscalls per request,
#                  throughput ratio to the smallest replica count
#   summary.txt    medians [min..max]: peak throughput, p50 and p99 at the
#                  smallest client count and at the peak; the leader's
#                  figures; ratios between configs; the issue's targets,
#                  met or missed; the replica-count table; per read mix,
#                  peak throughput lease vs log, GET and PUT p50 at the
#                  smallest client count, the GETs the lease answered,
#                  and the lease targets (also printed)
#   results.png    throughput vs p50 and throughput vs p99, one line per
#                  config (medians); reads.png the same for the read-mix
#                  configs; replicas.png: throughput vs replica count
#                  (gnuplot)
#   info.txt, sweep.txt, raw/ (per-run outputs, counters, logs of runs
#                  that warned)
# Whatever happens, the cluster is torn down.
#
# Environment (defaults give about 13 minutes on a 2-CPU machine):
#   EC_SWEEP         client counts of the sweep (1,2,4,8,16,32)
#   EC_READ_MIXES    GET percentages of the read mixes, 1..99,
#                    comma-separated (95,90,50); empty: none
#   EC_READ_SWEEP    client counts of their sweep (1,16,64,128: on 2 CPUs
#                    both still grew past EC_SWEEP's 32 clients)
#   EC_DURATION      measured seconds per point, at least 1 (3)
#   EC_WARMUP        unmeasured seconds before each point (1)
#   EC_REPEATS       runs of every configuration, 1..9 (2)
#   EC_HIGH_CLIENTS  clients of the measured point and of the replica-count
#                    runs (32)
#   EC_BATCH         batch size of the +batch configs, the read mixes and
#                    the unreplicated baseline, 2..256 (64)
#   EC_REPLICAS      replica counts of the replica-count table, odd, 3..9,
#                    comma-separated (5); empty: none
#   EC_CONFIGS       configurations to run, comma-separated (all of the
#                    above, unreplicated included, and xdp<M> lease<M> log<M> single<M> for
#                    the M of EC_READ_MIXES; any of those with M
#                    in 1..99 may be named)
#   EC_PREFIX, EC_NET  cluster name and subnet (cluster/lib.sh)
# Run time is about EC_REPEATS x (configs x (sweep points + 1) + read
# configs x read sweep points + 2 x replica counts) x (EC_WARMUP +
# EC_DURATION + ~0.3 s), plus ~1.5 s per run for the cluster's start and
# teardown: with the defaults 2 x (8 x 7 + 6 x 4 + 2) points x 4.3 s + 32
# runs x 1.5 s, about 13 minutes (the read mixes about 4 of them).
set -eu -o pipefail
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=SCRIPTDIR/bench_run.sh
. "$(dirname "$0")/bench_run.sh"
# shellcheck source=SCRIPTDIR/bench_report.sh
. "$(dirname "$0")/bench_report.sh"

ec_help_if_asked "$@"
main_configs=(broadcast fastack quorum off all off+batch all+batch unreplicated)
sweep=${EC_SWEEP:-1,2,4,8,16,32}
read_mixes=${EC_READ_MIXES-95,90,50}
read_sweep=${EC_READ_SWEEP:-1,16,64,128}
duration=${EC_DURATION:-3}
warmup=${EC_WARMUP:-1}
repeats=${EC_REPEATS:-2}
high=${EC_HIGH_CLIENTS:-32}
batch=${EC_BATCH:-64}
replica_counts=${EC_REPLICAS-5}
default_configs=("${main_configs[@]}")
for m in ${read_mixes//,/ }; do
	default_configs+=("xdp$m" "lease$m" "log$m" "single$m")
done
IFS=, read -r -a configs <<<"${EC_CONFIGS:-$(
	IFS=,
	echo "${default_configs[*]}"
)}"
out=${1:-$EC_ROOT/build/results/bench-$(date +%Y%m%d-%H%M%S)}

# Whether config $1 is a read mix: xdp<M>, lease<M>, log<M> or single<M>,
# M a GET percentage.
is_read_config() {
	[[ $1 =~ ^(xdp|lease|log|single)([1-9][0-9]?)$ ]]
}

# The replica arguments of config $1 (bench_run.sh's run_one calls it).
config_args() {
	local b=1 spec
	if is_read_config "$1"; then
		case ${BASH_REMATCH[1]} in
		xdp) echo "--offload all --batch $batch --reads lease" ;;
		single) echo "--no-bpf --batch $batch --reads lease" ;;
		*) echo "--offload broadcast,fastack,quorum --batch $batch --reads ${BASH_REMATCH[1]}" ;;
		esac
		return
	fi
	[[ $1 == *+batch || $1 == unreplicated ]] && b=$batch
	spec=${1%+batch}
	# the offload and batching configs compare the consensus path: every
	# GET through the log, as before leases (the read mixes compare those)
	case $spec in
	unreplicated) echo "--no-bpf --batch $b --reads log" ;;
	off) echo "--offload none --batch $b --reads log" ;;
	*) echo "--offload $spec --batch $b --reads log" ;;
	esac
}

# ec-bench's arguments for the sweep of config $1 (run_sweep calls it):
# its client counts, and a read mix's --mix.
config_sweep_args() {
	if is_read_config "$1"; then
		echo "--sweep $read_sweep --mix get=${BASH_REMATCH[2]},put=$((100 - BASH_REMATCH[2]))"
	else
		echo "--sweep $sweep"
	fi
}

# Print the words $2... forward when round $1 is odd, reversed when even.
round_order() {
	local r=$1 i
	shift
	local items=("$@")
	if ((r % 2)); then
		echo "${items[@]}"
	else
		for ((i = ${#items[@]} - 1; i >= 0; i--)); do
			printf '%s ' "${items[i]}"
		done
		echo
	fi
}

# Check the environment; die on a bad value.
check_args() {
	local c n
	[[ $sweep =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] ||
		ec_die "EC_SWEEP '$sweep' must be comma-separated client counts"
	[[ $read_sweep =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] ||
		ec_die "EC_READ_SWEEP '$read_sweep' must be comma-separated client counts"
	[[ $read_mixes =~ ^([1-9][0-9]?(,[1-9][0-9]?)*)?$ ]] ||
		ec_die "EC_READ_MIXES '$read_mixes' must be GET percentages 1..99, comma-separated"
	for c in duration warmup; do
		[[ ${!c} =~ ^[0-9]+([.][0-9]+)?$ ]] ||
			ec_die "EC_${c^^} '${!c}' must be a number of seconds"
	done
	awk -v d="$duration" 'BEGIN { exit !(d >= 1) }' ||
		ec_die "EC_DURATION '$duration' must be at least 1"
	[[ $repeats =~ ^[1-9]$ ]] || ec_die "EC_REPEATS '$repeats' must be 1..9"
	[[ $high =~ ^[1-9][0-9]{0,3}$ ]] || ec_die "EC_HIGH_CLIENTS '$high' must be 1..9999"
	if ! [[ $batch =~ ^[1-9][0-9]{0,2}$ ]] || ((batch < 2 || batch > 256)); then
		ec_die "EC_BATCH '$batch' must be 2..256"
	fi
	[[ $replica_counts =~ ^([3579](,[3579])*)?$ ]] ||
		ec_die "EC_REPLICAS '$replica_counts' must be odd counts 3..9, comma-separated"
	((${#configs[@]})) || ec_die "EC_CONFIGS is empty"
	for c in "${configs[@]}"; do
		is_read_config "$c" && continue
		for n in "${main_configs[@]}"; do
			[ "$c" = "$n" ] && continue 2
		done
		ec_die "EC_CONFIGS: unknown config '$c' (known: ${main_configs[*]}, xdp<M>, lease<M>, log<M> and single<M> for M in 1..99)"
	done
}

# EXIT trap: keep the logs of a run that failed, tear down.
on_exit() {
	[ -e "$EC_RUN" ] && save_logs failed
	ec_down
}

# The replica-count items ("N:config") in the order of round 1.
replica_items() {
	local n
	[ -n "$replica_counts" ] || return 0
	for n in ${replica_counts//,/ }; do
		echo "$n:all+batch $n:all"
	done | tr '\n' ' '
}

# Every run, round by round; progress on stdout.
run_all() {
	local r cfg item total done=0 start=$SECONDS items
	items=$(replica_items)
	# shellcheck disable=SC2206 # words of a list
	local ritems=($items)
	total=$((repeats * (${#configs[@]} + ${#ritems[@]})))
	for ((r = 1; r <= repeats; r++)); do
		for cfg in $(round_order "$r" "${configs[@]}"); do
			done=$((done + 1))
			ec_info "run $done/$total ($((SECONDS - start)) s): $cfg, round $r"
			if [ "$cfg" = unreplicated ]; then
				run_one "$cfg" "$r" 1 sweep "$high"
			elif [[ $cfg == single* ]] && is_read_config "$cfg"; then
				run_one "$cfg" "$r" 1 reads "$high"
			elif is_read_config "$cfg"; then
				run_one "$cfg" "$r" 5 reads "$high"
			else
				run_one "$cfg" "$r" 5 sweep "$high"
			fi
		done
	done
	for ((r = 1; r <= repeats; r++)); do
		[ -n "$items" ] || break
		for item in $(round_order "$r" "${ritems[@]}"); do
			done=$((done + 1))
			ec_info "run $done/$total ($((SECONDS - start)) s): ${item#*:}, ${item%%:*} replicas, round $r"
			run_one "${item#*:}" "$r" "${item%%:*}" point "$high"
		done
	done
	ec_info "all $total runs done in $((SECONDS - start)) s"
}

# What the run was, into info.txt.
write_info() {
	{
		echo "date     $(date -Is)"
		echo "kernel   $(uname -r), $(nproc) CPUs"
		echo "commit   $(git -C "$EC_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
		echo "configs  ${configs[*]}; 5 replicas, unreplicated 1 without BPF (--batch $batch)"
		echo "batch    +batch and read-mix configs --batch $batch, others --batch 1"
		echo "reads    xdp<M>: --offload all --reads lease; lease<M>/log<M>: --offload broadcast,fastack,quorum --reads lease/log; single<M>: 1 replica, --no-bpf --reads lease; mix get=M,put=100-M, sweep $read_sweep; others --reads log, mix get=50,put=50"
		echo "rounds   $repeats, order forward then reversed, alternating; a fresh cluster per run"
		echo "sweep    $sweep, ${warmup} s warmup, ${duration} s per point"
		echo "measured $high clients, leader counters over $duration - 0.5 s from 0.2 s after the ${warmup} s warmup"
		echo "replicas ${replica_counts:-none}: all and all+batch at $high clients"
		echo "load     $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min) at start"
	} >"$out/info.txt"
}

check_args
ec_preflight ec-replica ec-ctl ec-bench ec-port
mkdir -p "$out/raw"
rm -f "$out"/*.csv "$out"/*.png "$out/summary.txt" "$out/sweep.txt" "$out/raw/"*
write_info
ec_trap_down on_exit
run_all
echo "load     $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min) at the end" >>"$out/info.txt"
report
