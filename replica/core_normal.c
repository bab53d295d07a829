/*
 * core_normal.c - the normal case: REQUEST at the leader, PREPARE and
 * COMMIT at followers, PREPARE_OK counting, heartbeats and retransmission.
 */
#include "core_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Answer a client without executing anything (NOT_LEADER, BAD_REQUEST). */
static void reply_status(struct ec_core *c, const struct ec_addr *to,
			 const Ec__Request *req, Ec__Status status)
{
	Ec__Reply reply = EC__REPLY__INIT;

	reply.client_id = req->client_id;
	reply.request_id = req->request_id;
	reply.status = status;
	queue_msg(c, EC_TO_CLIENT, 0, to, EC_MSG_REPLY, 0, &reply.base);
}

/* Put a request in the next slot and send it to every follower.  req is
 * body decoded, or NULL; the log takes it.  False if out of memory (the
 * client will retry). */
static bool prepare(struct ec_core *c, const uint8_t *body, size_t len,
		    Ec__Request *req)
{
	uint64_t op = ec_log_append(&c->log, c->view, body, len, req);

	if (op == 0)
		return false;
	if (c->commit + 1 == op)
		c->retx_at = c->now + c->retx_gap;
	queue_raw(c, EC_TO_ALL, 0, NULL, EC_MSG_PREPARE, op, body, len);
	c->last_broadcast = c->now;
	if (c->f == 0)
		set_commit(c, op);
	return true;
}

static bool window_full(const struct ec_core *c)
{
	return c->log.last - c->commit >= c->o.window;
}

void drop_queue(struct ec_core *c)
{
	while (c->queue_len) {
		free(c->queue[c->queue_head].body);
		c->queue_head = (c->queue_head + 1) % EC_MAX_QUEUED;
		c->queue_len--;
	}
}

/*
 * Prepare queued requests while the window has room.  A request that
 * cannot be prepared (no memory) is lost: its client's prepared_req, set
 * when it was queued, goes back to its value from before, or every retry
 * would pass for an in-flight copy and be ignored.  Not down to
 * executed_req: an earlier request of the client may still be in the
 * log, uncommitted, and must not be prepared twice.  Left alone if a
 * later request of the client was queued since: that one is in flight.
 */
void drain_queue(struct ec_core *c)
{
	while (c->queue_len && !window_full(c)) {
		struct ec_queued_req *q = &c->queue[c->queue_head];

		if (!prepare(c, q->body, q->len, NULL)) {
			struct ec_client_rec *rec =
				ec_ct_get(c->ct, q->client_id, false);

			if (rec && rec->prepared_req == q->request_id)
				rec->prepared_req = q->prev_prepared;
		}
		free(q->body);
		c->queue_head = (c->queue_head + 1) % EC_MAX_QUEUED;
		c->queue_len--;
	}
}

/* Hold a request until the window has room; false if the queue is full.
 * prev_prepared: the client's prepared_req before this request. */
static bool enqueue(struct ec_core *c, const struct ec_msg *m,
		    const Ec__Request *req, uint64_t prev_prepared)
{
	struct ec_queued_req *q;
	uint8_t *copy;

	if (c->queue_len == EC_MAX_QUEUED)
		return false;
	copy = malloc(m->body_len ? m->body_len : 1);
	if (!copy)
		return false;
	memcpy(copy, m->body, m->body_len);
	q = &c->queue[(c->queue_head + c->queue_len) % EC_MAX_QUEUED];
	q->body = copy;
	q->len = m->body_len;
	q->client_id = req->client_id;
	q->request_id = req->request_id;
	q->prev_prepared = prev_prepared;
	c->queue_len++;
	c->stats.queued_requests++;
	return true;
}

/*
 * A client request.  Only the leader in normal status orders requests;
 * others tell the client their view so it can find the leader.  A retry of
 * an executed request is answered from the client table; a retry of one
 * already in the log waits for its commit.
 */
void on_request(struct ec_core *c, const struct ec_msg *m,
		const struct ec_addr *from)
{
	Ec__Request *req;
	struct ec_client_rec *rec;
	uint64_t request_id;

	req = (Ec__Request *)ec_msg_unpack(m, &ec__request__descriptor,
					   &c->stats.parse);
	if (!req)
		return;
	if (c->status != EC_ST_NORMAL || !is_leader(c)) {
		reply_status(c, from, req, EC__STATUS__ST_NOT_LEADER);
		goto out;
	}
	if (!req->op || !ec_kv_op_valid(req->op) || req->request_id == 0 ||
	    m->body_len > EC_MAX_ENTRY_BODY) {
		reply_status(c, from, req, EC__STATUS__ST_BAD_REQUEST);
		goto out;
	}
	rec = ec_ct_get(c->ct, req->client_id, true);
	if (!rec)
		goto out;
	rec->addr = *from;
	rec->has_addr = true;
	if (req->request_id <= rec->executed_req) {
		if (req->request_id == rec->executed_req && rec->reply) {
			c->stats.duplicate_requests++;
			queue_raw(c, EC_TO_CLIENT, 0, from, EC_MSG_REPLY, 0,
				  rec->reply, rec->reply_len);
		}
		goto out;
	}
	if (req->request_id <= rec->prepared_req)
		goto out;
	if (window_full(c) || c->queue_len) {
		if (!enqueue(c, m, req, rec->prepared_req))
			goto out;
		rec->prepared_req = req->request_id;
		goto out;
	}
	/* the log keeps req, so executing the op does not decode it again */
	request_id = req->request_id;
	if (prepare(c, m->body, m->body_len, req))
		rec->prepared_req = request_id;
	return;
out:
	ec__request__free_unpacked(req, NULL);
}

