/*
 * normal.c - the normal case: REQUEST at the leader, PREPARE and
 * COMMIT at followers, PREPARE_OK counting, heartbeats and retransmission.
 */
#include "internal.h"

#include "common/read_msg.h"

#include <endian.h>
#include <stdlib.h>
#include <string.h>


/* Count a renewal of the lease (lease.h), if there was one. */
static void count_renewal(struct ec_core *c, bool renewed)
{
	if (renewed)
		c->stats.lease_renewals++;
}

/* Whether reads may be answered from the executed state now: in normal
 * status as the leader, reads open (every inherited op executed, lease.h)
 * and the lease holding by a fresh reading of the clock, taken after the
 * value was read (c->now was read before this turn's input, and an
 * earlier reading would stretch the lease). */
static bool read_lease_ok(struct ec_core *c)
{
	if (c->status != EC_ST_NORMAL || !core_is_leader(c) ||
	    c->executed < c->lease.view_start_op) {
		c->stats.reads_closed++;
		return false;
	}
	if (c->o.test_lease_ignore_clock)
		return true;
	if (!lease_holds(&c->lease,
			 c->o.clock ? c->o.clock(c->o.clock_arg) : c->now)) {
		c->stats.reads_lease_expired++;
		return false;
	}
	return true;
}

/* Put a closed batch (body encoded, batch the same decoded; the log takes
 * it) in the next slot and send it to every follower.  False if out of
 * memory. */
static bool prepare(struct ec_core *c, const uint8_t *body, size_t len,
		    struct ec_batch *batch)
{
	size_t n = batch->n;
	uint64_t op = ec_log_append(&c->log, c->view, body, len, batch);

	if (op == 0)
		return false;
	if (c->commit + 1 == op)
		c->retx_at = c->now + c->retx_gap;
	lease_prepared(&c->lease, op, c->now);
	core_send_raw(c, EC_TO_ALL, 0, NULL, EC_MSG_PREPARE, op, body, len);
	c->last_broadcast = c->now;
	c->stats.batches++;
	c->stats.batched_requests += n;
	if (ec_quorum_followers(c->o.n) == 0) {
		core_set_commit(c, op);
		count_renewal(c, lease_committed(&c->lease, op));
	}
	return true;
}

static bool window_full(const struct ec_core *c)
{
	return c->log.last - c->commit >= c->o.window;
}

static struct ec_queued_req *queued(struct ec_core *c, size_t i)
{
	return &c->queue[(c->queue_head + i) % EC_MAX_QUEUED];
}

/* Remove the queue's head; its request moved elsewhere (req NULL) or is
 * freed here. */
static void dequeue(struct ec_core *c)
{
	struct ec_queued_req *q = queued(c, 0);

	free(q->body);
	if (q->req)
		ec__request__free_unpacked(q->req, NULL);
	c->queue_head = (c->queue_head + 1) % EC_MAX_QUEUED;
	c->queue_len--;
}

void normal_drop_queue(struct ec_core *c)
{
	while (c->queue_len)
		dequeue(c);
	ec_batch_clear(&c->builder);
}

/* Mark the requests in flight (the log's uncommitted ops and the queue)
 * as prepared in the client table, so that a retry of one is not ordered
 * twice: when we become leader, and after requests were lost. */
static void mark_in_flight(struct ec_core *c)
{
	ec_ct_reset_prepared(c->ct);
	for (uint64_t op = c->commit + 1; op <= c->log.last; op++) {
		const struct ec_batch *b = ec_log_batch(&c->log, op);

		for (size_t i = 0; b && i < b->n; i++) {
			struct ec_client_rec *rec =
				ec_ct_get(c->ct, b->req[i]->client_id, true);

			if (rec && rec->prepared_req < b->req[i]->request_id)
				rec->prepared_req = b->req[i]->request_id;
			if (rec && !rec->executed_req && !rec->last_op)
				rec->last_op = c->commit; /* ours alone */
		}
	}
	for (size_t i = 0; i < c->queue_len; i++) {
		const Ec__Request *req = queued(c, i)->req;
		struct ec_client_rec *rec = ec_ct_get(c->ct, req->client_id, true);

		if (rec && rec->prepared_req < req->request_id)
			rec->prepared_req = req->request_id;
	}
}

