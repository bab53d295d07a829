/* SPDX-License-Identifier: GPL-2.0 */
/*
 * read.h - linearizable reads answered by the leader's XDP program.
 *
 * A READ (a GET in a fixed layout, proto/ec_wire.h) is answered here with
 * a READ_REPLY built in the same frame and sent back with XDP_TX, from the
 * copy of the executed values user space keeps in read_cache.  The rules
 * are those of the comment on the read offload in ec_offload.h; in the
 * order they are checked:
 *
 *   read_word, read first (w0), is nonzero: user space opened reads in
 *   this view, under a lease, with every inherited op executed;
 *   applied_op (a0) is read next, before the slot, so the value we copy
 *   reflects at least a0: user space stores applied_op only after the
 *   slot writes of that op;
 *   the slot is read as a seqlock: seq (s1) even, the key ours, the value
 *   copied out, seq (s2) unchanged.  Both seq reads are fully ordered
 *   atomics (a fetch-and-add of 0), so no load of the slot moves outside
 *   them, nor the read of a0 after s1, nor the later checks before s2;
 *   and only after the copy: the lease still runs by the kernel's clock,
 *   read_word is still w0 (user space closes it before anything it sends
 *   after leaving the view or the lease's rules, so an unchanged word
 *   means the whole read happened while reads were open), and a0 is at
 *   least the client's min_op.
 *
 * The reply says a0 as its op: the value reflects at least every op up to
 * it, and a client that saw a0 asks no replica for less.
 *
 * Nothing in the frame changes until every check passed and the reply,
 * its UDP checksum included, is ready in per-CPU scratch; then the frame
 * is grown (at the tail, or else the head) or shrunk to the reply's
 * length, the only step that can fail (NO_ROOM, the frame left as it
 * came), and written.  Any other verdict
 * passes the READ up untouched: user space answers it, through the lease
 * or the log.
 *
 * Included by ec_xdp.bpf.c after its maps and globals and fastack.h
 * (fa_lengths_ok).
 */
#ifndef EC_BPF_READ_H
#define EC_BPF_READ_H

/* Offsets in rd_scratch.reply: the UDP pseudo-header at 4 (bytes 0..3
 * are zero, which leaves the one's complement sum alone and puts the
 * electrode-c header on an 8-byte boundary), then the UDP datagram. */
#define RD_PSEUDO_OFF 4
#define RD_UDP_OFF 16
#define RD_VALUE_OFF \
	(RD_UDP_OFF + sizeof(struct udphdr) + sizeof(struct ec_hdr) + \
	 sizeof(struct ec_read_reply))
/* The datagram after the value, rounded up to a whole 32-bit word for
 * bpf_csum_diff, which sums 4 bytes at a time (the bytes past the value
 * are zeroed, as UDP pads an odd datagram). */
#define RD_SCRATCH_BYTES (RD_VALUE_OFF + EC_READ_VALUE_MAX + 4)

_Static_assert(RD_VALUE_OFF == 88, "the layout the comment describes");
_Static_assert(RD_SCRATCH_BYTES <= 512, "bpf_csum_diff sums 512 bytes at most");

/* Per-CPU scratch: the READ's key, copied out of the frame for hashing
 * and comparing, and the reply's UDP datagram, built and summed here
 * before the frame changes.  Defined with the layout it holds. */
struct rd_scratch {
	__u8 key[EC_MAX_KEY];
	__u8 reply[RD_SCRATCH_BYTES];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rd_scratch);
} read_scratch SEC(".maps");

/* Length of the READ_REPLY frame for a value of vlen bytes. */
#define RD_REPLY_LEN(vlen)                                             \
	(EC_L2L4_LEN + sizeof(struct ec_hdr) + sizeof(struct ec_read_reply) + \
	 (vlen))

/* 1 if the slot holds the key of key_len bytes, hash h, copied to key. */
static __always_inline int rd_key_eq(const struct ec_read_slot *slot,
				     const __u8 *key, __u32 key_len, __u32 h)
{
	if (READ_ONCE(slot->key_len) != key_len || READ_ONCE(slot->hash) != h)
		return 0;
	for (__u32 i = 0; i < EC_MAX_KEY; i++) {
		if (i >= key_len)
			break;
		if (slot->key[i] != key[i])
			return 0;
	}
	return 1;
}

/*
 * Validate the READ in p: what user space takes as one READ (common/
 * read_msg.c), from a client, whose lengths add up and which the frame
 * holds.  Returns the key length (1..EC_MAX_KEY), 0 if malformed.
 */