void send_prepare_ok(struct ec_core *c)
{
	queue_msg(c, EC_TO_REPLICA, leader_of(c, c->view), NULL,
		  EC_MSG_PREPARE_OK, c->log.last, NULL);
}

void heard_from_leader(struct ec_core *c, const struct ec_msg *m)
{
	c->last_heard = c->now;
	if (m->op > c->leader_op)
		c->leader_op = m->op;
}

/*
 * Check that a PREPARE or COMMIT comes from the leader of a view we can
 * follow.  From a newer view (or while we are not normal) we first ask
 * that leader for its log.  Returns true when the caller should go on.
 */
static bool from_our_leader(struct ec_core *c, const struct ec_msg *m)
{
	if (m->view < c->view || m->sender != leader_of(c, m->view) ||
	    m->sender == c->o.self) {
		c->stats.ignored[m->type]++;
		return false;
	}
	if (m->view > c->view || c->status != EC_ST_NORMAL) {
		join_view(c, m->view);
		return false;
	}
	heard_from_leader(c, m);
	return true;
}

/* Append the PREPARE at op log.last + 1.  False if its body does not
 * decode (such a body never enters the log) or we are out of memory.  The
 * log keeps the decoded request for when the op is executed. */
static bool append_prepare(struct ec_core *c, const struct ec_msg *m)
{
	Ec__Request *req;

	req = (Ec__Request *)ec_msg_unpack(m, &ec__request__descriptor,
					   &c->stats.parse);
	if (!req)
		return false;
	return ec_log_append(&c->log, m->view, m->body, m->body_len, req) != 0;
}

/* Append the PREPARE if it is the next op and acknowledge (cumulatively);
 * ask for what is missing on a gap. */
void on_prepare(struct ec_core *c, const struct ec_msg *m)
{
	if (!from_our_leader(c, m))
		return;
	if (m->op == c->log.last + 1) {
		if (append_prepare(c, m))
			send_prepare_ok(c);
	} else if (m->op <= c->log.last) {
		/* A retransmission: our ack was probably lost. */
		send_prepare_ok(c);
	} else {
		request_state(c);
	}
	set_commit(c, m->commit);
}

void ec_core_absorb(struct ec_core *c, const void *buf, size_t len,
		    uint64_t now)
{
	struct ec_msg m;

	c->now = now;
	if (ec_msg_parse(buf, len, c->o.n, &m, &c->stats.parse) != EC_PARSE_OK ||
	    m.type != EC_MSG_PREPARE)
		return;
	c->stats.absorbed++;
	if (m.op <= c->log.last)
		return; /* we appended it ourselves meanwhile */
	/*
	 * From a view we left: the kernel acked it then, but its record was
	 * not submitted yet when quiesce drained the ring, and quiesce only
	 * returned because our log already held the op (a copy came up the
	 * slow path).  So the op was in our log when we left that view, and
	 * the view change took it from there: this record is a duplicate,
	 * stale like any message of an older view.
	 */
	if (m.view < c->view) {
		c->stats.ignored[EC_MSG_PREPARE]++;
		return;
	}
	/*
	 * The kernel already told the leader we hold this op.  It only acks
	 * the next op of our view from its leader while we are a normal
	 * follower, and we quiesce it before changing that, so anything else
	 * is a broken invariant; and if we cannot keep the entry we must not
	 * go on voting as if we did.  Stop: a restart recovers (--recover).
	 */
	if (c->status != EC_ST_NORMAL || m.view != c->view ||
	    m.sender != leader_of(c, c->view) || m.op != c->log.last + 1 ||
	    !append_prepare(c, &m)) {
		fprintf(stderr, "ec-core: cannot keep op %llu of view %u that "
			"the kernel acknowledged for us; aborting\n",
			(unsigned long long)m.op, m.view);
		abort();
	}
	heard_from_leader(c, &m);
	set_commit(c, m.commit);
}

void ec_core_trust_quorum_flag(struct ec_core *c, bool on)
{
	c->trust_quorum = on;
}

/* Commit up to op as leader: execute, reply, restart the retransmission
 * clock and let queued requests in. */
