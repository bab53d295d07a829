/*
 * lease.h - leader leases: the rules, on their own state (struct
 * ec_lease), knowing no core.  The core calls them with the times (its
 * turn's, and for a read the fresh reading of opts.clock) and checks the
 * rest of a read's conditions itself (normal.c).
 *
 * A leader answers a GET from its executed state, without a log slot,
 * only while it holds a lease: while a quorum's acknowledgements of what
 * it *sent* are fresh.  What makes that safe is the followers' promise.
 *
 * The promise (every replica).  A replica that acknowledges its view's
 * leader at time a (a PREPARE_OK, a HEARTBEAT_OK, by user space or by the
 * fast-ack XDP program on its behalf: opts.quiesce hands back when the
 * kernel last acknowledged) helps form no later view before a + T_p on
 * its own clock: it sends no DO_VIEW_CHANGE, and as the next leader does
 * not count its own, until then.  It still joins a newer view's change
 * (it stops acknowledging the old leader at once), so the old lease runs
 * out and only then do DO_VIEW_CHANGEs flow.  Joining a view already
 * formed (START_VIEW, a newer PREPARE) needs no wait.  A replica
 * restarted with --recover has forgotten what it promised: it waits T_p
 * from its start.  T_p is the view timeout.
 *
 * The lease (the leader).  The lease is renewed from the time s a
 * message was first *sent*, never from when its acknowledgement came
 * back, nor from a retransmission: s is read before the first PREPARE of
 * an op in this view (the inherited ops: before START_VIEW), or before a
 * heartbeat (COMMIT, struct ec_heartbeat).  When a quorum (the leader
 * counting itself) has acknowledged op k, or heartbeat k, in this view,
 * the lease lasts until s_k + T_l.  Every acknowledgement was sent after
 * s_k, so each acknowledging follower's promise lasts past s_k + T_p.
 *
 * T_l = 0.9 T_p: with clocks whose rates differ by at most rho from real
 * time, the lease must end before the promise, s + T_l (1 + rho) <=
 * s + T_p (1 - rho), i.e. rho <= (1 - 0.9) / (1 + 0.9) = 5.2%; we assume
 * rho <= 1000 ppm (NTP slews at most 500 ppm), so 0.9 leaves the rest
 * for the clock ticks and scheduling between a reading and its use.
 *
 * Reads.  A new leader answers reads only once it has executed every op
 * it inherited (log.last when the view started): those may have been
 * answered by the old leader already, and the DO_VIEW_CHANGEs' commit
 * numbers need not show it (VR's equivalent of Raft's no-op).  The lease
 * is checked at read time with a fresh clock reading taken after the
 * value was read; a leader that leaves its view stops at once.
 *
 * Every time is on the core's clock (the glue's CLOCK_BOOTTIME, which the
 * XDP program reads too), in microseconds.
 */
#ifndef EC_REPLICA_CORE_LEASE_H
#define EC_REPLICA_CORE_LEASE_H

#include <stdbool.h>
#include <stdint.h>

#include "ec_wire.h"

/* Heartbeats whose send time the leader remembers: acknowledgements come
 * back within milliseconds, heartbeats go out every heartbeat_us. */
#define EC_LEASE_HB_RING 16
/* First-send times kept per op: at least the window (checked in lease.c). */
#define EC_LEASE_OP_SLOTS 32

/* Lease state of one replica, inside struct ec_core (internal.h).  It
 * knows no core: the core hands in the times and tells it what happened. */
struct ec_lease {
	unsigned n, self;        /* replicas, and which one this is */
	uint64_t promise_us;     /* T_p */
	uint64_t length_us;      /* T_l */
	uint64_t promise_until;  /* no DO_VIEW_CHANGE before this */
	uint64_t waited_view;    /* view + 1 whose DO_VIEW_CHANGE last had to
				  * wait for the promise (a counter's) */
	/* leader */
	uint64_t until;          /* the lease: valid while a fresh reading
				  * is below this (0: none) */
	uint64_t view_start_op;  /* log.last when this leadership began:
				  * reads open once it is executed */
	uint64_t view_start_at;  /* and when START_VIEW was sent */
	uint64_t op_sent[EC_LEASE_OP_SLOTS]; /* first PREPARE of op, at op %
					      * slots, tagged by op_tag */
	uint64_t op_tag[EC_LEASE_OP_SLOTS];
	uint64_t hb_seq;         /* the last heartbeat sent */
	uint64_t hb_sent[EC_LEASE_HB_RING]; /* its send time, at seq % ring */
	uint64_t hb_acked[EC_MAX_REPLICAS]; /* per replica: highest heartbeat
					     * of this leadership acked */
};

/* Set up l for replica self of n with view timeout T_p = view_timeout_us
 * (T_l = 0.9 T_p): no promise, no lease. */
void lease_init(struct ec_lease *l, unsigned n, unsigned self,
		uint64_t view_timeout_us);

/* Follower: it acknowledged its leader at time at. */
void lease_promised(struct ec_lease *l, uint64_t at);
/* Whether it may help form a later view at now (its promises are over). */
bool lease_promise_over(const struct ec_lease *l, uint64_t now);

/* Leader: this leadership begins at now (START_VIEW goes out now), with
 * last_op the last op of the log it inherited. */
void lease_leading(struct ec_lease *l, uint64_t last_op, uint64_t now);
/* Leader: the first PREPARE of op goes out at now. */
void lease_prepared(struct ec_lease *l, uint64_t op, uint64_t now);
/*
 * Leader: a quorum acknowledged every op up to op in this view; a
 * heartbeat goes out at now, and returns its number; replica from
 * acknowledged heartbeat seq of this view.  Each returns (the last
 * through *renewed) whether the lease got longer.
 */
bool lease_committed(struct ec_lease *l, uint64_t op);
uint64_t lease_heartbeat(struct ec_lease *l, uint64_t now, bool *renewed);
bool lease_heartbeat_acked(struct ec_lease *l, unsigned from, uint64_t seq);

/* Leader: whether the lease holds at now, a fresh reading of the clock
 * taken after the value a read answers with was read. */
bool lease_holds(const struct ec_lease *l, uint64_t now);

#endif /* EC_REPLICA_CORE_LEASE_H */
