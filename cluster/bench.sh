#!/bin/bash
# cluster/bench.sh [RESULTS_DIR]   (what `make bench` runs)
#
# Compare the offload settings side by side in one invocation.  One
# 5-replica cluster (BPF loaded, offloads off at start) runs, for each
# configuration in turn, off, broadcast, fastack, quorum and all (switches
# set at run time on every replica):
#   - a closed-loop client sweep (ec-bench --sweep EC_SWEEP);
#   - a dedicated 8-client run during which the leader (replica 0; after
#     a view change, which gets a warning, the new leader) is measured: its CPU time (utime+stime, /proc/PID/stat) per committed
#     op, its syscalls per committed op (perf stat -e raw_syscalls:sys_enter
#     when perf works, else the replica's own io.syscalls count: recvmmsg
#     and sendto), the whole host's busy CPU time per committed op
#     (/proc/stat: the in-kernel work of every process and softirq), and
#     the in-kernel fractions of that run: PREPAREs the followers' XDP
#     acked, PREPARE_OKs the leader's XDP dropped.
# Then an unreplicated baseline: a 1-replica cluster without BPF, same
# sweep and measurement (config "unreplicated").
#
# RESULTS_DIR (default build/results/bench-<date>-<time>) gets:
#   results.csv  config, then ec-bench's --csv columns (clients, ops,
#                seconds, ops_per_s, mean_us, p50_us, ...), one row per point
#   leader.csv   config, cpu_us_per_op, syscalls_per_op, syscall_source
#                (perf or io.syscalls), fraction_acked_in_kernel,
#                fraction_dropped_in_kernel, host_cpu_us_per_op
#   summary.txt  per config: 8-client and peak throughput and 8-client p50,
#                each with its ratio to the "off" run of this invocation
#                (the figures that count on a shared machine), and the
#                leader figures; also printed at the end
#   results.png  throughput vs p50 latency, one line per config (gnuplot)
#   sweep.txt, info.txt, cluster.conf, raw/ (per-run outputs, counters)
# The cluster is torn down whatever happens.  Environment: EC_SWEEP
# (client counts, default 1,2,4,8,16,32), EC_DURATION and EC_WARMUP
# (seconds per point, default 3 and 1), EC_PREFIX, EC_NET.
set -eu -o pipefail
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"

ec_help_if_asked "$@"
EC_N=5
replicas=$EC_N
sweep=${EC_SWEEP:-1,2,4,8,16,32}
duration=${EC_DURATION:-3}
warmup=${EC_WARMUP:-1}
out=${1:-$EC_ROOT/build/results/bench-$(date +%Y%m%d-%H%M%S)}
configs=(off broadcast fastack quorum all)
lead_clients=8
hz=$(getconf CLK_TCK)

ec_preflight ec-replica ec-ctl ec-bench ec-port
if ! [[ $duration =~ ^[0-9]+([.][0-9]+)?$ ]] ||
	! awk -v d="$duration" 'BEGIN { exit !(d >= 1) }'; then
	ec_die "EC_DURATION '$duration' must be a number of seconds, at least 1"
fi
mkdir -p "$out/raw"
rm -f "$out/results.csv" "$out/leader.csv" "$out/sweep.txt" "$out/raw/"*

# Print "$1 / $2" with format $3, or "-" when $2 is 0.
div() {
	awk -v a="$1" -v b="$2" -v f="$3" 'BEGIN { if (b) printf f "\n", a / b; else print "-" }'
}

# Print a warning on stderr and into info.txt.
warn() {
	echo "warning: $*" | tee -a "$out/info.txt" >&2
}

# Keep the replica logs of cluster $1 (5 or 1 replicas) in raw/.
save_logs() {
	local f
	for f in "$EC_RUN"/r*.log; do
		[ -e "$f" ] && cp "$f" "$out/raw/n$1-${f##*/}"
	done
	return 0
}

# EXIT trap: keep the logs, tear down.
on_exit() {
	save_logs "$EC_N"
	ec_down
}

# Save replica $1's counters (`ec-ctl offload`, when BPF is loaded, and
# `stats`) as $out/raw/$2.r$1.
snap() {
	local f=$out/raw/$2.r$1
	ec_ctl "$1" offload >"$f" 2>/dev/null || : >"$f"
	ec_ctl "$1" stats >>"$f" || ec_die "cannot read the stats of replica $1"
}

