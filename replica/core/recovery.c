/*
 * recovery.c - a restarted replica's recovery (RECOVERY, RECOVERY_RESPONSE)
 * and the answers the others give it; the rule is rec_start's.  Once
 * the view is known the replica fetches the leader's log like any replica
 * behind (transfer.c), and it may fetch a checkpoint, committed state,
 * meanwhile (checkpoint.c).
 */
#include "internal.h"

/* Whether a recovering replica has learnt which view and leader to ask. */
bool rec_view_known(const struct ec_core *c)
{
	return (unsigned)__builtin_popcount(c->rec_from) >=
		       ec_quorum_recovery(c->o.n) &&
	       c->rec_have_leader;
}

static void send_recovery(struct ec_core *c)
{
	Ec__Recovery r = EC__RECOVERY__INIT;

	r.nonce = c->o.nonce;
	core_send(c, EC_TO_ALL, 0, NULL, EC_MSG_RECOVERY, 0, &r.base);
	c->rec_sent_at = c->now;
}

/* A restarted replica has lost its state (nothing is on disk): it must not
 * vote or acknowledge until ec_quorum_recovery(n) others, the current
 * leader among them, have told it the view, and it has installed that
 * leader's log. */
void rec_start(struct ec_core *c)
{
	core_enter(c, EC_ST_RECOVERING, c->view);
	c->rec_from = 0;
	c->rec_view = 0;
	c->rec_have_leader = false;
	c->rec_started = c->now;
	xfer_clear_pending(c);
	send_recovery(c);
}

void rec_on_recovery(struct ec_core *c, const struct ec_msg *m)
{
	Ec__Recovery *r;
	Ec__Recovery resp = EC__RECOVERY__INIT;

	if (c->status != EC_ST_NORMAL) {
		c->stats.ignored[m->type]++;
		return;
	}
	r = (Ec__Recovery *)ec_msg_unpack(m, &ec__recovery__descriptor,
					  &c->stats.parse);
	if (!r)
		return;
	/* answered only in normal status: a response says we are normal */
	resp.nonce = r->nonce;
	core_send(c, EC_TO_REPLICA, m->sender, NULL, EC_MSG_RECOVERY_RESPONSE,
		  c->log.last, &resp.base);
	ec__recovery__free_unpacked(r, NULL);
}

void rec_on_recovery_response(struct ec_core *c, const struct ec_msg *m)
{
	Ec__Recovery *r;
	bool ours;

	if (c->status != EC_ST_RECOVERING) {
		c->stats.ignored[m->type]++;
		return;
	}
	r = (Ec__Recovery *)ec_msg_unpack(m, &ec__recovery__descriptor,
					  &c->stats.parse);
	if (!r)
		return;
	ours = r->nonce == c->o.nonce;
	ec__recovery__free_unpacked(r, NULL);
	if (!ours) {
		c->stats.ignored[m->type]++; /* answers someone else's RECOVERY */
		return;
	}
	c->rec_from |= 1u << m->sender;
	if (m->view > c->rec_view) {
		c->rec_view = m->view;
		c->rec_have_leader = false;
	}
	if (m->view == c->rec_view && m->sender == core_leader_of(c, m->view)) {
		c->rec_have_leader = true;
		c->leader_op = m->op;
	}
	if (rec_view_known(c)) {
		core_enter(c, c->status, c->rec_view);
		xfer_request_state(c);
	}
}

void rec_tick(struct ec_core *c)
{
	if (c->now - c->rec_started >= 2 * c->o.view_timeout_us) {
		rec_start(c); /* the leader we were fetching from may be gone */
		return;
	}
	/* a checkpoint is committed state: fetched while we learn the view */
	ckpt_request(c);
	if (c->now - c->rec_sent_at < c->o.retransmit_us)
		return;
	if (rec_view_known(c)) {
		c->rec_sent_at = c->now;
		xfer_request_state(c);
	} else {
		send_recovery(c);
	}
}