/* How many queued requests from the head go into the next batch, and
 * whether that batch is full (no further request would fit it). */
static size_t next_batch(const struct ec_core *c, bool *full)
{
	size_t n = 0, bytes = 0;

	while (n < c->queue_len) {
		size_t len = c->queue[(c->queue_head + n) % EC_MAX_QUEUED].len;

		if (!ec_batch_fits(n, bytes, len, c->o.batch))
			break;
		bytes += ec_batch_cost(len);
		n++;
	}
	*full = n < c->queue_len || n == c->o.batch;
	return n;
}

/*
 * Prepare queued requests, a batch per op, while the window has room.
 * Full batches go at once; with partial, so does the last, partly filled
 * one (nothing more is waiting).  Requests lost to out of memory are
 * forgotten by the client table too, so the client's retry is ordered.
 */
void normal_prepare_queued(struct ec_core *c, bool partial)
{
	struct ec_batch_builder *b = &c->builder;
	bool lost = false;

	while (c->queue_len && !window_full(c)) {
		struct ec_batch *batch;
		bool full;
		size_t n = next_batch(c, &full);

		if (!full && !partial)
			break;
		for (size_t i = 0; i < n; i++) {
			struct ec_queued_req *q = queued(c, 0);

			ec_batch_add(b, q->body, q->len, q->req);
			q->req = NULL;
			dequeue(c);
		}
		if (!ec_batch_take(b, &batch)) {
			ec_batch_clear(b);
			lost = true;
		} else if (!prepare(c, b->buf, b->bytes, batch)) {
			lost = true;
		}
	}
	if (lost)
		mark_in_flight(c);
}

/* Hold a request for the next batch (the queue takes req); false if the
 * queue is full or out of memory. */
static bool enqueue(struct ec_core *c, const struct ec_msg *m,
		    Ec__Request *req)
{
	struct ec_queued_req *q;
	uint8_t *copy;

	if (c->queue_len == EC_MAX_QUEUED)
		return false;
	copy = malloc(m->body_len ? m->body_len : 1);
	if (!copy)
		return false;
	memcpy(copy, m->body, m->body_len);
	q = queued(c, c->queue_len);
	q->body = copy;
	q->len = m->body_len;
	q->req = req;
	c->queue_len++;
	if (window_full(c))
		c->stats.queued_requests++;
	return true;
}

/* Answer req, a GET, from the executed state if the lease allows it
 * (lease.h); false: it goes through the log.  The value is read first and
 * the lease checked after, with a fresh reading of the clock, so the read
 * happened while the lease held. */
static bool read_under_lease(struct ec_core *c, const Ec__Request *req,
			     const struct ec_addr *from)
{
	uint8_t *buf;
	size_t len;

	if (req->min_op > c->executed) {
		c->stats.reads_behind++;
		return false;
	}
	if (ec_exec_read(c->kv, req, c->executed, &buf, &len) < 0)
		return false;
	if (!read_lease_ok(c)) {
		free(buf);
		return false;
	}
	c->stats.reads_lease++;
	core_send_raw(c, EC_TO_CLIENT, 0, from, EC_MSG_REPLY, 0, buf, len);
	free(buf);
	return true;
}

/*
 * A READ: the GET Request it stands for (common/read_msg.h), taken the
 * way a REQUEST carrying it would be: under the lease, through the log,
 * or refused, and answered with a REPLY.  It reaches user space when the
 * leader's XDP program did not answer it (the read offload off, no lease
 * by the kernel's clock, the key not cached...) or on any other replica.
 */
void normal_on_read(struct ec_core *c, const struct ec_msg *m,
		    const struct ec_addr *from)
{
	struct ec_read_msg r;
	Ec__Request req;
	Ec__KvOp get;
	/* four varints of at most 11 bytes with their tags, the op's kind
	 * and key with theirs: far below this */
	uint8_t buf[2 * EC_READ_MAX_DGRAM];
	struct ec_msg as_request = *m;

	if (ec_read_decode(m, &r) < 0) {
		c->stats.parse.count[EC_PARSE_BAD_BODY]++;
		return;
	}
	ec_read_as_request(&r, &req, &get);
	if (ec__request__get_packed_size(&req) > sizeof(buf))
		return;
	as_request.type = EC_MSG_REQUEST;
	as_request.body = buf;
	as_request.body_len = ec__request__pack(&req, buf);
	normal_on_request(c, &as_request, from);
}

