/*
 * viewchange.c - view change (VR): START_VIEW_CHANGE from all to all,
 * DO_VIEW_CHANGE to the new leader, which picks the log with the highest
 * (last normal view, op), installs it and sends START_VIEW.
 *
 * Messages stay within one datagram: a DO_VIEW_CHANGE or START_VIEW
 * carries the log's tail from about the receivers' commit numbers; the
 * uncommitted part always fits (window), and a receiver missing committed
 * entries below that tail fetches them first (transfer.c).
 */
#include "internal.h"

#include <stdlib.h>

void vc_clear(struct ec_core *c)
{
	for (unsigned i = 0; i < EC_MAX_REPLICAS; i++) {
		if (c->dvc[i].msg)
			ec__do_view_change__free_unpacked(c->dvc[i].msg, NULL);
		c->dvc[i].msg = NULL;
		c->dvc[i].have = false;
	}
	c->svc_from = 0;
}

/* Move to `view` in view-change status, dropping what belonged to the old
 * view (queued requests, view change votes, a pending install). */
void vc_leave_view(struct ec_core *c, uint32_t view)
{
	core_quiesce(c);
	if (view > c->view)
		c->stats.view_changes++;
	core_enter(c, EC_ST_VIEW_CHANGE, view);
	c->vc_started = c->now;
	c->vc_sent_at = c->now;
	c->leader_op = 0;
	normal_drop_queue(c);
	vc_clear(c);
	xfer_clear_pending(c);
}

static void send_svc(struct ec_core *c)
{
	Ec__StartViewChange svc = EC__START_VIEW_CHANGE__INIT;

	svc.commit = c->commit;
	core_send(c, EC_TO_ALL, 0, NULL, EC_MSG_START_VIEW_CHANGE, c->log.last,
		  &svc.base);
}

/* Send our log tail to the new leader, from the lower of our commit number
 * and the one the new leader announced, as far back as fits. */
static void send_dvc(struct ec_core *c)
{
	Ec__DoViewChange dvc = EC__DO_VIEW_CHANGE__INIT;
	unsigned leader = core_leader_of(c, c->view);
	uint64_t hint = c->commit, first;
	Ec__LogEntry **entries;

	if ((c->svc_from & (1u << leader)) && c->svc_commit[leader] < hint)
		hint = c->svc_commit[leader];
	first = xfer_tail_start(c, hint + 1);
	entries = xfer_build_entries(c, first, c->log.last);
	if (!entries && first <= c->log.last)
		return; /* out of memory; the timer resends */
	dvc.last_normal_view = c->last_normal_view;
	dvc.n_entries = c->log.last + 1 - first;
	dvc.entries = entries;
	core_send(c, EC_TO_REPLICA, leader, NULL, EC_MSG_DO_VIEW_CHANGE,
		  c->log.last, &dvc.base);
	free(entries);
}

static bool have_svc_quorum(const struct ec_core *c)
{
	return ec_quorum_has(c->o.n, c->svc_from);
}

static void maybe_start_view(struct ec_core *c);

/* Once a quorum (ourselves included) agrees to change view, and what we
 * promised the old leader is over (lease.h), hand our log to the new
 * leader (or record it, if we are the new leader); the timer tries again
 * until then. */
static void maybe_send_dvc(struct ec_core *c)
{
	struct ec_dvc *own = &c->dvc[c->o.self];

	if (!have_svc_quorum(c) || own->have)
		return;
	if (!lease_promise_over(&c->lease, c->now)) {
		if (c->lease.waited_view != c->view + 1ULL) {
			c->lease.waited_view = c->view + 1ULL;
			c->stats.promise_waits++;
		}
		return;
	}
	own->have = true; /* for a follower: "sent" (the timer resends) */
	own->last_normal_view = c->last_normal_view;
	own->op = c->log.last;
	own->commit = c->commit;
	own->from = 1;
	if (core_is_leader(c))
		maybe_start_view(c);
	else
		send_dvc(c);
}

