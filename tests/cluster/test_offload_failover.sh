#!/bin/bash
# Leader failure with every offload on.  A 5-replica cluster started with
# --offload all serves 8 ec-bench clients in verify mode for 8 s; 2 s in,
# the leader (replica 0) is killed with SIGKILL.  The run must go on in
# view 1 (at least $min_view_ops ops committed there and requests
# answered by the new leader, tx.REPLY), and the new leader's offloads
# must take effect there: on replica
# 1 xdp.quorum_pass_quorum and tc.cloned grow after the view change, and
# the followers' xdp.fastack_acked keep growing.  The live replicas must
# agree and lose no acknowledged write.  Then replica 0 restarts with
# --recover --offload all, must catch up to the same commit and digest,
# and its fast ack must work again: its xdp.fastack_acked grows during a
# short extra run (after which all five agree and lose no write).
set -eu
# shellcheck source=SCRIPTDIR/common.sh
. "$(dirname "$0")/common.sh"
t_begin ec-port ec-replica ec-ctl ec-bench

n=5
clients=8
duration=8
kill_at=2 # seconds into the run
live=(1 2 3 4)
min_view_ops=5000 # committed in view 1 (some 40000 on 2 CPUs)

ec_up "$n" --offload all
t_info "ec-bench: $clients clients, ${duration} s, verify mode; leader killed ${kill_at} s in"
t_bench_start run "$clients" "$duration" -v
t_kill_leader_after run "$kill_at"
t_info "killed leader replica 0 at commit $T_KILL_COMMIT"
t_wait_new_view
t_eq "$T_VIEW" 1 "view replica 1 reached after the kill"
commit_at_view=$T_VIEW_COMMIT
t_snap_all view1-0 "${live[@]}"
t_info "replica 1 leads view 1 at commit $commit_at_view"
kill -0 "$T_BENCH_PID" 2>/dev/null ||
	t_fail "ec-bench ended before the view change was over; the run is too short to check view 1"

t_bench_wait run
t_snap_all view1-1 "${live[@]}"
cat "$T_OUT/run.out"
t_bench_clean run
t_check_writes run "${live[@]}"
t_info "live replicas agree: $T_STATE"
read -r _ view _ commit _ digest <<<"$T_STATE"
t_eq "$view" 1 "view at the end of the run"
after=$((commit - commit_at_view))
[ "$after" -ge "$min_view_ops" ] ||
	t_fail "only $after ops committed after the view change, want >= $min_view_ops: the run did not go on"
replies=$(t_delta 1 view1-0 view1-1 '^tx[.]REPLY$')
[ "$replies" -ge "$min_view_ops" ] ||
	t_fail "the new leader 1 answered only $replies requests in view 1, want >= $min_view_ops"

quorum=$(t_delta 1 view1-0 view1-1 '^xdp[.]quorum_pass_quorum$')
dropped=$(t_delta 1 view1-0 view1-1 '^xdp[.]quorum_drop_')
cloned=$(t_delta 1 view1-0 view1-1 '^tc[.]cloned$')
t_info "in view 1: $after ops committed, $replies replies; new leader 1: xdp.quorum_pass_quorum +$quorum, quorum drops +$dropped, tc.cloned +$cloned"
[ "$quorum" -gt 0 ] || t_fail "the new leader's xdp.quorum_pass_quorum did not grow in view 1"
[ "$cloned" -gt 0 ] || t_fail "the new leader's tc.cloned did not grow in view 1"
for i in 2 3 4; do
	acked=$(t_delta "$i" view1-0 view1-1 '^xdp[.]fastack_acked$')
	t_info "follower $i: xdp.fastack_acked +$acked in view 1"
	[ "$acked" -gt 0 ] || t_fail "follower $i's xdp.fastack_acked did not grow in view 1"
done

# Recovery, offloads on from the start.
t_check_recovered 0 "$commit" "$digest" run --offload all

# The recovered replica's fast ack.
t_snap 0 extra-0
t_bench extra 4 1.5
t_snap 0 extra-1
t_bench_clean extra
t_check_writes extra 1 0 2 3 4
acked=$(t_delta 0 extra-0 extra-1 '^xdp[.]fastack_acked$')
seen=$(t_delta 0 extra-0 extra-1 '^xdp[.]fastack_')
t_info "extra run: $B_RATE ops/s; recovered replica 0: xdp.fastack_acked +$acked of $seen PREPAREs; $T_STATE"
[ "$acked" -gt 0 ] || t_fail "recovered replica 0's xdp.fastack_acked did not grow"
