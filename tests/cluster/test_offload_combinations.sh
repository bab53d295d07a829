#!/bin/bash
# Every combination of the four offloads (broadcast, fastack, quorum,
# read) on one 5-replica cluster.  For each of the 16, the switches are set at run
# time on every replica, 8 ec-bench clients run in verify mode for 2 s,
# and then: the replicas agree, no acknowledged write is lost, no request
# timed out, and the in-kernel counters moved exactly when their offload
# was on:
#   broadcast  leader's tc.cloned grew, by n-1 per tc.broadcast
#   fastack    every follower's xdp.fastack_acked grew, more than half of
#              the PREPAREs its XDP program saw were acked in the kernel
#   quorum     leader's xdp.quorum_drop_* grew (acks dropped in XDP)
#   read       leader's xdp.read_answered grew, more than half of the
#              READs its XDP program saw were answered there; off, it
#              passed them up (read_pass_off) and answered none
# One summary line per combination: ops/s, p50, the fractions of this run,
# the leader's syscalls and datagrams per request.  First, idle for a
# second twice, the leader's heartbeats: with every offload on, the
# followers' XDP programs answer them (xdp.heartbeat_acked grows, user
# space sends almost no HEARTBEAT_OK) and the leader holds its lease
# (status lease_held 1); with fastack.commit off user space answers them
# and the lease holds all the same.  Last, the leader must
# handle fewer datagrams per request (io.rx_datagrams + io.tx_datagrams,
# counted by the replica) with all three on than with none: with sendmmsg
# and recvmmsg a syscall carries many datagrams, so the datagrams that
# reach user space are what the offloads take away.  (ec-bench's GETs are
# READs, answered under the leader's lease: --reads lease, the default.)
set -eu
# shellcheck source=SCRIPTDIR/common.sh
. "$(dirname "$0")/common.sh"
t_begin ec-port ec-replica ec-ctl ec-bench

n=5
clients=8
secs=${EC_COMBO_DURATION:-2}
mapfile -t all < <(seq 0 $((n - 1)))
mapfile -t followers < <(seq 1 $((n - 1)))
min_acked=0.5
min_exec=1000 # ops the leader executes per combination

# Print switch $3 (e.g. broadcast.prepare) of replica $1 in snapshot $2.
switch_in() {
	awk -v k="switch.$3" '$1 == k { print $2 }' "$T_OUT/snap/$2.r$1"
}

# Fail unless the growth $1 of counter $2 is positive when $3 is on and
# zero when it is off.
moved_iff() {
	if [ "$3" = on ]; then
		[ "$1" -gt 0 ] || t_fail "$combo: $2 did not grow"
	else
		[ "$1" -eq 0 ] || t_fail "$combo: $2 grew by $1 with the offload off"
	fi
}

# Idle for a second with every offload on, fastack.commit $1 on every
# replica: the followers' heartbeat acknowledgements, by the kernel when
# on, else by user space, and the leader's lease.
idle_heartbeats() {
	local kernel=$1 what="idle, fastack.commit $1" i hb up off
	for i in "${all[@]}"; do
		ec_offloads "$i" all ||
			t_fail "$what: setting the switches of replica $i failed"
		ec_ctl "$i" offload fastack.commit "$kernel" >/dev/null ||
			t_fail "$what: setting fastack.commit of replica $i failed"
	done
	sleep 0.3 # past the turn that applied them
	t_snap_all "hb-$kernel-0" "${all[@]}"
	sleep 1
	t_snap_all "hb-$kernel-1" "${all[@]}"
	for i in "${followers[@]}"; do
		hb=$(t_delta "$i" "hb-$kernel-0" "hb-$kernel-1" '^xdp[.]heartbeat_acked$')
		up=$(t_delta "$i" "hb-$kernel-0" "hb-$kernel-1" '^tx[.]HEARTBEAT_OK$')
		off=$(t_delta "$i" "hb-$kernel-0" "hb-$kernel-1" '^xdp[.]heartbeat_pass_off$')
		t_info "$what: follower $i acked $hb heartbeats in XDP, $up in user space ($off passed up, switch off)"
		if [ "$kernel" = on ]; then
			((hb >= 20 && 10 * up <= hb)) ||
				t_fail "$what: follower $i acked $hb heartbeats in XDP and $up in user space in 1 s idle"
		else
			((hb == 0 && up >= 20 && off > 0)) ||
				t_fail "$what: follower $i acked $hb heartbeats in XDP and $up in user space in 1 s idle ($off passed up)"
		fi
	done
	t_eq "$(ec_field 0 lease_held)" 1 "$what: the leader's lease_held"
}

