# shellcheck shell=bash
#
# cluster/bench_run.sh - one run of cluster/bench.sh: a fresh cluster for
# one configuration, a client sweep and/or one measured point, the checks
# that the run was what it claims (replicas agree, no view change, the
# offloads of the configuration at work and no other), teardown.
#
# Every run gets a cluster of its own, so no configuration inherits the
# store, client table and checkpoints grown by the ones before it.
#
# Sourced by bench.sh after lib.sh.  Uses its variables: out (results
# folder), duration, warmup, and the functions config_args,
# config_sweep_args and is_read_config.
# shellcheck disable=SC2154 # those variables

hz=$(getconf CLK_TCK)

# Print "$1 / $2" with format $3, or "-" when $2 is 0.
div() {
	awk -v a="$1" -v b="$2" -v f="$3" 'BEGIN { if (b) printf f "\n", a / b; else print "-" }'
}

# Print a warning on stderr and into info.txt.
warn() {
	echo "warning: $*" | tee -a "$out/info.txt" >&2
}

# Keep the replica logs of the cluster now up in raw/, prefixed $1.
save_logs() {
	local f
	for f in "$EC_RUN"/r*.log; do
		[ -e "$f" ] && cp "$f" "$out/raw/$1.${f##*/}"
	done
	return 0
}

# Save replica $1's counters (`ec-ctl offload`, when BPF is loaded, and
# `stats`) as file $2.
snap() {
	ec_ctl "$1" offload >"$2" 2>/dev/null || : >"$2"
	ec_ctl "$1" stats >>"$2" || ec_die "cannot read the stats of replica $1"
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

# Append to counter file $1 the CPU time of pid $2 (proc_ticks:
# utime+stime) and of the whole host (host_ticks: /proc/stat less idle and
# iowait, so the in-kernel work of every process and softirq counts).
cpu_ticks() {
	local line f user nice system irq softirq steal
	read -r line <"/proc/$2/stat"
	read -r -a f <<<"${line##*) }"
	read -r _ user nice system _ _ irq softirq steal _ </proc/stat
	{
		echo "proc_ticks $((f[11] + f[12]))"
		echo "host_ticks $((user + nice + system + irq + softirq + steal))"
	} >>"$1"
}

# Run ec-bench from the client namespace, output to $out/raw/$1.txt, with
# ec-bench arguments $2...
bench() {
	local name=$1
	shift
	ec_client "$EC_BIN/ec-bench" --config "$EC_CONF" "$@" >"$out/raw/$name.txt"
}

# Append csv file $1 to $2 with the columns $3 (comma-separated values)
# put in front of every row; the header (from $1, after the names $4)
# only when $2 is new.
append_csv() {
	local head=
	[ -e "$2" ] || head=1
	awk -v pre="$3" -v names="$4" -v head="$head" '
		FNR == 1 { if (head) print names "," $0; next }
		{ print pre "," $0 }' "$1" >>"$2"
}

# The client sweep of run $1 (config $2, round $3): rows into results.csv
# and, per op kind, kinds.csv; the table into sweep.txt.  A read mix's
# GETs must have gone the way its --reads says: mostly under the lease
# (lease<M>: at least 90% of them), or never (log<M>).
run_sweep() {
	local args share
	read -r -a args <<<"$(config_sweep_args "$2")"
	bench "$1.sweep" "${args[@]}" --duration "$duration" \
		--warmup "$warmup" --csv "$out/raw/$1.sweep.csv" \
		--csv-kinds "$out/raw/$1.sweep.kinds.csv" ||
		ec_die "ec-bench sweep failed in run $1"
	append_csv "$out/raw/$1.sweep.csv" "$out/results.csv" "$2,$3" config,round
	append_csv "$out/raw/$1.sweep.kinds.csv" "$out/kinds.csv" "$2,$3" config,round
	{
		echo "== $1"
		cat "$out/raw/$1.sweep.txt"
	} >>"$out/sweep.txt"
	is_read_config "$2" || return 0
	share=$(awk -F, '$2 == "get" { ops += $3; lease += $9 }
		END { if (ops) printf "%.3f\n", lease / ops; else print "-" }' \
		"$out/raw/$1.sweep.kinds.csv")
	case ${2%%[0-9]*}:$share in
	*:-) warn "run $1: no GET completed" ;;
	lease:* | xdp:* | single:*) awk -v s="$share" 'BEGIN { exit !(s < 0.9) }' &&
		warn "run $1: the lease answered only a fraction $share of the GETs" ;;
	log:*) [ "$share" = 0.000 ] ||
		warn "run $1: with --reads log the lease answered a fraction $share of the GETs" ;;
	esac
	return 0
}

# The offloads config $1 should have at work, by name.
want_offloads() {
	case ${1%+batch} in
	off | unreplicated) echo "" ;;
	all) echo "broadcast fastack quorum" ;;
	*) echo "${1%+batch}" ;;
	esac
}