void vc_start(struct ec_core *c, uint32_t view)
{
	vc_leave_view(c, view);
	c->joining = false;
	c->svc_from = 1u << c->o.self;
	c->svc_commit[c->o.self] = c->commit;
	send_svc(c);
	maybe_send_dvc(c);
}

/* A leader of a newer view (or of the view we are changing to) is already
 * running it: ask it for its log instead of taking part in a view change. */
void vc_join(struct ec_core *c, uint32_t view)
{
	if (view > c->view || c->status != EC_ST_VIEW_CHANGE || !c->joining) {
		vc_leave_view(c, view);
		c->joining = true;
	}
	xfer_request_state(c);
}

void vc_on_start_view_change(struct ec_core *c, const struct ec_msg *m)
{
	Ec__StartViewChange *svc;

	if (m->view < c->view ||
	    (m->view == c->view &&
	     (c->status != EC_ST_VIEW_CHANGE || c->joining))) {
		c->stats.ignored[m->type]++;
		return;
	}
	svc = (Ec__StartViewChange *)ec_msg_unpack(
		m, &ec__start_view_change__descriptor, &c->stats.parse);
	if (!svc)
		return;
	if (svc->commit > m->op) {
		c->stats.parse.count[EC_PARSE_BAD_RANGE]++;
		ec__start_view_change__free_unpacked(svc, NULL);
		return;
	}
	if (m->view > c->view)
		vc_start(c, m->view);
	c->svc_from |= 1u << m->sender;
	c->svc_commit[m->sender] = svc->commit;
	ec__start_view_change__free_unpacked(svc, NULL);
	maybe_send_dvc(c);
}

/* Status normal in c->view with our current log (already the view's log),
 * commit raised to commit.  A new leader announces the view. */
void vc_enter_normal(struct ec_core *c, uint64_t commit)
{
	bool recovered = c->status == EC_ST_RECOVERING;

	/* before the commit: a new leader answers the clients of what it
	 * executes now */
	core_enter(c, EC_ST_NORMAL, c->view);
	c->last_normal_view = c->view;
	c->joining = false;
	core_set_commit(c, commit);
	if (core_is_leader(c)) {
		uint64_t from = c->commit + 1;

		for (unsigned i = 0; i < c->o.n; i++)
			if (c->dvc[i].have && c->dvc[i].commit + 1 < from)
				from = c->dvc[i].commit + 1;
		/* a leader holds every committed op (the view change took
		 * them): it fetches no checkpoint, and never swaps the
		 * client table it orders requests with */
		ckpt_clear_fetch(c);
		normal_reset_leader(c);
		xfer_queue_log_tail(c, EC_MSG_START_VIEW, EC_TO_ALL, 0, from);
	} else {
		c->last_heard = c->now;
		c->leader_op = c->log.last;
		normal_send_prepare_ok(c);
	}
	vc_clear(c);
	if (recovered)
		core_event(c, EC_EV_RECOVERED);
}

/* With a quorum of DO_VIEW_CHANGEs (ours included), adopt the log with the highest
 * (last normal view, op) and the highest commit number among them. */
static void maybe_start_view(struct ec_core *c)
{
	unsigned count = 0, best = c->o.self;
	uint64_t commit = 0;
	struct ec_dvc *b;

	if (!c->dvc[c->o.self].have || c->pending.have)
		return;
	for (unsigned i = 0; i < c->o.n; i++) {
		const struct ec_dvc *d = &c->dvc[i];

		/* Another's DO_VIEW_CHANGE without its message went to a
		 * pending install, since dropped (our commit passed its whole
		 * tail): it can neither be installed nor counted until its
		 * sender's timer resends it. */
		if (!d->have || (i != c->o.self && !d->msg))
			continue;
		count++;
		if (d->commit > commit)
			commit = d->commit;
		b = &c->dvc[best];
		if (d->last_normal_view > b->last_normal_view ||
		    (d->last_normal_view == b->last_normal_view && d->op > b->op))
			best = i;
	}
	if (count < ec_quorum(c->o.n))
		return;
	if (best == c->o.self) {
		vc_enter_normal(c, commit);
		return;
	}
	b = &c->dvc[best];
	xfer_stash_install(c, c->view, b->from, commit, best, &b->msg->base,
			   b->msg->entries, b->msg->n_entries);
	b->msg = NULL; /* now owned by the pending install */
	xfer_try_install(c);
}

