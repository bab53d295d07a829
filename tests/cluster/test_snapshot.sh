#!/bin/bash
# Checkpoints, log compaction and snapshot state transfer on a 5-replica
# cluster started with --checkpoint-ops $K (small, so that a few seconds
# of ec-bench load run past several checkpoints).  Twice: offloads off,
# then all on.  Each time:
#  (a) follower 4 is killed (SIGKILL) while 8 verify-mode clients run;
#      the leader executes 4 K more ops (three or more checkpoints, its log
#      base moves past everything replica 4 held); replica 4 restarts with
#      --recover: it must install a snapshot (snapshot.installed) of at
#      least $min_chunks chunks, asking at most one GET_SNAPSHOT per
#      window of 8 chunks (answers come in windows: 53 chunks, 7
#      questions), reach the others' commit and digest, and lose no
#      write; then, during a
#      short extra run, it must acknowledge again (with offloads on, in
#      XDP: its xdp.fastack_acked grows).
#  (b) follower 3 is cut off while the cluster runs past 14000 + 2 K
#      more ops and the leader's log base passes 14000 ops beyond it,
#      then healed: it must catch up by snapshot (its snapshot.installed
#      grows) and agree.  node.sh loss only drops what a node SENDS (a
#      one-way partition: the follower would go on receiving and
#      appending every PREPARE), so the cut is a freeze (SIGSTOP), which
#      stops it handling anything; its 4 MB socket buffer and, with fast
#      ack, its 8 MB ring still hold the first several thousand PREPAREs
#      (up to about 12000 together), hence that many, so that what it
#      holds on thaw ends below the others' log base.  The view timeout is long (10 s) so that the thawed follower
#      rejoins its view rather than starting a view change.
# The replicas' RSS (ps -o rss) is printed at the start and the end.
set -eu
# shellcheck source=SCRIPTDIR/common.sh
. "$(dirname "$0")/common.sh"
t_begin ec-port ec-replica ec-ctl ec-bench

n=5
clients=8
K=${EC_TEST_CHECKPOINT_OPS:-2000}
view_timeout_ms=10000
catchup_s=20
window=8      # chunks per answer to a GET_SNAPSHOT (EC_TRANSFER_WINDOW)
min_chunks=16 # a checkpoint of about 2 MB is some 53 chunks
mapfile -t all < <(seq 0 $((n - 1)))

ec_trap_down t_on_exit_thaw

# Print every running replica's resident set size in KiB.
rss_line() {
	local i pid line=
	for i in "${all[@]}"; do
		pid=$(ec_replica_pid "$i") || continue
		line+="r$i $(ps -o rss= -p "$pid" | tr -d ' ') KiB  "
	done
	echo "$line"
}

# Fail unless the ec-bench run $1 is still going.
bench_alive() {
	kill -0 "$T_BENCH_PID" 2>/dev/null ||
		t_fail "ec-bench run $1 ended early: $(cat "$T_OUT/$1.out" "$T_OUT/$1.err")"
}

# During run $1: wait (at most $3 s) until the leader, replica 0, has
# committed op $2.
wait_leader_commit() {
	local deadline=$((SECONDS + $3)) c i
	while :; do
		c=$(ec_field 0 commit)
		[ "${c:-0}" -ge "$2" ] && return 0
		if ((SECONDS >= deadline)); then
			for i in "${all[@]}"; do
				echo "replica $i: $(ec_ctl "$i" status 2>&1 | tr '\n' ' ')" >&2
				ec_ctl "$i" stats >"$T_OUT/stall.r$i" 2>&1 || :
			done
			t_fail "run $1: the leader reached commit ${c:-nothing}, not $2, in $3 s"
		fi
		bench_alive "$1"
		sleep 0.05
	done
}

# During run $1: wait (at most $3 s) until the leader's log base is at
# least op $2.
wait_leader_base() {
	local deadline=$((SECONDS + $3)) b
	while :; do
		b=$(ec_field 0 log_base)
		[ "${b:-0}" -ge "$2" ] && return 0
		((SECONDS < deadline)) ||
			t_fail "run $1: the leader's log base reached ${b:-nothing}, not $2, in $3 s"
		bench_alive "$1"
		sleep 0.05
	done
}

# Print counter $2 of replica $1 (ec-ctl stats); fail if it has none.
stat_of() {
	local v
	v=$(ec_ctl "$1" stats | awk -v k="$2" '$1 == k { print $2; exit }')
	[[ $v =~ ^[0-9]+$ ]] || t_fail "replica $1 has no counter $2 in ec-ctl stats"
	echo "$v"
}

