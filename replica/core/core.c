/*
 * core.c - creation, message dispatch, the output queue, committed ops
 * handed to the state machine in order (app/exec.h executes them) and
 * the timer entry point.  See core.h and internal.h.
 */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const status_names[] = {
	[EC_ST_NORMAL] = "normal",
	[EC_ST_VIEW_CHANGE] = "view_change",
	[EC_ST_RECOVERING] = "recovering",
};

const char *ec_status_name(enum ec_status s)
{
	return (unsigned)s <= EC_ST_RECOVERING ? status_names[s] : "?";
}

static const char *const reads_names[] = {
	[EC_READS_LOG] = "log",
	[EC_READS_LEASE] = "lease",
};

const char *ec_reads_name(enum ec_reads r)
{
	return (unsigned)r <= EC_READS_LEASE ? reads_names[r] : "?";
}

int ec_reads_parse(const char *name, enum ec_reads *r)
{
	for (unsigned i = 0; i <= EC_READS_LEASE; i++)
		if (strcmp(name, reads_names[i]) == 0) {
			*r = (enum ec_reads)i;
			return 0;
		}
	return -1;
}

void ec_core_opts_default(struct ec_core_opts *o, unsigned n, unsigned self)
{
	memset(o, 0, sizeof(*o));
	o->n = n;
	o->self = self;
	o->heartbeat_us = EC_DEFAULT_HEARTBEAT_US;
	o->view_timeout_us = EC_DEFAULT_VIEW_TIMEOUT_US;
	o->retransmit_us = EC_DEFAULT_RETRANSMIT_US;
	o->window = EC_DEFAULT_WINDOW;
	o->batch = EC_DEFAULT_BATCH;
	o->client_expiry_ops = EC_DEFAULT_CLIENT_EXPIRY_OPS;
	o->checkpoint_ops = EC_DEFAULT_CHECKPOINT_OPS;
	o->checkpoint_bytes = EC_DEFAULT_CHECKPOINT_BYTES;
	o->kv_limits.max_keys = EC_KV_DEFAULT_MAX_KEYS;
	o->kv_limits.max_bytes = EC_KV_DEFAULT_MAX_BYTES;
}

struct ec_core *ec_core_new(const struct ec_core_opts *o, uint64_t now)
{
	struct ec_core *c;

	if (o->n == 0 || o->n > EC_MAX_REPLICAS || o->self >= o->n ||
	    o->members.n != o->n ||
	    o->window == 0 || o->window > EC_MAX_WINDOW ||
	    o->batch == 0 || o->batch > EC_MAX_BATCH ||
	    o->heartbeat_us == 0 || o->retransmit_us == 0 ||
	    o->view_timeout_us <= o->heartbeat_us ||
	    (unsigned)o->reads > EC_READS_LEASE ||
	    (o->recovering && (o->n == 1 || o->nonce == 0)))
		return NULL;
	for (unsigned i = 0; i < o->n; i++)
		if (!ec_addr_valid(&o->members.addr[i]))
			return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->o = *o;
	c->now = now;
	lease_init(&c->lease, o->n, o->self, o->view_timeout_us);
	ec_log_init(&c->log);
	c->kv = ec_kv_new();
	c->ct = ec_ct_new();
	if (c->kv)
		ec_kv_observe(c->kv, &c->o.store_observer);
	c->queue = calloc(EC_MAX_QUEUED, sizeof(*c->queue));
	if (!c->kv || !c->ct || !c->queue) {
		ec_core_free(c);
		return NULL;
	}
	ec_kv_set_limits(c->kv, &o->kv_limits);
	c->last_heard = now;
	/* where it starts is no change: no event */
	c->status = o->recovering ? EC_ST_RECOVERING : EC_ST_NORMAL;
	if (o->recovering) {
		/* what it promised before the restart is forgotten: keep it
		 * by waiting it out (lease.h) */
		lease_promised(&c->lease, now);
		rec_start(c);
	}
	else if (core_is_leader(c))
		normal_reset_leader(c);
	return c;
}

void ec_core_free(struct ec_core *c)
{
	if (!c)
		return;
	ec_core_advance(c);
	free(c->out);
	free(c->events);
	vc_clear(c);
	xfer_clear_pending(c);
	if (c->queue)
		normal_drop_queue(c);
	free(c->queue);
	ec_log_free(&c->log);
	ec_snapshot_clear(&c->ckpt);
	ec_snapshot_clear(&c->prev_ckpt);
	ckpt_clear_fetch(c);
	ec_kv_free(c->kv);
	ec_ct_free(c->ct);
	free(c);
}

