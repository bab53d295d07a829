#!/bin/bash
# Leases and clock drift.  The replicas of this machine share one clock,
# so the leader is given a skewed one (--clock-skew-ppm, a test knob: its
# timeouts and its lease run on it).  The lease (0.9 of the followers'
# promise) is safe while clocks differ by at most 1000 ppm, with a wide
# margin: the stale-read run of test_lease.sh (history-mode ec-bench,
# get=90,put=10, 4 reading clients pinned to the leader, it cut off for 3
# s) must stay linearizable with the leader's clock 1000 ppm slow; with
# it 50% slow, its 180 ms lease lasts 360 ms of real time, past the new
# view, and ec-lincheck must find the stale reads (the negative control).
set -eu
# shellcheck source=SCRIPTDIR/common.sh
. "$(dirname "$0")/common.sh"
t_begin ec-port ec-replica ec-ctl ec-bench ec-lincheck

n=5
export EC_PREFIX EC_NET # for the nemesis

# Run $1 with replica 0 (the leader) started with --clock-skew-ppm $2;
# sets LC, ec-lincheck's exit status.
skewed() {
	local name=$1 ppm=$2 hist=$T_OUT/$1.jsonl bench_pid i
	ec_topology_up "$n"
	ec_start 0 --reads lease --clock-skew-ppm "$ppm"
	for ((i = 1; i < n; i++)); do
		ec_start "$i" --reads lease
	done
	for ((i = 0; i < n; i++)); do
		ec_wait_ready "$i"
	done
	ec_client "$EC_BIN/ec-bench" --config "$EC_CONF" --clients 8 \
		--pin 0:4 --pin-mix get=100 --duration 7 --warmup 0 \
		--give-up-ms 2000 --mix get=90,put=10 --history "$hist" >"$T_OUT/$name.out" 2>&1 &
	bench_pid=$!
	sleep 1.5
	"$EC_ROOT/cluster/nemesis.sh" partition 3 0 1,2,3,4 >"$T_OUT/$name.nem" 2>&1 ||
		t_fail "$name: nemesis partition failed: $(cat "$T_OUT/$name.nem")"
	wait "$bench_pid" || t_fail "$name: ec-bench failed: $(tail -n 3 "$T_OUT/$name.out")"
	ec_wait_converged 30 $(seq 0 $((n - 1))) >/dev/null ||
		t_fail "$name: the replicas did not converge after the heal"
	LC=0
	"$EC_BIN/ec-lincheck" "$hist" >"$T_OUT/$name.lincheck" 2>&1 || LC=$?
	t_info "$name: leader clock $ppm ppm, $(grep -c '"type":"invoke"' "$hist") operations, ec-lincheck status $LC"
	ec_down
}

skewed within -1000
[ "$LC" -eq 0 ] || t_fail "within: not linearizable with the leader 1000 ppm slow: $(head -c 800 "$T_OUT/within.lincheck")"
skewed beyond -500000
[ "$LC" -eq 1 ] ||
	t_fail "beyond: with the leader's clock 50% slow ec-lincheck exited $LC, want 1 (a stale read)"
t_info "beyond: $(grep -c 'NOT linearizable' "$T_OUT/beyond.lincheck") keys not linearizable, as they must be"