static __always_inline __u32 rd_valid(struct xdp_md *ctx,
				      const struct ec_pkt *p)
{
	const struct ec_read *r = (const void *)(p->ec + 1);
	__u32 key_len;

	if ((void *)(r + 1) > (void *)(long)ctx->data_end ||
	    p->ec->sender != EC_SENDER_CLIENT)
		return 0;
	key_len = r->key_len;
	if (key_len == 0 || key_len > EC_MAX_KEY ||
	    bpf_ntohl(p->ec->body_len) != sizeof(*r) + key_len ||
	    !fa_lengths_ok(ctx, p, sizeof(*r) + key_len))
		return 0;
	for (int i = 0; i < (int)sizeof(r->pad); i++)
		if (r->pad[i])
			return 0;
	return key_len;
}

/*
 * Write the reply's UDP datagram for the READ in p into s: a READ_REPLY
 * of view, op a0, commit, the value (vlen bytes, already in place) and a
 * full UDP checksum over the pseudo-header of the addresses swapped.
 * Returns 0, or -1 if the checksum helper refused (it does not: the
 * length is a whole number of words within its limit).
 */
static __always_inline int rd_build(struct rd_scratch *s,
				    const struct ec_pkt *p, __u32 view,
				    __u64 a0, __u32 vlen)
{
	const struct ec_read *r = (const void *)(p->ec + 1);
	__u32 udp_len = RD_REPLY_LEN(vlen) - sizeof(struct ethhdr) -
			sizeof(struct iphdr);
	__u8 *b = s->reply;
	struct udphdr *udp = (void *)(b + RD_UDP_OFF);
	struct ec_hdr *h = (void *)(udp + 1);
	struct ec_read_reply *rr = (void *)(h + 1);
	__u32 end = RD_VALUE_OFF + vlen;
	__s64 sum;

	/* the pseudo-header: from us (the READ's destination) to the
	 * client, UDP, the datagram's length */
	__builtin_memset(b, 0, RD_UDP_OFF);
	__builtin_memcpy(b + RD_PSEUDO_OFF, &p->ip->daddr, 4);
	__builtin_memcpy(b + RD_PSEUDO_OFF + 4, &p->ip->saddr, 4);
	b[RD_PSEUDO_OFF + 9] = IPPROTO_UDP;
	*(__be16 *)(b + RD_PSEUDO_OFF + 10) = bpf_htons(udp_len);

	udp->source = p->udp->dest;
	udp->dest = p->udp->source;
	udp->len = bpf_htons(udp_len);
	udp->check = 0;

	h->magic = bpf_htonl(EC_MAGIC);
	h->version = EC_VERSION;
	h->type = EC_MSG_READ_REPLY;
	h->flags = 0;
	h->sender = ec_self;
	h->view = bpf_htonl(view);
	h->body_len = bpf_htonl(sizeof(*rr) + vlen);
	h->op = bpf_cpu_to_be64(a0);
	h->commit = bpf_cpu_to_be64(READ_ONCE(ec_state.commit));

	rr->client_id = r->client_id;
	rr->request_id = r->request_id;
	rr->op = h->op;
	rr->status = 0; /* EC__STATUS__ST_OK */
	rr->found = 1;
	rr->value_len = bpf_htons(vlen);
	__builtin_memset(rr->pad, 0, sizeof(rr->pad));

	/* zero up to the next word: the copy brought the slot's bytes */
	for (int i = 0; i < 4; i++)
		if (end + i < RD_SCRATCH_BYTES)
			b[end + i] = 0;
	sum = bpf_csum_diff(NULL, 0, (__be32 *)b, (end + 3) & ~3u, 0);
	if (sum < 0)
		return -1;
	udp->check = csum_fold32((__u32)sum);
	if (udp->check == 0)
		udp->check = 0xffff; /* 0 would mean "no checksum" */
	return 0;
}

/*
 * Turn the frame into the reply in s (value of vlen bytes): resized,
 * then the Ethernet and IP headers written from the READ's, swapped, and
 * the UDP datagram stored.  A reply longer than the READ grows at the
 * tail if the driver left room there, else at the head: veth, generic
 * XDP and test runs keep XDP_PACKET_HEADROOM (256 bytes) in front of a
 * frame, more than the largest growth (a 1-byte key's READ to a reply of
 * EC_READ_VALUE_MAX: 247 bytes), while veth often gives no tailroom.
 * Returns EC_XDP_RD_ANSWERED, or EC_XDP_RD_NO_ROOM if the frame could
 * not take the reply's length (the frame unchanged).
 */
