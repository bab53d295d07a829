#!/bin/bash
# Batching, the window and one sendmmsg per loop turn, on real replicas
# (3, offloads off, so that every datagram is the leader's own syscall's),
# each checked by the leader's counters over a load of 32 (window: 8)
# closed-loop clients:
#   default --batch    more than 2 requests per op
#   ec-ctl batch 1     then exactly 1 per op
#   --batch 1          exactly 1 per op from the start
#   ec-ctl batch 16    then more than 2 per op
#   sendmmsg           the leader's syscalls (recvmmsg + sendmmsg) per
#                      committed request below 1: sending each reply on
#                      its own would take at least 1 per request
#   --window 1         requests wait for the window (queued_requests > 0)
#                      and op - commit never exceeds 1; with the default
#                      window of 32 and 8 clients none ever waits
set -eu
# shellcheck source=SCRIPTDIR/common.sh
. "$(dirname "$0")/common.sh"
t_begin ec-port ec-replica ec-ctl ec-bench

n=3
leader=0 # view 0 throughout: nothing here fails

# Requests per op at the leader over run $1 (snapshots $1.0 and $1.1).
per_op() {
	t_ratio "$(t_delta $leader "$1.0" "$1.1" '^batched_requests$')" \
		"$(t_delta $leader "$1.0" "$1.1" '^batches$')"
}

# Run $1: $2 clients for 2 s against the leader, counters around it.
loaded() {
	t_snap $leader "$1.0"
	t_bench "$1" "$2" 2
	t_bench_clean "$1"
	t_snap $leader "$1.1"
}

# Set the batch size $1 on every replica through the control socket.
set_batch() {
	local i
	for ((i = 0; i < n; i++)); do
		t_eq "$(ec_ctl "$i" batch "$1")" "batch $1" "ec-ctl batch $1 on replica $i"
	done
}

# --- the default batch, then ec-ctl batch 1 ------------------------------
ec_up "$n"
t_eq "$(ec_ctl $leader batch)" "batch 64" "default batch"
loaded default 32
r=$(per_op default)
req=$(t_delta $leader default.0 default.1 '^batched_requests$')
sys=$(t_ratio "$(t_delta $leader default.0 default.1 '^io\.syscalls$')" "$req")
tx=$(t_ratio "$(t_delta $leader default.0 default.1 '^io\.tx_syscalls$')" "$req")
t_info "default batch, 32 clients: $r requests per op; $sys syscalls ($tx sendmmsg) per request"
t_gt "$r" 2 || t_fail "only $r requests per op at 32 clients with the default batch"
t_gt 1 "$sys" || t_fail "$sys syscalls per request: not one sendmmsg per loop turn"
t_gt 0.5 "$tx" || t_fail "$tx send syscalls per request: replies are sent one by one"
set_batch 1
loaded runtime1 32
r=$(per_op runtime1)
t_info "after ec-ctl batch 1: $r requests per op"
t_eq "$r" 1.000 "requests per op after ec-ctl batch 1"

# --- --batch 1, then ec-ctl batch 16 -------------------------------------
ec_down
ec_up "$n" --batch 1
t_eq "$(ec_ctl $leader batch)" "batch 1" "batch with --batch 1"
loaded start1 32
r=$(per_op start1)
t_info "--batch 1: $r requests per op"
t_eq "$r" 1.000 "requests per op with --batch 1"
set_batch 16
loaded runtime16 32
r=$(per_op runtime16)
t_info "after ec-ctl batch 16: $r requests per op"
t_gt "$r" 2 || t_fail "only $r requests per op after ec-ctl batch 16"
# the control for --window: 8 clients never fill a window of 32
set_batch 1
loaded window32 8
q=$(t_delta $leader window32.0 window32.1 '^queued_requests$')
t_info "window 32, 8 clients, batch 1: $q requests waited for the window"
t_eq "$q" 0 "requests that waited for a window of 32 with 8 clients"

# --- --window 1 ------------------------------------------------------------
ec_down
ec_up "$n" --batch 1 --window 1
t_snap $leader window1.0
t_bench_start window1 8 2
widest=0 samples=0
while kill -0 "$T_BENCH_PID" 2>/dev/null; do
	st=$(ec_ctl $leader status) || break
	o=$(awk '$1 == "op" { print $2 }' <<<"$st")
	c=$(awk '$1 == "commit" { print $2 }' <<<"$st")
	((o - c > widest)) && widest=$((o - c))
	samples=$((samples + 1))
	sleep 0.02
done
t_bench_wait window1
t_bench_clean window1
t_snap $leader window1.1
q=$(t_delta $leader window1.0 window1.1 '^queued_requests$')
t_info "--window 1, 8 clients: $q requests waited; widest op - commit in $samples samples: $widest"
((samples >= 20)) || t_fail "only $samples samples of the leader's status"
((widest <= 1)) || t_fail "op - commit reached $widest with --window 1"
((q > 100)) || t_fail "only $q requests waited for a window of 1 with 8 clients"