/*
 * A client request.  Only the leader in normal status orders requests;
 * others tell the client their view so it can find the leader.  A retry of
 * an executed request is answered from the client table; a retry of one
 * already in flight waits for its commit.  A hello (request_id 0, no op)
 * is answered at once by any replica in normal status: its header
 * carries the commit number a new session starts from.  A request of an
 * expired session is refused before ordering (it would be at execution).
 */
void normal_on_request(struct ec_core *c, const struct ec_msg *m,
		       const struct ec_addr *from)
{
	Ec__Request *req;
	struct ec_client_rec *rec;

	req = (Ec__Request *)ec_msg_unpack(m, &ec__request__descriptor,
					   &c->stats.parse);
	if (!req)
		return;
	if (req->request_id == 0 && !req->op && c->status == EC_ST_NORMAL) {
		core_reply_status(c, from, req, EC__STATUS__ST_OK);
		goto out;
	}
	if (c->status != EC_ST_NORMAL || !core_is_leader(c)) {
		core_reply_status(c, from, req, EC__STATUS__ST_NOT_LEADER);
		goto out;
	}
	if (!ec_exec_valid(req) || !ec_batch_fits(0, 0, m->body_len, 1)) {
		core_reply_status(c, from, req, EC__STATUS__ST_BAD_REQUEST);
		goto out;
	}
	rec = ec_ct_get(c->ct, req->client_id, false);
	if (ec_exec_session_expired(rec, req->session_op, c->log.last + 1,
				    c->o.client_expiry_ops)) {
		c->stats.sessions_expired++;
		core_reply_status(c, from, req, EC__STATUS__ST_SESSION_EXPIRED);
		goto out;
	}
	if (!rec) {
		rec = ec_ct_get(c->ct, req->client_id, true);
		if (!rec)
			goto out;
		rec->last_op = c->commit; /* ours alone until it executes */
	}
	rec->addr = *from;
	rec->has_addr = true;
	if (req->request_id <= rec->executed_req) {
		if (req->request_id == rec->executed_req && rec->reply) {
			c->stats.duplicate_requests++;
			core_send_raw(c, EC_TO_CLIENT, 0, from, EC_MSG_REPLY, 0,
				      rec->reply, rec->reply_len);
		}
		goto out;
	}
	if (req->op->kind == EC__OP_KIND__OP_GET) {
		if (c->o.reads == EC_READS_LEASE && read_under_lease(c, req, from))
			goto out;
		c->stats.reads_log++;
	}
	if (req->request_id <= rec->prepared_req)
		goto out;
	/* the queue, then the log, keep req: it is decoded once */
	if (!enqueue(c, m, req))
		goto out;
	rec->prepared_req = req->request_id;
	normal_prepare_queued(c, false);
	return;
out:
	ec__request__free_unpacked(req, NULL);
}

void normal_send_prepare_ok(struct ec_core *c)
{
	core_send(c, EC_TO_REPLICA, core_leader_of(c, c->view), NULL,
		  EC_MSG_PREPARE_OK, c->log.last, NULL);
	lease_promised(&c->lease, c->now);
}

void normal_heard_from_leader(struct ec_core *c, const struct ec_msg *m)
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
	if (m->view < c->view || m->sender != core_leader_of(c, m->view) ||
	    m->sender == c->o.self) {
		c->stats.ignored[m->type]++;
		return false;
	}
	if (m->view > c->view || c->status != EC_ST_NORMAL) {
		vc_join(c, m->view);
		return false;
	}
	normal_heard_from_leader(c, m);
	return true;
}

/* Append the PREPARE at op log.last + 1, its batch decoded for when the
 * op is executed (one that does not decode is kept as bytes all the same:
 * it executes as nothing on every replica, batch.h).  False if its body
 * is larger than any batch or we are out of memory. */
