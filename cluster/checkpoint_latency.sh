#!/bin/bash
# cluster/checkpoint_latency.sh   (what `make checkpoint-latency` runs)
#
# Does taking checkpoints hurt the tail latency?  Runs the same closed-loop
# load on a fresh 5-replica cluster with every offload on (--offload all)
# two ways: "none", no checkpoint during the run (--checkpoint-ops 0
# --checkpoint-bytes 0), and "crossing", the replicas' default
# checkpoints (every 100000 ops or 16 MiB of requests: at this VM's peak
# every 2 to 3 s) or every EC_CKLAT_CHECKPOINT_OPS ops if set, so that the
# measured seconds cross several of them.  Each way runs EC_CKLAT_RUNS
# times, the order rotated run by run (the machine drifts); each run
# first fills the key space (ec-bench warmup, not measured).  Prints per
# way the median [min..max] over the runs of throughput, p50, p99 and
# p99.9, the checkpoints taken during the runs and the longest pause one
# cost any replica's event loop (checkpoint_us_max: the fork), then the
# target:
#   p99.9 of "crossing" within 2x of "none" (medians)
# and exits 1 if it is missed (2 on a usage error).  Whatever happens, the
# cluster is torn down.
#
# Environment:
#   EC_CKLAT_RUNS            runs of each way (3)
#   EC_CKLAT_SECONDS         measured seconds per run (20)
#   EC_CKLAT_CLIENTS         closed-loop clients (32)
#   EC_CKLAT_KEYS            ec-bench --keys: the store's size (100000)
#   EC_CKLAT_CHECKPOINT_OPS  --checkpoint-ops of "crossing" (the default)
#   EC_CKLAT_OUT             directory for the CSVs and logs
#                            (build/results/cklat-<date>-<time>)
#   EC_PREFIX, EC_NET        the cluster's name and subnet (lib.sh)
# The output directory gets runs.csv (way, run, the ec-bench CSV columns,
# checkpoints, max_pause_us) and each run's replica logs.
set -eu
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=SCRIPTDIR/bench_report.sh
. "$(dirname "$0")/bench_report.sh" # bench_awk_lib
ec_help_if_asked "${1:-}"
[ $# -eq 0 ] || { ec_usage >&2; exit 2; }

runs=${EC_CKLAT_RUNS:-3}
seconds=${EC_CKLAT_SECONDS:-20}
clients=${EC_CKLAT_CLIENTS:-32}
keys=${EC_CKLAT_KEYS:-100000}
every=${EC_CKLAT_CHECKPOINT_OPS:-default}
out=${EC_CKLAT_OUT:-$EC_ROOT/build/results/cklat-$(date +%Y%m%d-%H%M%S)}
for v in runs seconds clients keys $([ "$every" = default ] || echo every); do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "checkpoint_latency.sh: $v '${!v}' must be a positive number" >&2; exit 2; }
done

EC_N=5
ec_preflight ec-port ec-replica ec-ctl ec-bench
mkdir -p "$out"
EC_KEEP_LOGS=$out
ec_trap_down ec_exit_keep_logs

# Warmup: long enough for the clients to have written most keys once.
warmup=$(((keys / 20000) + 2))
csv_head=
echo "way,run,clients,ops,seconds,ops_per_s,mean_us,p50_us,p90_us,p99_us,p999_us,retries,timeouts,checkpoints,max_pause_us" >"$out/runs.csv"

# Sum (checkpoints) or maximum (max_pause_us) of a stat over the replicas.
stat_over_replicas() {
	local i v total=0
	for ((i = 0; i < EC_N; i++)); do
		v=$(ec_ctl "$i" stats | awk -v k="$2" '$1 == k { print $2 }')
		case $1 in
		sum) total=$((total + ${v:-0})) ;;
		max) ((${v:-0} > total)) && total=$v ;;
		esac
	done
	echo "$total"
}

# One run of way $1 (none or crossing), number $2.
one_run() {
	local way=$1 run=$2 csv row before
	local -a ckpt=(--checkpoint-ops 0 --checkpoint-bytes 0)
	if [ "$way" = crossing ]; then
		ckpt=()
		[ "$every" = default ] || ckpt=(--checkpoint-ops "$every")
	fi
	ec_up "$EC_N" --offload all "${ckpt[@]}"
	csv=$out/$way-$run.csv
	before=$(stat_over_replicas sum checkpoints)
	ec_client "$EC_BIN/ec-bench" --config "$EC_CONF" --clients "$clients" \
		--duration "$seconds" --warmup "$warmup" --keys "$keys" \
		--csv "$csv" >"$out/$way-$run.out" 2>&1 ||
		ec_die "ec-bench failed: $(tail -n 3 "$out/$way-$run.out")"
	row=$(tail -n 1 "$csv")
	csv_head=$(head -n 1 "$csv")
	echo "$way,$run,$row,$(($(stat_over_replicas sum checkpoints) - before)),$(stat_over_replicas max checkpoint_us_max)" >>"$out/runs.csv"
	ec_info "$way run $run: $(awk -F, '{ printf "%d ops/s, p50 %d us, p99 %d us, p99.9 %d us", $4, $6, $8, $9 }' <<<"$row")"
	mkdir -p "$out/logs-$way-$run"
	cp "$EC_RUN"/r*.log "$out/logs-$way-$run/" 2>/dev/null || :
	ec_down
}

ec_info "$runs runs each of none and crossing (checkpoint ops: $every); $clients clients, $keys keys, ${warmup} s warmup, $seconds s measured; output in $out"
for ((r = 1; r <= runs; r++)); do
	if ((r % 2)); then order="none crossing"; else order="crossing none"; fi
	for way in $order; do
		one_run "$way" "$r"
	done
done
[ "$csv_head" = "clients,ops,seconds,ops_per_s,mean_us,p50_us,p90_us,p99_us,p999_us,retries,timeouts" ] ||
	ec_die "ec-bench's CSV columns changed: $csv_head"

# shellcheck disable=SC2016 # awk code
awk -F, "$bench_awk_lib"'
NR == 1 { next }
{
	w = $1; ways[w] = 1
	add(ops, w, $6); add(p50, w, $8); add(p99, w, $10); add(p999, w, $11)
	add(ck, w, $14); add(pause, w, $15)
}
END {
	printf "%-9s %-26s %-20s %-20s %-20s %-14s %s\n", "way", "ops/s", "p50 us", "p99 us", "p99.9 us", "checkpoints", "max pause us"
	for (w in ways)
		printf "%-9s %-26s %-20s %-20s %-20s %-14s %s\n", w, mm(ops[w], "%d"),
			mm(p50[w], "%d"), mm(p99[w], "%d"), mm(p999[w], "%d"),
			mm(ck[w], "%d"), mm(pause[w], "%d")
	r = ratio(med(p999["crossing"]), med(p999["none"]))
	printf "p99.9 crossing / none (medians): %s\n", r2(r)
	ok = r != "" && r <= 2
	printf "target p99.9 with checkpoints within 2x of without: %s\n", ok ? "ok" : "MISSED"
	exit !ok
}' "$out/runs.csv" >"$out/summary.txt" && rc=0 || rc=$?
cat "$out/summary.txt"
exit "$rc"