void vc_on_do_view_change(struct ec_core *c, const struct ec_msg *m)
{
	Ec__DoViewChange *dvc;
	struct ec_dvc *d;
	uint64_t from;

	if (m->view < c->view) {
		c->stats.ignored[m->type]++;
		return;
	}
	if (m->view > c->view)
		vc_start(c, m->view);
	if (c->status != EC_ST_VIEW_CHANGE || c->joining ||
	    !core_is_leader(c) || c->pending.have) {
		c->stats.ignored[m->type]++;
		return;
	}
	dvc = (Ec__DoViewChange *)ec_msg_unpack(
		m, &ec__do_view_change__descriptor, &c->stats.parse);
	if (!dvc)
		return;
	if (!xfer_check_entries(c, m, dvc->entries, dvc->n_entries, true, m->op,
				&from))
		goto drop;
	/* a DO_VIEW_CHANGE carries every entry above its sender's commit,
	 * from a view it was normal in, before this one */
	if (from > m->commit + 1 || dvc->last_normal_view >= m->view) {
		c->stats.parse.count[EC_PARSE_BAD_RANGE]++;
		goto drop;
	}
	d = &c->dvc[m->sender];
	if (d->msg)
		ec__do_view_change__free_unpacked(d->msg, NULL);
	d->have = true;
	d->msg = dvc;
	d->last_normal_view = dvc->last_normal_view;
	d->op = m->op;
	d->commit = m->commit;
	d->from = from;
	maybe_start_view(c);
	return;
drop:
	ec__do_view_change__free_unpacked(dvc, NULL);
}

void vc_on_start_view(struct ec_core *c, const struct ec_msg *m)
{
	Ec__LogChunk *sv;
	uint64_t from;

	if (m->view < c->view || m->sender != core_leader_of(c, m->view) ||
	    (m->view == c->view && c->status == EC_ST_NORMAL)) {
		c->stats.ignored[m->type]++;
		return;
	}
	sv = (Ec__LogChunk *)ec_msg_unpack(m, &ec__log_chunk__descriptor,
					   &c->stats.parse);
	if (!sv)
		return;
	if (!xfer_check_entries(c, m, sv->entries, sv->n_entries, true, m->op,
				&from)) {
		ec__log_chunk__free_unpacked(sv, NULL);
		return;
	}
	if (m->view > c->view)
		vc_leave_view(c, m->view);
	xfer_stash_install(c, m->view, from, m->commit, m->sender, &sv->base,
			   sv->entries, sv->n_entries);
	xfer_try_install(c);
}

/* Resend what may have been lost; give up on a view whose change takes
 * longer than the view timeout and try the next one. */
void vc_tick(struct ec_core *c)
{
	/* a change held back by our own promise has not started yet */
	uint64_t since = c->vc_started > c->lease.promise_until ?
				 c->vc_started : c->lease.promise_until;

	if (c->now >= since && c->now - since >= c->o.view_timeout_us) {
		vc_start(c, c->view + 1);
		return;
	}
	maybe_send_dvc(c);
	if (c->now - c->vc_sent_at < c->o.retransmit_us)
		return;
	c->vc_sent_at = c->now;
	if (c->pending.have || c->joining)
		xfer_request_state(c);
	else {
		send_svc(c);
		if (c->dvc[c->o.self].have && !core_is_leader(c))
			send_dvc(c);
		if (c->fetch.active)
			xfer_request_state(c);
	}
}
