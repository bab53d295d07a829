#!/bin/bash
# Leader failure under load.  A 5-replica cluster serves 8 ec-bench clients
# in verify mode; a few seconds in, the leader (replica 0, view 0) is
# killed with SIGKILL.  The run must go on in the new view, complete at
# least 10,000 ops, leave the four live replicas identical, and lose no
# acknowledged write (check_writes.py).  Then replica 0 restarts with
# --recover and must catch up to the same commit and digest, and the
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
start=0 t=0 t0=0 t1=0 # set by now_ms

# Milliseconds since the epoch into variable $1, without forking: the
# machine is saturated during the run and every fork costs milliseconds.
now_ms() {
	local us=${EPOCHREALTIME/./}
	printf -v "$1" '%s' $((us / 1000))
}

ec_up "$n"
vlog=$T_OUT/verify.log
bout=$T_OUT/bench.out
t_info "ec-bench: $clients clients, ${duration} s, verify log $vlog"
ec_client "$EC_BIN/ec-bench" --config "$EC_CONF" --clients "$clients" \
	--duration "$duration" --warmup 0.5 --verify-log "$vlog" -v \
	>"$bout" 2>"$T_OUT/bench.err" &
bench=$!
now_ms start

# Kill the leader once it has committed work and kill_at seconds passed.
deadline=$((SECONDS + 10))
while :; do
	c=$(ec_field 0 commit)
	now_ms t
	[ "${c:-0}" -ge 100 ] && [ $((t - start)) -ge $((kill_at * 1000)) ] && break
	((SECONDS < deadline)) || t_fail "the leader committed ${c:-nothing} within 10 s of load"
	kill -0 "$bench" 2>/dev/null || t_fail "ec-bench exited early: $(cat "$bout" "$T_OUT/bench.err")"
	sleep 0.05
done
commit_at_kill=$c
pid=$(ec_replica_pid 0) || t_fail "replica 0 is not running"
now_ms t0
ec_kill 0 "$pid"
t_info "killed leader replica 0 at commit $commit_at_kill, $(((t0 - start) / 1000)) s into the run"

# Time the view change as replica 1 (leader of view 1) sees it: one fork
# (ec-ctl) per poll, parsing in bash.
nl=$'\n'
sock1=$(ec_sock 1)
deadline=$((SECONDS + 20))
while :; do
	st=$("$EC_BIN/ec-ctl" "$sock1" status 2>/dev/null) || st=
	now_ms t1
	if [[ $st =~ (^|$nl)status\ normal($nl) && $st =~ (^|$nl)view\ ([0-9]+) ]] &&
		((BASH_REMATCH[2] >= 1)); then
		view=${BASH_REMATCH[2]}
		break
	fi
	((SECONDS < deadline)) || t_fail "replica 1 not normal in a new view 20 s after the kill: $st"
	sleep 0.01
done
[[ $st =~ (^|$nl)commit\ ([0-9]+) ]] || t_fail "no commit in status: $st"
commit_at_view=${BASH_REMATCH[2]}
echo "view change took $((t1 - t0)) ms (view $view, commit $commit_at_view)"

rc=0
wait "$bench" || rc=$?
cat "$bout"
[ "$rc" -eq 0 ] || t_fail "ec-bench failed (status $rc): $(tail -n 5 "$T_OUT/bench.err")"
detail=$(grep -E '^[0-9]+ ops, .*max stall' "$bout") || t_fail "no result line in ec-bench output"
ops=${detail%% *}
stall=$(sed -E 's/.*max stall ([0-9.]+ ms).*/\1/' <<<"$detail")
echo "max stall $stall"
[ "$ops" -ge "$min_ops" ] || t_fail "only $ops ops completed, want at least $min_ops"

state=$(ec_wait_converged 30 1 2 3 4) || t_fail "live replicas did not converge"
t_info "live replicas agree: $state"
read -r _ view _ commit _ digest <<<"$state"
after=$((commit - commit_at_view))
echo "ops committed after the view change: $after"
[ "$after" -gt "$clients" ] ||
	t_fail "only $after ops committed after the view change: the run did not go on"

leader=$((view % n))
ec_ctl "$leader" dump >"$T_OUT/dump.txt" || t_fail "dump of replica $leader failed"
t_run python3 "$T_DIR/check_writes.py" "$vlog" "$T_OUT/dump.txt"

ec_start 0 --recover
ec_wait_ready 0
state0=$(ec_wait_converged 30 0 1 2 3 4) || t_fail "recovered replica 0 did not catch up"
t_info "after recovery all replicas agree: $state0"
read -r _ _ _ commit0 _ digest0 <<<"$state0"
t_eq "$commit0" "$commit" "commit after recovery"
t_eq "$digest0" "$digest" "digest after recovery"
ec_ctl 0 dump >"$T_OUT/dump0.txt" || t_fail "dump of replica 0 failed"
t_run python3 "$T_DIR/check_writes.py" "$vlog" "$T_OUT/dump0.txt"

out=$(ec_client "$EC_BIN/ec-cli" --config "$EC_CONF" put after-recovery yes 2>&1) ||
	t_fail "put after recovery failed: $out"
state=$(ec_wait_converged 30 0 1 2 3 4) || t_fail "replicas diverged after a put"
t_info "one more put, all replicas agree: $state"
