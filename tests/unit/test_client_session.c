/* test_client_session.c - the client session's retry and redirect logic, driven
 * with crafted REPLY datagrams and a fake clock. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"
#include "common/read_msg.h"
#include "common/wire.h"
#include "../run_suite.h"

#define N 5
#define CID 0xc11e47ull
#define TIMEOUT 100000
#define GIVE_UP 1000000

static struct ec_session s;
static struct ec_session_send out;
static struct ec_session_result res;
static uint8_t key[] = "k1", val[] = "v1";
static Ec__KvOp put_op = EC__KV_OP__INIT, get_op = EC__KV_OP__INIT;

static void setup(void)
{
	ck_assert_int_eq(ec_session_init(&s, CID, N, TIMEOUT, GIVE_UP), 0);
	ec_session_begin_at(&s, 0); /* no hello: the tests below need none */
	put_op.kind = EC__OP_KIND__OP_PUT;
	put_op.key.data = key;
	put_op.key.len = 2;
	put_op.value.data = val;
	put_op.value.len = 2;
	get_op.kind = EC__OP_KIND__OP_GET;
	get_op.key.data = key;
	get_op.key.len = 2;
	memset(&out, 0, sizeof(out));
	memset(&res, 0, sizeof(res));
}

/* Check that d is a REQUEST for (CID, rid) with header view `view`
 * carrying an op of the given kind on key "k1" (a PUT's value "v1"). */
static void ck_request_kind(const struct ec_session_send *d, uint64_t rid,
			    uint32_t view, Ec__OpKind kind)
{
	struct ec_msg m;
	Ec__Request *req;

	ck_assert_int_eq(ec_msg_parse(d->buf, d->len, N, &m, NULL),
			 EC_PARSE_OK);
	ck_assert_uint_eq(m.type, EC_MSG_REQUEST);
	ck_assert_uint_eq(m.sender, EC_SENDER_CLIENT);
	ck_assert_uint_eq(m.view, view);
	ck_assert_uint_eq(m.op, 0);
	ck_assert_uint_eq(m.commit, 0);
	req = (Ec__Request *)ec_msg_unpack(&m, &ec__request__descriptor, NULL);
	ck_assert_ptr_nonnull(req);
	ck_assert_uint_eq(req->client_id, CID);
	ck_assert_uint_eq(req->request_id, rid);
	ck_assert_ptr_nonnull(req->op);
	ck_assert_int_eq(req->op->kind, kind);
	ck_assert_mem_eq(req->op->key.data, "k1", 2);
	if (kind == EC__OP_KIND__OP_PUT)
		ck_assert_mem_eq(req->op->value.data, "v1", 2);
	ec__request__free_unpacked(req, NULL);
}

/* Check that d is a REQUEST for (CID, rid) carrying put_op with header
 * view `view`. */
static void ck_request(const struct ec_session_send *d, uint64_t rid,
		       uint32_t view)
{
	ck_request_kind(d, rid, view, EC__OP_KIND__OP_PUT);
}

/* Request.min_op of the REQUEST d. */
static uint64_t min_op_of(const struct ec_session_send *d)
{
	struct ec_msg m;
	Ec__Request *req;
	uint64_t v;

	ck_assert_int_eq(ec_msg_parse(d->buf, d->len, N, &m, NULL),
			 EC_PARSE_OK);
	req = (Ec__Request *)ec_msg_unpack(&m, &ec__request__descriptor, NULL);
	ck_assert_ptr_nonnull(req);
	v = req->min_op;
	ec__request__free_unpacked(req, NULL);
	return v;
}

/* Feed s the datagram buf[0..len) through the same decoding path the
 * tools use; it must decode, with header view and commit as given.
 * Returns the session's event. */
static enum ec_session_event feed(const uint8_t *buf, size_t len,
				  uint32_t view, uint64_t commit, uint64_t now)
{
	struct ec_session_reply_hdr hv;
	enum ec_session_event ev;
	Ec__Reply *got;

	got = ec_session_reply_decode(buf, len, N, &hv);
	ck_assert_ptr_nonnull(got);
	ck_assert_uint_eq(hv.view, view);
	ck_assert_uint_eq(hv.commit, commit);
	ev = ec_session_on_reply(&s, got, &hv, now, &out, &res);
	/* The result points into the reply: check the value here. */
	if (ev == EC_SESSION_DONE) {
		ck_assert_uint_eq(res.value_len, 2);
		ck_assert_mem_eq(res.value, "v1", 2);
		res.value = NULL;
	}
	ec__reply__free_unpacked(got, NULL);
	return ev;
}

/* Feed s a REPLY built from the arguments, with commit number commit in
 * its header and Reply.op op, Reply.lease lease in its body.  Returns
 * the session's event. */
static enum ec_session_event reply_op(uint64_t cid, uint64_t rid, Ec__Status st,
				      uint32_t view, unsigned sender,
				      uint64_t now, uint64_t commit,
				      uint64_t op, bool lease)
{
	uint8_t buf[256];
	Ec__Reply r = EC__REPLY__INIT;
	struct ec_msg m = { .type = EC_MSG_REPLY, .sender = sender,
			    .view = view, .commit = commit };
	size_t len;

	r.client_id = cid;
	r.request_id = rid;
	r.status = st;
	r.value.data = val;
	r.value.len = 2;
	r.found = 1;
	r.op = op;
	r.lease = lease;
	len = ec_msg_encode(buf, sizeof(buf), &m, &r.base);
	ck_assert_uint_gt(len, 0);
	return feed(buf, len, view, commit, now);
}

static enum ec_session_event reply_at(uint64_t cid, uint64_t rid, Ec__Status st,
				   uint32_t view, unsigned sender, uint64_t now,
				   uint64_t commit)
{
	return reply_op(cid, rid, st, view, sender, now, commit, 0, false);
}

static enum ec_session_event reply(uint64_t cid, uint64_t rid, Ec__Status st,
				uint32_t view, unsigned sender, uint64_t now)
{
	return reply_at(cid, rid, st, view, sender, now, 0);
}

