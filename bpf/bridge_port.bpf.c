// SPDX-License-Identifier: GPL-2.0
/*
 * bridge_port.bpf.c - the programs on the bridge-side end of each veth in
 * the local cluster (see cluster/), and the cluster's fault injector.
 *
 * They exist first for a kernel reason: XDP_TX on a veth only delivers the
 * frame when the other end of the pair runs an XDP program, so the
 * replicas' fast-ack offload needs one here even if it only passes.
 *
 * Where the faults happen.  The bridge-side end P-b<i> RECEIVES every
 * frame node i SENDS, so everything here acts on node i's outgoing
 * frames, before the bridge forwards them.  A link is (this port, an IPv4
 * destination): the rule for it lives in this instance's port_links, keyed
 * by the destination address, filled by cluster/ec-port.  A two-way
 * partition {A} | {B} is a rule on A's port for B's address and one on B's
 * port for A's; a one-way partition is one of the two.
 *
 *   bridge_port     XDP on the port (native; it sees the frame first).
 *                   Loss: the port's own rate (port_cfg, every frame) and
 *                   then the link's rate.  A dropped frame costs nothing
 *                   further.
 *   bridge_port_tc  TC (clsact) ingress on the same port, for what XDP
 *                   cannot do because it needs an skb:
 *     duplicate     bpf_clone_redirect(skb, this port, BPF_F_INGRESS): the
 *                   copy goes through netif_rx, re-enters this hook later
 *                   (no recursion) carrying EC_PORT_COPY_MARK, and is
 *                   never copied again; the original goes on as well.
 *     delay         the frame is copied whole into the ring buffer
 *                   port_delay with its due time, now + delay + a uniform
 *                   random 0..jitter (jitter reorders frames), and
 *                   dropped here; `ec-port delay-line` holds it until
 *                   then and sends it into the bridge (which forwards it
 *                   by its destination MAC as if it had just arrived).
 *
 * Why a delay line and not EDT.  The usual way for BPF to delay a packet
 * is to set skb->tstamp (bpf_skb_set_tstamp, mono delivery time, which
 * survives bridge forwarding) and let an fq qdisc on the egress of the
 * destination's port hold it until then.  The kernel this project runs
 * on is built without fq, etf and netem (CONFIG_NET_SCH_FQ,
 * CONFIG_NET_SCH_ETF, CONFIG_NET_SCH_NETEM unset; `tc qdisc add dev X
 * root fq` answers "Specified qdisc kind is unknown"), and nothing else
 * honours a departure time, so BPF hands delayed frames to user space
 * instead.  When no delay line runs (port_cfg EC_PORT_CFG_DELAY_LINE is
 * 0) a frame its rule would delay passes at once, so a forgotten rule
 * does not turn into loss.
 *
 * No address, interface or cluster size is known here: one object serves
 * every port, one instance (programs and maps) per port.
 */
#include <linux/pkt_cls.h>

#include "parse.h"
#include "ec_port.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, EC_PORT_CFG_MAX);
	__type(key, __u32);
	__type(value, __u32);
} port_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, EC_PORT_MAX_LINKS);
	__type(key, __be32); /* destination IPv4 address */
	__type(value, struct ec_port_link);
} port_links SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, EC_PORT_VERDICT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} port_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, EC_PORT_DELAY_RING_BYTES);
} port_delay SEC(".maps");

/* port_cfg value at key, 0 if absent. */
static __always_inline __u32 cfg(__u32 key)
{
	__u32 *v = bpf_map_lookup_elem(&port_cfg, &key);

	return v ? *v : 0;
}

/* 1 with probability permille / 1000. */
static __always_inline int chance(__u32 permille)
{
	return permille && bpf_get_prandom_u32() % 1000 < permille;
}

/* The rule for the IPv4 destination of the frame in [data, end), or NULL
 * when it is not IPv4 or its destination has no rule. */
