/* SPDX-License-Identifier: GPL-2.0 */
/*
 * quorum.h - leader wait-on-quorum.
 *
 * The leader's user space writes EC_SLOT_TAG(op, view) into slot
 * op % EC_QUORUM_SLOTS when it prepares op.  Each PREPARE_OK for op in our
 * view ORs its sender's bit into that word by compare-and-swap: a bitset,
 * so a duplicate never counts twice, and the tag means an ack can only
 * land in the slot of its own op and view.  The ack that brings the bitset to
 * ec_state.quorum goes up flagged EC_F_QUORUM; the others are dropped,
 * except a follower's repeated ack of a slot already at quorum: it answers
 * the leader's retransmission, which means the commit stalled (the quorum
 * ack was lost on its way up), so it goes up flagged too.
 *
 * EC_F_QUORUM is the kernel's word: a PREPARE_OK that goes up for any
 * other reason leaves here without it.
 *
 * Included by ec_xdp.bpf.c after its maps and globals.
 */
#ifndef EC_BPF_QUORUM_H
#define EC_BPF_QUORUM_H

/* Attempts at the slot's compare-and-swap before giving the ack to user
 * space.  A failure means another follower's bit landed (at most
 * EC_MAX_REPLICAS - 2 can) or user space reused the slot (seen on the
 * next round), so the limit is never reached in practice. */
#define Q_CAS_TRIES 8

_Static_assert(EC_MAX_REPLICAS <= 16, "a sender bit must fit in the slot word");

/* Number of set bits in a 16-bit mask. */
static __always_inline __u32 q_popcount16(__u32 x)
{
	x = x - ((x >> 1) & 0x5555);
	x = (x & 0x3333) + ((x >> 2) & 0x3333);
	x = (x + (x >> 4)) & 0x0f0f;
	return (x + (x >> 8)) & 0x1f;
}

/* Pass the ack up as one that completes (or completed) a quorum. */
static __always_inline enum ec_xdp_verdict q_flag(struct ec_pkt *p,
						  enum ec_xdp_verdict v)
{
	if (!(p->ec->flags & EC_F_QUORUM))
		ec_set_flags(p, p->ec->flags | EC_F_QUORUM);
	return v;
}

/* Pass the ack up for user space to count, without our flag (a sender
 * may have put it there). */
static __always_inline enum ec_xdp_verdict q_unflag(struct ec_pkt *p,
						    enum ec_xdp_verdict v)
{
	if (p->ec->flags & EC_F_QUORUM)
		ec_set_flags(p, p->ec->flags & ~EC_F_QUORUM);
	return v;
}

/*
 * Count a PREPARE_OK from a valid peer addressed to us.  Returns the
 * verdict; the header carries EC_F_QUORUM exactly when it is Q_QUORUM or
 * Q_LATE, and the frame is dropped for Q_PENDING, Q_DUP, Q_EXTRA and
 * Q_COMMITTED.
 */
static __always_inline enum ec_xdp_verdict q_prepare_ok(struct ec_pkt *p)
{
	__u64 op, w, old, *slot;
	__u32 bit, quorum, view, acked;

	if (!(READ_ONCE(ec_state.switches[EC_OFFLOAD_QUORUM]) &
	      (1u << EC_MSG_PREPARE_OK)))
		return q_unflag(p, EC_XDP_Q_OFF);
	if (!READ_ONCE(ec_state.lead))
		return q_unflag(p, EC_XDP_Q_NOT_LEADER);
	view = bpf_ntohl(p->ec->view);
	if (view != READ_ONCE(ec_state.view))
		return q_unflag(p, EC_XDP_Q_VIEW);
	op = bpf_be64_to_cpu(p->ec->op);
	if (op <= READ_ONCE(ec_state.commit))
		return EC_XDP_Q_COMMITTED;

	quorum = READ_ONCE(ec_state.quorum);
	bit = 1u << p->ec->sender; /* sender < EC_MAX_REPLICAS <= 16 */
	slot = &ec_slots[op % EC_QUORUM_SLOTS];
	w = READ_ONCE(*slot);
	for (int i = 0; i < Q_CAS_TRIES; i++) {
		if (!EC_SLOT_MATCHES(w, op, view))
			return q_unflag(p, EC_XDP_Q_UNKNOWN);
		acked = q_popcount16(EC_SLOT_BITS(w));
		if (w & bit) {
			if (acked >= quorum)
				return q_flag(p, EC_XDP_Q_LATE);
			return EC_XDP_Q_DUP;
		}
		old = __sync_val_compare_and_swap(slot, w, w | bit);
		if (old == w) {
			if (acked >= quorum)
				return EC_XDP_Q_EXTRA;
			/* bit was not in w: ours makes acked + 1 */
			if (acked + 1 >= quorum)
				return q_flag(p, EC_XDP_Q_QUORUM);
			return EC_XDP_Q_PENDING;
		}
		w = old;
	}
	return q_unflag(p, EC_XDP_Q_UNKNOWN);
}

#endif /* EC_BPF_QUORUM_H */
