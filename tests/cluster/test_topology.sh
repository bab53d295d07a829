#!/bin/bash
# The namespace topology alone, no replicas: addresses, neighbours, bridge
# ports with the bridge-port XDP program, reachability across the bridge,
# loss injection, config file, and a teardown that leaves nothing behind.
set -eu
# shellcheck source=SCRIPTDIR/common.sh
. "$(dirname "$0")/common.sh"
t_begin ec-port

n=5
ec_topology_up "$n"
br=$(ec_ns_bridge)

for node in $(seq 0 $((n - 1))) c; do
	port=$(ec_port_of "$node")
	ip -n "$br" link show dev "$port" | tr '\n' ' ' |
		grep -q 'mtu [0-9]* xdp .*prog/xdp id [0-9]* name bridge_port' ||
		t_fail "no bridge_port XDP program on $port: $(ip -n "$br" link show dev "$port")"
	ip -n "$br" link show dev "$port" | grep -q 'master br0' ||
		t_fail "$port is not a port of br0"
	ip -n "$(ec_ns_of "$node")" addr show dev eth0 | grep -q "inet $(ec_ip "$node")/24" ||
		t_fail "node $node lacks address $(ec_ip "$node")"
	got=$(ip -n "$(ec_ns_of "$node")" link show dev eth0 | awk '/link\/ether/ { print $2 }')
	t_eq "$got" "$(ec_mac "$node")" "MAC of node $node"
done
t_info "XDP attached on every bridge port, addresses and MACs right"

nud=$(ip -n "$(ec_ns_replica 2)" neigh show dev eth0 nud permanent | wc -l)
t_eq "$nud" "$n" "permanent neighbours of replica 2"

for i in $(seq 0 $((n - 1))); do
	t_run ec_client python3 "$T_DIR/ping.py" "$(ec_ip "$i")"
done
t_run ip netns exec "$(ec_ns_replica 0)" python3 "$T_DIR/ping.py" "$(ec_ip $((n - 1)))"
t_info "client reaches every replica, replica 0 reaches replica $((n - 1))"

stats=$(ip netns exec "$br" "$EC_BIN/ec-port" stats "$(ec_port_of c)")
passed=$(awk '{ print $3 }' <<<"$stats")
[ "$passed" -gt 0 ] || t_fail "client port passed no frames: $stats"

t_run ec_loss c 1000
t_run_status 3 ec_client python3 "$T_DIR/ping.py" "$(ec_ip 0)" 0.3 # no reply
stats=$(ip netns exec "$br" "$EC_BIN/ec-port" stats "$(ec_port_of c)")
dropped=$(awk '{ print $5 }' <<<"$stats")
[ "$dropped" -gt 0 ] || t_fail "client port dropped nothing at 1000 per mille: $stats"
t_run ec_loss c 0
t_run ec_client python3 "$T_DIR/ping.py" "$(ec_ip 0)"
t_info "loss injection on the client port cuts and heals: $stats"

lines=$(grep -c '^replica ' "$EC_CONF")
t_eq "$lines" "$n" "replica lines in $EC_CONF"
t_eq "$(grep '^replica 3 ' "$EC_CONF")" \
	"replica 3 $(ec_ip 3) $EC_UDP_PORT $(ec_mac 3) eth0" "config line of replica 3"

ec_down
left=$(ec_leftovers)
[ -z "$left" ] || t_fail "teardown left: $left"
if ip -o link show | grep -q " $EC_PREFIX-"; then
	t_fail "links left in the root namespace: $(ip -o link show | grep " $EC_PREFIX-")"
fi
ec_down
t_info "teardown complete and idempotent"
