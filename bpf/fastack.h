/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fastack.h - follower fast ack with in-kernel log buffering.
 *
 * A PREPARE that is exactly the next op user space expects (ec_state.
 * expected), in our view, from our view's leader, is stored whole in the
 * fa_log ring buffer and the same frame goes back to the leader as our
 * PREPARE_OK (XDP_TX).  A heartbeat (COMMIT) of our view's leader while
 * the window is open is stored too, so user space takes its commit number
 * in order with the PREPAREs, and goes back as our HEARTBEAT_OK; it does
 * not move expected.  Anything else goes up untouched.
 *
 * Promises: every ack is a promise to the leader (core/lease.h).  Its
 * time is stamped in this CPU's ec_promise_ns slot before the compare-
 * and-swap on expected that lets the ack out, so user space, which
 * closes the window with an exchange and then reads the stamps, learns of
 * every ack sent (ec_offload.h).
 *
 * Order: a record is reserved before expected moves past its op, and
 * expected moves one op at a time, so records sit in the ring in op order
 * (with heartbeats among them, as they came) and user space drains them
 * in that order.  expected only moves once the
 * copy is done, so every op below it is in the ring (possibly not yet
 * submitted, for a few instructions).  The compare-and-swap is on the
 * whole word, epoch included: if user space closed the window after we
 * read it (and even reopened it for the same op in a new view), it fails.
 *
 * Included by ec_xdp.bpf.c after its maps and globals.
 */
#ifndef EC_BPF_FASTACK_H
#define EC_BPF_FASTACK_H

/* Length of the PREPARE_OK or HEARTBEAT_OK frame we send back. */
#define FA_ACK_LEN (EC_L2L4_LEN + sizeof(struct ec_hdr))

/* 1 if the UDP length, the IP total length and body_len agree with each
 * other and the frame holds them all (bytes past the IP datagram are link
 * padding and are ignored). */
static __always_inline int fa_lengths_ok(struct xdp_md *ctx,
					 const struct ec_pkt *p, __u32 body_len)
{
	__u32 udp_len = sizeof(struct udphdr) + sizeof(struct ec_hdr) + body_len;
	__u32 ip_len = sizeof(struct iphdr) + udp_len;
	__u32 frame_len = ctx->data_end - ctx->data;

	return bpf_ntohs(p->udp->len) == udp_len &&
	       bpf_ntohs(p->ip->tot_len) == ip_len &&
	       frame_len >= sizeof(struct ethhdr) + ip_len;
}

/* Wake the consumer only when the ring is more than half full: user
 * space drains in batches, before it handles anything from the socket. */
static __always_inline __u64 fa_wakeup_flag(void)
{
	__u64 avail = bpf_ringbuf_query(&fa_log, BPF_RB_AVAIL_DATA);

	return avail > FA_RING_BYTES / 2 ? BPF_RB_FORCE_WAKEUP :
					   BPF_RB_NO_WAKEUP;
}

/* This CPU's promise slot (ec_offload.h), or NULL if user space reads
 * none for it: then nothing may be acknowledged from here, since user
 * space would never learn of the promise. */
static __always_inline __u64 *fa_promise_slot(void)
{
	__u32 cpu = bpf_get_smp_processor_id();

	if (cpu >= ec_promise_cpus || cpu >= EC_PROMISE_CPUS)
		return NULL;
	return &ec_promise_ns[cpu];
}

/*
 * Store the datagram (UDP payload: header and body_len bytes) in fa_log
 * and stamp slot, then move ec_state.expected from w, the word read when
 * the frame was checked, to next (w + 1 for a PREPARE; w itself for a
 * heartbeat, which only has to find the window as it was).  Returns
 * EC_XDP_FA_ACKED (EC_XDP_HB_ACKED for a heartbeat, hb) when all of it
 * happened, otherwise the reason the record did not stay (FULL, RACE,
 * MALFORMED); a stamp left behind by a lost race only makes the promise
 * look a little later, which is on the safe side.
 */
