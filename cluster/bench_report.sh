# shellcheck shell=bash
#
# cluster/bench_report.sh - what cluster/bench.sh makes of its runs:
# medians.csv, replicas.csv, summary.txt (also printed) and the plots.
# The read mixes (lease<M>, log<M>) have a section of their own; the
# offload and batching tables show the other configs.
# Every figure is a median over the runs of a configuration, shown with
# its spread [min..max]; every ratio is between medians of this one
# invocation (the runs of both sides interleaved in time), so that the
# machine's drift cancels as far as it can.
#
# Sourced by bench.sh.  Uses its variables: out, sweep, read_sweep,
# batch, high, repeats, configs, replica_counts, and is_read_config.
# shellcheck disable=SC2154 # those variables

# awk functions shared by the programs below: lists of numbers kept as
# space-separated strings, their median, minimum and maximum.
# shellcheck disable=SC2016 # awk code
bench_awk_lib='
function add(arr, key, v) {
	if (v !~ /^-?[0-9.]+(e[-+]?[0-9]+)?$/) return
	arr[key] = (key in arr) ? arr[key] " " v : v
}
function sorted(s, a,   n, i, j, t) {
	n = split(s, a, " ")
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
	return n
}
function med(s,   a, n) {
	if (s == "") return ""
	n = sorted(s, a)
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function lo(s,   a) { if (s == "") return ""; sorted(s, a); return a[1] }
function hi(s,   a, n) { if (s == "") return ""; n = sorted(s, a); return a[n] }
# "median [min..max]" in format f, or "-"
function mm(s, f) {
	if (s == "") return "-"
	return sprintf(f " [" f ".." f "]", med(s), lo(s), hi(s))
}
function ratio(a, b) { return (a != "" && b != "" && b + 0) ? a / b : "" }
function r2(x) { return x == "" ? "-" : sprintf("%.2f", x) }
function col_names(   i) { for (i = 1; i <= NF; i++) col[FILENAME, $i] = i }
function get(name) { return $col[FILENAME, name] }
# one target line: x is the measured value ("" when not measured)
function target(name, x, fmt, ok, want) {
	printf "  %-7s %-58s %s (target %s)\n", x == "" ? "n/a" : ok ? "MET" : "MISSED",
		name, x == "" ? "-" : sprintf(fmt, x), want
}
'

# The configs of this invocation that are not read mixes, then those
# that are, each space-separated in their order.
main_config_list() {
	local c
	for c in "${configs[@]}"; do
		is_read_config "$c" || printf '%s ' "$c"
	done
}
read_config_list() {
	local c
	for c in "${configs[@]}"; do
		! is_read_config "$c" || printf '%s ' "$c"
	done
}

# medians.csv from results.csv: per config and client count.
write_medians() {
	awk -F, "$bench_awk_lib"'
	FNR == 1 { col_names(); next }
	{
		k = get("config") "," get("clients")
		if (!(k in seen)) { seen[k] = 1; order[++nk] = k }
		runs[k]++
		add(ops, k, get("ops_per_s"))
		add(p50, k, get("p50_us"))
		add(p99, k, get("p99_us"))
	}
	END {
		print "config,clients,runs,ops_per_s,ops_per_s_min,ops_per_s_max,p50_us,p50_us_min,p50_us_max,p99_us,p99_us_min,p99_us_max"
		for (i = 1; i <= nk; i++) {
			k = order[i]
			printf "%s,%d,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f\n", k, runs[k],
				med(ops[k]), lo(ops[k]), hi(ops[k]),
				med(p50[k]), lo(p50[k]), hi(p50[k]),
				med(p99[k]), lo(p99[k]), hi(p99[k])
		}
	}' "$out/results.csv" >"$out/medians.csv"
}

# replicas.csv from replicas-runs.csv: per replica count and config.
write_replicas() {
	awk -F, "$bench_awk_lib"'
	FNR == 1 { col_names(); next }
	{
		n = get("replicas"); c = get("config"); k = n "," c
		if (!(k in seen)) { seen[k] = 1; order[++nk] = k }
		if (!(c in first) || n + 0 < first[c]) first[c] = n
		clients[k] = get("clients")
		runs[k]++
		add(ops, k, get("ops_per_s"))
		add(p50, k, get("p50_us"))
		add(p99, k, get("p99_us"))
		add(sys, k, get("syscalls_per_req"))
	}
	END {
		for (i = 1; i <= nk; i++) {
			k = order[i]
			split(k, f, ",")
			s = med(sys[k])
			printf "%s,%s,%d,%.0f,%.0f,%.0f,%.0f,%.0f,%s,%s\n", k, clients[k],
				runs[k], med(ops[k]), lo(ops[k]), hi(ops[k]),
				med(p50[k]), med(p99[k]), s == "" ? "-" : sprintf("%.3f", s),
				r2(ratio(med(ops[k]), med(ops[first[f[2]] "," f[2]])))
		}
	}' "$out/replicas-runs.csv" | sort -t, -k2,2 -k1,1n >"$out/replicas.body"
	# by config, then replica count: one unbroken line per config in the plot
	{
		echo "replicas,config,clients,runs,ops_per_s,ops_per_s_min,ops_per_s_max,p50_us,p99_us,syscalls_per_req,x_smallest"
		cat "$out/replicas.body"
	} >"$out/replicas.csv"
	rm -f "$out/replicas.body"
}

# summary.txt from results.csv, medians.csv, leader.csv and replicas.csv.
write_summary() {
	local replicas_csv=/dev/null
	[ -e "$out/replicas.csv" ] && replicas_csv=$out/replicas.csv
	awk -F, -v batch="$batch" -v high="$high" -v repeats="$repeats" \
		-v order="$(main_config_list)" "$bench_awk_lib"'
	FNR == 1 { col_names(); next }
	BEGIN { n = split(order, tmp, " "); for (i = 1; i <= n; i++) shown[tmp[i]] = 1 }
	FILENAME ~ /results.csv$/ {
		if (!(get("config") in shown)) next
		k = get("config") SUBSEP get("round")
		r = get("ops_per_s")
		if (!(k in peak) || r + 0 > peak[k]) peak[k] = r
		if (lowc == "" || get("clients") + 0 < lowc) lowc = get("clients") + 0
		next
	}
	FILENAME ~ /medians.csv$/ {
		c = get("config")
		r = get("ops_per_s")
		if (!(c in best) || r + 0 > best[c]) { best[c] = r; bestc[c] = get("clients") }
		k = c SUBSEP get("clients")
		line[k] = $0
		next
	}
	FILENAME ~ /leader.csv$/ {
		c = get("config")
		add(l_ops, c, get("ops_per_s"))
		add(l_rpo, c, get("requests_per_op"))
		add(l_sys, c, get("syscalls_per_req"))
		add(l_wake, c, get("wakeups_per_req"))
		add(l_cpu, c, get("cpu_us_per_req"))
		add(l_host, c, get("host_cpu_us_per_req"))
		add(l_ack, c, get("fraction_acked_in_kernel"))
		add(l_drop, c, get("fraction_dropped_in_kernel"))
		next
	}
	FILENAME ~ /replicas.csv$/ {
		n = get("replicas"); c = get("config")
		rep[n, c] = sprintf("%.0f [%.0f..%.0f]", get("ops_per_s"), get("ops_per_s_min"), get("ops_per_s_max"))
		repx[n, c] = get("x_smallest")
		repsys[n, c] = get("syscalls_per_req")
		repops[n, c] = get("ops_per_s")
		repclients = get("clients")
		if (!(n in seen_n)) { seen_n[n] = 1; ns[++nn] = n }
		next
	}
	# "median [min..max]" of column name at config c, client count k, from medians.csv
	function at(c, k, name,   f) {
		if (!((c SUBSEP k) in line)) return "-"
		split(line[c SUBSEP k], f, ",")
		return sprintf("%.0f [%.0f..%.0f]", f[colm[name]], f[colm[name] + 1], f[colm[name] + 2])
	}
	function atv(c, k, name,   f) {
		if (!((c SUBSEP k) in line)) return ""
		split(line[c SUBSEP k], f, ",")
		return f[colm[name]]
	}
	function peaks(c,   r, s) {
		s = ""
		for (r = 1; r <= repeats; r++)
			if ((c SUBSEP r) in peak) s = s (s == "" ? "" : " ") peak[c, r]
		return s
	}
	END {
		colm["ops_per_s"] = 4; colm["p50_us"] = 7; colm["p99_us"] = 10
		nc = split(order, cs, " ")
		for (i = 1; i <= nc; i++) pk[cs[i]] = med(peaks(cs[i]))

		printf "Throughput: peak of each run'"'"'s sweep, median [min..max] over %d runs; at: the\n", repeats
		print "client count where the median curve peaks; x off: ratio of medians to off."
		printf "%-13s %5s %8s %-26s %5s %6s\n", "config", "batch", "replicas", "peak ops/s", "at", "x off"
		for (i = 1; i <= nc; i++) {
			c = cs[i]
			printf "%-13s %5s %8s %-26s %5s %6s\n", c,
				(c ~ /[+]batch$/ || c == "unreplicated") ? batch : 1,
				c == "unreplicated" ? "1" : "5", mm(peaks(c), "%.0f"),
				bestc[c], r2(ratio(pk[c], pk["off"]))
		}
		print "unreplicated: 1 replica, no BPF, with batching (--batch " batch "): its best setting."
		print ""
		printf "Latency (us), median [min..max] over the runs: at %d client(s) and at the peak.\n", lowc
		printf "%-13s %-20s %-22s %-20s %-22s\n", "config", "p50@" lowc, "p99@" lowc, "p50@peak", "p99@peak"
		for (i = 1; i <= nc; i++) {
			c = cs[i]
			printf "%-13s %-20s %-22s %-20s %-22s\n", c, at(c, lowc, "p50_us"),
				at(c, lowc, "p99_us"), at(c, bestc[c], "p50_us"), at(c, bestc[c], "p99_us")
		}
		print ""
		printf "Leader, per committed request (growth of its batched_requests), during a\n"
		printf "separate %d-client point of every run; median, and [min..max] for sys and wake.\n", high
		printf "%-13s %8s %6s %-19s %-19s %7s %7s %6s %6s\n", "config", "ops/s", "req/op",
			"sys/req", "wake/req", "cpu_us", "host_us", "acked", "drop"
		for (i = 1; i <= nc; i++) {
			c = cs[i]
			printf "%-13s %8s %6s %-19s %-19s %7s %7s %6s %6s\n", c,
				l_ops[c] == "" ? "-" : sprintf("%.0f", med(l_ops[c])),
				l_rpo[c] == "" ? "-" : sprintf("%.1f", med(l_rpo[c])),
				mm(l_sys[c], "%.3f"), mm(l_wake[c], "%.3f"),
				l_cpu[c] == "" ? "-" : sprintf("%.2f", med(l_cpu[c])),
				l_host[c] == "" ? "-" : sprintf("%.2f", med(l_host[c])),
				l_ack[c] == "" ? "-" : sprintf("%.3f", med(l_ack[c])),
				l_drop[c] == "" ? "-" : sprintf("%.3f", med(l_drop[c]))
		}
		print "sys: io.syscalls (recvmmsg + sendmmsg calls); wake: io.wakeups (event-loop"
		print "callbacks); cpu_us: the leader'"'"'s CPU time; host_us: busy time of all CPUs"
		print "(whatever else runs on the host included);"
		print "acked: PREPAREs the followers acked in XDP; drop: PREPARE_OKs dropped in XDP."
		print ""
		print "Ratios of medians (this invocation):"
		x_ab_a = ratio(pk["all+batch"], pk["all"])
		x_ab_ob = ratio(pk["all+batch"], pk["off+batch"])
		x_ab_u = ratio(pk["all+batch"], pk["unreplicated"])
		x_ob_o = ratio(pk["off+batch"], pk["off"])
		x_p50_a = ratio(atv("all+batch", lowc, "p50_us"), atv("all", lowc, "p50_us"))
		x_p50_o = ratio(atv("off+batch", lowc, "p50_us"), atv("off", lowc, "p50_us"))
		printf "  %-42s %s\n", "peak all+batch / all", r2(x_ab_a)
		printf "  %-42s %s\n", "peak all+batch / off+batch", r2(x_ab_ob)
		printf "  %-42s %s\n", "peak all+batch / unreplicated", r2(x_ab_u)
		printf "  %-42s %s\n", "peak off+batch / off", r2(x_ob_o)
		printf "  %-42s %s\n", "p50@" lowc " all+batch / all", r2(x_p50_a)
		printf "  %-42s %s\n", "p50@" lowc " off+batch / off", r2(x_p50_o)
		sys_ab = med(l_sys["all+batch"])
		x_rep = ""
		if ((7 SUBSEP "all+batch") in repops && (3 SUBSEP "all+batch") in repops) {
			x_rep = ratio(repops[7, "all+batch"], repops[3, "all+batch"])
			printf "  %-42s %s\n", "all+batch 7 / 3 replicas (" repclients " clients)", r2(x_rep)
		}
		print ""
		print "Targets (issue \"Throughput under load\"):"
		target("all+batch peak / unreplicated peak", x_ab_u, "%.2f", x_ab_u >= 0.5, ">= 0.5")
		target("all+batch peak / all peak", x_ab_a, "%.2f", x_ab_a >= 2, ">= 2")
		target("all+batch peak / off+batch peak", x_ab_ob, "%.2f", x_ab_ob >= 2, ">= 2")
		target("p50@" lowc " all+batch / all", x_p50_a, "%.2f", x_p50_a <= 1.1, "<= 1.1")
		target("leader syscalls per request, all+batch at " high " clients",
			sys_ab, "%.3f", sys_ab <= 0.5, "<= 0.5")
		target("all+batch at 7 replicas / at 3", x_rep, "%.2f", x_rep >= 0.75, ">= 0.75")
		if (nn) {
			print ""
			printf "Throughput by replica count, all offloads on, %s clients, ops/s median\n", repclients
			print "[min..max] over the runs; x: ratio to the smallest count."
			printf "%-8s %-26s %5s %9s %-26s %5s %9s\n", "replicas", "all+batch", "x", "sys/req", "all", "x", "sys/req"
			for (i = 1; i <= nn; i++) {
				n = ns[i]
				printf "%-8s %-26s %5s %9s %-26s %5s %9s\n", n,
					((n SUBSEP "all+batch") in rep) ? rep[n, "all+batch"] : "-", repx[n, "all+batch"],
					repsys[n, "all+batch"], ((n SUBSEP "all") in rep) ? rep[n, "all"] : "-",
					repx[n, "all"], repsys[n, "all"]
			}
		}
	}' "$out/results.csv" "$out/medians.csv" "$out/leader.csv" "$replicas_csv"
}

# The read mixes' section of summary.txt, from results.csv, medians.csv
# and kinds.csv: per mix, peak throughput with the lease and through the
# log and their ratio; per config, GET and PUT p50 and p99 at the
# smallest client count, the share of GETs the lease answered and the
# stale replies; the lease targets.
write_reads_summary() {
	awk -F, -v batch="$batch" -v repeats="$repeats" -v sweep="$read_sweep" \
		-v order="$(read_config_list)" "$bench_awk_lib"'
	BEGIN { n = split(order, tmp, " "); for (i = 1; i <= n; i++) shown[tmp[i]] = 1 }
	FNR == 1 { col_names(); next }
	!(get("config") in shown) { next }
	FILENAME ~ /results.csv$/ {
		k = get("config") SUBSEP get("round")
		r = get("ops_per_s")
		if (!(k in peak) || r + 0 > peak[k]) peak[k] = r
		if (lowc == "" || get("clients") + 0 < lowc) lowc = get("clients") + 0
		next
	}
	FILENAME ~ /medians.csv$/ {
		c = get("config")
		r = get("ops_per_s")
		if (!(c in best) || r + 0 > best[c]) { best[c] = r; bestc[c] = get("clients") }
		next
	}
	FILENAME ~ /reads-leader.csv$/ {
		c = get("config")
		add(rcpu, c, get("cpu_us_per_op"))
		add(rhost, c, get("host_cpu_us_per_op"))
		add(rkern, c, get("fraction_reads_in_kernel"))
		if (rpc == "") rpc = get("clients")
		next
	}
	FILENAME ~ /kinds.csv$/ {
		c = get("config"); f = get("kind")
		if (f == "get") {
			gets[c] += get("ops"); leased[c] += get("lease")
			kern[c] += get("kernel")
		}
		stale[c] += get("stale_replies")
		k = c SUBSEP f SUBSEP get("clients")
		add(p50, k, get("p50_us"))
		add(p99, k, get("p99_us"))
		next
	}
	function peaks(c,   r, s) {
		s = ""
		for (r = 1; r <= repeats; r++)
			if ((c SUBSEP r) in peak) s = s (s == "" ? "" : " ") peak[c, r]
		return s
	}
	function lat(arr, c, f) { return mm(arr[c, f, lowc], "%.0f") }
	END {
		nc = split(order, cs, " ")
		nm = 0
		for (i = 1; i <= nc; i++) {
			c = cs[i]
			pk[c] = med(peaks(c))
			m = c; sub(/^(xdp|lease|log|single)/, "", m)
			if (!(m in seen)) { seen[m] = 1; mixes[++nm] = m }
			x_gp[c] = ratio(med(p50[c, "get", lowc]), med(p50[c, "put", lowc]))
		}
		printf "Read mixes, --batch %s, mix get=M,put=100-M, sweep %s clients.  xdp<M>: 5\n", batch, sweep
		print "replicas, all four offloads, --reads lease (reads answered in XDP at the leader);"
		print "lease<M>/log<M>: 5 replicas, the three consensus offloads, --reads lease/log;"
		print "single<M>: 1 replica, no BPF, --reads lease (the unreplicated server).  Peak:"
		printf "of each run'"'"'s sweep, median [min..max] over %d runs; x single, x lease:\n", repeats
		print "ratios of the medians, xdp to single and to lease."
		printf "%-13s %-24s %-24s %-24s %-24s %8s %7s\n", "mix", "xdp peak ops/s",
			"lease peak", "log peak", "single peak", "x single", "x lease"
		for (i = 1; i <= nm; i++) {
			m = mixes[i]
			printf "%-13s %-24s %-24s %-24s %-24s %8s %7s\n", "get=" m ",put=" 100 - m,
				mm(peaks("xdp" m), "%.0f"), mm(peaks("lease" m), "%.0f"),
				mm(peaks("log" m), "%.0f"), mm(peaks("single" m), "%.0f"),
				r2(ratio(pk["xdp" m], pk["single" m])),
				r2(ratio(pk["xdp" m], pk["lease" m]))
		}
		print ""
		printf "Latency at %d client(s) by op kind (us), median [min..max] over the runs;\n", lowc
		print "get/put: ratio of the p50 medians; lease: the share of GETs (every point)"
		print "answered under the lease; kernel: in XDP at the leader; stale:"
		print "replies from older state than the client saw."
		printf "%-9s %-18s %-18s %7s %-18s %-18s %6s %6s %6s\n", "config", "get p50", "put p50",
			"get/put", "get p99", "put p99", "lease", "kernel", "stale"
		for (i = 1; i <= nc; i++) {
			c = cs[i]
			printf "%-9s %-18s %-18s %7s %-18s %-18s %6s %6s %6d\n", c,
				lat(p50, c, "get"), lat(p50, c, "put"), r2(x_gp[c]),
				lat(p99, c, "get"), lat(p99, c, "put"),
				gets[c] ? sprintf("%.3f", leased[c] / gets[c]) : "-",
				gets[c] ? sprintf("%.3f", kern[c] / gets[c]) : "-", stale[c]
		}
		print ""
		printf "The leader at %s clients (one measured point a run): its process'"'"'s CPU time\n", rpc
		print "and the host'"'"'s busy CPU time per completed op (us), and the share of the"
		print "READs reaching its XDP program answered there; median [min..max]."
		printf "%-9s %-22s %-22s %-22s\n", "config", "leader cpu/op", "host cpu/op", "reads in XDP"
		for (i = 1; i <= nc; i++) {
			c = cs[i]
			printf "%-9s %-22s %-22s %-22s\n", c, mm(rcpu[c], "%.2f"),
				mm(rhost[c], "%.2f"), mm(rkern[c], "%.3f")
		}
		print ""
		print "Targets (issue 18, leases):"
		x_tp = ratio(pk["lease95"], pk["log95"])
		target("peak lease95 / log95 (get=95,put=5)", x_tp, "%.2f", x_tp >= 2, ">= 2")
		target("get p50@" lowc " / put p50@" lowc ", lease95", x_gp["lease95"], "%.2f",
			x_gp["lease95"] <= 0.5, "<= 0.5")
		print "Targets (issue 19, reads in XDP):"
		x_xs = ratio(pk["xdp95"], pk["single95"])
		target("peak xdp95 / single95 (unreplicated)", x_xs, "%.2f", x_xs >= 2, ">= 2")
		x_xl = ratio(pk["xdp95"], pk["lease95"])
		target("peak xdp95 / lease95", x_xl, "%.2f", x_xl >= 1.5, ">= 1.5")
		x_gl = ratio(med(p50["xdp95", "get", lowc]), med(p50["single95", "get", lowc]))
		target("get p50@" lowc " xdp95 / single95", x_gl, "%.2f", x_gl <= 0.5, "<= 0.5")
		x_k = gets["xdp95"] ? kern["xdp95"] / gets["xdp95"] : ""
		target("GETs answered in XDP, xdp95", x_k, "%.3f", x_k >= 0.99, ">= 0.99")
	}' "$out/results.csv" "$out/medians.csv" "$out/kinds.csv" \
		$([ -e "$out/reads-leader.csv" ] && echo "$out/reads-leader.csv")
}

# results.png: throughput against p50 (left) and p99 (right), medians,
# one line per config of the list $1, titled $3, into file $2.
plot_results() {
	gnuplot <<GP
set terminal pngcairo size 1500,650
set output '$2'
set datafile separator ','
set multiplot layout 1,2 title '$3; medians of $repeats runs'
set key top right
set grid
set logscale xy
set xlabel 'throughput (ops/s)'
set ylabel 'p50 latency (us)'
set title 'p50'
plot for [c in "$1"] '$out/medians.csv' \
	using (strcol(1) eq c ? column("ops_per_s") : NaN):(column("p50_us")) \
	with linespoints title c
set ylabel 'p99 latency (us)'
set title 'p99'
plot for [c in "$1"] '$out/medians.csv' \
	using (strcol(1) eq c ? column("ops_per_s") : NaN):(column("p99_us")) \
	with linespoints title c
unset multiplot
GP
}

# replicas.png: throughput against replica count, median with min..max.
plot_replicas() {
	gnuplot <<GP
set terminal pngcairo size 900,600
set output '$out/replicas.png'
set datafile separator ','
set key top right
set grid
set title 'electrode-c: all offloads on, $high clients; median and min..max of $repeats runs'
set xlabel 'replicas'
set ylabel 'throughput (ops/s)'
set yrange [0:*]
set xtics 1
set offsets 0.5, 0.5, 0, 0
plot for [c in "all+batch all"] '$out/replicas.csv' \
	using (strcol(2) eq c ? column("replicas") : NaN):(column("ops_per_s")):(column("ops_per_s_min")):(column("ops_per_s_max")) \
	with yerrorlines title c
GP
}

# Everything above, from the runs' csv files; the summary also printed,
# with the warnings of the runs.
report() {
	local main reads
	main=$(main_config_list)
	reads=$(read_config_list)
	write_medians
	[ -e "$out/replicas-runs.csv" ] && write_replicas
	{
		[ -z "$main" ] || write_summary
		[ -z "$main" ] || [ -z "$reads" ] || echo ""
		[ -z "$reads" ] || write_reads_summary
		echo ""
		grep '^load ' "$out/info.txt"
		grep '^warning: ' "$out/info.txt" || :
	} >"$out/summary.txt"
	cat "$out/summary.txt"
	if ! command -v gnuplot >/dev/null; then
		ec_info "gnuplot not installed; no plots"
	else
		if [ -n "$main" ]; then
			plot_results "${main% }" "$out/results.png" \
				"electrode-c: 5 replicas by offload and batching, and unreplicated; sweep $sweep clients" ||
				ec_die "gnuplot failed on results.png"
		fi
		if [ -n "$reads" ]; then
			plot_results "${reads% }" "$out/reads.png" \
				"electrode-c: 5 replicas, all offloads, --batch $batch, reads under the lease or through the log; sweep $read_sweep clients" ||
				ec_die "gnuplot failed on reads.png"
		fi
		if [ -e "$out/replicas.csv" ]; then
			plot_replicas || ec_die "gnuplot failed on replicas.png"
		fi
	fi
	ec_info "results: $out"
}
