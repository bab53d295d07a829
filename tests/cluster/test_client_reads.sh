#!/bin/bash
# The client's side of lease reads, on 5 replicas with every offload on:
#   - ec-bench get=90,put=10 prints a get and a put line; with the
#     replicas' default --reads lease the lease answers at least 90% of
#     the gets, after `ec-ctl reads log` on every replica none (and the
#     leader's reads_log counts them);
#   - --pin 1:2 sends the requests of 2 of 4 clients to follower 1
#     first: each comes back NOT_LEADER and goes on to the leader (a
#     retry each: at least a fifth of the ops, none timed out), while
#     unpinned clients retry nothing;
#   - history mode with the read-heavy mix, 4 of 8 clients pinned to the
#     leader (replica 0; if that run found nothing, once more against the
#     new leader) while it is cut off from the other replicas (not
#     from the client) for 1.5 s: the pinned clients, once answered by the
#     new leader, ask the deposed one for newer state than it has
#     (Request.min_op), so its reads_behind counts reads it did not answer
#     from its state; no reply came from older state than its client had
#     seen (stale replies 0); the history is linearizable.
set -eu
# shellcheck source=SCRIPTDIR/common.sh
. "$(dirname "$0")/common.sh"
t_begin ec-port ec-replica ec-ctl ec-bench ec-lincheck

# ec-bench run $1 (output $T_OUT/$1.out) with arguments $2...; sets
# R_OPS, R_RETRIES, R_TIMEOUTS, R_STALE from the detail line, R_GETS and
# R_LEASE from the get line.
run() {
	local name=$1 out detail get
	shift
	out=$T_OUT/$name.out
	ec_client "$EC_BIN/ec-bench" --config "$EC_CONF" --warmup 0.3 "$@" \
		>"$out" 2>"$T_OUT/$name.err" ||
		t_fail "ec-bench run $name failed: $(tail -n 5 "$T_OUT/$name.err" "$out")"
	detail=$(grep -E '^[0-9]+ ops, ' "$out") || t_fail "run $name: no detail line"
	[[ $detail =~ ^([0-9]+)\ ops,.*retries\ ([0-9]+),\ timeouts\ ([0-9]+),.*stale\ replies\ ([0-9]+)$ ]] ||
		t_fail "run $name: cannot read: $detail"
	R_OPS=${BASH_REMATCH[1]} R_RETRIES=${BASH_REMATCH[2]}
	R_TIMEOUTS=${BASH_REMATCH[3]} R_STALE=${BASH_REMATCH[4]}
	get=$(grep '^get: ' "$out") || t_fail "run $name: no get line: $(cat "$out")"
	grep -q '^put: [0-9]* ops, mean [0-9.]* us, p50 [0-9]* us' "$out" ||
		t_fail "run $name: no put line: $(cat "$out")"
	[[ $get =~ ^get:\ ([0-9]+)\ ops,.*,\ lease\ ([0-9]+)\ \( ]] ||
		t_fail "run $name: cannot read: $get"
	R_GETS=${BASH_REMATCH[1]} R_LEASE=${BASH_REMATCH[2]}
	((R_GETS > 0)) || t_fail "run $name: no get completed"
	t_info "run $name: $R_OPS ops, $R_GETS gets, $R_LEASE under the lease, $R_RETRIES retries, $R_TIMEOUTS timeouts, $R_STALE stale replies"
}

ec_up 5 --offload all
mix=(--mix "get=90,put=10")

run lease --clients 4 --duration 2 "${mix[@]}" --pin 1:2
t_gt "$R_LEASE" "$((R_GETS * 9 / 10))" ||
	t_fail "the lease answered $R_LEASE of $R_GETS gets, want at least 90%"
t_eq "$R_TIMEOUTS" 0 "timeouts with 2 clients pinned to follower 1"
t_gt "$((R_RETRIES * 5))" "$R_OPS" ||
	t_fail "$R_RETRIES retries in $R_OPS ops: the pinned clients did not go to follower 1 first"

for i in 0 1 2 3 4; do
	t_eq "$(ec_ctl "$i" reads log)" "reads log" "ec-ctl $i reads log"
done
t_snap 0 before
run log --clients 4 --duration 2 "${mix[@]}"
t_snap 0 after
t_eq "$R_LEASE" 0 "gets answered under the lease with reads log"
t_eq "$R_RETRIES" 0 "retries of unpinned clients"
t_gt "$(t_delta 0 before after '^reads_log$')" "$((R_GETS - 1))" ||
	t_fail "the leader's reads_log grew less than the $R_GETS gets"
for i in 0 1 2 3 4; do
	ec_ctl "$i" reads lease >/dev/null || t_fail "ec-ctl $i reads lease"
done

# The partitioned run $1 (history $T_OUT/history.jsonl, replaced) against
# the current leader L: 4 of 8 clients pinned to it while it is cut off
# from the others; sets behind, L's reads_behind growth.
partitioned_run() {
	local bench others
	L=$(($(ec_field 0 view) % 5))
	others=$(seq 0 4 | grep -vx "$L" | paste -sd,)
	t_snap "$L" "history$1.0"
	ec_client "$EC_BIN/ec-bench" --config "$EC_CONF" --clients 8 --duration 5 \
		--warmup 0 --give-up-ms 2000 "${mix[@]}" --pin "$L:4" \
		--history "$T_OUT/history.jsonl" >"$T_OUT/history.out" 2>&1 &
	bench=$!
	sleep 1.5
	EC_PREFIX=$EC_PREFIX EC_NET=$EC_NET "$EC_ROOT/cluster/nemesis.sh" partition 1.5 "$L" "$others" >"$T_OUT/nemesis.out" ||
		t_fail "the nemesis failed: $(cat "$T_OUT/nemesis.out")"
	wait "$bench" || t_fail "ec-bench history run failed: $(tail -n 5 "$T_OUT/history.out")"
	t_snap "$L" "history$1.1"
	cat "$T_OUT/history.out"
	grep -q 'stale replies 0$' "$T_OUT/history.out" ||
		t_fail "replies from older state than their client had seen: $(grep 'stale replies' "$T_OUT/history.out")"
	behind=$(t_delta "$L" "history$1.0" "history$1.1" '^reads_behind$')
}

# A pinned client asks the deposed leader for newer state only if that
# replica still leads in its own view once the client heard the new
# leader: in one CI run it left normal status at once (a view change it
# heard of), so a second run, against the new leader, may be needed.
partitioned_run 1
if [ "$behind" -eq 0 ]; then
	t_info "run 1: deposed leader $L was never asked for newer state than it had; once more"
	"$EC_BIN/ec-lincheck" "$T_OUT/history.jsonl" >"$T_OUT/lincheck.txt" 2>&1 ||
		t_fail "run 1: the history is not linearizable: $(head -n 20 "$T_OUT/lincheck.txt")"
	ec_wait_converged 15 0 1 2 3 4 >/dev/null || t_fail "run 1: the replicas did not converge"
	partitioned_run 2
fi
t_gt "$behind" 0 ||
	t_fail "the deposed leader was never asked for newer state than it had (reads_behind 0): the clients send no min_op"
"$EC_BIN/ec-lincheck" "$T_OUT/history.jsonl" >"$T_OUT/lincheck.txt" 2>&1 ||
	t_fail "the history is not linearizable: $(head -n 20 "$T_OUT/lincheck.txt")"
t_info "partitioned leader: $behind reads it had no state for; $(head -n 1 "$T_OUT/lincheck.txt")"
state=$(ec_wait_converged 15 0 1 2 3 4) || t_fail "the replicas did not converge"
t_info "all 5 replicas agree: $state"
