#!/bin/bash
# Leader failure under load.  A 5-replica cluster serves 8 ec-bench clients
# in verify mode; a few seconds in, the leader (replica 0, view 0) is
# killed with SIGKILL.  The view change must finish within 5 view timeouts
# (1 s), the run must go on in the new view with no request given up,
# complete at least 10,000 ops, of which at least $min_view_ops committed
# in the new view (its commit number) and answered by the new leader (its
# tx.REPLY), leave the four live replicas identical, and lose no
# acknowledged write (check_writes.py).  Then replica 0 restarts
# with --recover and must catch up to the same commit and digest, and the
# cluster of five must go on committing.
set -eu
# shellcheck source=SCRIPTDIR/common.sh
. "$(dirname "$0")/common.sh"
t_begin ec-port ec-replica ec-ctl ec-bench ec-cli

n=5
clients=8
duration=${EC_FAILOVER_DURATION:-10}
kill_at=3 # seconds into the run
min_ops=10000
min_view_ops=5000 # of those in the new view (some 40000 on 2 CPUs)
max_view_change_ms=1000 # the view timeout is 200 ms

ec_up "$n"
t_info "ec-bench: $clients clients, ${duration} s, verify mode"
t_bench_start run "$clients" "$duration" -v
t_kill_leader_after run "$kill_at"
t_info "killed leader replica 0 at commit $T_KILL_COMMIT, $(((T_KILL_MS - T_BENCH_MS) / 1000)) s into the run"
t_wait_new_view
took=$((T_VIEW_MS - T_KILL_MS))
echo "view change took $took ms (view $T_VIEW, commit $T_VIEW_COMMIT)"
[ "$took" -le "$max_view_change_ms" ] ||
	t_fail "the view change took $took ms, more than $max_view_change_ms ms"
new_leader=$((T_VIEW % n))
t_snap "$new_leader" view-0

t_bench_wait run
t_snap "$new_leader" view-1
cat "$T_OUT/run.out"
echo "max stall $B_STALL ms"
t_bench_clean run
[ "$B_OPS" -ge "$min_ops" ] || t_fail "only $B_OPS ops completed, want at least $min_ops"

t_check_writes run 1 2 3 4
t_info "live replicas agree: $T_STATE"
read -r _ _ _ commit _ digest <<<"$T_STATE"
after=$((commit - T_VIEW_COMMIT))
replies=$(t_delta "$new_leader" view-0 view-1 '^tx[.]REPLY$')
echo "ops committed after the view change: $after; replies from the new leader $new_leader: $replies"
[ "$after" -ge "$min_view_ops" ] ||
	t_fail "only $after ops committed after the view change, want >= $min_view_ops: the run did not go on"
[ "$replies" -ge "$min_view_ops" ] ||
	t_fail "the new leader $new_leader answered only $replies requests in view $T_VIEW, want >= $min_view_ops"

t_check_recovered 0 "$commit" "$digest" run

out=$(ec_client "$EC_BIN/ec-cli" --config "$EC_CONF" put after-recovery yes 2>&1) ||
	t_fail "put after recovery failed: $out"
state=$(ec_wait_converged 30 0 1 2 3 4) || t_fail "replicas diverged after a put"
t_info "one more put, all replicas agree: $state"
