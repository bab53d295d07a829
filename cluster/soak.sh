#!/bin/bash
# cluster/soak.sh   (what `make soak` runs)
#
# Run for a long time and watch for leaks and slowdown: a 5-replica
# cluster with every offload on (--offload all) and checkpoints every
# EC_SOAK_CHECKPOINT_OPS ops (or every 16 MiB of requests, the replicas'
# default --checkpoint-bytes, if that comes first) takes one closed-loop
# ec-bench run of EC_SOAK_CLIENTS clients for EC_SOAK_DURATION seconds.  Every 10 s it
# prints every replica's resident set size (VmRSS of /proc/PID/status)
# and the requests completed in those 10 s, per second (from ec-bench's
# -v progress lines: what the clients saw, whoever leads); every minute
# the minute's throughput.  At the end it prints the RSS table and checks two targets:
#   RSS      every replica's RSS, at every sample after the first minute,
#            stays within +-20% of its RSS at the first minute
#   speed    the last minute's throughput is at least 90% of the second
#            minute's (the first is left out: it includes the start, the
#            store filling up and the first checkpoints)
# and exits 1 if one is missed (2 on a usage error).  View changes during
# the run (replica 0's view at the end) are reported: on a machine shared
# with other load a starved replica can miss the 200 ms view timeout.
# Whatever happens, the cluster is torn down.
#
# Environment:
#   EC_SOAK_DURATION        seconds of load, at least 120 (600)
#   EC_SOAK_CLIENTS         closed-loop clients (32)
#   EC_SOAK_CHECKPOINT_OPS  --checkpoint-ops of the replicas (100000)
#   EC_SOAK_KEYS            ec-bench --keys: the key space, so the store's
#                           size levels off early (10000)
#   EC_SOAK_REPLICA_ARGS    extra ec-replica arguments, e.g.
#                           "--view-timeout-ms 1000" (none)
#   EC_SOAK_OUT             directory for the samples and logs
#                           (build/results/soak-<date>-<time>)
#   EC_PREFIX, EC_NET       the cluster's name and subnet (lib.sh)
# The output directory gets samples.csv (t_s, replica, rss_kib, one row
# per replica per sample), throughput.csv (t_s, view, requests_per_s),
# bench.out, bench.err (progress) and the replica logs.
set -eu
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
ec_help_if_asked "${1:-}"
[ $# -eq 0 ] || { ec_usage >&2; exit 2; }

duration=${EC_SOAK_DURATION:-600}
clients=${EC_SOAK_CLIENTS:-32}
ckpt=${EC_SOAK_CHECKPOINT_OPS:-100000}
keys=${EC_SOAK_KEYS:-10000}
out=${EC_SOAK_OUT:-$EC_ROOT/build/results/soak-$(date +%Y%m%d-%H%M%S)}
n=5
interval=10
for v in duration clients ckpt keys; do
	[[ ${!v} =~ ^[0-9]+$ ]] || { echo "soak.sh: $v '${!v}' is not a number" >&2; exit 2; }
done
((duration >= 120)) || { echo "soak.sh: EC_SOAK_DURATION must be at least 120 (two minutes to compare)" >&2; exit 2; }

EC_N=$n
ec_preflight ec-port ec-replica ec-ctl ec-bench
mkdir -p "$out"

EC_KEEP_LOGS=$out
ec_trap_down ec_exit_keep_logs

# VmRSS of pid $1 in KiB.  One sequential read (awk): bash's read builtin
# reads a seekable file in pieces and seeks back after each line, and
# /proc/PID/status is regenerated at every seek; as lines change length
# meanwhile ("State: R (running)" vs "S (sleeping)") the pieces no longer
# line up and VmRSS can be missed although the process is alive.
rss_of() {
	awk '$1 == "VmRSS:" { print $2; found = 1 } END { exit !found }' \
		"/proc/$1/status" 2>/dev/null
}

# Requests the clients completed so far: the last ec-bench -v progress
# line ("  N s: OPS ops, ..."), 0 before the first.
completed() {
	awk '$2 == "s:" && $4 == "ops," { ops = $3 } END { print ops + 0 }' "$out/bench.err"
}

ec_info "soak: $n replicas, --offload all, --checkpoint-ops $ckpt, $clients clients, $keys keys, $duration s; output in $out"
# shellcheck disable=SC2086 # EC_SOAK_REPLICA_ARGS is a list
ec_up "$n" --offload all --checkpoint-ops "$ckpt" ${EC_SOAK_REPLICA_ARGS:-}
pids=()
for ((i = 0; i < n; i++)); do
	pids[i]=$(ec_replica_pid "$i") || ec_die "replica $i is not running"
done

ec_client "$EC_BIN/ec-bench" --config "$EC_CONF" --clients "$clients" \
	--duration "$duration" --warmup 0.5 --keys "$keys" -v \
	>"$out/bench.out" 2>"$out/bench.err" &
bench=$!
echo "t_s,replica,rss_kib" >"$out/samples.csv"
echo "t_s,view,requests_per_s" >"$out/throughput.csv"

printf '%6s %6s %10s' t_s view req/s
for ((i = 0; i < n; i++)); do printf ' %9s' "r$i KiB"; done
echo
start=$SECONDS
prev_req=0
declare -A min_req min_s # per minute: requests and seconds counted
next=$interval
while ((next <= duration)); do
	while ((SECONDS - start < next)); do sleep 0.2; done
	kill -0 "$bench" 2>/dev/null || ec_die "ec-bench ended early: $(tail -n 3 "$out/bench.err")"
	t=$next
	req=$(completed)
	view=$(ec_field 0 view) || view='?'
	rate=$(((req - prev_req) / interval))
	m=$(((t - 1) / 60 + 1))
	min_req[$m]=$((${min_req[$m]:-0} + req - prev_req))
	min_s[$m]=$((${min_s[$m]:-0} + interval))
	prev_req=$req
	echo "$t,$view,$rate" >>"$out/throughput.csv"
	printf '%6d %6s %10s' "$t" "$view" "$rate"
	for ((i = 0; i < n; i++)); do
		if ! r=$(rss_of "${pids[i]}"); then
			wait "${pids[i]}" && st=0 || st=$?
			ec_die "replica $i (pid ${pids[i]}) is gone (exit status $st$( ((st > 128)) && echo ": signal $((st - 128))"))"
		fi
		echo "$t,$i,$r" >>"$out/samples.csv"
		printf ' %9d' "$r"
	done
	echo
	if ((t % 60 == 0)) && [ -n "${min_s[$((t / 60))]:-}" ]; then
		ec_info "minute $((t / 60)): $((min_req[$((t / 60))] / min_s[$((t / 60))])) requests/s"
	fi
	next=$((next + interval))
done
wait "$bench" || ec_die "ec-bench failed: $(tail -n 3 "$out/bench.err")"
grep -E '^[0-9]+ ops|^summary' "$out/bench.out" | sed 's/^/ec-bench: /'
echo "soak: replica 0 ended in view $(ec_field 0 view) ($(grep -c 'status view_change' "$(ec_logfile 0)") view changes seen in its log)"

# ---- the targets ----
rss_ok=ok speed_ok=ok
echo
echo "RSS (KiB) of each replica at 60 s, then the lowest and highest after:"
for ((i = 0; i < n; i++)); do
	read -r base min max dev < <(awk -F, -v id="$i" '
		NR == 1 || $2 != id { next }
		$1 == 60 { base = $3 }
		$1 > 60 { if (min == "" || $3 < min) min = $3; if ($3 > max) max = $3 }
		END {
			dev = (max - base > base - min ? max - base : base - min) / base * 100
			printf "%d %d %d %.1f%%\n", base, min, max, dev
		}' "$out/samples.csv")
	ok=ok
	awk -v b="$base" -v lo="$min" -v hi="$max" \
		'BEGIN { exit !(lo >= 0.8 * b && hi <= 1.2 * b) }' || ok=MISSED rss_ok=MISSED
	printf '  r%d  at 60 s %8d  min %8d  max %8d  worst %6s  %s\n' \
		"$i" "$base" "$min" "$max" "$dev" "$ok"
done
last=$(((duration - 1) / 60 + 1))
if [ -z "${min_s[2]:-}" ] || [ -z "${min_s[$last]:-}" ]; then
	speed="no throughput known for minute 2 or minute $last"
	speed_ok=MISSED
else
	second=$((min_req[2] / min_s[2]))
	final=$((min_req[$last] / min_s[$last]))
	ratio=$(awk -v a="$final" -v b="$second" 'BEGIN { printf "%.3f", b ? a / b : 0 }')
	awk -v r="$ratio" 'BEGIN { exit !(r >= 0.9) }' || speed_ok=MISSED
	speed="minute 2 $second requests/s, minute $last $final requests/s, ratio $ratio"
fi
echo "target RSS within +-20% of the first minute's, every replica: $rss_ok"
echo "target last minute >= 90% of the second: $speed_ok ($speed)"
[ "$rss_ok" = ok ] && [ "$speed_ok" = ok ]