# The measured point of run $1 (config $2, round $3, $4 replicas): $5
# clients for one point, during which the leader's own counters are read
# at the start and the end of a window inside the measured time; one row
# into csv file $6.  Per committed request: the leader's syscalls
# (io.syscalls: recvmmsg and sendmmsg calls), its event-loop wake-ups
# (io.wakeups), its CPU time and the host's busy CPU time.  Committed
# requests are the growth of the leader's batched_requests (requests it
# put into ops; in a steady run what it prepares it commits, up to the
# window in flight at each end).  Also the in-kernel fractions: PREPAREs
# the followers' XDP acked, PREPARE_OKs the leader's XDP dropped.
run_point() {
	local tag=$1 cfg=$2 round=$3 n=$4 clients=$5 csv=$6
	local lead pid client win i e req sys wake acked=0 seen=0 dropped oks
	local cloned want got window row stale=
	lead=$(ec_field 0 leader)
	[[ $lead =~ ^[0-9]$ ]] || ec_die "replica 0 does not know its leader"
	[ "$lead" = 0 ] || warn "run $tag: a view change happened, replica $lead leads"
	pid=$(ec_replica_pid "$lead") || ec_die "replica $lead is not running"
	win=$out/raw/$tag.window
	window=$(awk -v d="$duration" 'BEGIN { print d - 0.5 }')
	bench "$tag.point" --clients "$clients" --duration "$duration" \
		--warmup "$warmup" --csv "$out/raw/$tag.point.csv" &
	client=$!
	sleep "$warmup"
	sleep 0.2
	for e in 0 1; do
		[ "$e" = 0 ] || sleep "$window"
		# the leader first, its CPU time at once: one window for both
		snap "$lead" "$win.r$lead.$e"
		cpu_ticks "$win.r$lead.$e" "$pid"
		for ((i = 0; i < n; i++)); do
			[ "$i" = "$lead" ] || snap "$i" "$win.r$i.$e"
		done
	done
	wait "$client" || ec_die "ec-bench failed in the measured point of run $tag"
	# counters of a leader that lost its place midway describe nothing
	[ "$(ec_field "$lead" leader)" = "$lead" ] || stale=1

	win=$win.r$lead
	req=$(grew "$win.0" "$win.1" '^batched_requests$')
	e=$(grew "$win.0" "$win.1" '^batches$')
	[ "$req" -gt 0 ] || ec_die "the leader ordered nothing in the measured point of run $tag"
	sys=$(grew "$win.0" "$win.1" '^io[.]syscalls$')
	wake=$(grew "$win.0" "$win.1" '^io[.]wakeups$')
	for ((i = 0; i < n; i++)); do
		[ "$i" = "$lead" ] && continue
		acked=$((acked + $(grew "$out/raw/$tag.window.r$i.0" "$out/raw/$tag.window.r$i.1" '^xdp[.]fastack_acked$')))
		seen=$((seen + $(grew "$out/raw/$tag.window.r$i.0" "$out/raw/$tag.window.r$i.1" '^xdp[.]fastack_')))
	done
	dropped=$(grew "$win.0" "$win.1" '^xdp[.]quorum_drop_')
	oks=$(grew "$win.0" "$win.1" '^xdp[.]quorum_')
	cloned=$(grew "$win.0" "$win.1" '^tc[.]cloned$')
	row=$(awk -F, 'NR == 2 { print $1 "," $4 "," $6 "," $8 }' "$out/raw/$tag.point.csv")
	[ -n "$row" ] || ec_die "no result from the measured point of run $tag"
	[ -e "$csv" ] ||
		echo "config,round,replicas,clients,ops_per_s,p50_us,p99_us,requests,ops,requests_per_op,syscalls_per_req,wakeups_per_req,cpu_us_per_req,host_cpu_us_per_req,fraction_acked_in_kernel,fraction_dropped_in_kernel" \
			>"$csv"
	if [ -n "$stale" ]; then
		warn "run $tag: the leader changed during the measured window; its per-request figures are left out"
		echo "$cfg,$round,$n,$row,$req,$e,-,-,-,-,-,-,-" >>"$csv"
		return 0
	fi
	echo "$cfg,$round,$n,$row,$req,$e,$(div "$req" "$e" %.2f),$(div "$sys" "$req" %.3f),$(div "$wake" "$req" %.3f),$(div "$(($(grew "$win.0" "$win.1" '^proc_ticks$') * 1000000 / hz))" "$req" %.2f),$(div "$(($(grew "$win.0" "$win.1" '^host_ticks$') * 1000000 / hz))" "$req" %.2f),$(div "$acked" "$seen" %.3f),$(div "$dropped" "$oks" %.3f)" \
		>>"$csv"

	want=$(want_offloads "$cfg")
	got=
	[ "$cloned" -gt 0 ] && got+=" broadcast"
	[ "$acked" -gt 0 ] && got+=" fastack"
	[ "$dropped" -gt 0 ] && got+=" quorum"
	[ "${got# }" = "$want" ] ||
		warn "run $tag: offloads at work by the counters: '${got# }', want '$want'"
}

