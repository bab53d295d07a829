#!/bin/bash
# An even-sized cluster under a partition into halves, offloads off and
# all on.  4 replicas, history-mode ec-bench (8 clients that resend to
# every replica after a timeout, so both halves get requests), and
# `nemesis.sh partition 6 0,1 2,3`: with majority quorums (3 of 4)
# neither half may commit anything prepared after the cut (the highest
# commit before the heal stays at or below the highest op held when it
# began), the cluster must commit again after the heal, converge, and the
# whole history must be linearizable (ec-lincheck).  With f = (n-1)/2
# quorums (2 of 4) both halves committed and ec-lincheck failed.
set -eu
# shellcheck source=SCRIPTDIR/common.sh
. "$(dirname "$0")/common.sh"
t_begin ec-port ec-replica ec-ctl ec-bench ec-lincheck

n=4
export EC_PREFIX EC_NET # for the nemesis

# Highest value of status field $1 over every replica that answers.
max_field() {
	local i v m=0
	for ((i = 0; i < n; i++)); do
		v=$(ec_field "$i" "$1") || v=0
		((${v:-0} > m)) && m=$v
	done
	echo "$m"
}

# One setting: $1 names it, the rest are replica arguments.
run() {
	local name=$1 hist=$T_OUT/$1.jsonl held top after ops bench_pid nem_pid
	local split=
	shift
	ec_up "$n" "$@"
	ec_client "$EC_BIN/ec-bench" --config "$EC_CONF" --clients 8 \
		--duration 12 --warmup 0 --give-up-ms 2000 \
		--history "$hist" >"$T_OUT/$name.out" 2>&1 &
	bench_pid=$!
	sleep 2
	(($(max_field commit) > 100)) || t_fail "$name: under 100 ops committed before the partition"
	"$EC_ROOT/cluster/nemesis.sh" partition 6 0,1 2,3 >"$T_OUT/$name.nem" 2>&1 &
	nem_pid=$!
	# ops in flight when the cut began may still commit on the side
	# that holds their acks; anything above what any replica held then
	# needs a quorum on one side
	sleep 0.3
	held=$(max_field op)
	sleep 5
	top=$(max_field commit)
	wait "$nem_pid" || t_fail "$name: nemesis partition failed: $(cat "$T_OUT/$name.nem")"
	t_info "$name: highest op held 0.3 s into the partition $held, highest commit 5.3 s in $top"
	# checked last, so that the history of a split brain is checked too
	((top <= held)) ||
		split="a half of 2 of 4 replicas committed op $top > $held during the partition"
	wait "$bench_pid" || t_fail "$name: ec-bench failed: $(tail -n 3 "$T_OUT/$name.out")"
	T_STATE=$(ec_wait_converged 30 $(seq 0 $((n - 1)))) ||
		t_fail "$name: the replicas did not converge after the heal"
	after=$(awk '{ print $4 }' <<<"$T_STATE")
	((after > top + 100)) || t_fail "$name: only $((after - top)) ops committed after the heal"
	"$EC_BIN/ec-lincheck" "$hist" >"$T_OUT/$name.lincheck" 2>&1 ||
		t_fail "$name: history not linearizable${split:+ ($split)}: $(grep -c 'NOT linearizable' "$T_OUT/$name.lincheck") keys: $(head -c 600 "$T_OUT/$name.lincheck")"
	[ -z "$split" ] || t_fail "$name: $split"
	ops=$(grep -c '"type":"invoke"' "$hist")
	t_info "$name: $ops operations linearizable; after the heal $T_STATE"
	ec_down
}

run off
run all --offload all