START_TEST(first_send_goes_to_guessed_leader)
{
	ck_assert_int_eq(ec_session_start(&s, &put_op, 1000, &out), 0);
	ck_assert_int_eq(out.to, 0);
	ck_request(&out, 1, 0);
	ck_assert_uint_eq(ec_session_next_tick(&s), 1000 + TIMEOUT);
}
END_TEST

START_TEST(one_outstanding_request)
{
	ck_assert_int_eq(ec_session_start(&s, &put_op, 0, &out), 0);
	ck_assert_int_eq(ec_session_start(&s, &put_op, 0, &out), -1);
}
END_TEST

START_TEST(oversized_request_is_refused)
{
	static uint8_t big[EC_MAX_ENTRY_BODY];
	Ec__KvOp op = EC__KV_OP__INIT;

	op.kind = EC__OP_KIND__OP_PUT;
	op.value.data = big;
	op.value.len = sizeof(big);
	ck_assert_int_eq(ec_session_start(&s, &op, 0, &out), -1);
	ck_assert(!s.busy);
	/* The refused request used no request_id. */
	ck_assert_int_eq(ec_session_start(&s, &put_op, 0, &out), 0);
	ck_request(&out, 1, 0);
}
END_TEST

START_TEST(matching_reply_completes)
{
	ck_assert_int_eq(ec_session_start(&s, &put_op, 1000, &out), 0);
	ck_assert_int_eq(reply(CID, 1, EC__STATUS__ST_OK, 0, 0, 1250),
			 EC_SESSION_DONE);
	ck_assert_uint_eq(res.request_id, 1);
	ck_assert_int_eq(res.status, EC__STATUS__ST_OK);
	ck_assert(res.found);
	ck_assert_uint_eq(res.latency_us, 250);
	ck_assert_uint_eq(res.sends, 1);
	ck_assert_uint_eq(ec_session_next_tick(&s), UINT64_MAX);
	ck_assert_int_eq(ec_session_tick(&s, 10 * GIVE_UP, &out),
			 EC_SESSION_NONE);
}
END_TEST

START_TEST(duplicate_and_foreign_replies_are_ignored)
{
	ck_assert_int_eq(ec_session_start(&s, &put_op, 0, &out), 0);
	ck_assert_int_eq(reply(CID + 1, 1, EC__STATUS__ST_OK, 0, 0, 10),
			 EC_SESSION_NONE);
	ck_assert_int_eq(reply(CID, 2, EC__STATUS__ST_OK, 0, 0, 10),
			 EC_SESSION_NONE);
	ck_assert_int_eq(reply(CID, 1, EC__STATUS__ST_OK, 0, 0, 20),
			 EC_SESSION_DONE);
	ck_assert_int_eq(reply(CID, 1, EC__STATUS__ST_OK, 0, 0, 30),
			 EC_SESSION_NONE);
	/* A late answer to request 1 must not complete request 2. */
	ck_assert_int_eq(ec_session_start(&s, &put_op, 40, &out), 0);
	ck_request(&out, 2, 0);
	ck_assert_int_eq(reply(CID, 1, EC__STATUS__ST_NOT_FOUND, 0, 0, 50),
			 EC_SESSION_NONE);
	ck_assert_uint_eq(s.stats.stale, 4);
	ck_assert_int_eq(reply(CID, 2, EC__STATUS__ST_NOT_FOUND, 0, 0, 60),
			 EC_SESSION_DONE);
	ck_assert_int_eq(res.status, EC__STATUS__ST_NOT_FOUND);
}
END_TEST

START_TEST(not_leader_redirects_at_once)
{
	ck_assert_int_eq(ec_session_start(&s, &put_op, 0, &out), 0);
	ck_assert_int_eq(reply(CID, 1, EC__STATUS__ST_NOT_LEADER, 7, 0, 10),
			 EC_SESSION_SEND);
	ck_assert_int_eq(out.to, 7 % N);
	ck_assert_uint_eq(ec_session_leader(&s), 2);
	ck_request(&out, 1, 7);
	ck_assert_uint_eq(s.stats.redirects, 1);
	/* Other followers saying the same thing send nothing more. */
	ck_assert_int_eq(reply(CID, 1, EC__STATUS__ST_NOT_LEADER, 7, 1, 11),
			 EC_SESSION_NONE);
	ck_assert_int_eq(reply(CID, 1, EC__STATUS__ST_NOT_LEADER, 6, 3, 12),
			 EC_SESSION_NONE);
	ck_assert_int_eq(reply(CID, 1, EC__STATUS__ST_OK, 7, 2, 20),
			 EC_SESSION_DONE);
	ck_assert_uint_eq(res.sends, 2);
	/* The next request goes straight to the learned leader. */
	ck_assert_int_eq(ec_session_start(&s, &put_op, 30, &out), 0);
	ck_assert_int_eq(out.to, 2);
	ck_request(&out, 2, 7);
}
END_TEST

START_TEST(not_leader_for_current_view_does_not_bounce)
{
	/* A replica that leads its view but is still changing views answers
	 * NOT_LEADER with the view the client already has. */
	ck_assert_int_eq(ec_session_start(&s, &put_op, 0, &out), 0);
	ck_assert_int_eq(reply(CID, 1, EC__STATUS__ST_NOT_LEADER, 0, 0, 10),
			 EC_SESSION_NONE);
	ck_assert_uint_eq(s.stats.redirects, 0);
}
END_TEST

START_TEST(answer_view_replaces_guess)
{
	/* A guess taken from a replica stuck in a failed view change is
	 * undone by the real leader's answer in a lower view. */
	ck_assert_int_eq(ec_session_start(&s, &put_op, 0, &out), 0);
	ck_assert_int_eq(reply(CID, 1, EC__STATUS__ST_NOT_LEADER, 9, 4, 5),
			 EC_SESSION_SEND);
	ck_assert_int_eq(reply(CID, 1, EC__STATUS__ST_OK, 8, 3, 10),
			 EC_SESSION_DONE);
	ck_assert_uint_eq(ec_session_leader(&s), 3);
}
END_TEST