static __always_inline struct ec_port_link *link_of(void *data, void *end)
{
	struct cursor c = { .pos = data, .end = end };
	struct iphdr *ip;
	__be32 dst;

	if (!parse_eth(&c))
		return NULL;
	ip = c.pos;
	if ((void *)(ip + 1) > c.end || ip->version != 4)
		return NULL;
	dst = ip->daddr;
	return bpf_map_lookup_elem(&port_links, &dst);
}

/*
 * Drop the frame with the port's loss rate, then with its link's; pass
 * the rest on to the bridge (and the TC program).  Returns XDP_PASS or
 * XDP_DROP.
 */
SEC("xdp")
int bridge_port(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ec_port_link *l;

	if (chance(cfg(EC_PORT_CFG_DROP_PERMILLE))) {
		count(&port_stats, EC_PORT_DROPPED);
		return XDP_DROP;
	}
	l = link_of(data, end);
	if (l && chance(l->loss_permille)) {
		count(&port_stats, EC_PORT_LINK_DROPPED);
		return XDP_DROP;
	}
	count(&port_stats, EC_PORT_PASSED);
	return XDP_PASS;
}

/*
 * Move the frame to the delay line, due delay_us + 0..jitter_us from now.
 * Returns TC_ACT_SHOT when the delay line has it, TC_ACT_OK when it must
 * pass at once (no delay line, ring full, frame too long or too short).
 */
static __always_inline int delay_frame(struct __sk_buff *skb, __u32 delay_us,
				       __u32 jitter_us)
{
	struct ec_port_delayed *rec;
	__u64 wait_us = delay_us;
	__u32 len = skb->len;

	if (!cfg(EC_PORT_CFG_DELAY_LINE)) {
		count(&port_stats, EC_PORT_DELAY_OFF);
		return TC_ACT_OK;
	}
	if (len < sizeof(struct ethhdr) || len > EC_PORT_FRAME_MAX)
		goto full;
	rec = bpf_ringbuf_reserve(&port_delay, sizeof(*rec), 0);
	if (!rec)
		goto full;
	if (bpf_skb_load_bytes(skb, 0, rec->data, len) < 0) {
		bpf_ringbuf_discard(rec, 0);
		goto full;
	}
	if (jitter_us)
		wait_us += bpf_get_prandom_u32() % (jitter_us + 1);
	rec->len = len;
	rec->pad = 0;
	rec->due_ns = bpf_ktime_get_ns() + wait_us * 1000;
	bpf_ringbuf_submit(rec, 0);
	count(&port_stats, EC_PORT_DELAYED);
	return TC_ACT_SHOT;
full:
	count(&port_stats, EC_PORT_DELAY_FULL);
	return TC_ACT_OK;
}

/*
 * Duplicate and delay the frames XDP passed, by their link's rule.
 * Returns TC_ACT_OK (on to the bridge) or TC_ACT_SHOT (taken by the
 * delay line).
 */
SEC("tc")
int bridge_port_tc(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	int copy = skb->mark == EC_PORT_COPY_MARK, acted = 0;
	struct ec_port_link *l;
	__u32 delay_us, jitter_us;

	if (copy)
		count(&port_stats, EC_PORT_COPY);
	l = link_of(data, end);
	if (!l) {
		if (!copy)
			count(&port_stats, EC_PORT_TC_PASSED);
		return TC_ACT_OK;
	}
	/* Read the rule once: ec-port may rewrite it meanwhile. */
	delay_us = l->delay_us;
	jitter_us = l->jitter_us;
	if (!copy && chance(l->dup_permille)) {
		skb->mark = EC_PORT_COPY_MARK;
		if (bpf_clone_redirect(skb, skb->ifindex, BPF_F_INGRESS) == 0)
			count(&port_stats, EC_PORT_DUPLICATED);
		else
			count(&port_stats, EC_PORT_DUP_FAILED);
		skb->mark = 0;
		acted = 1;
	}
	if (delay_us || jitter_us)
		return delay_frame(skb, delay_us, jitter_us);
	if (!copy && !acted)
		count(&port_stats, EC_PORT_TC_PASSED);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