ec_up "$n"
idle_heartbeats on
idle_heartbeats off
summary=() dgop=()
for c in $(seq 0 15); do
	bc=off fa=off qu=off rd=off spec=
	((c & 8)) && rd=on spec+=,read
	((c & 4)) && bc=on spec+=,broadcast
	((c & 2)) && fa=on spec+=,fastack
	((c & 1)) && qu=on spec+=,quorum
	spec=${spec#,}
	combo="broadcast=$bc fastack=$fa quorum=$qu read=$rd"
	name=combo$c
	for i in "${all[@]}"; do
		ec_offloads "$i" "${spec:-none}" ||
			t_fail "$combo: setting the switches of replica $i failed"
		t_snap "$i" "$name-0"
		t_eq "$(switch_in "$i" "$name-0" broadcast.prepare)" "$bc" "$combo: replica $i broadcast.prepare"
		t_eq "$(switch_in "$i" "$name-0" fastack.prepare)" "$fa" "$combo: replica $i fastack.prepare"
		t_eq "$(switch_in "$i" "$name-0" quorum.prepare_ok)" "$qu" "$combo: replica $i quorum.prepare_ok"
		t_eq "$(switch_in "$i" "$name-0" read.read)" "$rd" "$combo: replica $i read.read"
	done

	t_bench "$name" "$clients" "$secs"
	t_snap_all "$name-1" "${all[@]}"
	t_bench_clean "$combo"
	t_check_writes "$name" "${all[@]}"
	read -r _ view _ _ _ _ <<<"$T_STATE"
	t_eq "$view" 0 "$combo: view (a view change happened)"
	# else "did not grow with the offload off" holds with nothing done
	executed=$(t_delta 0 "$name-0" "$name-1" '^executed$')
	[ "$executed" -ge "$min_exec" ] ||
		t_fail "$combo: the leader executed $executed ops, want >= $min_exec"

	# broadcast, on the leader
	cloned=$(t_delta 0 "$name-0" "$name-1" '^tc[.]cloned$')
	bcast=$(t_delta 0 "$name-0" "$name-1" '^tc[.]broadcast$')
	moved_iff "$cloned" "leader's tc.cloned" "$bc"
	moved_iff "$bcast" "leader's tc.broadcast" "$bc"
	diff=$((cloned - (n - 1) * bcast))
	[ "${diff#-}" -le $((2 * (n - 1))) ] ||
		t_fail "$combo: tc.cloned grew by $cloned, want $((n - 1)) x tc.broadcast growth $bcast"

	# fastack, on every follower
	acked_all=0 seen_all=0
	for i in "${followers[@]}"; do
		acked=$(t_delta "$i" "$name-0" "$name-1" '^xdp[.]fastack_acked$')
		seen=$(t_delta "$i" "$name-0" "$name-1" '^xdp[.]fastack_')
		moved_iff "$acked" "follower $i's xdp.fastack_acked" "$fa"
		if [ "$fa" = on ]; then
			t_gt "$(t_ratio "$acked" "$seen")" "$min_acked" ||
				t_fail "$combo: follower $i acked only $acked of $seen PREPAREs in the kernel (want > $min_acked)"
		fi
		acked_all=$((acked_all + acked)) seen_all=$((seen_all + seen))
	done

	# quorum, on the leader
	dropped=$(t_delta 0 "$name-0" "$name-1" '^xdp[.]quorum_drop_')
	oks=$(t_delta 0 "$name-0" "$name-1" '^xdp[.]quorum_')
	quorum=$(t_delta 0 "$name-0" "$name-1" '^xdp[.]quorum_pass_quorum$')
	moved_iff "$dropped" "leader's xdp.quorum_drop_*" "$qu"
	moved_iff "$quorum" "leader's xdp.quorum_pass_quorum" "$qu"

	# read, on the leader
	answered=$(t_delta 0 "$name-0" "$name-1" '^xdp[.]read_answered$')
	reads=$(t_delta 0 "$name-0" "$name-1" '^xdp[.]read_')
	moved_iff "$answered" "leader's xdp.read_answered" "$rd"
	if [ "$rd" = on ]; then
		t_gt "$(t_ratio "$answered" "$reads")" 0.5 ||
			t_fail "$combo: the leader answered only $answered of $reads READs in XDP"
	else
		(($(t_delta 0 "$name-0" "$name-1" '^xdp[.]read_pass_off$') > 0)) ||
			t_fail "$combo: no READ reached the leader's XDP program"
	fi

	reqs=$(t_delta 0 "$name-0" "$name-1" '^batched_requests$')
	sys=$(t_delta 0 "$name-0" "$name-1" '^io[.]syscalls$')
	dgrams=$(t_delta 0 "$name-0" "$name-1" '^io[.][rt]x_datagrams$')
	dgop[c]=$(t_ratio "$dgrams" "$reqs")
	line=$(printf '%-49s %6s ops/s  p50 %5s us  acked_in_kernel %5s  dropped_in_kernel %5s  reads_in_kernel %5s  leader syscalls/req %s  datagrams/req %s' \
		"$combo" "$B_RATE" "$B_P50" "$(t_ratio "$acked_all" "$seen_all")" \
		"$(t_ratio "$dropped" "$oks")" "$(t_ratio "$answered" "$reads")" \
		"$(t_ratio "$sys" "$reqs")" "${dgop[c]}")
	t_info "$line"
	summary+=("$line")
done

echo "summary (fractions, syscalls and datagrams of each run alone, as counted by the replica):"
printf '%s\n' "${summary[@]}"
# The point of the offloads, by count rather than by time: the leader's
# user space handles fewer datagrams per request with all four on.
t_gt "${dgop[0]}" "${dgop[15]}" ||
	t_fail "leader datagrams/request: ${dgop[15]} with every offload on, not below ${dgop[0]} with none"