START_TEST(timeout_resends_same_request_to_all)
{
	ck_assert_int_eq(ec_session_start(&s, &put_op, 0, &out), 0);
	ck_assert_int_eq(ec_session_tick(&s, TIMEOUT - 1, &out),
			 EC_SESSION_NONE);
	ck_assert_int_eq(ec_session_tick(&s, TIMEOUT, &out), EC_SESSION_SEND);
	ck_assert_int_eq(out.to, EC_SESSION_TO_ALL);
	ck_request(&out, 1, 0);
	ck_assert_uint_eq(ec_session_next_tick(&s), 2 * TIMEOUT);
	ck_assert_int_eq(ec_session_tick(&s, TIMEOUT + 1, &out),
			 EC_SESSION_NONE);
	ck_assert_int_eq(ec_session_tick(&s, 2 * TIMEOUT + 5, &out),
			 EC_SESSION_SEND);
	ck_request(&out, 1, 0);
	ck_assert_uint_eq(s.stats.retries, 2);
	ck_assert_int_eq(reply(CID, 1, EC__STATUS__ST_OK, 0, 0, 2 * TIMEOUT + 9),
			 EC_SESSION_DONE);
	ck_assert_uint_eq(res.sends, 3);
	ck_assert_uint_eq(res.latency_us, 2 * TIMEOUT + 9);
}
END_TEST

START_TEST(gives_up_and_moves_on)
{
	uint64_t t = 0;
	enum ec_session_event ev;

	ck_assert_int_eq(ec_session_start(&s, &put_op, 0, &out), 0);
	while ((ev = ec_session_tick(&s, t, &out)) != EC_SESSION_GAVE_UP) {
		ck_assert_uint_lt(t, GIVE_UP);
		t = ec_session_next_tick(&s);
	}
	ck_assert_uint_eq(t, GIVE_UP);
	ck_assert_uint_eq(s.stats.gave_up, 1);
	ck_assert_uint_eq(s.stats.retries, GIVE_UP / TIMEOUT - 1);
	ck_assert_uint_eq(ec_session_next_tick(&s), UINT64_MAX);
	/* A late answer is ignored; the next request has a new id. */
	ck_assert_int_eq(reply(CID, 1, EC__STATUS__ST_OK, 0, 0, t + 1),
			 EC_SESSION_NONE);
	ck_assert_int_eq(ec_session_start(&s, &put_op, t + 2, &out), 0);
	ck_request(&out, 2, 0);
}
END_TEST

START_TEST(abandon_forgets_request)
{
	ck_assert_int_eq(ec_session_start(&s, &put_op, 0, &out), 0);
	ec_session_abandon(&s);
	ck_assert_uint_eq(s.stats.gave_up, 0);
	ck_assert_int_eq(reply(CID, 1, EC__STATUS__ST_OK, 0, 0, 1),
			 EC_SESSION_NONE);
	ck_assert_int_eq(ec_session_start(&s, &put_op, 2, &out), 0);
	ck_request(&out, 2, 0);
}
END_TEST

START_TEST(decode_rejects_non_replies)
{
	uint8_t buf[128];
	struct ec_msg m = { .type = EC_MSG_COMMIT, .sender = 1 };
	struct ec_session_reply_hdr v;
	size_t len;

	len = ec_msg_encode(buf, sizeof(buf), &m, NULL);
	ck_assert_ptr_null(ec_session_reply_decode(buf, len, N, &v));
	m.type = EC_MSG_REPLY;
	m.sender = N; /* not a replica of this cluster */
	len = ec_msg_encode(buf, sizeof(buf), &m, NULL);
	ck_assert_ptr_null(ec_session_reply_decode(buf, len, N, &v));
	ck_assert_ptr_null(ec_session_reply_decode("garbage", 7, N, &v));
}
END_TEST

START_TEST(renew_starts_a_new_client_in_the_same_view)
{
	ck_assert_int_eq(ec_session_start(&s, &put_op, 0, &out), 0);
	ck_assert_int_eq(ec_session_renew(&s, CID + 1), -1);
	ck_assert_int_eq(reply(CID, 1, EC__STATUS__ST_OK, 2, 2, 10),
			 EC_SESSION_DONE);
	ck_assert_int_eq(ec_session_renew(&s, CID + 1), 0);
	ck_assert_int_eq(ec_session_start(&s, &put_op, 20, &out), 0);
	ck_assert_int_eq(out.to, 2);
	ck_assert_uint_eq(s.client_id, CID + 1);
	ck_assert_uint_eq(s.request_id, 1);
	/* The old client's late answers are not the new one's. */
	ck_assert_int_eq(reply(CID, 1, EC__STATUS__ST_OK, 2, 2, 30),
			 EC_SESSION_NONE);
}
END_TEST

/* A new session says hello first, to any replica that answers; the
 * answer's commit number goes into every request of the session. */
START_TEST(new_session_says_hello_first)
{
	struct ec_msg m;
	Ec__Request *req;

	ck_assert_int_eq(ec_session_renew(&s, CID), 0);
	ck_assert_int_eq(ec_session_start(&s, &put_op, 0, &out), 0);
	ck_assert_int_eq(ec_msg_parse(out.buf, out.len, N, &m, NULL),
			 EC_PARSE_OK);
	req = (Ec__Request *)ec_msg_unpack(&m, &ec__request__descriptor, NULL);
	ck_assert(req && req->request_id == 0 && !req->op);
	ec__request__free_unpacked(req, NULL);
	/* unanswered: the hello goes to all, like any request */
	ck_assert_int_eq(ec_session_tick(&s, TIMEOUT, &out), EC_SESSION_SEND);
	ck_assert_int_eq(out.to, EC_SESSION_TO_ALL);
	/* a follower answers: the request goes to the guessed leader */
	ck_assert_int_eq(reply_at(CID, 0, EC__STATUS__ST_OK, 0, 3, TIMEOUT + 1,
				  12345), EC_SESSION_BEGIN);
	ck_assert_int_eq(out.to, 0);
	ck_request(&out, 1, 0);
	ck_assert_int_eq(ec_msg_parse(out.buf, out.len, N, &m, NULL),
			 EC_PARSE_OK);
	req = (Ec__Request *)ec_msg_unpack(&m, &ec__request__descriptor, NULL);
	ck_assert_uint_eq(req->session_op, 12345);
	ec__request__free_unpacked(req, NULL);
	/* a second answer to the hello is stale; the real one completes */
	ck_assert_int_eq(reply_at(CID, 0, EC__STATUS__ST_OK, 0, 4, TIMEOUT + 2,
				  12345), EC_SESSION_NONE);
	ck_assert_int_eq(reply(CID, 1, EC__STATUS__ST_OK, 0, 0, TIMEOUT + 3),
			 EC_SESSION_DONE);
	/* the next request of the session needs no hello */
	ck_assert_int_eq(ec_session_start(&s, &put_op, TIMEOUT + 4, &out), 0);
	ck_request(&out, 2, 0);
}
END_TEST

