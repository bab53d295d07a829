#!/bin/bash
# Follower catch-up after a pause, in the same view.  A 5-replica cluster
# serves 8 ec-bench clients in verify mode; during the load follower 2 is
# frozen (SIGSTOP) for 3 s and resumed (SIGCONT), then, once it has caught
# up, follower 3 gets the same.  A follower must miss more than 2000 ops
# while frozen (several NEW_STATE chunks; else the test proves nothing and
# fails), and within 15 s of its resume commit every op the leader held
# then; the time it took is printed.  When the load ends, all five must
# agree on op, commit and digest within 10 s, no request may have timed
# out and no acknowledged write may be lost (check_writes.py).
# The view must stay 0 throughout: the view timeout is 10 s, so that a
# follower resumed after 3 s does not start a view change (which would
# hand it the log by another path).  Twice: offloads off, then all on.  With fast ack on, a frozen follower's
# XDP program goes on acknowledging into its ring until the ring is full;
# those ops are in its log on resume and are not counted as missed.
set -eu
# shellcheck source=SCRIPTDIR/common.sh
. "$(dirname "$0")/common.sh"
t_begin ec-port ec-replica ec-ctl ec-bench

n=5
clients=8
pause_s=3
min_missed=2000
catchup_s=15  # the bug: a follower that stays behind forever
converge_s=10 # after the load ends
view_timeout_ms=10000
mapfile -t all < <(seq 0 $((n - 1)))

ec_trap_down t_on_exit_thaw

# Print field $2 of the status text $1 (nothing if absent).
field_of() {
	local nl=$'\n'
	[[ $1 =~ (^|$nl)$2\ ([^$nl]*) ]] && echo "${BASH_REMATCH[2]}"
}

# Fail unless the ec-bench run $1 is still going (t_bench_start).
bench_alive() {
	kill -0 "$T_BENCH_PID" 2>/dev/null ||
		t_fail "ec-bench run $1 ended early: $(cat "$T_OUT/$1.out" "$T_OUT/$1.err")"
}

# During run $1: wait until the leader, replica 0, has committed 100 ops
# and the run has gone on for a second (at most 15 s).
wait_load() {
	local c now
	while :; do
		c=$(ec_field 0 commit)
		t_now_ms now
		[ "${c:-0}" -ge 100 ] && ((now - T_BENCH_MS >= 1000)) && return 0
		((now - T_BENCH_MS < 15000)) ||
			t_fail "run $1: the leader committed ${c:-nothing} in 15 s of load"
		bench_alive "$1"
		sleep 0.05
	done
}

# During run $1: freeze follower $2 for pause_s seconds, resume it and wait
# until it has committed every op the leader held at the resume.  Fails if
# it missed too few ops to need several chunks, or does not catch up.
pause_follower() {
	local name=$1 id=$2 st op0 target acked missed now t0 deadline c
	t_eq "$(ec_field "$id" leader)" 0 "leader known to replica $id"
	t_snap "$id" "$name-pause$id-0"
	st=$(ec_ctl "$id" status) || t_fail "no status from replica $id"
	op0=$(field_of "$st" op)
	ec_pause "$id" || t_fail "cannot pause replica $id"
	t_info "run $name: paused follower $id at op $op0 for $pause_s s"
	sleep "$pause_s"
	bench_alive "$name"
	target=$(ec_field 0 op)
	[ -n "$target" ] || t_fail "no op from the leader"
	ec_resume "$id" || t_fail "cannot resume replica $id"
	t_now_ms t0
	# Its fast ack stopped at its first gap, long before it caught up.
	t_snap "$id" "$name-pause$id-1"
	acked=$(t_delta "$id" "$name-pause$id-0" "$name-pause$id-1" '^xdp[.]fastack_acked$')
	missed=$((target - op0 - acked))
	echo "run $name: follower $id: op $op0 at pause, leader op $target at resume, $acked acked in its kernel meanwhile: missed $missed ops"
	[ "$missed" -gt "$min_missed" ] ||
		t_fail "run $name: follower $id missed only $missed ops, want more than $min_missed (the load is too light to need several NEW_STATE chunks)"
	deadline=$((t0 + catchup_s * 1000))
	while :; do
		st=$(ec_ctl "$id" status 2>/dev/null) || st=
		t_now_ms now
		c=$(field_of "$st" commit)
		[ "${c:-0}" -ge "$target" ] && break
		if ((now >= deadline)); then
			t_fail "run $name: follower $id did not catch up within $catchup_s s of its resume: leader was at op $target then; follower: $(tr '\n' ' ' <<<"$st"); leader now: $(ec_ctl 0 status | tr '\n' ' ')"
		fi
		sleep 0.02
	done
	echo "run $name: follower $id caught up (commit $c >= $target) $((now - t0)) ms after its resume"
}

# One run named $1 with offloads $2 on every replica.
run() {
	local name=$1 i op view commit t0 t1
	ec_offloads_all "$2"
	t_info "run $name: offloads $2; ec-bench $clients clients, verify mode"
	t_bench_start "$name" "$clients" 60
	wait_load "$name"
	pause_follower "$name" 2
	pause_follower "$name" 3
	sleep 0.5
	bench_alive "$name"
	t_bench_stop
	t_bench_wait "$name"
	t_now_ms t0
	cat "$T_OUT/$name.out"
	t_bench_clean "$name"
	T_STATE=$(ec_wait_converged "$converge_s" "${all[@]}") ||
		t_fail "run $name: replicas did not converge within $converge_s s of the end of the load"
	read -r _ view _ commit _ <<<"$T_STATE"
	t_eq "$view" 0 "run $name: view"
	for i in "${all[@]}"; do
		op=$(ec_field "$i" op)
		t_eq "$op" "$commit" "run $name: op of replica $i (commit $commit)"
	done
	t_now_ms t1
	t_info "run $name: all replicas agree (op = commit): $T_STATE, $((t1 - t0)) ms after the load"
	t_check_writes "$name" "${all[@]}"
}

ec_up "$n" --view-timeout-ms "$view_timeout_ms"
run off none
run all all