static bool append_prepare(struct ec_core *c, const struct ec_msg *m)
{
	struct ec_batch *b;

	if (m->body_len > EC_MAX_ENTRY_BODY) {
		c->stats.parse.count[EC_PARSE_BAD_BODY]++;
		return false;
	}
	b = ec_batch_decode(m->body, m->body_len);
	return b && ec_log_append(&c->log, m->view, m->body, m->body_len,
				  b) != 0;
}

/* Append the PREPARE if it is the next op and acknowledge (cumulatively);
 * ask for what is missing on a gap. */
void normal_on_prepare(struct ec_core *c, const struct ec_msg *m)
{
	if (!from_our_leader(c, m))
		return;
	if (m->op == c->log.last + 1) {
		if (append_prepare(c, m))
			normal_send_prepare_ok(c);
	} else if (m->op <= c->log.last) {
		/* A retransmission: our ack was probably lost. */
		normal_send_prepare_ok(c);
	} else {
		xfer_request_state(c);
	}
	core_set_commit(c, m->commit);
}

void ec_core_absorb(struct ec_core *c, const void *buf, size_t len,
		    uint64_t now)
{
	c->now = now;
	normal_absorb(c, buf, len);
}

/* What a COMMIT from our leader says: its last op and commit number. */
static void take_commit(struct ec_core *c, const struct ec_msg *m)
{
	if (m->op > c->log.last)
		xfer_request_state(c);
	core_set_commit(c, m->commit);
}

/* A heartbeat acknowledged on our behalf: take its commit number (its
 * promise is kept through opts.quiesce's acked_at).  One of a view left,
 * or met out of normal status, says nothing to act on now. */
static void absorb_heartbeat(struct ec_core *c, const struct ec_msg *m)
{
	c->stats.absorbed_heartbeats++;
	if (c->status != EC_ST_NORMAL || m->view != c->view ||
	    m->sender != core_leader_of(c, c->view)) {
		c->stats.ignored[EC_MSG_COMMIT]++;
		return;
	}
	normal_heard_from_leader(c, m);
	take_commit(c, m);
}

/* Append a PREPARE acknowledged on our behalf, or take a heartbeat: see
 * ec_core_absorb. */