# (a) kill and --recover past three checkpoints, offloads $2.
run_recover() {
	local name=$1 mode=$2 c0 base ckpt commit digest inst acked seen
	t_info "run $name: offloads $mode; ec-bench $clients clients, verify mode"
	# 8000 keys of 256 bytes: a checkpoint of many chunks (about 2 MB)
	t_bench_start "$name" "$clients" 120 --keys 8000 --value-size 256
	wait_leader_commit "$name" $(($(ec_field 0 commit) + 200)) 15
	ec_kill 4
	c0=$(ec_field 0 commit)
	t_info "run $name: killed follower 4 at leader commit $c0"
	wait_leader_commit "$name" $((c0 + 4 * K)) 60
	t_bench_stop
	t_bench_wait "$name"
	cat "$T_OUT/$name.out"
	t_bench_clean "$name"
	t_check_writes "$name" 0 1 2 3
	read -r _ _ _ commit _ digest <<<"$T_STATE"
	base=$(ec_field 0 log_base)
	ckpt=$(ec_field 0 checkpoint)
	t_info "run $name: live replicas agree: $T_STATE; leader checkpoint $ckpt, log base $base; $(stat_of 0 checkpoints) checkpoints, pause max $(stat_of 0 checkpoint_us_max) us, total $(stat_of 0 checkpoint_us_total) us, $(stat_of 0 checkpoint_bytes) bytes"
	[ "$base" -gt "$c0" ] ||
		t_fail "run $name: the leader's log base $base is not past op $c0 (replica 4's last): no snapshot needed"
	t_check_recovered 4 "$commit" "$digest" "$name" \
		--checkpoint-ops "$K" --view-timeout-ms "$view_timeout_ms" \
		--offload "$mode"
	inst=$(stat_of 4 snapshot.installed)
	chunks=$(stat_of 4 snapshot.chunks_received)
	asked=$(stat_of 4 tx.GET_SNAPSHOT)
	t_info "run $name: recovered replica 4: snapshot.installed $inst, chunks $chunks, log base $(ec_field 4 log_base)"
	[ "$inst" -ge 1 ] || t_fail "run $name: replica 4 recovered without installing a snapshot"
	# answers come in windows of up to 8 chunks: one question per
	# window, ceil(chunks / 8), no more (one per chunk without them)
	windows=$(((chunks + window - 1) / window))
	t_info "run $name: replica 4 asked $asked GET_SNAPSHOTs for $chunks chunks ($windows windows of $window; restarts $(stat_of 4 snapshot.restarts), timeouts $(stat_of 4 snapshot.timeouts))"
	[ "$chunks" -ge "$min_chunks" ] ||
		t_fail "run $name: replica 4 received $chunks snapshot chunks, want >= $min_chunks (too few to tell windows from single chunks)"
	[ "$asked" -ge 1 ] || t_fail "run $name: replica 4 installed a snapshot it never asked for"
	[ "$asked" -le "$windows" ] ||
		t_fail "run $name: replica 4 asked $asked GET_SNAPSHOTs for $chunks chunks, more than the $windows windows of $window they fill"

	t_snap 4 "$name-extra-0"
	t_bench "$name-extra" 4 1.5
	t_snap 4 "$name-extra-1"
	t_bench_clean "$name-extra"
	t_check_writes "$name-extra" "${all[@]}"
	t_info "run $name: extra run $B_RATE ops/s; all agree: $T_STATE"
	if [ "$mode" != none ]; then
		acked=$(t_delta 4 "$name-extra-0" "$name-extra-1" '^xdp[.]fastack_acked$')
		seen=$(t_delta 4 "$name-extra-0" "$name-extra-1" '^xdp[.]fastack_')
		t_info "run $name: replica 4 after its snapshot: xdp.fastack_acked +$acked of $seen PREPAREs"
		[ "$acked" -gt 0 ] ||
			t_fail "run $name: replica 4's xdp.fastack_acked did not grow after it installed a snapshot"
	fi
}

# (b) a follower frozen past three checkpoints catches up by snapshot.
run_cutoff() {
	local name=$1 mode=$2 id=3 c0 inst0 inst1 target t0 now c
	t_info "run $name: offloads $mode; follower $id cut off (frozen) under load"
	inst0=$(stat_of "$id" snapshot.installed)
	t_bench_start "$name" "$clients" 120
	wait_leader_commit "$name" $(($(ec_field 0 commit) + 200)) 15
	ec_pause "$id" || t_fail "cannot freeze replica $id"
	c0=$(ec_field 0 commit)
	wait_leader_commit "$name" $((c0 + 14000 + 2 * K)) 8
	# and until the leader compacted past what the follower's buffers
	# may hold: checkpoints are taken by a low-priority child, so the
	# log base may lag a checkpoint or two behind the commit number
	wait_leader_base "$name" $((c0 + 14000)) 15
	target=$(ec_field 0 commit)
	ec_resume "$id" || t_fail "cannot thaw replica $id"
	t_now_ms t0
	t_info "run $name: follower $id frozen from leader commit $c0 to $target (leader log base $(ec_field 0 log_base))"
	while :; do
		c=$(ec_field "$id" commit)
		t_now_ms now
		[ "${c:-0}" -ge "$target" ] && break
		((now - t0 < catchup_s * 1000)) ||
			t_fail "run $name: follower $id did not catch up in $catchup_s s: $(ec_ctl "$id" status | tr '\n' ' ')"
		sleep 0.02
	done
	inst1=$(stat_of "$id" snapshot.installed)
	t_info "run $name: follower $id caught up (commit $c >= $target) $((now - t0)) ms after the thaw; snapshot.installed $inst0 -> $inst1"
	[ "$inst1" -gt "$inst0" ] ||
		t_fail "run $name: follower $id caught up without a snapshot (the cut was too short?)"
	sleep 0.5
	bench_alive "$name"
	t_bench_stop
	t_bench_wait "$name"
	cat "$T_OUT/$name.out"
	t_bench_clean "$name"
	t_check_writes "$name" "${all[@]}"
	t_info "run $name: all agree: $T_STATE"
}

ec_up "$n" --checkpoint-ops "$K" --view-timeout-ms "$view_timeout_ms"
t_info "RSS at start: $(rss_line)"
for mode in none all; do
	ec_offloads_all "$mode"
	run_recover "recover-$mode" "$mode"
	run_cutoff "cutoff-$mode" "$mode"
done
t_info "RSS at end: $(rss_line)"
