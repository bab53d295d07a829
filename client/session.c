/* session.c - see session.h. */
#include "session.h"

#include <endian.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "common/read_msg.h"
#include "common/wire.h"

_Static_assert(EC_READ_MAX_DGRAM <= EC_SESSION_MAX_DGRAM,
	       "a READ fits the session's datagram buffer");

int ec_session_init(struct ec_session *s, uint64_t client_id, unsigned n,
		    uint64_t timeout_us, uint64_t give_up_us)
{
	if (n == 0 || n > EC_MAX_REPLICAS || timeout_us == 0 || give_up_us == 0)
		return -1;
	memset(s, 0, sizeof(*s));
	s->client_id = client_id;
	s->next_request_id = 1;
	s->n = n;
	s->timeout_us = timeout_us;
	s->give_up_us = give_up_us;
	s->pin = -1;
	s->use_read = true;
	return 0;
}

void ec_session_use_read(struct ec_session *s, bool on)
{
	s->use_read = on;
}

/* Write the current view guess into the stored datagram's header, so a
 * resend tells the replicas what the client now believes.  A READ starts
 * with the same header, so this holds for it too. */
static void stamp_view(struct ec_session *s)
{
	uint32_t v = htobe32(s->view);

	memcpy(s->dgram + offsetof(struct ec_hdr, view), &v, sizeof(v));
}

/* Describe the stored datagram as going to `to`, counting the send. */
static enum ec_session_event send_to(struct ec_session *s, int to,
				     struct ec_session_send *out)
{
	s->sends++;
	out->to = to;
	out->buf = s->dgram;
	out->len = s->dgram_len;
	return EC_SESSION_SEND;
}

/* The first send of a request (or of its hello): to the pinned
 * replica if there is one, else to the guessed leader. */
static enum ec_session_event send_first(struct ec_session *s,
					struct ec_session_send *out)
{
	s->at_pin = s->pin >= 0;
	return send_to(s, s->at_pin ? s->pin : (int)ec_session_leader(s), out);
}

void ec_session_begin_at(struct ec_session *s, uint64_t session_op)
{
	s->has_session_op = true;
	s->session_op = session_op;
}

void ec_session_pin(struct ec_session *s, int replica)
{
	s->pin = replica >= 0 && (unsigned)replica < s->n ? replica : -1;
}

void ec_session_saw(struct ec_session *s, uint64_t op)
{
	if (op > s->seen_op)
		s->seen_op = op;
}

/* Room a request needs beyond its body: session_op and min_op (each a
 * tag and a varint of up to 10 bytes), and its length prefix inside a
 * batch. */
#define REQUEST_EXTRA (2 * (1 + 10) + 3)

/* Append varint field `field` of value v at p; returns the bytes. */
static size_t put_varint_field(uint8_t *p, unsigned field, uint64_t v)
{
	p[0] = (uint8_t)(field << 3); /* wire type 0: varint */
	return 1 + ec_varint_put(p + 1, v);
}

/*
 * The REQUEST: its body, with session_op (field 4) and min_op (field 5)
 * after it, both varints; a protobuf message takes its fields in any
 * order.  The body fits (ec_session_start checked).  Returns the
 * datagram's length.
 */
static size_t encode_request(struct ec_session *s, uint64_t min_op)
{
	struct ec_msg m = {
		.type = EC_MSG_REQUEST,
		.sender = EC_SENDER_CLIENT,
		.view = s->view,
	};
	uint8_t *p = s->dgram + sizeof(struct ec_hdr);
	size_t len = s->body_len;

	memcpy(p, s->body, len);
	if (s->session_op)
		len += put_varint_field(p + len, 4, s->session_op);
	if (min_op)
		len += put_varint_field(p + len, 5, min_op);
	ec_hdr_encode(s->dgram, &m, len);
	return sizeof(struct ec_hdr) + len;
}

/* The READ: the same fields in its fixed layout, the key from s->body
 * (ec_session_start checked its length). */
static size_t encode_read(struct ec_session *s, uint64_t min_op)
{
	struct ec_read_msg r = {
		.client_id = s->client_id,
		.request_id = s->request_id,
		.session_op = s->session_op,
		.min_op = min_op,
		.key = s->body,
		.key_len = s->body_len,
	};

	return ec_read_encode(s->dgram, s->view, &r);
}

