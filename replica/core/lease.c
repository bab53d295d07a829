/* lease.c - see lease.h. */
#include "internal.h"

#include <string.h>

_Static_assert(EC_MAX_WINDOW <= EC_LEASE_OP_SLOTS,
	       "every op in flight keeps its first send time");

uint64_t lease_promise_us(const struct ec_core *c)
{
	return c->o.view_timeout_us;
}

uint64_t lease_length_us(const struct ec_core *c)
{
	return c->o.view_timeout_us / 10 * 9;
}

void lease_promised(struct ec_core *c, uint64_t at)
{
	if (at && at + lease_promise_us(c) > c->lease.promise_until)
		c->lease.promise_until = at + lease_promise_us(c);
}

bool lease_promise_over(const struct ec_core *c)
{
	return c->now >= c->lease.promise_until;
}

void lease_leading(struct ec_core *c)
{
	struct ec_lease *l = &c->lease;

	/* a new leader's lease is none: its followers promised the old one */
	l->until = 0;
	l->view_start_op = c->log.last;
	l->view_start_at = c->now;
	memset(l->op_tag, 0, sizeof(l->op_tag));
	memset(l->hb_acked, 0, sizeof(l->hb_acked));
}

void lease_prepared(struct ec_core *c, uint64_t op)
{
	struct ec_lease *l = &c->lease;

	l->op_sent[op % EC_LEASE_OP_SLOTS] = c->now;
	l->op_tag[op % EC_LEASE_OP_SLOTS] = op;
}

/* The lease lasts until sent + T_l, if that is longer than it does. */
static void renew(struct ec_core *c, uint64_t sent)
{
	uint64_t until = sent + lease_length_us(c);

	if (until > c->lease.until) {
		c->lease.until = until;
		c->stats.lease_renewals++;
	}
}

void lease_committed(struct ec_core *c, uint64_t op)
{
	const struct ec_lease *l = &c->lease;

	if (op <= l->view_start_op)
		renew(c, l->view_start_at);
	else if (l->op_tag[op % EC_LEASE_OP_SLOTS] == op)
		renew(c, l->op_sent[op % EC_LEASE_OP_SLOTS]);
}

/* Renew from the newest heartbeat a quorum acknowledged. */
static void heartbeat_quorum(struct ec_core *c)
{
	struct ec_lease *l = &c->lease;
	uint64_t seq;

	l->hb_acked[c->o.self] = l->hb_seq;
	seq = ec_quorum_committed(l->hb_acked, c->o.n);
	if (seq && seq + EC_LEASE_HB_RING > l->hb_seq)
		renew(c, l->hb_sent[seq % EC_LEASE_HB_RING]);
}

uint64_t lease_heartbeat(struct ec_core *c)
{
	struct ec_lease *l = &c->lease;

	l->hb_seq++;
	l->hb_sent[l->hb_seq % EC_LEASE_HB_RING] = c->now;
	heartbeat_quorum(c); /* alone, a leader of one holds a quorum */
	return l->hb_seq;
}

void lease_heartbeat_acked(struct ec_core *c, unsigned from, uint64_t seq)
{
	struct ec_lease *l = &c->lease;

	/* only numbers this leadership sent, and still remembers */
	if (seq > l->hb_seq || seq + EC_LEASE_HB_RING <= l->hb_seq ||
	    seq <= l->hb_acked[from])
		return;
	l->hb_acked[from] = seq;
	heartbeat_quorum(c);
}

bool lease_read_ok(struct ec_core *c)
{
	uint64_t now;

	if (c->status != EC_ST_NORMAL || !core_is_leader(c) ||
	    c->executed < c->lease.view_start_op) {
		c->stats.reads_closed++;
		return false;
	}
	if (c->o.test_lease_ignore_clock)
		return true;
	/* a fresh reading: c->now was read before this turn's input, and
	 * an earlier reading would stretch the lease */
	now = c->o.clock ? c->o.clock(c->o.clock_arg) : c->now;
	if (now >= c->lease.until) {
		c->stats.reads_lease_expired++;
		return false;
	}
	return true;
}
