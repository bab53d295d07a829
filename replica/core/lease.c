/* lease.c - see lease.h. */
#include "lease.h"

#include <string.h>

#include "quorum.h"

void lease_init(struct ec_lease *l, unsigned n, unsigned self,
		uint64_t view_timeout_us)
{
	memset(l, 0, sizeof(*l));
	l->n = n;
	l->self = self;
	l->promise_us = view_timeout_us;
	l->length_us = view_timeout_us / 10 * 9;
}

void lease_promised(struct ec_lease *l, uint64_t at)
{
	if (at && at + l->promise_us > l->promise_until)
		l->promise_until = at + l->promise_us;
}

bool lease_promise_over(const struct ec_lease *l, uint64_t now)
{
	return now >= l->promise_until;
}

void lease_leading(struct ec_lease *l, uint64_t last_op, uint64_t now)
{
	/* a new leader's lease is none: its followers promised the old one */
	l->until = 0;
	l->view_start_op = last_op;
	l->view_start_at = now;
	memset(l->op_tag, 0, sizeof(l->op_tag));
	memset(l->hb_acked, 0, sizeof(l->hb_acked));
}

void lease_prepared(struct ec_lease *l, uint64_t op, uint64_t now)
{
	l->op_sent[op % EC_LEASE_OP_SLOTS] = now;
	l->op_tag[op % EC_LEASE_OP_SLOTS] = op;
}

/* The lease lasts until sent + T_l, if that is longer than it does. */
static bool renew(struct ec_lease *l, uint64_t sent)
{
	uint64_t until = sent + l->length_us;

	if (until <= l->until)
		return false;
	l->until = until;
	return true;
}

bool lease_committed(struct ec_lease *l, uint64_t op)
{
	if (op <= l->view_start_op)
		return renew(l, l->view_start_at);
	if (l->op_tag[op % EC_LEASE_OP_SLOTS] == op)
		return renew(l, l->op_sent[op % EC_LEASE_OP_SLOTS]);
	return false;
}

/* Renew from the newest heartbeat a quorum acknowledged. */
static bool heartbeat_quorum(struct ec_lease *l)
{
	uint64_t seq;

	l->hb_acked[l->self] = l->hb_seq;
	seq = ec_quorum_committed(l->hb_acked, l->n);
	return seq && seq + EC_LEASE_HB_RING > l->hb_seq &&
	       renew(l, l->hb_sent[seq % EC_LEASE_HB_RING]);
}

uint64_t lease_heartbeat(struct ec_lease *l, uint64_t now, bool *renewed)
{
	l->hb_seq++;
	l->hb_sent[l->hb_seq % EC_LEASE_HB_RING] = now;
	*renewed = heartbeat_quorum(l); /* alone, a leader of one holds a
					 * quorum */
	return l->hb_seq;
}

bool lease_heartbeat_acked(struct ec_lease *l, unsigned from, uint64_t seq)
{
	/* only numbers this leadership sent, and still remembers */
	if (from >= EC_MAX_REPLICAS || seq > l->hb_seq ||
	    seq + EC_LEASE_HB_RING <= l->hb_seq || seq <= l->hb_acked[from])
		return false;
	l->hb_acked[from] = seq;
	return heartbeat_quorum(l);
}

bool lease_holds(const struct ec_lease *l, uint64_t now)
{
	return now < l->until;
}