# The measured point of read-mix run $1 (config $2, round $3): $4
# clients at the config's mix; over a window inside the measured time,
# the leader's CPU time (its process: user space and the system calls it
# makes; XDP runs in softirq, counted in the host's) and the host's busy
# CPU time, per completed operation (the client's ops/s times the
# window), and the share of the READs that reached the leader's XDP
# program it answered there ("-" without BPF); one row into csv $5.
run_read_point() {
	local tag=$1 cfg=$2 round=$3 clients=$4 csv=$5 lead pid win client
	local window t0 t1 ops row mix
	lead=$(ec_field 0 leader)
	[[ $lead =~ ^[0-9]$ ]] || ec_die "replica 0 does not know its leader"
	pid=$(ec_replica_pid "$lead") || ec_die "replica $lead is not running"
	mix=$(config_sweep_args "$cfg")
	mix=${mix##*--mix }
	win=$out/raw/$tag.rwindow
	window=$(awk -v d="$duration" 'BEGIN { print d - 0.5 }')
	bench "$tag.rpoint" --clients "$clients" --duration "$duration" \
		--warmup "$warmup" --mix "$mix" --csv "$out/raw/$tag.rpoint.csv" &
	client=$!
	sleep "$warmup"
	sleep 0.2
	t0=$(date +%s.%N)
	snap "$lead" "$win.0"
	cpu_ticks "$win.0" "$pid"
	sleep "$window"
	t1=$(date +%s.%N)
	snap "$lead" "$win.1"
	cpu_ticks "$win.1" "$pid"
	wait "$client" || ec_die "ec-bench failed in the measured point of run $tag"
	row=$(awk -F, 'NR == 2 { print $1 "," $4 "," $6 "," $8 }' "$out/raw/$tag.rpoint.csv")
	[ -n "$row" ] || ec_die "no result from the measured point of run $tag"
	ops=$(awk -v r="${row#*,}" -v a="$t0" -v b="$t1" 'BEGIN { split(r, f, ","); printf "%.0f\n", f[1] * (b - a) }')
	[ -e "$csv" ] ||
		echo "config,round,clients,ops_per_s,p50_us,p99_us,cpu_us_per_op,host_cpu_us_per_op,fraction_reads_in_kernel" >"$csv"
	echo "$cfg,$round,$row,$(div "$(($(grew "$win.0" "$win.1" '^proc_ticks$') * 1000000 / hz))" "$ops" %.2f),$(div "$(($(grew "$win.0" "$win.1" '^host_ticks$') * 1000000 / hz))" "$ops" %.2f),$(div "$(grew "$win.0" "$win.1" '^xdp[.]read_answered$')" "$(grew "$win.0" "$win.1" '^xdp[.]read_')" %.3f)" \
		>>"$csv"
}

# One run: config $1, round $2, $3 replicas (1: the unreplicated
# baseline, no BPF), then what to do: "sweep" (a sweep, then the measured
# point into leader.csv), "reads" (a read mix's sweep, then its measured
# point into reads-leader.csv) or "point"
# (the measured point only, into replicas-runs.csv) as $4; $5 is the
# measured point's client count.  Dies if the replicas do not agree
# afterwards; warns on a view change.
run_one() {
	local cfg=$1 round=$2 n=$3 what=$4 clients=$5 tag state v args
	tag=$what-$cfg.n$n.r$round
	read -r -a args <<<"$(config_args "$cfg")"
	# shellcheck disable=SC2034 # lib.sh's ec_down reads it
	EC_N=$n
	ec_up "$n" "${args[@]}" >/dev/null
	grep -q '^bridge ' "$out/info.txt" ||
		echo "bridge   $(ec_bridge_nf_state "$(ec_ns_bridge)") in the bridge namespace (host: $(ec_bridge_nf_state ""))" >>"$out/info.txt"
	case $what in
	sweep)
		run_sweep "$tag" "$cfg" "$round"
		run_point "$tag" "$cfg" "$round" "$n" "$clients" "$out/leader.csv"
		;;
	reads)
		run_sweep "$tag" "$cfg" "$round"
		run_read_point "$tag" "$cfg" "$round" "$clients" "$out/reads-leader.csv"
		;;
	point) run_point "$tag" "$cfg" "$round" "$n" "$clients" "$out/replicas-runs.csv" ;;
	esac
	state=$(ec_wait_converged 30 $(seq 0 $((n - 1)))) || {
		save_logs "$tag"
		ec_die "the replicas did not converge after run $tag"
	}
	read -r _ v _ <<<"$state"
	if [ "$v" != 0 ]; then
		save_logs "$tag"
		warn "run $tag: view changed to $v (no replica failed; logs in $out/raw)"
	fi
	ec_down
}
