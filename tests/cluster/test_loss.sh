#!/bin/bash
# Packet loss.  Every node of a 5-replica cluster (replicas and client)
# loses EC_LOSS_PERMILLE (default 20) of every 1000 frames it sends, by the
# bridge-port XDP program.  An ec-bench run in verify mode must still
# complete ops and give up on none (clients retry); afterwards, with the
# loss healed, all replicas must reach the same commit and digest and no
# acknowledged write may be lost.
set -eu
# shellcheck source=SCRIPTDIR/common.sh
. "$(dirname "$0")/common.sh"
t_begin ec-port ec-replica ec-ctl ec-bench

n=5
permille=${EC_LOSS_PERMILLE:-20}
nodes=()
for ((i = 0; i < n; i++)); do
	nodes+=("$i")
done
nodes+=(c)

ec_up "$n"
for node in "${nodes[@]}"; do
	t_run ec_loss "$node" "$permille"
done
t_info "every node drops $permille per mille of the frames it sends"

t_bench loss 8 5
cat "$T_OUT/loss.out"
t_bench_clean loss

dropped=0
for node in "${nodes[@]}"; do
	stats=$(ip netns exec "$(ec_ns_bridge)" "$EC_BIN/ec-port" stats "$(ec_port_of "$node")")
	dropped=$((dropped + $(awk '{ print $5 }' <<<"$stats")))
	t_run ec_loss "$node" 0
done
[ "$dropped" -gt 0 ] || t_fail "the bridge ports dropped nothing"
t_info "bridge ports dropped $dropped frames; loss healed"

t_check_writes loss $(seq 0 $((n - 1)))
t_info "all replicas agree: $T_STATE"
