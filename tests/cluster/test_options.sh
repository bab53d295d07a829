#!/bin/bash
# Replica options that change timing or replicated state, each checked on
# real replicas (3, offloads off) by a count that would be different if
# the option did nothing:
#   --heartbeat-ms 50     an idle leader sends a COMMIT about every 50 ms
#                         (the default 10 ms would send five times as many)
#   --retransmit-ms 100   a follower cut off from the rest, in view change,
#                         resends START_VIEW_CHANGE about every 100 ms
#                         (view timeout 500 ms; the default 20 ms: 5x)
#   --checkpoint-bytes    with --checkpoint-ops 0, checkpoints are taken
#                         by bytes alone, at the same ops on every replica
#   --client-expiry-ops   a client frozen while the others execute more
#                         than that many ops is forgotten: its next request
#                         is answered SESSION_EXPIRED (counted by ec-bench
#                         as an error and by the replicas), not executed
set -eu
# shellcheck source=SCRIPTDIR/common.sh
. "$(dirname "$0")/common.sh"
t_begin ec-port ec-replica ec-ctl ec-bench
frozen= # the ec-bench this test freezes: thawed on any exit
on_exit() {
	local rc=$?
	[ -z "$frozen" ] || kill -CONT "$frozen" 2>/dev/null || :
	t_on_exit "$rc"
}
trap on_exit EXIT

n=3
leader=0
export EC_PREFIX EC_NET # for the nemesis

# Fail unless $1 is within [0.6, 1.4] times $2 (counts); $3 names it.
near() {
	awk -v got="$1" -v want="$2" 'BEGIN { exit !(got >= 0.6 * want && got <= 1.4 * want) }' ||
		t_fail "$3: $1, want about $2"
}

# --- --heartbeat-ms and --retransmit-ms ---------------------------------
ec_up "$n" --heartbeat-ms 50 --retransmit-ms 100 --view-timeout-ms 500
t_snap $leader idle.0
t_now_ms t0
sleep 2
t_now_ms t1
t_snap $leader idle.1
hb=$(t_delta $leader idle.0 idle.1 '^tx\.COMMIT$')
want=$(((t1 - t0) / 50))
t_info "idle leader, --heartbeat-ms 50: $hb COMMITs in $((t1 - t0)) ms (want about $want)"
near "$hb" "$want" "COMMITs of an idle leader with --heartbeat-ms 50"

# replica 2 alone: after the view timeout it starts view changes, one per
# 500 ms, and resends START_VIEW_CHANGE every 100 ms between them
t_snap 2 cut.0
"$EC_ROOT/cluster/nemesis.sh" partition 2.5 2 rest >"$T_OUT/nemesis.out" 2>&1 ||
	t_fail "nemesis partition failed: $(cat "$T_OUT/nemesis.out")"
t_snap 2 cut.1
svc=$(t_delta 2 cut.0 cut.1 '^tx\.START_VIEW_CHANGE$')
want=$(((2500 - 500) / 100))
t_info "cut-off follower, --retransmit-ms 100: $svc START_VIEW_CHANGEs (want about $want)"
near "$svc" "$want" "START_VIEW_CHANGEs of a cut-off follower with --retransmit-ms 100"
ec_wait_converged 20 0 1 2 >/dev/null || t_fail "no convergence after the partition"

# --- --checkpoint-bytes ----------------------------------------------------
ec_down
ec_up "$n" --checkpoint-ops 0 --checkpoint-bytes 262144
t_snap $leader ckpt.0
t_bench ckpt 32 2
t_bench_clean ckpt
t_snap $leader ckpt.1
T_STATE=$(ec_wait_converged 20 0 1 2) || t_fail "no convergence after the load"
k=$(t_delta $leader ckpt.0 ckpt.1 '^checkpoints$')
points=$(for i in 0 1 2; do ec_field "$i" checkpoint; done | sort -u | tr '\n' ' ')
t_info "--checkpoint-ops 0 --checkpoint-bytes 262144: $k checkpoints at the leader in $B_OPS requests; latest checkpoint op per replica: $points"
((k >= 3)) || t_fail "only $k checkpoints taken by bytes"
[ "$(wc -w <<<"$points")" -eq 1 ] || t_fail "replicas hold different latest checkpoints: $points"

# --- --client-expiry-ops ---------------------------------------------------
ec_down
ec_up "$n" --batch 1 --client-expiry-ops 2000
t_bench_start frozen 1 6 --warmup 0
for ((i = 0; i < 100; i++)); do
	frozen=$(ip netns pids "$(ec_ns_client)" 2>/dev/null) || frozen=
	[ -z "$frozen" ] || break
	sleep 0.02
done
[ "$(wc -w <<<"$frozen")" -eq 1 ] || t_fail "want one ec-bench in the client namespace, got '$frozen'"
frozen_bench=$T_BENCH_PID
sleep 0.5
kill -STOP "$frozen"
t_snap $leader exp.0
# the others execute well past 2000 ops (a scan every 4096 drops it)
ec_client "$EC_BIN/ec-bench" --config "$EC_CONF" --clients 16 --duration 1.5 \
	--warmup 0 >"$T_OUT/others.out" 2>&1 || t_fail "the other clients failed: $(cat "$T_OUT/others.out")"
kill -CONT "$frozen"
T_BENCH_PID=$frozen_bench
t_bench_wait frozen
t_snap $leader exp.1
dropped=$(t_delta $leader exp.0 exp.1 '^clients_expired$')
refused=$(t_delta $leader exp.0 exp.1 '^sessions_expired$')
t_info "--client-expiry-ops 2000: $dropped clients forgotten, $refused requests answered SESSION_EXPIRED; the frozen client saw $B_ERRORS errors and $B_OPS ops"
((dropped >= 1)) || t_fail "no client forgotten with --client-expiry-ops 2000"
((refused >= 1)) || t_fail "no request answered SESSION_EXPIRED"
((B_ERRORS >= 1)) || t_fail "the frozen client saw no SESSION_EXPIRED"
((B_OPS > 0)) || t_fail "the frozen client did nothing after it went on as a new one"