static __always_inline enum ec_xdp_verdict rd_reply(struct xdp_md *ctx,
						    const struct rd_scratch *s,
						    __u32 vlen)
{
	int delta = (int)RD_REPLY_LEN(vlen) -
		    (int)(ctx->data_end - ctx->data);
	__u32 dgram = RD_REPLY_LEN(vlen) - EC_L2L4_LEN + sizeof(struct udphdr);
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data, eth0;
	struct iphdr *ip = (void *)(eth + 1), ip0;

	if ((void *)(ip + 1) > data_end)
		return EC_XDP_RD_NO_ROOM;
	eth0 = *eth;
	ip0 = *ip;
	if (delta < 0 && bpf_xdp_adjust_tail(ctx, delta) < 0)
		return EC_XDP_RD_NO_ROOM;
	if (delta > 0 && bpf_xdp_adjust_tail(ctx, delta) < 0 &&
	    bpf_xdp_adjust_head(ctx, -delta) < 0)
		return EC_XDP_RD_NO_ROOM;
	/* The frame is now exactly the reply's length, which holds these
	 * headers (RD_REPLY_LEN is at least EC_L2L4_LEN + 64): the check
	 * below is for the verifier and cannot fail. */
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end)
		return EC_XDP_RD_NO_ROOM;

	__builtin_memcpy(eth->h_dest, eth0.h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, eth0.h_dest, ETH_ALEN);
	eth->h_proto = eth0.h_proto;
	*ip = ip0;
	ip->saddr = ip0.daddr;
	ip->daddr = ip0.saddr;
	ip->tot_len = bpf_htons(RD_REPLY_LEN(vlen) - sizeof(struct ethhdr));
	ip->ttl = 64;
	ip->check = ipv4_csum(ip);
	if (bpf_xdp_store_bytes(ctx, sizeof(*eth) + sizeof(*ip),
				(void *)(s->reply + RD_UDP_OFF), dgram) < 0)
		return EC_XDP_RD_NO_ROOM;
	return EC_XDP_RD_ANSWERED;
}

/*
 * A READ addressed to us, from any address.  Returns EC_XDP_RD_ANSWERED
 * (the frame rewritten into the READ_REPLY, to be sent with XDP_TX) or
 * the reason it goes up untouched.
 */
static __always_inline enum ec_xdp_verdict rd_read(struct xdp_md *ctx,
						   struct ec_pkt *p)
{
	const struct ec_read *r = (const void *)(p->ec + 1);
	struct ec_read_slot *slot;
	struct rd_scratch *s;
	__u32 key_len, h, idx, s1, s2, vlen, zero = 0;
	__u64 w0, a0, min_op;

	if (!(READ_ONCE(ec_state.switches[EC_OFFLOAD_READ]) &
	      (1u << EC_MSG_READ)))
		return EC_XDP_RD_OFF;
	key_len = rd_valid(ctx, p);
	if (!key_len)
		return EC_XDP_RD_MALFORMED;
	w0 = READ_ONCE(ec_state.read_word);
	if (w0 == 0)
		return EC_XDP_RD_CLOSED;
	a0 = READ_ONCE(ec_state.applied_op);
	s = bpf_map_lookup_elem(&read_scratch, &zero);
	if (!s)
		return EC_XDP_RD_MISS;
	if (bpf_xdp_load_bytes(ctx, EC_L2L4_LEN + sizeof(struct ec_hdr) +
					    sizeof(*r),
			       s->key, key_len) < 0)
		return EC_XDP_RD_MALFORMED;
	h = ec_read_hash(s->key, key_len);
	idx = h & ec_read_mask;
	slot = bpf_map_lookup_elem(&read_cache, &idx);
	if (!slot)
		return EC_XDP_RD_MISS;

	s1 = __sync_fetch_and_add(&slot->seq, 0);
	if (s1 & 1)
		return EC_XDP_RD_BUSY;
	if (!rd_key_eq(slot, s->key, key_len, h))
		return EC_XDP_RD_MISS;
	vlen = READ_ONCE(slot->value_len);
	if ((READ_ONCE(slot->flags) & EC_RS_TOO_LARGE) ||
	    vlen > EC_READ_VALUE_MAX)
		return EC_XDP_RD_TOO_LARGE;
	/* the whole array, whatever the length: a copy of fixed size */
	__builtin_memcpy(s->reply + RD_VALUE_OFF, slot->value,
			 EC_READ_VALUE_MAX);
	s2 = __sync_fetch_and_add(&slot->seq, 0);
	if (s2 != s1)
		return EC_XDP_RD_BUSY;

	if (!ec_test_ignore_lease &&
	    bpf_ktime_get_boot_ns() >= READ_ONCE(ec_state.lease_until_ns))
		return EC_XDP_RD_LEASE;
	if (READ_ONCE(ec_state.read_word) != w0)
		return EC_XDP_RD_RACE;
	min_op = bpf_be64_to_cpu(r->min_op);
	if (a0 < min_op)
		return EC_XDP_RD_BEHIND;

	if (rd_build(s, p, (__u32)(w0 >> 32), a0, vlen) < 0)
		return EC_XDP_RD_NO_ROOM;
	return rd_reply(ctx, s, vlen);
}

#endif /* EC_BPF_READ_H */