void normal_absorb(struct ec_core *c, const void *buf, size_t len)
{
	struct ec_msg m;

	if (ec_msg_parse(buf, len, c->o.n, &m, &c->stats.parse) != EC_PARSE_OK)
		return;
	if (m.type == EC_MSG_COMMIT) {
		absorb_heartbeat(c, &m);
		return;
	}
	if (m.type != EC_MSG_PREPARE)
		return;
	c->stats.absorbed++;
	if (m.op <= c->log.last)
		return; /* we appended it ourselves meanwhile */
	/*
	 * From a view we left: the kernel acked it then, but its record was
	 * not submitted yet when quiesce read the ring, and quiesce only
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
	    m.sender != core_leader_of(c, c->view) || m.op != c->log.last + 1 ||
	    !append_prepare(c, &m))
		core_fatal(c, "cannot keep op %llu of view %u that the kernel "
			   "acknowledged for us; aborting",
			   (unsigned long long)m.op, m.view);
	normal_heard_from_leader(c, &m);
	core_set_commit(c, m.commit);
}

void ec_core_trust_quorum_flag(struct ec_core *c, bool on)
{
	c->trust_quorum = on;
}

/* Commit up to op as leader: execute, reply, restart the retransmission
 * clock and let queued requests in. */
static void leader_commit(struct ec_core *c, uint64_t op)
{
	core_set_commit(c, op);
	count_renewal(c, lease_committed(&c->lease, op));
	c->retx_gap = c->o.retransmit_us;
	c->retx_at = c->now + c->retx_gap;
	normal_prepare_queued(c, false);
}

/* Commit the highest op that a quorum holds, the leader's log included. */
static void update_commit(struct ec_core *c)
{
	uint64_t acks[EC_MAX_REPLICAS];
	uint64_t op;

	for (unsigned i = 0; i < c->o.n; i++)
		acks[i] = i == c->o.self ? c->log.last : c->acked[i];
	op = ec_quorum_committed(acks, c->o.n);
	if (op > c->commit)
		leader_commit(c, op);
}

void normal_on_prepare_ok(struct ec_core *c, const struct ec_msg *m)
{
	unsigned s = m->sender;
	uint64_t op = m->op;

	if (m->view != c->view || c->status != EC_ST_NORMAL ||
	    !core_is_leader(c)) {
		c->stats.ignored[m->type]++;
		return;
	}
	if (op > c->log.last)
		op = c->log.last;
	if (op > c->acked[s])
		c->acked[s] = op;
	if ((m->flags & EC_F_QUORUM) && c->trust_quorum) {
		/* the kernel saw a quorum's followers ack (view, op) */
		c->stats.quorum_commits++;
		if (op > c->commit)
			leader_commit(c, op);
		return;
	}
	update_commit(c);
}

/* The heartbeat's number, from a COMMIT's body; 0 if it has none. */
static uint64_t heartbeat_seq(struct ec_core *c, const struct ec_msg *m)
{
	struct ec_heartbeat hb;

	if (m->body_len != sizeof(hb)) {
		c->stats.parse.count[EC_PARSE_BAD_BODY]++;
		return 0;
	}
	memcpy(&hb, m->body, sizeof(hb));
	return be64toh(hb.seq);
}

void normal_on_commit(struct ec_core *c, const struct ec_msg *m)
{
	uint64_t seq = heartbeat_seq(c, m);

	if (seq == 0 || !from_our_leader(c, m))
		return;
	take_commit(c, m);
	core_send(c, EC_TO_REPLICA, m->sender, NULL, EC_MSG_HEARTBEAT_OK, seq,
		  NULL);
	lease_promised(&c->lease, c->now);
}

void normal_on_heartbeat_ok(struct ec_core *c, const struct ec_msg *m)
{
	if (m->view != c->view || c->status != EC_ST_NORMAL ||
	    !core_is_leader(c)) {
		c->stats.ignored[m->type]++;
		return;
	}
	count_renewal(c, lease_heartbeat_acked(&c->lease, m->sender, m->op));
}

/* Called when we become leader of c->view: forget per-follower progress,
 * queued requests and in-flight markers of an earlier leadership, and mark
 * the requests of the log's uncommitted part as in flight. */
void normal_reset_leader(struct ec_core *c)
{
	normal_drop_queue(c);
	memset(c->acked, 0, sizeof(c->acked));
	c->retx_gap = c->o.retransmit_us;
	c->retx_at = c->now + c->retx_gap;
	c->last_broadcast = c->now;
	mark_in_flight(c);
	lease_leading(&c->lease, c->log.last, c->now);
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

			core_send_raw(c, EC_TO_REPLICA, i, NULL, EC_MSG_PREPARE,
				      op, e->body, e->len);
			c->stats.retransmits++;
		}
	}
	c->retx_at = c->now + c->retx_gap;
	if (c->retx_gap < 32 * c->o.retransmit_us)
		c->retx_gap *= 2;
}

void normal_leader_tick(struct ec_core *c)
{
	normal_prepare_queued(c, true); /* nothing waits past a tick */
	if (c->now - c->last_broadcast >= c->o.heartbeat_us) {
		bool renewed;
		struct ec_heartbeat hb = {
			htobe64(lease_heartbeat(&c->lease, c->now, &renewed))
		};

		count_renewal(c, renewed);

		core_send_raw(c, EC_TO_ALL, 0, NULL, EC_MSG_COMMIT, c->log.last,
			      (const uint8_t *)&hb, sizeof(hb));
		c->last_broadcast = c->now;
	}
	if (c->commit < c->log.last && c->now >= c->retx_at)
		retransmit(c);
}

void normal_follower_tick(struct ec_core *c)
{
	if (c->now - c->last_heard >= c->o.view_timeout_us) {
		vc_start(c, c->view + 1);
		return;
	}
	if (c->leader_op > c->log.last || c->pending.have || c->fetch.active)
		xfer_request_state(c);
}
