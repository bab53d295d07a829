#!/bin/bash
# Leader leases on 5 real replicas (--reads lease, core/lease.h).
#   serve      a GET load on a healthy cluster is answered under the
#              lease (the leader holds one, renews it, reads_lease grows);
#              `ec-ctl reads log` sends every GET through the log
#   stale      the classic stale read, offloads off and all on (with
#              all, the read offload answers the pinned readers' GETs in
#              the old leader's XDP program, and must have: xdp.read_
#              answered, and refused some for the lease, read_pass_lease,
#              or user space did, reads_lease_expired): history-
#              mode ec-bench, get=90,put=10, 4 of 8 clients pinned to the
#              leader and only reading (--pin, --pin-mix get=100: their
#              reads keep reaching it, and what they have seen stays
#              behind the new leader's writes), a two-way partition of the
#              rest for 3 s while the others elect a new leader and go on
#              writing, then the heal: ec-lincheck must find the history
#              linearizable, and the old leader must have refused reads
#              once its lease ran out (reads_lease_expired)
#   control    the same with --test-lease-ignore-clock (the old leader's
#              lease never runs out): ec-lincheck must find a violation
#   control-xdp  offloads all on with --test-xdp-ignore-lease: user space
#              checks the lease, the XDP read path does not; ec-lincheck
#              must find a violation, so the kernel's clock check is what
#              keeps the reads it answers linearizable
# The lease's clock skew tests are test_lease_skew.sh.
set -eu
# shellcheck source=SCRIPTDIR/common.sh
. "$(dirname "$0")/common.sh"
t_begin ec-port ec-replica ec-ctl ec-bench ec-lincheck

n=5
export EC_PREFIX EC_NET # for the nemesis

# Stats field $2 of replica $1.
stat_of() {
	ec_ctl "$1" stats | awk -v k="$2" '$1 == k { print $2; exit }'
}

# Offload counter $2 of replica $1 (0 without BPF counters).
xdp_of() {
	ec_ctl "$1" offload 2>/dev/null | awk -v k="$2" '$1 == k { v = $2 } END { print v + 0 }'
}

# --- serve ---------------------------------------------------------------
ec_up "$n" --reads lease
t_snap 0 serve.0
t_bench serve 8 1.5 --mix get=95,put=5
t_bench_clean serve
t_snap 0 serve.1
st=$(ec_ctl 0 status)
served=$(t_delta 0 serve.0 serve.1 '^reads_lease$')
logged=$(t_delta 0 serve.0 serve.1 '^reads_log$')
t_info "get=95,put=5 with the lease: $served GETs answered under it, $logged through the log; $(grep -E '^(lease_held|lease_renewals) ' <<<"$st" | tr '\n' ' ')"
grep -qx 'lease_held 1' <<<"$st" || t_fail "the leader holds no lease: $st"
((served > B_OPS / 2)) || t_fail "only $served of about $B_OPS GETs answered under the lease"
t_eq "$(ec_ctl 0 reads log)" "reads log" "ec-ctl reads log"
t_snap 0 log.0
t_bench log 8 1 --mix get=95,put=5
t_bench_clean log
t_snap 0 log.1
t_eq "$(t_delta 0 log.0 log.1 '^reads_lease$')" 0 "GETs answered under the lease with reads log"
(($(t_delta 0 log.0 log.1 '^reads_log$') > B_OPS / 2)) ||
	t_fail "with reads log the GETs did not go through the log"
ec_down