/* SESSION_EXPIRED ends the request like any answer; renewing starts a
 * new session, with a hello. */
START_TEST(expired_session_is_renewed_with_a_hello)
{
	ck_assert_int_eq(ec_session_start(&s, &put_op, 0, &out), 0);
	ck_assert_int_eq(reply(CID, 1, EC__STATUS__ST_SESSION_EXPIRED, 0, 0, 5),
			 EC_SESSION_DONE);
	ck_assert_int_eq(res.status, EC__STATUS__ST_SESSION_EXPIRED);
	ck_assert_int_eq(ec_session_renew(&s, CID + 7), 0);
	ck_assert(!s.has_session_op);
	ck_assert_int_eq(ec_session_start(&s, &put_op, 10, &out), 0);
	ck_assert(s.hello);
}
END_TEST

/* Every request carries the highest Reply.op the session accepted as
 * min_op; a reply reflecting an older op is not accepted, and the request
 * stays outstanding for the timer. */
START_TEST(min_op_is_the_highest_op_seen)
{
	ck_assert_int_eq(ec_session_start(&s, &put_op, 0, &out), 0);
	ck_assert_uint_eq(min_op_of(&out), 0);
	ck_assert_int_eq(reply_op(CID, 1, EC__STATUS__ST_OK, 0, 0, 10, 0, 40,
				  false), EC_SESSION_DONE);
	ck_assert_uint_eq(res.op, 40);
	ck_assert(!res.lease);
	ck_assert_int_eq(ec_session_start(&s, &put_op, 20, &out), 0);
	ck_assert_uint_eq(min_op_of(&out), 40);
	ck_request(&out, 2, 0);
	/* a lease answer from op 45 */
	ck_assert_int_eq(reply_op(CID, 2, EC__STATUS__ST_OK, 0, 0, 30, 0, 45,
				  true), EC_SESSION_DONE);
	ck_assert_uint_eq(res.op, 45);
	ck_assert(res.lease);
	ck_assert_int_eq(ec_session_start(&s, &put_op, 40, &out), 0);
	ck_assert_uint_eq(min_op_of(&out), 45);
	/* an answer from the same op is not older */
	ck_assert_int_eq(reply_op(CID, 3, EC__STATUS__ST_OK, 0, 0, 50, 0, 45,
				  true), EC_SESSION_DONE);
	ck_assert_uint_eq(s.stats.stale_op, 0);
}
END_TEST

START_TEST(older_reply_is_not_accepted)
{
	ck_assert_int_eq(ec_session_start(&s, &put_op, 0, &out), 0);
	ck_assert_int_eq(reply_op(CID, 1, EC__STATUS__ST_OK, 2, 2, 10, 0, 100,
				  false), EC_SESSION_DONE);
	ck_assert_int_eq(ec_session_start(&s, &put_op, 20, &out), 0);
	ck_assert_int_eq(out.to, 2);
	/* a deposed leader in view 1 answers from op 90 under a lease it
	 * believes it holds: not accepted, nor its view */
	ck_assert_int_eq(reply_op(CID, 2, EC__STATUS__ST_OK, 1, 1, 30, 0, 90,
				  true), EC_SESSION_STALE);
	ck_assert_uint_eq(s.stats.stale_op, 1);
	ck_assert(s.busy);
	ck_assert_uint_eq(ec_session_leader(&s), 2);
	/* the timer resends it, still asking for op 100 */
	ck_assert_int_eq(ec_session_tick(&s, 20 + TIMEOUT, &out),
			 EC_SESSION_SEND);
	ck_assert_int_eq(out.to, EC_SESSION_TO_ALL);
	ck_assert_uint_eq(min_op_of(&out), 100);
	ck_assert_int_eq(reply_op(CID, 2, EC__STATUS__ST_OK, 2, 2,
				  30 + TIMEOUT, 0, 101, false),
			 EC_SESSION_DONE);
	ck_assert_uint_eq(res.op, 101);
	ck_assert_uint_eq(res.sends, 2);
	ck_assert_uint_eq(res.latency_us, 10 + TIMEOUT);
	/* a refusal before ordering reflects no state (op 0): accepted */
	ck_assert_int_eq(ec_session_start(&s, &put_op, 40 + TIMEOUT, &out), 0);
	ck_assert_int_eq(reply_op(CID, 3, EC__STATUS__ST_BAD_REQUEST, 2, 2,
				  50 + TIMEOUT, 0, 0, false), EC_SESSION_DONE);
	ck_assert_int_eq(res.status, EC__STATUS__ST_BAD_REQUEST);
	ck_assert_uint_eq(s.seen_op, 101);
}
END_TEST

/* What the session saw stays seen across a renewal, and ec_session_saw
 * only ever raises it. */
START_TEST(op_seen_survives_renew)
{
	ec_session_saw(&s, 70);
	ec_session_saw(&s, 60);
	ck_assert_uint_eq(s.seen_op, 70);
	ck_assert_int_eq(ec_session_renew(&s, CID), 0);
	ck_assert_int_eq(ec_session_start(&s, &put_op, 0, &out), 0);
	ck_assert(s.hello);
	ck_assert_uint_eq(min_op_of(&out), 0); /* the hello asks nothing */
	ck_assert_int_eq(reply_at(CID, 0, EC__STATUS__ST_OK, 0, 0, 5, 80),
			 EC_SESSION_BEGIN);
	ck_assert_uint_eq(min_op_of(&out), 70);
	ck_assert_int_eq(reply_op(CID, 1, EC__STATUS__ST_OK, 0, 0, 10, 0, 69,
				  true), EC_SESSION_STALE);
}
END_TEST