# Print the growth of the counters matching the awk regular expression $3
# from counter file $1 to counter file $2 ("name value" lines), summed (0
# when none matches).
grew() {
	awk -v re="$3" '
		$1 !~ re || $2 !~ /^[0-9]+$/ { next }
		FNR == NR { before[$1] = $2; next }
		{ sum += $2 - before[$1] }
		END { print sum + 0 }' "$1" "$2"
}

# grew for replica $1 from snapshot $2 to snapshot $3 (of snap).
delta() {
	grew "$out/raw/$2.r$1" "$out/raw/$3.r$1" "$4"
}

# The measurement window, run by perf as its workload (perf counts from
# just before it starts to just after it ends) or alone: files $2.0 and
# $2.1 get, at the start and at the end, the leader's counters, then
# "proc_ticks N" (utime+stime of pid $1) and "host_ticks N" (busy time of
# all CPUs: /proc/stat less idle and iowait); in between, sleep $3 s.
# Arguments 4 and 5: ec-ctl and the leader's control socket.
# shellcheck disable=SC2016 # the script is for bash -c
window_script='
for end in 0 1; do
	[ "$end" = 0 ] || sleep "$3"
	{
		"$4" "$5" stats
		read -r line <"/proc/$1/stat"
		read -r -a f <<<"${line##*) }"
		echo "proc_ticks $((f[11] + f[12]))"
		read -r _ user nice system _ _ irq softirq steal _ </proc/stat
		echo "host_ticks $((user + nice + system + irq + softirq + steal))"
	} >"$2.$end"
done'

# Succeed if perf can count syscalls here.
perf_works() {
	command -v perf >/dev/null &&
		perf stat -e raw_syscalls:sys_enter -x, -o /dev/null -- true >/dev/null 2>&1
}

# Run ec-bench from the client namespace: output to $out/raw/$1.txt (and
# the terminal when $2 is "show"), then ec-bench arguments $3...
bench() {
	local name=$1 show=$2
	shift 2
	if [ "$show" = show ]; then
		ec_client "$EC_BIN/ec-bench" --config "$EC_CONF" "$@" |
			tee "$out/raw/$name.txt"
	else
		ec_client "$EC_BIN/ec-bench" --config "$EC_CONF" "$@" >"$out/raw/$name.txt"
	fi
}

# The client sweep of config $1, appended to results.csv and sweep.txt.
run_sweep() {
	local cfg=$1 head=
	[ -e "$out/results.csv" ] || head=1
	echo "== $cfg" >>"$out/sweep.txt"
	bench "sweep-$cfg" show --sweep "$sweep" --duration "$duration" \
		--warmup "$warmup" --csv "$out/raw/sweep-$cfg.csv" ||
		ec_die "ec-bench sweep failed in config $cfg"
	cat "$out/raw/sweep-$cfg.txt" >>"$out/sweep.txt"
	awk -v c="$cfg" -v head="$head" '
		FNR == 1 { if (head) print "config," $0; next }
		{ print c "," $0 }' "$out/raw/sweep-$cfg.csv" >>"$out/results.csv"
}