# Run $1: 5 replicas started with "$@", the partition under load, the
# heal; sets LC (ec-lincheck's exit status), EXPIRED and LEASED (the old
# leader's reads_lease_expired and reads_lease).
partitioned() {
	local name=$1 hist=$T_OUT/$1.jsonl bench_pid
	shift
	ec_up "$n" --reads lease "$@"
	ec_client "$EC_BIN/ec-bench" --config "$EC_CONF" --clients 8 \
		--pin 0:4 --pin-mix get=100 --duration 7 --warmup 0 \
		--give-up-ms 2000 --mix get=90,put=10 --history "$hist" >"$T_OUT/$name.out" 2>&1 &
	bench_pid=$!
	sleep 1.5
	"$EC_ROOT/cluster/nemesis.sh" partition 3 0 1,2,3,4 >"$T_OUT/$name.nem" 2>&1 ||
		t_fail "$name: nemesis partition failed: $(cat "$T_OUT/$name.nem")"
	wait "$bench_pid" || t_fail "$name: ec-bench failed: $(tail -n 3 "$T_OUT/$name.out")"
	T_STATE=$(ec_wait_converged 30 $(seq 0 $((n - 1)))) ||
		t_fail "$name: the replicas did not converge after the heal"
	EXPIRED=$(stat_of 0 reads_lease_expired)
	LEASED=$(stat_of 0 reads_lease)
	KERNEL=$(xdp_of 0 xdp.read_answered)
	KERNEL_EXPIRED=$(xdp_of 0 xdp.read_pass_lease)
	LC=0
	"$EC_BIN/ec-lincheck" "$hist" >"$T_OUT/$name.lincheck" 2>&1 || LC=$?
	t_info "$name: $(grep -c '"type":"invoke"' "$hist") operations, ec-lincheck status $LC; old leader: $LEASED reads under the lease in user space, $EXPIRED refused for an expired one; in XDP $KERNEL answered, $KERNEL_EXPIRED passed up for an expired one; after the heal $T_STATE"
	ec_down
}

# --- stale ---------------------------------------------------------------
# The old leader refuses reads for an expired lease only while it still
# leads in its own view: in some CI runs it left normal status during the
# partition (a view change it heard of; cause not found yet), so a run
# that saw no refusal, and was linearizable, runs once more.
for mode in off all; do
	args=()
	[ "$mode" = off ] || args=(--offload all)
	partitioned "stale-$mode" "${args[@]}"
	if [ "$LC" -eq 0 ] && ((EXPIRED == 0)); then
		t_info "stale-$mode: the old leader refused no read for an expired lease; once more"
		partitioned "stale-$mode" "${args[@]}"
	fi
	[ "$LC" -eq 0 ] || t_fail "stale-$mode: not linearizable: $(head -c 800 "$T_OUT/stale-$mode.lincheck")"
	((LEASED + KERNEL > 0)) || t_fail "stale-$mode: the old leader answered no read under its lease"
	((EXPIRED > 0)) || t_fail "stale-$mode: the old leader never refused a read for an expired lease"
	if [ "$mode" = all ]; then
		((KERNEL > 0)) ||
			t_fail "stale-all: the read offload answered none of the old leader's reads (user space $LEASED)"
		((KERNEL_EXPIRED > 0)) ||
			t_fail "stale-all: the XDP read path never passed a read up for an expired lease"
	fi
done

# --- control -------------------------------------------------------------
partitioned control --test-lease-ignore-clock
[ "$LC" -eq 1 ] ||
	t_fail "control: with the lease's clock check off ec-lincheck exited $LC, want 1 (a stale read): $(head -c 400 "$T_OUT/control.lincheck")"
t_info "control: $(grep -c 'NOT linearizable' "$T_OUT/control.lincheck") keys not linearizable, as they must be"

# --- control-xdp ---------------------------------------------------------
partitioned control-xdp --offload all --test-xdp-ignore-lease
[ "$LC" -eq 1 ] ||
	t_fail "control-xdp: with the XDP read path's clock check off ec-lincheck exited $LC, want 1 (a stale read): $(head -c 400 "$T_OUT/control-xdp.lincheck")"
((KERNEL > 0)) || t_fail "control-xdp: the read offload answered no read"
t_info "control-xdp: $(grep -c 'NOT linearizable' "$T_OUT/control-xdp.lincheck") keys not linearizable, as they must be"
