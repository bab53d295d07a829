#!/bin/bash
# The broadcast offload (TC egress on the leader).  A 5-replica cluster,
# offloads off, serves 8 ec-bench clients in verify mode twice: with the
# broadcast switch off, then on (set at run time on the leader).  After
# each run the replicas must agree and no acknowledged write may be lost,
# and the leader's TC counters must show the offload at work exactly when
# it is on: per PREPARE or COMMIT one "to all" original consumed
# (tc.broadcast, at least one per op executed) and n-1 clones sent
# (tc.cloned), each follower receiving every PREPARE.  Then a third run
# flips the switch every 300 ms: still no lost write, no timeout, no view
# change, and no stall near the view timeout.
set -eu
# shellcheck source=SCRIPTDIR/common.sh
. "$(dirname "$0")/common.sh"
t_begin ec-port ec-replica ec-ctl ec-bench

n=5
clients=8
mapfile -t all < <(seq 0 $((n - 1)))
max_stall_ms=150 # the view timeout is 200 ms
min_exec=1000    # ops the leader executes in a run (a window is 32)
flip_s=0.3

# Growth of the leader's counter(s) $3 from snapshot $1 to $2.
lead_delta() {
	t_delta 0 "$1" "$2" "$3"
}

# One verify-mode run $1 of $2 seconds between snapshots $1-0 and $1-1,
# then convergence and the lost-write check.  Sets EXEC (ops the leader
# executed during the run).
run_checked() {
	t_snap_all "$1-0" "${all[@]}"
	t_bench "$1" "$clients" "$2"
	t_snap_all "$1-1" "${all[@]}"
	t_bench_clean "$1"
	t_check_writes "$1" "${all[@]}"
	EXEC=$(lead_delta "$1-0" "$1-1" '^executed$')
	[ "$EXEC" -ge "$min_exec" ] ||
		t_fail "run $1: the leader executed $EXEC ops, want >= $min_exec"
	t_info "run $1: $B_RATE ops/s, p50 $B_P50 us, $EXEC ops executed, max stall $B_STALL ms; $T_STATE"
}

# Leader syscalls (its own io.syscalls count) per op executed in run $1.
syscalls_per_op() {
	t_ratio "$(lead_delta "$1-0" "$1-1" '^io[.]syscalls$')" "$EXEC"
}

ec_up "$n"

# (a) switch off: the TC program must not broadcast or clone anything.
run_checked off 3
cloned=$(lead_delta off-0 off-1 '^tc[.]cloned$')
bcast=$(lead_delta off-0 off-1 '^tc[.]broadcast$')
t_eq "$cloned" 0 "tc.cloned growth on the leader with broadcast off"
t_eq "$bcast" 0 "tc.broadcast growth on the leader with broadcast off"
t_info "broadcast off: tc.cloned +0, tc.broadcast +0, leader syscalls/op $(syscalls_per_op off)"

# (a) switch on: one send per PREPARE/COMMIT, n-1 clones of each.
sw=$(ec_ctl 0 offload broadcast on) || t_fail "ec-ctl offload broadcast on failed: $sw"
grep -qx 'switch.broadcast.prepare on' <<<"$sw" ||
	t_fail "broadcast.prepare not on after 'offload broadcast on': $sw"
run_checked on 3
cloned=$(lead_delta on-0 on-1 '^tc[.]cloned$')
bcast=$(lead_delta on-0 on-1 '^tc[.]broadcast$')
failed=$(lead_delta on-0 on-1 '^tc[.]clone_failed$')
to_all=$(lead_delta on-0 on-1 '^tx[.](PREPARE|COMMIT)$')
t_info "broadcast on: tc.cloned +$cloned, tc.broadcast +$bcast, PREPARE+COMMIT sent +$to_all, leader syscalls/op $(syscalls_per_op on)"
[ "$cloned" -gt 0 ] || t_fail "broadcast on, but tc.cloned did not grow: the TC program cloned nothing"
t_eq "$failed" 0 "tc.clone_failed growth"
[ "$bcast" -ge "$EXEC" ] ||
	t_fail "tc.broadcast grew by $bcast, fewer than the $EXEC ops executed (one PREPARE each)"
# The counters come from two commands (offload, then stats) read while
# COMMIT heartbeats go out, hence a slack of two broadcasts in the checks
# that compare them.
[ "$bcast" -le $((to_all + 2)) ] ||
	t_fail "tc.broadcast grew by $bcast, more than the $to_all PREPAREs and COMMITs sent"
diff=$((cloned - (n - 1) * bcast))
[ "${diff#-}" -le $((2 * (n - 1))) ] ||
	t_fail "tc.cloned grew by $cloned, want $((n - 1)) x tc.broadcast growth $bcast = $(((n - 1) * bcast))"
for i in $(seq 1 $((n - 1))); do
	got=$(t_delta "$i" on-0 on-1 '^rx[.]PREPARE$')
	# Up to a window of ops may have been prepared before the snapshot.
	[ "$got" -ge $((EXEC - 32)) ] ||
		t_fail "follower $i received $got PREPAREs for $EXEC ops: clones did not arrive"
done
t_info "followers received every PREPARE as a clone"

# (b) flip the switch every 300 ms under load.
t_snap_all flip-0 "${all[@]}"
t_bench_start flip "$clients" 4
state=on flips=0
while kill -0 "$T_BENCH_PID" 2>/dev/null; do
	sleep "$flip_s"
	if [ "$state" = on ]; then state=off; else state=on; fi
	# The run may end between the check and here: then ec-ctl still works.
	sw=$(ec_ctl 0 offload broadcast "$state") ||
		t_fail "ec-ctl offload broadcast $state failed: $sw"
	grep -qx "switch.broadcast.prepare $state" <<<"$sw" ||
		t_fail "broadcast.prepare not $state after 'offload broadcast $state': $sw"
	flips=$((flips + 1))
done
t_bench_wait flip
t_snap_all flip-1 "${all[@]}"
t_bench_clean flip
t_check_writes flip "${all[@]}"
read -r _ view _ _ _ _ <<<"$T_STATE"
bcast=$(lead_delta flip-0 flip-1 '^tc[.]broadcast$')
t_info "flip run: $flips flips, $B_OPS ops, $B_RATE ops/s, tc.broadcast +$bcast, max stall $B_STALL ms; $T_STATE"
[ "$flips" -ge 8 ] || t_fail "only $flips flips of the switch during the run"
[ "$bcast" -gt 0 ] || t_fail "tc.broadcast did not grow during the flip run"
t_eq "$view" 0 "view after the flip run (a view change happened)"
for i in "${all[@]}"; do
	t_eq "$(t_delta "$i" flip-0 flip-1 '^view_changes$')" 0 "view changes on replica $i"
done
t_gt "$max_stall_ms" "$B_STALL" ||
	t_fail "max stall $B_STALL ms during the flip run, want < $max_stall_ms ms"