/* A pinned session sends each request to its replica first; a NOT_LEADER
 * from it moves that request on to the guessed leader, and the next
 * request goes to the pinned replica again. */
START_TEST(pinned_requests_go_to_the_pinned_replica_first)
{
	ec_session_pin(&s, 3);
	ck_assert_int_eq(ec_session_start(&s, &put_op, 0, &out), 0);
	ck_assert_int_eq(out.to, 3);
	ck_request(&out, 1, 0);
	/* replica 3 follows view 0: on to replica 0 */
	ck_assert_int_eq(reply(CID, 1, EC__STATUS__ST_NOT_LEADER, 0, 3, 10),
			 EC_SESSION_SEND);
	ck_assert_int_eq(out.to, 0);
	ck_assert_uint_eq(s.stats.redirects, 1);
	/* a second NOT_LEADER of that view is no news */
	ck_assert_int_eq(reply(CID, 1, EC__STATUS__ST_NOT_LEADER, 0, 3, 11),
			 EC_SESSION_NONE);
	ck_assert_int_eq(reply(CID, 1, EC__STATUS__ST_OK, 0, 0, 20),
			 EC_SESSION_DONE);
	ck_assert_uint_eq(res.sends, 2);
	ck_assert_int_eq(ec_session_start(&s, &put_op, 30, &out), 0);
	ck_assert_int_eq(out.to, 3);
	/* a newer view from it: to that view's leader */
	ck_assert_int_eq(reply(CID, 2, EC__STATUS__ST_NOT_LEADER, 7, 3, 40),
			 EC_SESSION_SEND);
	ck_assert_int_eq(out.to, 2);
	ck_request(&out, 2, 7);
	ck_assert_int_eq(reply(CID, 2, EC__STATUS__ST_OK, 7, 2, 50),
			 EC_SESSION_DONE);
	/* unanswered: to all, as any request; after that a NOT_LEADER of
	 * the view it knows is no reason to move */
	ck_assert_int_eq(ec_session_start(&s, &put_op, 60, &out), 0);
	ck_assert_int_eq(out.to, 3);
	ck_assert_int_eq(ec_session_tick(&s, 60 + TIMEOUT, &out),
			 EC_SESSION_SEND);
	ck_assert_int_eq(out.to, EC_SESSION_TO_ALL);
	ck_assert_int_eq(reply(CID, 3, EC__STATUS__ST_NOT_LEADER, 7, 3,
			       70 + TIMEOUT), EC_SESSION_NONE);
	ck_assert_int_eq(reply(CID, 3, EC__STATUS__ST_OK, 7, 2, 80 + TIMEOUT),
			 EC_SESSION_DONE);
	/* -1 unpins */
	ec_session_pin(&s, -1);
	ck_assert_int_eq(ec_session_start(&s, &put_op, 90 + TIMEOUT, &out), 0);
	ck_assert_int_eq(out.to, 2);
}
END_TEST

/* Pinned to the replica it guesses leads, a NOT_LEADER of the same view
 * is what it is unpinned: a leader mid view change; the timer handles
 * it.  A pinned session's hello and the request after it go to the
 * pinned replica too. */
START_TEST(pinned_to_the_leader_and_hello)
{
	ec_session_pin(&s, 0);
	ck_assert_int_eq(ec_session_start(&s, &put_op, 0, &out), 0);
	ck_assert_int_eq(out.to, 0);
	ck_assert_int_eq(reply(CID, 1, EC__STATUS__ST_NOT_LEADER, 0, 0, 10),
			 EC_SESSION_NONE);
	ck_assert_int_eq(reply(CID, 1, EC__STATUS__ST_OK, 0, 0, 20),
			 EC_SESSION_DONE);
	ec_session_pin(&s, 4);
	ck_assert_int_eq(ec_session_renew(&s, CID + 1), 0);
	ck_assert_int_eq(ec_session_start(&s, &put_op, 30, &out), 0);
	ck_assert(s.hello);
	ck_assert_int_eq(out.to, 4);
	ck_assert_int_eq(reply_at(CID + 1, 0, EC__STATUS__ST_OK, 0, 4, 40, 9),
			 EC_SESSION_BEGIN);
	ck_assert_int_eq(out.to, 4);
	ck_assert_int_eq(reply(CID + 1, 1, EC__STATUS__ST_NOT_LEADER, 0, 4, 50),
			 EC_SESSION_SEND);
	ck_assert_int_eq(out.to, 0);
}
END_TEST

START_TEST(init_rejects_bad_arguments)
{
	ck_assert_int_eq(ec_session_init(&s, 1, 0, TIMEOUT, GIVE_UP), -1);
	ck_assert_int_eq(ec_session_init(&s, 1, EC_MAX_REPLICAS + 1, TIMEOUT,
					 GIVE_UP), -1);
	ck_assert_int_eq(ec_session_init(&s, 1, N, 0, GIVE_UP), -1);
	ck_assert_int_eq(ec_session_init(&s, 1, N, TIMEOUT, 0), -1);
}
END_TEST

/*
 * GETs as READs.  The helpers: ck_read checks a READ the session sent,
 * read_reply feeds it a READ_REPLY like the leader's XDP program's.
 */

/* Check that d is a READ of key "k1" for (CID, rid) with header view
 * `view`, session_op and min_op as given. */
static void ck_read(const struct ec_session_send *d, uint64_t rid,
		    uint32_t view, uint64_t session_op, uint64_t min_op)
{
	struct ec_read_msg r;
	struct ec_msg m;

	ck_assert_int_eq(ec_msg_parse(d->buf, d->len, N, &m, NULL),
			 EC_PARSE_OK);
	ck_assert_uint_eq(m.type, EC_MSG_READ);
	ck_assert_uint_eq(m.sender, EC_SENDER_CLIENT);
	ck_assert_uint_eq(m.view, view);
	ck_assert_uint_eq(m.op, 0);
	ck_assert_uint_eq(m.commit, 0);
	ck_assert_int_eq(ec_read_decode(&m, &r), 0);
	ck_assert_uint_eq(r.client_id, CID);
	ck_assert_uint_eq(r.request_id, rid);
	ck_assert_uint_eq(r.session_op, session_op);
	ck_assert_uint_eq(r.min_op, min_op);
	ck_assert_uint_eq(r.key_len, 2);
	ck_assert_mem_eq(r.key, "k1", 2);
}