/*
 * Make the stored datagram the outstanding request, as a READ or a
 * REQUEST.  min_op is the op seen when the request is built: a request
 * is outstanding alone, so nothing accepted moves it before it is
 * answered, and every resend carries the same.
 */
static void build_request(struct ec_session *s)
{
	s->dgram_len = s->read ? encode_read(s, s->seen_op) :
				 encode_request(s, s->seen_op);
	s->hello = false;
}

/* Make the stored datagram the session's hello. */
static void build_hello(struct ec_session *s)
{
	Ec__Request req = EC__REQUEST__INIT;
	struct ec_msg m = {
		.type = EC_MSG_REQUEST,
		.sender = EC_SENDER_CLIENT,
		.view = s->view,
	};

	req.client_id = s->client_id;
	s->dgram_len = ec_msg_encode(s->dgram, sizeof(s->dgram), &m,
				     &req.base);
	s->hello = true;
}

/* Whether op goes out as a READ: a GET, with the switch on, whose key a
 * READ can carry.  A key outside 1..EC_MAX_KEY goes in a REQUEST, for
 * the replicas to refuse as before (BAD_REQUEST). */
static bool as_read(const struct ec_session *s, const Ec__KvOp *op)
{
	return s->use_read && op->kind == EC__OP_KIND__OP_GET &&
	       op->key.len >= 1 && op->key.len <= EC_MAX_KEY;
}

int ec_session_start(struct ec_session *s, const Ec__KvOp *op, uint64_t now,
		     struct ec_session_send *out)
{
	Ec__Request req = EC__REQUEST__INIT;

	if (s->busy)
		return -1;
	req.client_id = s->client_id;
	req.request_id = s->next_request_id;
	req.op = (Ec__KvOp *)op;
	if (ec__request__get_packed_size(&req) + REQUEST_EXTRA >
	    EC_MAX_ENTRY_BODY)
		return -1;
	/* What the datagram is built from, now and after a hello: a READ
	 * needs only the key, a REQUEST the packed Request. */
	s->read = as_read(s, op);
	if (s->read) {
		memcpy(s->body, op->key.data, op->key.len);
		s->body_len = op->key.len;
	} else {
		s->body_len = ec__request__pack(&req, s->body);
	}
	s->request_id = s->next_request_id++;
	if (s->has_session_op)
		build_request(s);
	else
		build_hello(s);
	s->busy = true;
	s->started = now;
	s->retry_at = now + s->timeout_us;
	s->sends = 0;
	send_first(s, out);
	return 0;
}

Ec__Reply *ec_session_reply_decode(const void *buf, size_t len, unsigned n,
				   struct ec_session_reply_hdr *hdr)
{
	struct ec_msg m;

	if (ec_msg_parse(buf, len, n, &m, NULL) != EC_PARSE_OK ||
	    (m.type != EC_MSG_REPLY && m.type != EC_MSG_READ_REPLY))
		return NULL;
	hdr->view = m.view;
	hdr->commit = m.commit;
	hdr->read_reply = m.type == EC_MSG_READ_REPLY;
	if (hdr->read_reply)
		return ec_read_reply_unpack(&m);
	return (Ec__Reply *)ec_msg_unpack(&m, &ec__reply__descriptor, NULL);
}

/* The hello's answer: the session starts from its commit number; the
 * request goes out at once, where a first send goes. */
static enum ec_session_event hello_answered(
	struct ec_session *s, const struct ec_session_reply_hdr *hdr,
	struct ec_session_send *out)
{
	ec_session_begin_at(s, hdr->commit);
	build_request(s);
	send_first(s, out);
	return EC_SESSION_BEGIN;
}

/* A NOT_LEADER answer to the outstanding request in view `view`. */
static enum ec_session_event not_leader(struct ec_session *s, uint32_t view,
					struct ec_session_send *out)
{
	bool at_pin = s->at_pin;

	/* Only a newer view teaches anything; an older or equal one (a
	 * follower behind us, or a leader mid view change) would only
	 * bounce the request around, so the timer handles it.  The one
	 * exception is the pinned replica's answer: the request went to it
	 * by choice, not by a guess, so it goes on to the guessed leader. */
	if (view > s->view) {
		s->view = view;
		stamp_view(s);
	} else if (!at_pin || (int)ec_session_leader(s) == s->pin) {
		s->stats.stale++;
		return EC_SESSION_NONE;
	}
	s->at_pin = false;
	s->stats.redirects++;
	return send_to(s, (int)ec_session_leader(s), out);
}

