// SPDX-License-Identifier: GPL-2.0
/*
 * bridge_port.bpf.c - XDP program for the bridge-side end of each veth in
 * the local cluster (see cluster/).
 *
 * It exists first for a kernel reason: XDP_TX on a veth only delivers the
 * frame when the other end of the pair runs an XDP program, so the
 * replicas' fast-ack offload needs a program here even if it only passes.
 *
 * It is also the cluster's fault injector.  The bridge-side end receives
 * every frame its replica (or the client) sends, so dropping here is loss
 * on that node's outgoing link: a drop rate of 1000 per mille cuts the
 * node's sends entirely (a one-way partition).  The rate lives in a map so
 * that cluster/ec-port can change it while the program stays attached; it
 * is 0 (pass everything) until someone sets it.
 *
 * No address, interface or cluster size is known here: one object serves
 * every port, one instance per port.
 */
#include "parse.h"

/* Keys of port_cfg; cluster/ec-port.c uses the same numbers. */
enum port_cfg_key {
	PORT_CFG_DROP_PERMILLE = 0, /* frames dropped per 1000, 0..1000 */
	PORT_CFG_MAX,
};

/* Keys of port_stats, one counter of frames per verdict; same in ec-port. */
enum port_verdict {
	PORT_PASSED = 0,
	PORT_DROPPED = 1,
	PORT_VERDICT_MAX,
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PORT_CFG_MAX);
	__type(key, __u32);
	__type(value, __u32);
} port_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PORT_VERDICT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} port_stats SEC(".maps");

/*
 * Pass the frame on to the bridge, or drop it with the configured
 * probability.  Returns XDP_PASS or XDP_DROP.
 */
SEC("xdp")
int bridge_port(struct xdp_md *ctx)
{
	__u32 key = PORT_CFG_DROP_PERMILLE;
	__u32 *permille = bpf_map_lookup_elem(&port_cfg, &key);

	if (permille && *permille &&
	    bpf_get_prandom_u32() % 1000 < *permille) {
		count(&port_stats, PORT_DROPPED);
		return XDP_DROP;
	}
	count(&port_stats, PORT_PASSED);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