/* A READ_REPLY datagram into buf (at least 1024 bytes): header fields
 * from m, then body followed by value_len bytes of "v1..." (up to 2 of
 * them, then zeros), the header's body_len saying body_len.  Returns its
 * length. */
static size_t read_reply_dgram(uint8_t *buf, struct ec_msg m,
			       const struct ec_read_reply *body,
			       size_t value_len, size_t body_len)
{
	uint8_t *p = buf + sizeof(struct ec_hdr);

	m.type = EC_MSG_READ_REPLY;
	memset(buf, 0, 1024);
	ec_hdr_encode(buf, &m, body_len);
	memcpy(p, body, sizeof(*body));
	memcpy(p + sizeof(*body), val, value_len < 2 ? value_len : 2);
	return sizeof(struct ec_hdr) + sizeof(*body) + value_len;
}

/* Make *b the body of a well-formed READ_REPLY answering (cid, rid)
 * from op, value "v1". */
static void read_reply_body(struct ec_read_reply *b, uint64_t cid,
			    uint64_t rid, uint64_t op)
{
	memset(b, 0, sizeof(*b));
	b->client_id = htobe64(cid);
	b->request_id = htobe64(rid);
	b->op = htobe64(op);
	b->status = EC__STATUS__ST_OK;
	b->found = 1;
	b->value_len = htobe16(2);
}

/* Feed s a well-formed READ_REPLY to (cid, rid) from replica sender in
 * view, header commit commit, reflecting op.  Returns the event. */
static enum ec_session_event read_reply(uint64_t cid, uint64_t rid,
					uint32_t view, unsigned sender,
					uint64_t now, uint64_t commit,
					uint64_t op)
{
	uint8_t buf[1024];
	struct ec_read_reply body;
	struct ec_msg m = { .sender = sender, .view = view, .op = op,
			    .commit = commit };
	size_t len;

	read_reply_body(&body, cid, rid, op);
	len = read_reply_dgram(buf, m, &body, 2, sizeof(body) + 2);
	return feed(buf, len, view, commit, now);
}

/* A GET goes out as a READ with the request's fields; a PUT still as a
 * REQUEST; both answered as usual. */
START_TEST(get_goes_out_as_a_read)
{
	ec_session_begin_at(&s, 77);
	ec_session_saw(&s, 40);
	ck_assert_int_eq(ec_session_start(&s, &get_op, 1000, &out), 0);
	ck_assert_int_eq(out.to, 0);
	ck_read(&out, 1, 0, 77, 40);
	ck_assert_int_eq(reply_op(CID, 1, EC__STATUS__ST_OK, 0, 0, 1100, 0, 41,
				  true), EC_SESSION_DONE);
	ck_assert_int_eq(ec_session_start(&s, &put_op, 1200, &out), 0);
	ck_request(&out, 2, 0);
	ck_assert_uint_eq(min_op_of(&out), 41);
	ck_assert_int_eq(reply_op(CID, 2, EC__STATUS__ST_OK, 0, 0, 1300, 0, 42,
				  false), EC_SESSION_DONE);
	ck_assert_int_eq(ec_session_start(&s, &get_op, 1400, &out), 0);
	ck_read(&out, 3, 0, 77, 42);
}
END_TEST

/* The hello before a GET is a REQUEST; the READ after it carries the
 * session_op the hello's answer gave, and a READ_REPLY cannot answer
 * the hello. */
START_TEST(hello_before_a_read_is_a_request)
{
	struct ec_msg m;
	Ec__Request *req;

	ck_assert_int_eq(ec_session_renew(&s, CID), 0);
	ec_session_saw(&s, 5);
	ck_assert_int_eq(ec_session_start(&s, &get_op, 0, &out), 0);
	ck_assert(s.hello);
	ck_assert_int_eq(ec_msg_parse(out.buf, out.len, N, &m, NULL),
			 EC_PARSE_OK);
	ck_assert_uint_eq(m.type, EC_MSG_REQUEST);
	req = (Ec__Request *)ec_msg_unpack(&m, &ec__request__descriptor, NULL);
	ck_assert(req && req->request_id == 0 && !req->op);
	ec__request__free_unpacked(req, NULL);
	ck_assert_int_eq(read_reply(CID, 0, 0, 0, 1, 9, 9), EC_SESSION_NONE);
	ck_assert(s.hello);
	ck_assert_int_eq(reply_at(CID, 0, EC__STATUS__ST_OK, 0, 3, 2, 12345),
			 EC_SESSION_BEGIN);
	ck_assert_int_eq(out.to, 0);
	ck_read(&out, 1, 0, 12345, 5);
}
END_TEST

/* A READ_REPLY answers the outstanding READ: its value, its op (seen
 * from then on), under the lease, from the kernel; its view is trusted
 * as a REPLY's. */
START_TEST(read_reply_answers_the_read)
{
	ck_assert_int_eq(ec_session_start(&s, &get_op, 1000, &out), 0);
	ck_assert_int_eq(read_reply(CID, 1, 5, 0, 1250, 60, 55),
			 EC_SESSION_DONE);
	ck_assert_uint_eq(res.request_id, 1);
	ck_assert_int_eq(res.status, EC__STATUS__ST_OK);
	ck_assert(res.found);
	ck_assert_uint_eq(res.op, 55);
	ck_assert(res.lease);
	ck_assert(res.read_reply);
	ck_assert_uint_eq(res.latency_us, 250);
	ck_assert_uint_eq(res.sends, 1);
	ck_assert_uint_eq(s.seen_op, 55);
	ck_assert_uint_eq(ec_session_leader(&s), 0);
	ck_assert_uint_eq(s.view, 5);
	/* a late copy is no answer */
	ck_assert_int_eq(read_reply(CID, 1, 5, 0, 1300, 60, 55),
			 EC_SESSION_NONE);
	/* the next GET asks for what this one saw */
	ck_assert_int_eq(ec_session_start(&s, &get_op, 1400, &out), 0);
	ck_read(&out, 2, 5, 0, 55);
}
END_TEST