/* Append one datagram to the output queue.  Running out of memory here
 * only loses a datagram, which the protocol already tolerates. */
static void push_out(struct ec_core *c, enum ec_dest dest, unsigned replica,
		     const struct ec_addr *client, uint8_t type, uint8_t *buf,
		     size_t len)
{
	struct ec_out *o;

	if (c->n_out == c->cap_out) {
		size_t cap = c->cap_out ? c->cap_out * 2 : 64;
		struct ec_out *v = realloc(c->out, cap * sizeof(*v));

		if (!v) {
			free(buf);
			return;
		}
		c->out = v;
		c->cap_out = cap;
	}
	o = &c->out[c->n_out++];
	memset(o, 0, sizeof(*o));
	o->dest = dest;
	o->replica = replica;
	if (client)
		o->client = *client;
	o->type = type;
	o->buf = buf;
	o->len = len;
	c->stats.tx[type]++;
}

struct ec_event *core_event(struct ec_core *c, enum ec_event_kind kind)
{
	struct ec_event *ev;

	if (c->n_events == c->cap_events) {
		size_t cap = c->cap_events ? c->cap_events * 2 : 8;
		struct ec_event *v = realloc(c->events, cap * sizeof(*v));

		if (!v)
			return NULL;
		c->events = v;
		c->cap_events = cap;
	}
	ev = &c->events[c->n_events++];
	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	ec_core_get_state(c, &ev->state);
	return ev;
}

void core_enter(struct ec_core *c, enum ec_status status, uint32_t view)
{
	if (status == c->status && view == c->view)
		return;
	c->status = status;
	c->view = view;
	core_event(c, EC_EV_STATUS);
}

static struct ec_msg header(const struct ec_core *c, uint8_t type, uint64_t op)
{
	struct ec_msg m = {
		.type = type,
		.sender = (uint8_t)c->o.self,
		.view = c->view,
		.op = op,
		.commit = c->commit,
	};
	return m;
}

/*
 * Queue a message with our view and commit number in the header and an
 * optional protobuf body.  dest/replica/client say where it goes.
 */
void core_send(struct ec_core *c, enum ec_dest dest, unsigned replica,
	       const struct ec_addr *client, uint8_t type, uint64_t op,
	       const ProtobufCMessage *body)
{
	struct ec_msg m = header(c, type, op);
	size_t body_len = body ? protobuf_c_message_get_packed_size(body) : 0;
	size_t len = sizeof(struct ec_hdr) + body_len;
	uint8_t *buf;

	if (len > EC_MAX_MSG)
		return;
	buf = malloc(len);
	if (!buf)
		return;
	ec_hdr_encode(buf, &m, body_len);
	if (body)
		protobuf_c_message_pack(body, buf + sizeof(struct ec_hdr));
	push_out(c, dest, replica, client, type, buf, len);
}

/* Queue a message whose body is already encoded (PREPARE's request, a
 * cached reply). */
void core_send_raw(struct ec_core *c, enum ec_dest dest, unsigned replica,
		   const struct ec_addr *client, uint8_t type, uint64_t op,
		   const uint8_t *body, size_t len)
{
	struct ec_msg m = header(c, type, op);
	size_t cap = sizeof(struct ec_hdr) + len;
	uint8_t *buf = malloc(cap);

	if (!buf)
		return;
	ec_hdr_encode(buf, &m, len);
	memcpy(buf + sizeof(struct ec_hdr), body, len);
	push_out(c, dest, replica, client, type, buf, cap);
}

void core_fatal(const struct ec_core *c, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->o.fatal)
		c->o.fatal(c->o.fatal_arg, msg);
	abort();
}

void core_quiesce(struct ec_core *c)
{
	struct ec_quiesced q = { 0 };

	if (!c->o.quiesce)
		return;
	c->o.quiesce(c->o.quiesce_arg, c->log.last, &q);
	for (size_t i = 0; i < q.n; i++)
		normal_absorb(c, q.acked[i].buf, q.acked[i].len);
	lease_promised(&c->lease, q.acked_at);
	/* the leader counted these ops as ours: a view change without them
	 * could lose a committed op */
	if (q.through > c->log.last)
		core_fatal(c, "ops up to %llu were acknowledged for us but "
			   "only %llu reached the log; aborting",
			   (unsigned long long)q.through,
			   (unsigned long long)c->log.last);
}

