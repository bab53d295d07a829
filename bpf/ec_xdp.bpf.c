// SPDX-License-Identifier: GPL-2.0
/*
 * ec_xdp.bpf.c - the XDP program of every replica: follower fast ack of
 * PREPAREs and heartbeats (fastack.h), leader wait-on-quorum (quorum.h)
 * and leader reads answered from the cache (read.h).
 *
 * One program serves both roles; which one applies is run-time data in
 * ec_state (view, leader, lead, expected), so a view change never has to
 * reattach anything.  Topology is read-only data the loader sets before
 * load; nothing about addresses, ports or the cluster size is compiled in.
 *
 * Every frame gets exactly one verdict (enum ec_xdp_verdict), counted per
 * CPU in `counters`; the verdict alone decides the XDP action.
 */
#include "parse.h"
#include "ec_offload.h"

/* Topology, set by the loader between open and load. */
const volatile struct ec_bpf_peer ec_peers[EC_MAX_REPLICAS];
const volatile __u32 ec_self;
const volatile __u32 ec_n;
/* The CPUs whose promise slots user space reads (ec_offload.h). */
const volatile __u32 ec_promise_cpus;
/* read_cache's slots - 1: the loader sizes the map to a power of two. */
const volatile __u32 ec_read_mask;
/* Tests only, never set by the replica: 1 answers reads whatever the
 * lease, so that a cluster test's negative control can see the stale
 * reads the lease check prevents. */
const volatile __u32 ec_test_ignore_lease;

/* Run-time state, mapped and updated by user space with atomics. */
struct ec_xdp_state ec_state;
__u64 ec_slots[EC_QUORUM_SLOTS];
/* When this CPU last acknowledged our leader (ec_offload.h): written
 * here only, read by user space. */
__u64 ec_promise_ns[EC_PROMISE_CPUS];

/* The fast-ack log: one struct ec_fa_record per acknowledged PREPARE,
 * room for about 5800 full-size ones.  Sized here only: fastack.h
 * derives its wake-up threshold from this size. */
#define FA_RING_BYTES (8u << 20)
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, FA_RING_BYTES);
} fa_log SEC(".maps");

/* The executed values, one struct ec_read_slot per key hash, written by
 * user space through its mapping (ec_offload.h).  max_entries is a
 * placeholder: the loader sets the real size (ec_read_mask + 1) before
 * load. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ec_read_slot);
} read_cache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, EC_XDP_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* A load user space may change under us: read it exactly once. */
#define READ_ONCE(x) (*(const volatile __typeof__(x) *)&(x))
/* A store user space reads: one store of the whole word, where we put it. */
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))

/* Replace the 16-bit word holding flags and sender (offset 6 of the
 * header, an even offset in the UDP datagram) after changing flags,
 * keeping a present UDP checksum valid. */
static __always_inline void ec_set_flags(struct ec_pkt *p, __u8 flags)
{
	__be16 *word = (__be16 *)&p->ec->flags;
	__be16 old = *word;

	p->ec->flags = flags;
	csum_replace2(&p->udp->check, old, *word);
}

#include "fastack.h"
#include "quorum.h"
#include "read.h"

/* The XDP action each verdict stands for. */
static __always_inline int verdict_action(enum ec_xdp_verdict v)
{
	if (ec_xdp_verdict_sends(v))
		return XDP_TX;
	return ec_xdp_verdict_drops(v) ? XDP_DROP : XDP_PASS;
}

/* 1 if the six bytes at a equal the volatile MAC m. */
static __always_inline int mac_eq(const __u8 *a, const volatile __u8 *m)
{
	return a[0] == m[0] && a[1] == m[1] && a[2] == m[2] &&
	       a[3] == m[3] && a[4] == m[4] && a[5] == m[5];
}

/* 1 if the frame is addressed to our own MAC, IP and port: with a bridge,
 * frames for other replicas may be flooded to us. */
static __always_inline int addressed_to_us(const struct ec_pkt *p)
{
	__u32 self = ec_self;

	if (self >= EC_MAX_REPLICAS)
		return 0;
	return mac_eq(p->eth->h_dest, ec_peers[self].mac) &&
	       p->ip->daddr == ec_peers[self].ip &&
	       p->udp->dest == ec_peers[self].port;
}

/* 1 if the header's sender is another replica of the configuration and
 * the datagram comes from that replica's IP and port: the membership rule
 * of replica/core/membership.h, for frames. */
static __always_inline int from_peer(const struct ec_pkt *p)
{
	__u32 s = p->ec->sender;

	if (s >= ec_n || s >= EC_MAX_REPLICAS || s == ec_self)
		return 0;
	return p->ip->saddr == ec_peers[s].ip &&
	       p->udp->source == ec_peers[s].port;
}

/*
 * Classify the frame, run the offload its type belongs to, count the
 * verdict.  Returns XDP_TX (a fast ack, a read's answer), XDP_DROP (an
 * ack the quorum does not need) or XDP_PASS (everything else).
 */
SEC("xdp")
int ec_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	enum ec_xdp_verdict v;
	struct ec_pkt p;

	if (parse_ec_pkt(data, data_end, &p) < 0 || !addressed_to_us(&p)) {
		v = EC_XDP_PASS_NOT_EC;
	} else if (p.ec->type == EC_MSG_REQUEST) {
		v = EC_XDP_PASS_OTHER; /* a client's: from any address */
	} else if (p.ec->type == EC_MSG_READ) {
		v = rd_read(ctx, &p); /* a client's too */
	} else if (!from_peer(&p)) {
		v = EC_XDP_NOT_MEMBER;
	} else if (p.ec->type == EC_MSG_PREPARE) {
		v = fa_prepare(ctx, &p);
	} else if (p.ec->type == EC_MSG_COMMIT) {
		v = fa_heartbeat(ctx, &p);
	} else if (p.ec->type == EC_MSG_PREPARE_OK) {
		v = q_prepare_ok(&p);
	} else {
		v = EC_XDP_PASS_OTHER;
	}
	count(&counters, v);
	return verdict_action(v);
}

char LICENSE[] SEC("license") = "GPL";