/* An ordinary REPLY answers a READ as well: user space took it as the
 * GET Request it stands for. */
START_TEST(reply_answers_a_read)
{
	ck_assert_int_eq(ec_session_start(&s, &get_op, 0, &out), 0);
	ck_assert_int_eq(reply_op(CID, 1, EC__STATUS__ST_OK, 0, 0, 10, 0, 30,
				  false), EC_SESSION_DONE);
	ck_assert(!res.lease);
	ck_assert(!res.read_reply);
	ck_assert_uint_eq(res.op, 30);
	ck_assert_int_eq(ec_session_start(&s, &get_op, 20, &out), 0);
	ck_assert_int_eq(reply_op(CID, 2, EC__STATUS__ST_NOT_FOUND, 0, 0, 30,
				  0, 31, true), EC_SESSION_DONE);
	ck_assert_int_eq(res.status, EC__STATUS__ST_NOT_FOUND);
	ck_assert(res.lease);
	ck_assert(!res.read_reply);
}
END_TEST

/* A READ_REPLY from older state than the session saw is not accepted;
 * the timer resends the same READ, min_op unchanged, and a newer answer
 * completes it. */
START_TEST(older_read_reply_is_stale)
{
	const uint8_t *first;
	uint8_t sent[EC_SESSION_MAX_DGRAM];
	size_t sent_len;

	ec_session_saw(&s, 100);
	ck_assert_int_eq(ec_session_start(&s, &get_op, 0, &out), 0);
	ck_read(&out, 1, 0, 0, 100);
	first = out.buf;
	sent_len = out.len;
	memcpy(sent, out.buf, out.len);
	ck_assert_int_eq(read_reply(CID, 1, 0, 0, 10, 120, 99),
			 EC_SESSION_STALE);
	ck_assert_uint_eq(s.stats.stale_op, 1);
	ck_assert(s.busy);
	ck_assert_int_eq(ec_session_tick(&s, TIMEOUT, &out), EC_SESSION_SEND);
	ck_assert_int_eq(out.to, EC_SESSION_TO_ALL);
	ck_assert_ptr_eq(out.buf, first);
	ck_assert_uint_eq(out.len, sent_len);
	ck_assert_mem_eq(out.buf, sent, sent_len);
	ck_assert_int_eq(read_reply(CID, 1, 0, 2, TIMEOUT + 5, 120, 100),
			 EC_SESSION_DONE);
	ck_assert_uint_eq(res.sends, 2);
}
END_TEST

/* NOT_LEADER (a REPLY) to a READ redirects the same READ, its header
 * stamped with the new view; a pinned READ goes to the pin first. */
START_TEST(not_leader_redirects_a_read)
{
	ck_assert_int_eq(ec_session_start(&s, &get_op, 0, &out), 0);
	ck_assert_int_eq(reply(CID, 1, EC__STATUS__ST_NOT_LEADER, 7, 0, 10),
			 EC_SESSION_SEND);
	ck_assert_int_eq(out.to, 2);
	ck_read(&out, 1, 7, 0, 0);
	ck_assert_uint_eq(s.stats.redirects, 1);
	ck_assert_int_eq(read_reply(CID, 1, 7, 2, 20, 3, 3), EC_SESSION_DONE);
	ck_assert_uint_eq(res.sends, 2);
	ec_session_pin(&s, 4);
	ck_assert_int_eq(ec_session_start(&s, &get_op, 30, &out), 0);
	ck_assert_int_eq(out.to, 4);
	ck_read(&out, 2, 7, 0, 3);
	ck_assert_int_eq(reply(CID, 2, EC__STATUS__ST_NOT_LEADER, 7, 4, 40),
			 EC_SESSION_SEND);
	ck_assert_int_eq(out.to, 2);
	ck_read(&out, 2, 7, 0, 3);
}
END_TEST

/* A READ_REPLY for another client or request, or for a request that
 * went as a REQUEST, answers nothing; an unanswered READ is given up. */
START_TEST(foreign_read_replies_are_ignored)
{
	uint64_t t = 0;

	ck_assert_int_eq(ec_session_start(&s, &get_op, 0, &out), 0);
	ck_assert_int_eq(read_reply(CID + 1, 1, 0, 0, 1, 0, 0),
			 EC_SESSION_NONE);
	ck_assert_int_eq(read_reply(CID, 2, 0, 0, 2, 0, 0), EC_SESSION_NONE);
	ck_assert_int_eq(read_reply(CID, 0, 0, 0, 3, 0, 0), EC_SESSION_NONE);
	ck_assert_uint_eq(s.stats.stale, 3);
	ck_assert(s.busy);
	while (ec_session_tick(&s, t, &out) != EC_SESSION_GAVE_UP)
		t = ec_session_next_tick(&s);
	ck_assert_uint_eq(s.stats.gave_up, 1);
	ck_assert_int_eq(read_reply(CID, 1, 0, 0, t + 1, 0, 0),
			 EC_SESSION_NONE);
	ck_assert_int_eq(ec_session_start(&s, &put_op, t + 2, &out), 0);
	ck_assert_int_eq(read_reply(CID, 2, 0, 0, t + 3, 0, 0),
			 EC_SESSION_NONE);
	ck_assert(s.busy);
	ck_assert_uint_eq(s.stats.stale, 5);
}
END_TEST