/* Answer a client without executing anything (NOT_LEADER, BAD_REQUEST,
 * ...). */
void core_reply_status(struct ec_core *c, const struct ec_addr *to,
		       const Ec__Request *req, Ec__Status status)
{
	Ec__Reply reply = EC__REPLY__INIT;

	reply.client_id = req->client_id;
	reply.request_id = req->request_id;
	reply.status = status;
	core_send(c, EC_TO_CLIENT, 0, to, EC_MSG_REPLY, 0, &reply.base);
}

/* Answer a logged request that is not executed with status: only the
 * leader answers, and only a client it has heard from. */
static void refuse_logged(struct ec_core *c, bool lead,
			  const struct ec_client_rec *rec,
			  const Ec__Request *req, Ec__Status status)
{
	if (lead && rec && rec->has_addr)
		core_reply_status(c, &rec->addr, req, status);
}

/* Execute one request of committed op on the state machine (app/exec.h
 * says what executes); the leader answers. */
static void execute_request(struct ec_core *c, const Ec__Request *req,
			    uint64_t op)
{
	bool lead = c->status == EC_ST_NORMAL && core_is_leader(c);
	const struct ec_client_rec *rec;

	switch (ec_exec_request(c->kv, c->ct, c->o.client_expiry_ops, req, op,
				&rec)) {
	case EC_EXEC_APPLIED:
		/* the cached reply is exactly the body a REPLY carries */
		if (lead && rec->has_addr)
			core_send_raw(c, EC_TO_CLIENT, 0, &rec->addr,
				      EC_MSG_REPLY, 0, rec->reply,
				      rec->reply_len);
		break;
	case EC_EXEC_DUPLICATE:
		break;
	case EC_EXEC_INVALID:
		c->stats.invalid_logged++;
		refuse_logged(c, lead, rec, req, EC__STATUS__ST_BAD_REQUEST);
		break;
	case EC_EXEC_EXPIRED:
		c->stats.sessions_expired++;
		refuse_logged(c, lead, rec, req,
			      EC__STATUS__ST_SESSION_EXPIRED);
		break;
	case EC_EXEC_NO_MEMORY:
		/* Skipping an op would make this replica diverge: stop
		 * instead; a restart recovers the state from the others. */
		core_fatal(c, "out of memory executing op %llu; aborting",
			   (unsigned long long)op);
	}
}

/* Execute committed op `op`: each request of its batch in order; a batch
 * that does not decode is executed as nothing (batch.h). */
static void execute_entry(struct ec_core *c, uint64_t op)
{
	const struct ec_batch *b = ec_log_batch(&c->log, op);

	if (!b)
		core_fatal(c, "out of memory decoding op %llu; aborting",
			   (unsigned long long)op);
	if (b->malformed)
		c->stats.malformed_batches++;
	for (size_t i = 0; i < b->n; i++)
		execute_request(c, b->req[i], op);
	c->stats.clients_expired +=
		ec_exec_expire(c->ct, op, c->o.client_expiry_ops);
}

/* Execute every committed op not yet executed, in op order. */
void core_execute_committed(struct ec_core *c)
{
	while (c->executed < c->commit && c->executed < c->log.last) {
		uint64_t op = c->executed + 1;

		execute_entry(c, op);
		/* nothing reads an executed entry's request again */
		ec_log_release(&c->log, op);
		c->executed = op;
		ckpt_maybe_take(c, op);
	}
}

/* Raise the commit number to commit (never past our log) and execute. */
void core_set_commit(struct ec_core *c, uint64_t commit)
{
	if (commit > c->log.last)
		commit = c->log.last;
	if (commit > c->commit)
		c->commit = commit;
	core_execute_committed(c);
}

