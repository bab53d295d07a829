#!/bin/bash
# Leader failure with every offload on.  A 5-replica cluster started with
# --offload all serves 8 ec-bench clients in verify mode for 8 s; 2 s in,
# the leader (replica 0) is killed with SIGKILL.  The run must go on in
# view 1, and the new leader's offloads must take effect there: on replica
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
nl=$'\n'

ec_up "$n" --offload all
t_info "ec-bench: $clients clients, ${duration} s, verify mode; leader killed ${kill_at} s in"
t_bench_start run "$clients" "$duration" -v
start=$SECONDS

# Kill the leader once it has committed work and kill_at seconds passed.
while :; do
	c=$(ec_field 0 commit)
	[ "${c:-0}" -ge 100 ] && ((SECONDS - start >= kill_at)) && break
	((SECONDS - start < 10)) || t_fail "the leader committed ${c:-nothing} within 10 s of load"
	kill -0 "$T_BENCH_PID" 2>/dev/null ||
		t_fail "ec-bench exited early: $(cat "$T_OUT/run.out" "$T_OUT/run.err")"
	sleep 0.05
done
pid=$(ec_replica_pid 0) || t_fail "replica 0 is not running"
ec_kill 0 "$pid"
t_info "killed leader replica 0 at commit $c"

# Wait until replica 1 leads view 1, then snapshot the live replicas.
deadline=$((SECONDS + 20))
while :; do
	st=$(ec_ctl 1 status 2>/dev/null) || st=
	if [[ $st =~ (^|$nl)status\ normal($nl) && $st =~ (^|$nl)view\ ([0-9]+) ]] &&
		((BASH_REMATCH[2] >= 1)); then
		break
	fi
	((SECONDS < deadline)) || t_fail "replica 1 not normal in a new view 20 s after the kill: $st"
	sleep 0.01
done
view=${BASH_REMATCH[2]}
t_eq "$view" 1 "view replica 1 reached after the kill"
[[ $st =~ (^|$nl)commit\ ([0-9]+) ]] || t_fail "no commit in status: $st"
commit_at_view=${BASH_REMATCH[2]}
for i in "${live[@]}"; do
	t_snap "$i" view1-0
done
t_info "replica 1 leads view 1 at commit $commit_at_view"
kill -0 "$T_BENCH_PID" 2>/dev/null ||
	t_fail "ec-bench ended before the view change was over; the run is too short to check view 1"

t_bench_wait run
for i in "${live[@]}"; do
	t_snap "$i" view1-1
done
cat "$T_OUT/run.out"
t_bench_clean run
t_check_writes run "${live[@]}"
t_info "live replicas agree: $T_STATE"
read -r _ view _ commit _ digest <<<"$T_STATE"
t_eq "$view" 1 "view at the end of the run"
after=$((commit - commit_at_view))
[ "$after" -gt "$clients" ] ||
	t_fail "only $after ops committed after the view change: the run did not go on"

quorum=$(t_delta 1 view1-0 view1-1 '^xdp[.]quorum_pass_quorum$')
dropped=$(t_delta 1 view1-0 view1-1 '^xdp[.]quorum_drop_')
cloned=$(t_delta 1 view1-0 view1-1 '^tc[.]cloned$')
t_info "in view 1: $after ops committed; new leader 1: xdp.quorum_pass_quorum +$quorum, quorum drops +$dropped, tc.cloned +$cloned"
[ "$quorum" -gt 0 ] || t_fail "the new leader's xdp.quorum_pass_quorum did not grow in view 1"
[ "$cloned" -gt 0 ] || t_fail "the new leader's tc.cloned did not grow in view 1"
for i in 2 3 4; do
	acked=$(t_delta "$i" view1-0 view1-1 '^xdp[.]fastack_acked$')
	t_info "follower $i: xdp.fastack_acked +$acked in view 1"
	[ "$acked" -gt 0 ] || t_fail "follower $i's xdp.fastack_acked did not grow in view 1"
done

# Recovery, offloads on from the start.
ec_start 0 --recover --offload all
ec_wait_ready 0
state0=$(ec_wait_converged 30 0 "${live[@]}") || t_fail "recovered replica 0 did not catch up"
t_info "after recovery all replicas agree: $state0"
read -r _ _ _ commit0 _ digest0 <<<"$state0"
t_eq "$commit0" "$commit" "commit after recovery"
t_eq "$digest0" "$digest" "digest after recovery"
ec_ctl 0 dump >"$T_OUT/run.dump0" || t_fail "dump of replica 0 failed"
t_run python3 "$T_DIR/check_writes.py" "$T_OUT/run.vlog" "$T_OUT/run.dump0"

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