static __always_inline enum ec_xdp_verdict fa_store(struct xdp_md *ctx,
						    __u64 w, __u64 next,
						    __u32 body_len,
						    __u64 *slot, bool hb)
{
	struct ec_fa_record *rec;
	__u32 len;

	/* masked and re-checked so the verifier can bound the copy */
	len = (sizeof(struct ec_hdr) + body_len) & 0x7ff;
	if (len < sizeof(struct ec_hdr) || len > EC_FA_DATA_MAX)
		return hb ? EC_XDP_HB_MALFORMED : EC_XDP_FA_MALFORMED;
	rec = bpf_ringbuf_reserve(&fa_log, sizeof(*rec), 0);
	if (!rec)
		return hb ? EC_XDP_HB_FULL : EC_XDP_FA_FULL;
	if (bpf_xdp_load_bytes(ctx, EC_L2L4_LEN, rec->data, len) < 0) {
		bpf_ringbuf_discard(rec, BPF_RB_NO_WAKEUP);
		return hb ? EC_XDP_HB_MALFORMED : EC_XDP_FA_MALFORMED;
	}
	rec->len = len;
	rec->pad = 0;
	/* before the compare-and-swap, which orders it before the ack: a
	 * reading taken now is after the frame arrived, so no earlier than
	 * the leader's send */
	WRITE_ONCE(*slot, bpf_ktime_get_boot_ns());
	if (__sync_val_compare_and_swap(&ec_state.expected, w, next) != w) {
		/* another CPU stored an op, or user space closed or
		 * moved the window: nothing of ours may stay in the log,
		 * and no ack may leave */
		bpf_ringbuf_discard(rec, BPF_RB_NO_WAKEUP);
		return hb ? EC_XDP_HB_RACE : EC_XDP_FA_RACE;
	}
	bpf_ringbuf_submit(rec, fa_wakeup_flag());
	return hb ? EC_XDP_HB_ACKED : EC_XDP_FA_ACKED;
}

/* Swap the six-byte MACs a and b. */
static __always_inline void fa_swap_mac(__u8 *a, __u8 *b)
{
	__u8 tmp[ETH_ALEN];

	__builtin_memcpy(tmp, a, ETH_ALEN);
	__builtin_memcpy(a, b, ETH_ALEN);
	__builtin_memcpy(b, tmp, ETH_ALEN);
}

/*
 * Turn the stored frame p into our acknowledgement of it, of type and
 * header op (network order), for the same view, addressed back to where
 * it came from, without the body.
 */
static __always_inline void fa_make_ack(struct xdp_md *ctx, struct ec_pkt *p,
					__u8 type, __be64 op)
{
	__u32 frame_len = ctx->data_end - ctx->data;
	__be32 addr;
	__be16 port;

	fa_swap_mac(p->eth->h_dest, p->eth->h_source);

	addr = p->ip->saddr;
	p->ip->saddr = p->ip->daddr;
	p->ip->daddr = addr;
	p->ip->tot_len = bpf_htons(FA_ACK_LEN - sizeof(struct ethhdr));
	p->ip->ttl = 64;
	p->ip->check = ipv4_csum(p->ip);

	port = p->udp->source;
	p->udp->source = p->udp->dest;
	p->udp->dest = port;
	p->udp->len = bpf_htons(sizeof(struct udphdr) + sizeof(struct ec_hdr));
	p->udp->check = 0;

	p->ec->type = type;
	p->ec->flags = EC_F_FAST_ACK;
	p->ec->sender = ec_self;
	p->ec->body_len = 0;
	p->ec->op = op;
	p->ec->commit = 0;

	/* Last, as it invalidates p.  Should shrinking fail, the body stays
	 * behind the IP datagram, where receivers ignore it: the ack is
	 * still good. */
	if (frame_len > FA_ACK_LEN)
		bpf_xdp_adjust_tail(ctx, (int)FA_ACK_LEN - (int)frame_len);
}

/*
 * Fast ack of a PREPARE from a valid peer addressed to us.  Returns
 * EC_XDP_FA_ACKED (entry stored, frame rewritten into the PREPARE_OK, to
 * be sent with XDP_TX) or the reason the frame goes up untouched.
 */
static __always_inline enum ec_xdp_verdict fa_prepare(struct xdp_md *ctx,
						      struct ec_pkt *p)
{
	struct ec_hdr *h = p->ec;
	__u64 w, expected, op, *slot;
	__u32 body_len, view;
	enum ec_xdp_verdict v;