# The dedicated run of config $1 ($2 replicas) with the leader measured;
# appends a row to leader.csv and warns when the counters show an offload
# of the config idle or one outside it at work.  The leader is replica 0
# unless a view change happened (then a warning says so).
run_leader() {
	local cfg=$1 n=$2 lead pid client window i e sys src=io.syscalls win
	local acked=0 seen=0 dropped oks cloned want got
	lead=$(ec_field 0 leader)
	[[ $lead =~ ^[0-9]$ ]] || ec_die "replica 0 does not know its leader"
	[ "$lead" = 0 ] || warn "config $cfg: a view change happened, replica $lead leads (logs in $out/raw)"
	pid=$(ec_replica_pid "$lead") || ec_die "replica $lead is not running"
	win=$out/raw/window-$cfg
	window=$(awk -v d="$duration" 'BEGIN { print d - 0.5 }')
	bench "leader-$cfg" quiet --clients "$lead_clients" --duration "$duration" \
		--warmup "$warmup" &
	client=$!
	sleep "$warmup"
	sleep 0.1
	for ((i = 0; i < n; i++)); do
		snap "$i" "$cfg-0"
	done
	if perf_works; then
		src=perf
		perf stat -e raw_syscalls:sys_enter -x, -o "$out/raw/perf-$cfg.txt" \
			-p "$pid" -- bash -c "$window_script" - "$pid" "$win" "$window" \
			"$EC_BIN/ec-ctl" "$(ec_sock "$lead")" ||
			ec_die "perf stat failed on replica $lead (pid $pid)"
	else
		bash -c "$window_script" - "$pid" "$win" "$window" \
			"$EC_BIN/ec-ctl" "$(ec_sock "$lead")" || ec_die "measuring replica $lead failed"
	fi
	for ((i = 0; i < n; i++)); do
		snap "$i" "$cfg-1"
	done
	wait "$client" || ec_die "ec-bench failed in the leader run of config $cfg"

	e=$(grew "$win.0" "$win.1" '^executed$')
	[ "$e" -gt 0 ] || ec_die "the leader executed nothing in the leader run of $cfg"
	if [ "$src" = perf ]; then
		sys=$(awk -F, '$3 ~ /raw_syscalls:sys_enter/ { print $1 }' "$out/raw/perf-$cfg.txt")
		[[ $sys =~ ^[0-9]+$ ]] ||
			ec_die "no syscall count from perf: $(cat "$out/raw/perf-$cfg.txt")"
	else
		sys=$(grew "$win.0" "$win.1" '^io[.]syscalls$')
	fi
	for ((i = 0; i < n; i++)); do
		[ "$i" = "$lead" ] && continue
		acked=$((acked + $(delta "$i" "$cfg-0" "$cfg-1" '^xdp[.]fastack_acked$')))
		seen=$((seen + $(delta "$i" "$cfg-0" "$cfg-1" '^xdp[.]fastack_')))
	done
	dropped=$(delta "$lead" "$cfg-0" "$cfg-1" '^xdp[.]quorum_drop_')
	oks=$(delta "$lead" "$cfg-0" "$cfg-1" '^xdp[.]quorum_')
	cloned=$(delta "$lead" "$cfg-0" "$cfg-1" '^tc[.]cloned$')
	[ -e "$out/leader.csv" ] ||
		echo "config,cpu_us_per_op,syscalls_per_op,syscall_source,fraction_acked_in_kernel,fraction_dropped_in_kernel,host_cpu_us_per_op" \
			>"$out/leader.csv"
	echo "$cfg,$(div "$(($(grew "$win.0" "$win.1" '^proc_ticks$') * 1000000 / hz))" "$e" %.1f),$(div "$sys" "$e" %.2f),$src,$(div "$acked" "$seen" %.3f),$(div "$dropped" "$oks" %.3f),$(div "$(($(grew "$win.0" "$win.1" '^host_ticks$') * 1000000 / hz))" "$e" %.1f)" \
		>>"$out/leader.csv"

	# The offloads this config should have at work, against the counters.
	case $cfg in
	off | unreplicated) want= ;;
	all) want="broadcast fastack quorum" ;;
	*) want=$cfg ;;
	esac
	got=
	[ "$cloned" -gt 0 ] && got+=" broadcast"
	[ "$acked" -gt 0 ] && got+=" fastack"
	[ "$dropped" -gt 0 ] && got+=" quorum"
	[ "${got# }" = "$want" ] ||
		warn "config $cfg: offloads at work by the counters: '${got# }', want '$want'"
}

# Set every replica's offloads for config $1.
set_config() {
	if [ "$1" = off ]; then ec_offloads_all none; else ec_offloads_all "$1"; fi
}