static void leader_commit(struct ec_core *c, uint64_t op)
{
	set_commit(c, op);
	c->retx_gap = c->o.retransmit_us;
	c->retx_at = c->now + c->retx_gap;
	drain_queue(c);
}

/* Commit the highest op that f followers have acknowledged. */
static void update_commit(struct ec_core *c)
{
	uint64_t acks[EC_MAX_REPLICAS];
	unsigned k = 0;

	for (unsigned i = 0; i < c->o.n; i++)
		if (i != c->o.self)
			acks[k++] = c->acked[i];
	/* f-th largest: partial selection sort, k <= 8. */
	for (unsigned i = 0; i < c->f; i++)
		for (unsigned j = i + 1; j < k; j++)
			if (acks[j] > acks[i]) {
				uint64_t t = acks[i];

				acks[i] = acks[j];
				acks[j] = t;
			}
	if (c->f > 0 && acks[c->f - 1] > c->commit)
		leader_commit(c, acks[c->f - 1]);
}

void on_prepare_ok(struct ec_core *c, const struct ec_msg *m)
{
	unsigned s = m->sender;
	uint64_t op = m->op;

	if (m->view != c->view || c->status != EC_ST_NORMAL || !is_leader(c)) {
		c->stats.ignored[m->type]++;
		return;
	}
	if (op > c->log.last)
		op = c->log.last;
	if (op > c->acked[s])
		c->acked[s] = op;
	if ((m->flags & EC_F_QUORUM) && c->trust_quorum) {
		/* the kernel saw f followers ack (view, op) */
		c->stats.quorum_commits++;
		if (op > c->commit)
			leader_commit(c, op);
		return;
	}
	update_commit(c);
}

void on_commit(struct ec_core *c, const struct ec_msg *m)
{
	if (!from_our_leader(c, m))
		return;
	if (m->op > c->log.last)
		request_state(c);
	set_commit(c, m->commit);
}

/* Called when we become leader of c->view: forget per-follower progress,
 * queued requests and in-flight markers of an earlier leadership, and mark
 * the requests of the log's uncommitted part as in flight. */
void reset_leader_state(struct ec_core *c)
{
	drop_queue(c);
	memset(c->acked, 0, sizeof(c->acked));
	c->retx_gap = c->o.retransmit_us;
	c->retx_at = c->now + c->retx_gap;
	c->last_broadcast = c->now;
	ec_ct_reset_prepared(c->ct);
	/* the uncommitted part (about a window), once per leadership; the
	 * log keeps the requests decoded for their execution */
	for (uint64_t op = c->commit + 1; op <= c->log.last; op++) {
		const Ec__Request *req = ec_log_request(&c->log, op);
		struct ec_client_rec *rec;

		if (!req)
			continue;
		rec = ec_ct_get(c->ct, req->client_id, true);
		if (rec && rec->prepared_req < req->request_id)
			rec->prepared_req = req->request_id;
	}
}

/*
 * The commit number is stuck: resend the oldest uncommitted PREPAREs to
 * every follower that has not acknowledged them, backing off while it
 * stays stuck.  Keyed on the commit number rather than on per-follower
 * acks, so it costs nothing while a quorum keeps up, even with a follower
 * down; a follower that fell behind catches up itself with GET_STATE.
 * While the kernel counts acks (trust_quorum), acked[] misses the ones it
 * dropped, and a quorum may be split between its count and ours (the
 * switch flipped): then every follower gets the resend, and its repeated
 * ack completes the kernel's count.
 */
static void retransmit(struct ec_core *c)
{
	uint64_t end = c->commit + EC_RETX_BATCH;

	if (end > c->log.last)
		end = c->log.last;
	for (unsigned i = 0; i < c->o.n; i++) {
		uint64_t op = c->acked[i] > c->commit && !c->trust_quorum ?
				      c->acked[i] : c->commit;

		if (i == c->o.self)
			continue;
		for (op++; op <= end; op++) {
			const struct ec_entry *e = ec_log_at(&c->log, op);

			queue_raw(c, EC_TO_REPLICA, i, NULL, EC_MSG_PREPARE, op,
				  e->body, e->len);
			c->stats.retransmits++;
		}
	}
	c->retx_at = c->now + c->retx_gap;
	if (c->retx_gap < 32 * c->o.retransmit_us)
		c->retx_gap *= 2;
}

void leader_tick(struct ec_core *c)
{
	if (c->now - c->last_broadcast >= c->o.heartbeat_us) {
		queue_msg(c, EC_TO_ALL, 0, NULL, EC_MSG_COMMIT, c->log.last,
			  NULL);
		c->last_broadcast = c->now;
	}
	if (c->commit < c->log.last && c->now >= c->retx_at)
		retransmit(c);
}

void follower_tick(struct ec_core *c)
{
	if (c->now - c->last_heard >= c->o.view_timeout_us) {
		start_view_change(c, c->view + 1);
		return;
	}
	if (c->leader_op > c->log.last || c->pending.have)
		request_state(c);
}