	if (!(READ_ONCE(ec_state.switches[EC_OFFLOAD_FASTACK]) &
	      (1u << EC_MSG_PREPARE)))
		return EC_XDP_FA_OFF;
	w = READ_ONCE(ec_state.expected);
	if (w == 0)
		return EC_XDP_FA_CLOSED;
	expected = EC_FA_OP(w);
	view = bpf_ntohl(h->view);
	if ((view & 0xff) != EC_FA_VIEW_TAG(w) ||
	    view != READ_ONCE(ec_state.view))
		return EC_XDP_FA_VIEW;
	if (h->sender != READ_ONCE(ec_state.leader))
		return EC_XDP_FA_NOT_LEADER;
	op = bpf_be64_to_cpu(h->op);
	if (op < expected)
		return EC_XDP_FA_OLD;
	if (op > expected)
		return EC_XDP_FA_GAP;
	body_len = bpf_ntohl(h->body_len);
	if (body_len > EC_MAX_ENTRY_BODY)
		return EC_XDP_FA_OVERSIZED;
	/* user space refuses a commit past the op (parse.bad_range): it
	 * could not keep what we would ack */
	if (!fa_lengths_ok(ctx, p, body_len) || bpf_be64_to_cpu(h->commit) > op)
		return EC_XDP_FA_MALFORMED;
	slot = fa_promise_slot();
	if (!slot)
		return EC_XDP_FA_NO_CPU;

	/* fa_store's helpers leave packet data in place: p stays valid */
	v = fa_store(ctx, w, w + 1, body_len, slot, false);
	if (v == EC_XDP_FA_ACKED)
		fa_make_ack(ctx, p, EC_MSG_PREPARE_OK, h->op);
	return v;
}

/*
 * Fast ack of a heartbeat (COMMIT) from a valid peer addressed to us.
 * The same gate as a PREPARE's: the switch (its COMMIT bit), the window
 * open in our view, our view's leader; then a body of exactly one
 * struct ec_heartbeat with a seq, and what user space checks of the
 * header, or it goes up for user space to judge.  Returns EC_XDP_HB_ACKED
 * (stored, frame rewritten into the HEARTBEAT_OK for seq, to be sent with
 * XDP_TX) or the reason the frame goes up untouched.
 */
static __always_inline enum ec_xdp_verdict fa_heartbeat(struct xdp_md *ctx,
							struct ec_pkt *p)
{
	struct ec_hdr *h = p->ec;
	struct ec_heartbeat *hb = (void *)(h + 1);
	enum ec_xdp_verdict v;
	__u64 w, *slot;
	__be64 seq;
	__u32 view;

	if (!(READ_ONCE(ec_state.switches[EC_OFFLOAD_FASTACK]) &
	      (1u << EC_MSG_COMMIT)))
		return EC_XDP_HB_OFF;
	w = READ_ONCE(ec_state.expected);
	if (w == 0)
		return EC_XDP_HB_CLOSED;
	view = bpf_ntohl(h->view);
	if ((view & 0xff) != EC_FA_VIEW_TAG(w) ||
	    view != READ_ONCE(ec_state.view))
		return EC_XDP_HB_VIEW;
	if (h->sender != READ_ONCE(ec_state.leader))
		return EC_XDP_HB_NOT_LEADER;
	/* user space answers only a heartbeat it can parse: one body of
	 * one seq, not 0 (none), and a commit within the leader's op */
	if ((void *)(hb + 1) > (void *)(long)ctx->data_end ||
	    bpf_ntohl(h->body_len) != sizeof(*hb) ||
	    !fa_lengths_ok(ctx, p, sizeof(*hb)) || hb->seq == 0 ||
	    bpf_be64_to_cpu(h->commit) > bpf_be64_to_cpu(h->op))
		return EC_XDP_HB_MALFORMED;
	slot = fa_promise_slot();
	if (!slot)
		return EC_XDP_HB_NO_CPU;

	seq = hb->seq; /* the body goes with the tail */
	v = fa_store(ctx, w, w, sizeof(*hb), slot, true);
	if (v == EC_XDP_HB_ACKED)
		fa_make_ack(ctx, p, EC_MSG_HEARTBEAT_OK, seq);
	return v;
}

#endif /* EC_BPF_FASTACK_H */