/* A READ_REPLY that is not one well-formed answer does not decode. */
START_TEST(decode_rejects_malformed_read_replies)
{
	uint8_t buf[1024];
	struct ec_read_reply good, b;
	struct ec_msg m = { .sender = 0 };
	struct ec_session_reply_hdr v;
	Ec__Reply *rep;
	size_t len;

	read_reply_body(&good, CID, 1, 5);
	len = read_reply_dgram(buf, m, &good, 2, sizeof(good) + 2);
	rep = ec_session_reply_decode(buf, len, N, &v);
	ck_assert_ptr_nonnull(rep);
	ck_assert(v.read_reply);
	ec__reply__free_unpacked(rep, NULL);
	/* value_len longer, or shorter, than the body */
	b = good;
	b.value_len = htobe16(3);
	len = read_reply_dgram(buf, m, &b, 2, sizeof(b) + 2);
	ck_assert_ptr_null(ec_session_reply_decode(buf, len, N, &v));
	b.value_len = htobe16(1);
	ck_assert_ptr_null(ec_session_reply_decode(buf, len, N, &v));
	/* a body shorter than the fixed part */
	len = read_reply_dgram(buf, m, &good, 0, sizeof(good) - 1) - 1;
	ck_assert_ptr_null(ec_session_reply_decode(buf, len, N, &v));
	/* a value longer than any the replicas store */
	b = good;
	b.value_len = htobe16(EC_MAX_VALUE + 1);
	len = read_reply_dgram(buf, m, &b, EC_MAX_VALUE + 1,
			       sizeof(b) + EC_MAX_VALUE + 1);
	ck_assert_ptr_null(ec_session_reply_decode(buf, len, N, &v));
	/* any status but OK, or not found */
	b = good;
	b.status = EC__STATUS__ST_NOT_FOUND;
	len = read_reply_dgram(buf, m, &b, 2, sizeof(b) + 2);
	ck_assert_ptr_null(ec_session_reply_decode(buf, len, N, &v));
	b.status = EC__STATUS__ST_NOT_LEADER;
	len = read_reply_dgram(buf, m, &b, 2, sizeof(b) + 2);
	ck_assert_ptr_null(ec_session_reply_decode(buf, len, N, &v));
	b = good;
	b.found = 0;
	len = read_reply_dgram(buf, m, &b, 2, sizeof(b) + 2);
	ck_assert_ptr_null(ec_session_reply_decode(buf, len, N, &v));
	/* from a sender outside the cluster */
	m.sender = N;
	len = read_reply_dgram(buf, m, &good, 2, sizeof(good) + 2);
	ck_assert_ptr_null(ec_session_reply_decode(buf, len, N, &v));
}
END_TEST

/* With the switch off a GET is a REQUEST, as before READs; so is a GET
 * whose key no READ can carry, switch or not. */
START_TEST(read_switch_off_sends_requests)
{
	static uint8_t long_key[EC_MAX_KEY + 1];
	Ec__KvOp op = EC__KV_OP__INIT;
	struct ec_msg m;

	ec_session_use_read(&s, false);
	ec_session_saw(&s, 8);
	ck_assert_int_eq(ec_session_start(&s, &get_op, 0, &out), 0);
	ck_request_kind(&out, 1, 0, EC__OP_KIND__OP_GET);
	ck_assert_uint_eq(min_op_of(&out), 8);
	ck_assert_int_eq(reply(CID, 1, EC__STATUS__ST_OK, 0, 0, 10),
			 EC_SESSION_DONE);
	ec_session_use_read(&s, true);
	op.kind = EC__OP_KIND__OP_GET;
	op.key.data = long_key;
	op.key.len = sizeof(long_key);
	ck_assert_int_eq(ec_session_start(&s, &op, 20, &out), 0);
	ck_assert_int_eq(ec_msg_parse(out.buf, out.len, N, &m, NULL),
			 EC_PARSE_OK);
	ck_assert_uint_eq(m.type, EC_MSG_REQUEST);
	ck_assert_int_eq(reply(CID, 2, EC__STATUS__ST_BAD_REQUEST, 0, 0, 30),
			 EC_SESSION_DONE);
	op.key.len = 0;
	ck_assert_int_eq(ec_session_start(&s, &op, 40, &out), 0);
	ck_assert_int_eq(ec_msg_parse(out.buf, out.len, N, &m, NULL),
			 EC_PARSE_OK);
	ck_assert_uint_eq(m.type, EC_MSG_REQUEST);
}
END_TEST

static Suite *session_suite(void)
{
	Suite *su = suite_create("session");
	TCase *tc = tcase_create("session");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, first_send_goes_to_guessed_leader);
	tcase_add_test(tc, one_outstanding_request);
	tcase_add_test(tc, oversized_request_is_refused);
	tcase_add_test(tc, matching_reply_completes);
	tcase_add_test(tc, duplicate_and_foreign_replies_are_ignored);
	tcase_add_test(tc, not_leader_redirects_at_once);
	tcase_add_test(tc, not_leader_for_current_view_does_not_bounce);
	tcase_add_test(tc, answer_view_replaces_guess);
	tcase_add_test(tc, timeout_resends_same_request_to_all);
	tcase_add_test(tc, gives_up_and_moves_on);
	tcase_add_test(tc, abandon_forgets_request);
	tcase_add_test(tc, decode_rejects_non_replies);
	tcase_add_test(tc, renew_starts_a_new_client_in_the_same_view);
	tcase_add_test(tc, init_rejects_bad_arguments);
	tcase_add_test(tc, new_session_says_hello_first);
	tcase_add_test(tc, expired_session_is_renewed_with_a_hello);
	tcase_add_test(tc, min_op_is_the_highest_op_seen);
	tcase_add_test(tc, older_reply_is_not_accepted);
	tcase_add_test(tc, op_seen_survives_renew);
	tcase_add_test(tc, pinned_requests_go_to_the_pinned_replica_first);
	tcase_add_test(tc, pinned_to_the_leader_and_hello);
	suite_add_tcase(su, tc);
	tc = tcase_create("read");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, get_goes_out_as_a_read);
	tcase_add_test(tc, hello_before_a_read_is_a_request);
	tcase_add_test(tc, read_reply_answers_the_read);
	tcase_add_test(tc, reply_answers_a_read);
	tcase_add_test(tc, older_read_reply_is_stale);
	tcase_add_test(tc, not_leader_redirects_a_read);
	tcase_add_test(tc, foreign_read_replies_are_ignored);
	tcase_add_test(tc, decode_rejects_malformed_read_replies);
	tcase_add_test(tc, read_switch_off_sends_requests);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	return run_suite(session_suite());
}