# The summary table from results.csv and leader.csv.
summary() {
	awk -F, -v lc="$lead_clients" '
	FNR == 1 {
		for (i = 1; i <= NF; i++)
			col[FILENAME, $i] = i
		next
	}
	FILENAME ~ /results.csv$/ {
		c = $1
		if (!(c in seen)) { seen[c] = 1; order[++nc] = c }
		r = $col[FILENAME, "ops_per_s"]
		if (r > peak[c]) peak[c] = r
		if ($col[FILENAME, "clients"] == lc) {
			at[c] = r
			p50[c] = $col[FILENAME, "p50_us"]
		}
		next
	}
	{
		cpu[$1] = $col[FILENAME, "cpu_us_per_op"]
		sys[$1] = $col[FILENAME, "syscalls_per_op"]
		src = $col[FILENAME, "syscall_source"]
		host[$1] = $col[FILENAME, "host_cpu_us_per_op"]
		fa[$1] = $col[FILENAME, "fraction_acked_in_kernel"]
		fd[$1] = $col[FILENAME, "fraction_dropped_in_kernel"]
	}
	function ratio(a, b) { return (a != "" && b != "" && b + 0) ? sprintf("%.2f", a / b) : "-" }
	function v(a) { return a == "" ? "-" : a }
	function n(a) { return a == "" ? "-" : sprintf("%.0f", a) }
	END {
		printf "%-13s %9s %6s %9s %6s %8s %6s %8s %8s %8s %6s %6s\n",
			"config", "ops/s@" lc, "x off", "peak", "x off", "p50@" lc, "x off",
			"cpu_us", "host_us", "sys", "acked", "drop"
		for (i = 1; i <= nc; i++) {
			c = order[i]
			printf "%-13s %9s %6s %9s %6s %8s %6s %8s %8s %8s %6s %6s\n", c,
				n(at[c]), ratio(at[c], at["off"]),
				n(peak[c]), ratio(peak[c], peak["off"]),
				v(p50[c]), ratio(p50[c], p50["off"]),
				v(cpu[c]), v(host[c]), v(sys[c]), v(fa[c]), v(fd[c])
		}
		print ""
		print "ops/s@" lc ", p50@" lc " (us): the " lc "-client point of the sweep; peak: its best point."
		print "x off: ratio to the off run of this invocation (for p50, lower is better)."
		print "Per committed op, on the leader during a separate " lc "-client run: cpu_us, its"
		print "CPU time; host_us, busy time of all CPUs; sys, its syscalls (counted by " src ")."
		print "acked: fraction of PREPAREs the followers acked in XDP; drop: fraction of"
		print "PREPARE_OKs the leader dropped in XDP."
	}' "$out/results.csv" "$out/leader.csv"
}

# Throughput (x) against p50 latency (y), one line per config.
plot() {
	gnuplot <<GP
set terminal pngcairo size 1000,650
set output '$out/results.png'
set datafile separator ','
set key top left
set title 'electrode-c: $replicas replicas by offload setting, and unreplicated; closed-loop sweep $sweep'
set xlabel 'throughput (ops/s)'
set ylabel 'p50 latency (us)'
set grid
set logscale x
plot for [c in "${configs[*]} unreplicated"] '$out/results.csv' \
	using (strcol(1) eq c ? column("ops_per_s") : NaN):(column("p50_us")) \
	with linespoints title c
GP
}

ec_trap_down on_exit
ec_up "$EC_N" --offload none
{
	echo "date     $(date -Is)"
	echo "kernel   $(uname -r), $(nproc) CPUs"
	echo "commit   $(git -C "$EC_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
	echo "cluster  $replicas replicas, configs ${configs[*]}, then 1 replica without BPF"
	echo "sweep    $sweep, ${warmup} s warmup, ${duration} s per point"
	echo "leader   $lead_clients clients, measured for $duration - 0.5 s from about 0.2 s after the ${warmup} s warmup"
	if perf_works; then
		echo "syscalls perf stat -e raw_syscalls:sys_enter -p PID (every syscall)"
	else
		echo "syscalls the replica's io.syscalls (recvmmsg and sendto only): perf not usable"
	fi
} >"$out/info.txt"
cp "$EC_CONF" "$out/cluster.conf"

view=0
for cfg in "${configs[@]}"; do
	ec_info "config $cfg"
	set_config "$cfg"
	run_sweep "$cfg"
	run_leader "$cfg" "$EC_N"
	state=$(ec_wait_converged 30 $(seq 0 $((EC_N - 1)))) ||
		ec_die "the replicas did not converge after config $cfg"
	ec_info "config $cfg done; replicas agree: $state"
	read -r _ v _ <<<"$state"
	[ "$v" = "$view" ] ||
		warn "config $cfg: view changed from $view to $v (no replica failed; logs in $out/raw)"
	view=$v
done

save_logs "$EC_N"
ec_down
EC_N=1
ec_info "config unreplicated: 1 replica, no BPF"
ec_up 1 --no-bpf
run_sweep unreplicated
run_leader unreplicated 1
save_logs "$EC_N"
ec_down

summary | tee "$out/summary.txt"
grep '^warning: ' "$out/info.txt" | tee -a "$out/summary.txt" >&2 || :
if command -v gnuplot >/dev/null; then
	plot || ec_die "gnuplot failed"
	ec_info "plot: $out/results.png"
else
	ec_info "gnuplot not installed; no plot"
fi
ec_info "results: $out"