void ec_core_receive(struct ec_core *c, const void *buf, size_t len,
		     const struct ec_addr *from, uint64_t now)
{
	struct ec_msg m;

	c->now = now;
	if (ec_msg_parse(buf, len, c->o.n, &m, &c->stats.parse) != EC_PARSE_OK ||
	    ec_member_check(&c->o.members, &m, from, &c->stats.member) !=
		    EC_MEMBER_OK)
		return;
	if (!ec_msg_from_client(m.type) && m.sender == c->o.self)
		return;
	c->stats.rx[m.type]++;
	if (c->status == EC_ST_RECOVERING &&
	    m.type != EC_MSG_RECOVERY_RESPONSE && m.type != EC_MSG_NEW_STATE &&
	    m.type != EC_MSG_SNAPSHOT) {
		c->stats.ignored[m.type]++;
		return;
	}
	switch (m.type) {
	case EC_MSG_REQUEST:
		normal_on_request(c, &m, from);
		break;
	case EC_MSG_READ:
		normal_on_read(c, &m, from);
		break;
	case EC_MSG_PREPARE:
		normal_on_prepare(c, &m);
		break;
	case EC_MSG_PREPARE_OK:
		normal_on_prepare_ok(c, &m);
		break;
	case EC_MSG_COMMIT:
		normal_on_commit(c, &m);
		break;
	case EC_MSG_START_VIEW_CHANGE:
		vc_on_start_view_change(c, &m);
		break;
	case EC_MSG_DO_VIEW_CHANGE:
		vc_on_do_view_change(c, &m);
		break;
	case EC_MSG_START_VIEW:
		vc_on_start_view(c, &m);
		break;
	case EC_MSG_GET_STATE:
		xfer_on_get_state(c, &m);
		break;
	case EC_MSG_NEW_STATE:
		xfer_on_new_state(c, &m);
		break;
	case EC_MSG_RECOVERY:
		rec_on_recovery(c, &m);
		break;
	case EC_MSG_RECOVERY_RESPONSE:
		rec_on_recovery_response(c, &m);
		break;
	case EC_MSG_GET_SNAPSHOT:
		ckpt_on_get_snapshot(c, &m);
		break;
	case EC_MSG_SNAPSHOT:
		ckpt_on_snapshot(c, &m);
		break;
	case EC_MSG_HEARTBEAT_OK:
		normal_on_heartbeat_ok(c, &m);
		break;
	default: /* REPLY: replicas never take one */
		c->stats.ignored[m.type]++;
		break;
	}
}

void ec_core_input_done(struct ec_core *c)
{
	if (c->status == EC_ST_NORMAL && core_is_leader(c))
		normal_prepare_queued(c, true);
}

void ec_core_set_reads(struct ec_core *c, enum ec_reads reads)
{
	c->o.reads = reads;
}

int ec_core_set_batch(struct ec_core *c, unsigned batch)
{
	if (batch == 0 || batch > EC_MAX_BATCH)
		return -1;
	c->o.batch = batch;
	return 0;
}

unsigned ec_core_batch(const struct ec_core *c)
{
	return c->o.batch;
}

void ec_core_tick(struct ec_core *c, uint64_t now)
{
	c->now = now;
	switch (c->status) {
	case EC_ST_NORMAL:
		if (core_is_leader(c))
			normal_leader_tick(c);
		else
			normal_follower_tick(c);
		break;
	case EC_ST_VIEW_CHANGE:
		vc_tick(c);
		break;
	case EC_ST_RECOVERING:
		rec_tick(c);
		break;
	}
}

void ec_core_ready(struct ec_core *c, struct ec_ready *rd)
{
	rd->out = c->out;
	rd->n_out = c->n_out;
	ec_core_get_state(c, &rd->state);
	rd->events = c->events;
	rd->n_events = c->n_events;
}

void ec_core_advance(struct ec_core *c)
{
	for (size_t i = 0; i < c->n_out; i++)
		free(c->out[i].buf);
	c->n_out = 0;
	c->n_events = 0;
}

void ec_core_get_state(const struct ec_core *c, struct ec_core_state *s)
{
	s->status = c->status;
	s->view = c->view;
	s->leader = core_leader_of(c, c->view);
	s->op = c->log.last;
	s->commit = c->commit;
	s->executed = c->executed;
	s->log_base = c->log.base;
	s->checkpoint = c->ckpt.op;
	s->reads = c->o.reads;
	s->lease_until = c->status == EC_ST_NORMAL && core_is_leader(c) ?
				 c->lease.until : 0;
	s->reads_open = c->status == EC_ST_NORMAL && core_is_leader(c) &&
			c->executed >= c->lease.view_start_op;
	s->promise_until = c->lease.promise_until;
}

const struct ec_core_stats *ec_core_stats(const struct ec_core *c)
{
	return &c->stats;
}

const struct ec_kv *ec_core_kv(const struct ec_core *c)
{
	return c->kv;
}