enum ec_session_event ec_session_on_reply(
	struct ec_session *s, const Ec__Reply *rep,
	const struct ec_session_reply_hdr *hdr, uint64_t now,
	struct ec_session_send *out, struct ec_session_result *res)
{
	uint32_t view = hdr->view;

	/* A READ_REPLY answers a READ and nothing else: not the hello, nor
	 * a request that went as a REQUEST (no correct leader sends one
	 * then). */
	if (hdr->read_reply && (s->hello || !s->read)) {
		s->stats.stale++;
		return EC_SESSION_NONE;
	}
	if (s->busy && s->hello && rep->client_id == s->client_id &&
	    rep->request_id == 0 && rep->status == EC__STATUS__ST_OK)
		return hello_answered(s, hdr, out);
	if (!s->busy || s->hello || rep->client_id != s->client_id ||
	    rep->request_id != s->request_id) {
		s->stats.stale++;
		return EC_SESSION_NONE;
	}
	if (rep->status == EC__STATUS__ST_NOT_LEADER)
		return not_leader(s, view, out);
	/* Older than what the caller already saw: a replica answered from
	 * state that went back in time (op 0 is a refusal before ordering,
	 * which reflects no state).  Its view is not trusted either. */
	if (rep->op && rep->op < s->seen_op) {
		s->stats.stale_op++;
		return EC_SESSION_STALE;
	}
	ec_session_saw(s, rep->op);
	/* A real answer comes from a replica in the current view (executing
	 * needs a quorum in it), so trust its view even if it is lower: that
	 * undoes a guess taken from a replica stuck in a failed view change. */
	s->view = view;
	s->busy = false;
	res->request_id = rep->request_id;
	res->status = rep->status;
	res->found = rep->found;
	res->value = rep->value.data;
	res->value_len = rep->value.len;
	res->latency_us = now - s->started;
	res->sends = s->sends;
	res->op = rep->op;
	res->lease = rep->lease;
	res->read_reply = hdr->read_reply;
	return EC_SESSION_DONE;
}

enum ec_session_event ec_session_tick(struct ec_session *s, uint64_t now,
				      struct ec_session_send *out)
{
	if (!s->busy)
		return EC_SESSION_NONE;
	if (now - s->started >= s->give_up_us) {
		s->busy = false;
		s->stats.gave_up++;
		return EC_SESSION_GAVE_UP;
	}
	if (now < s->retry_at)
		return EC_SESSION_NONE;
	s->retry_at = now + s->timeout_us;
	s->stats.retries++;
	s->at_pin = false;
	return send_to(s, EC_SESSION_TO_ALL, out);
}

uint64_t ec_session_next_tick(const struct ec_session *s)
{
	uint64_t give_up;

	if (!s->busy)
		return UINT64_MAX;
	give_up = s->started + s->give_up_us;
	return s->retry_at < give_up ? s->retry_at : give_up;
}

void ec_session_abandon(struct ec_session *s)
{
	s->busy = false;
}

int ec_session_renew(struct ec_session *s, uint64_t client_id)
{
	if (s->busy)
		return -1;
	s->client_id = client_id;
	s->next_request_id = 1;
	s->has_session_op = false;
	s->session_op = 0;
	return 0;
}

void ec_session_sendto(int fd, const struct sockaddr_in *addr, unsigned n,
		       const struct ec_session_send *out,
		       ec_session_send_err_fn on_err, void *arg)
{
	for (unsigned i = 0; i < n; i++) {
		if (out->to != EC_SESSION_TO_ALL && (unsigned)out->to != i)
			continue;
		if (sendto(fd, out->buf, out->len, 0,
			   (const struct sockaddr *)&addr[i], sizeof(addr[i])) < 0 &&
		    on_err)
			on_err(arg, i, errno);
	}
}

int ec_session_parse_read_msg(const char *arg, bool *on)
{
	if (strcmp(arg, "on") != 0 && strcmp(arg, "off") != 0)
		return -1;
	*on = strcmp(arg, "on") == 0;
	return 0;
}

int ec_session_random_id(uint64_t *id)
{
	/* 8 bytes never come short: it is all of them or -1 with errno. */
	return getrandom(id, sizeof(*id), 0) == sizeof(*id) ? 0 : -1;
}
