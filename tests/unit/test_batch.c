/*
 * test_batch.c - batches of requests per op: the builder and decoder
 * (replica/core/batch.c), and the core through the simulated network (sim.c): batches
 * close when nothing more waits, at the count and at the byte limit;
 * duplicates inside batches; view change and state transfer carrying
 * batches; a malformed batch and an invalid request from a broken leader.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "sim.h"
#include "../run_suite.h"

#define MS 1000ULL

/* Requests of the batch at op on replica i, or -1 if it is malformed. */
static long requests_at(struct sim *s, unsigned i, uint64_t op)
{
	struct sim_entry e;
	struct ec_batch *b;
	long n;

	ck_assert(sim_log_at(s, i, op, &e));
	b = ec_batch_decode(e.body, e.len);
	ck_assert_ptr_nonnull(b);
	n = b->malformed ? -1 : (long)b->n;
	ec_batch_free(b);
	return n;
}

START_TEST(builder_encodes_what_protobuf_decodes)
{
	static struct ec_batch_builder b;
	struct ec_batch *taken, *decoded;
	uint8_t req[128];
	char key[16];

	for (unsigned i = 0; i < 5; i++) {
		size_t len;

		snprintf(key, sizeof(key), "k%u", i);
		len = sim_put_request(req, 7, i + 1, key, "v");
		ck_assert(ec_batch_fits(b.n, b.bytes, len, 8));
		ec_batch_add(&b, req, len,
			     ec__request__unpack(NULL, len, req));
	}
	ck_assert_uint_eq(b.n, 5);
	ck_assert(ec_batch_take(&b, &taken));
	ck_assert_uint_eq(b.n, 0);
	decoded = ec_batch_decode(b.buf, b.bytes);
	ck_assert(decoded && !decoded->malformed);
	ck_assert_uint_eq(decoded->n, 5);
	for (unsigned i = 0; i < 5; i++) {
		ck_assert_uint_eq(decoded->req[i]->request_id, i + 1);
		ck_assert_uint_eq(taken->req[i]->request_id, i + 1);
	}
	ec_batch_free(decoded);
	ec_batch_free(taken);
}
END_TEST

START_TEST(builder_limits_count_and_bytes)
{
	static struct ec_batch_builder b;
	uint8_t req[700];
	char value[600];
	size_t len, n = 0;

	memset(value, 'x', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';
	len = sim_put_request(req, 7, 1, "k", value);
	while (ec_batch_fits(b.n, b.bytes, len, 100)) {
		ec_batch_add(&b, req, len, ec__request__unpack(NULL, len, req));
		n++;
	}
	/* two fit in EC_MAX_ENTRY_BODY bytes, a third does not */
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_le(b.bytes, EC_MAX_ENTRY_BODY);
	ck_assert_uint_gt(b.bytes + ec_batch_cost(len), EC_MAX_ENTRY_BODY);
	ec_batch_clear(&b);
	len = sim_put_request(req, 7, 1, "k", "v");
	while (ec_batch_fits(b.n, b.bytes, len, 3))
		ec_batch_add(&b, req, len, ec__request__unpack(NULL, len, req));
	ck_assert_uint_eq(b.n, 3);
	ec_batch_clear(&b);
	ck_assert_uint_eq(ec_batch_cost(100), 102);
	ck_assert_uint_eq(ec_batch_cost(200), 203);
}
END_TEST

START_TEST(malformed_bytes_decode_as_malformed)
{
	static const uint8_t junk[] = { 0x0a, 0x05, 0xff, 0xff, 0xff, 0xff,
					0xff };
	static const uint8_t truncated[] = { 0x0a, 0x10, 0x08 };
	struct ec_batch *b;

	b = ec_batch_decode(junk, sizeof(junk));
	ck_assert(b && b->malformed && b->n == 0);
	ec_batch_free(b);
	b = ec_batch_decode(truncated, sizeof(truncated));
	ck_assert(b && b->malformed);
	ec_batch_free(b);
	b = ec_batch_decode(NULL, 0); /* no request at all */
	ck_assert(b && b->malformed);
	ec_batch_free(b);
}
END_TEST

/* Requests that arrive together go out as one op; one alone goes at
 * once: nothing waits on a timer. */
START_TEST(batch_closes_when_nothing_more_waits)
{
	struct sim *s = sim_new(3, 1);
	char key[16];

	sim_put(s, 0, 0, 1, "a", "1");
	sim_deliver(s);
	ck_assert_uint_eq(sim_st(s, 0).op, 1);
	ck_assert_uint_eq(sim_st(s, 0).commit, 1);
	for (unsigned c = 0; c < 10; c++) {
		snprintf(key, sizeof(key), "k%u", c);
		sim_put(s, c, 0, 2, key, "x");
	}
	sim_deliver(s);
	ck_assert_uint_eq(sim_st(s, 0).op, 2);
	ck_assert_int_eq(requests_at(s, 1, 2), 10);
	sim_run(s, 20 * MS, MS); /* followers hear the commit */
	ck_assert_uint_eq(sim_st(s, 1).executed, 2);
	ck_assert_uint_eq(ec_kv_count(ec_core_kv(s->r[1])), 11);
	for (unsigned c = 0; c < 10; c++) {
		ck_assert(s->reply[c].have);
		ck_assert_uint_eq(s->reply[c].request_id, 2);
	}
	sim_free(s);
}
END_TEST

/* Without ec_core_input_done a partial batch waits (the glue has more to
 * hand over); input done sends it. */
START_TEST(partial_batch_waits_for_flush)
{
	struct sim *s = sim_new(3, 1);
	struct ec_addr client = sim_client_addr(0);
	struct ec_msg m = { .type = EC_MSG_REQUEST, .sender = EC_SENDER_CLIENT };
	uint8_t req[128], dgram[256];

	for (unsigned i = 0; i < 3; i++) {
		Ec__Request *r;
		size_t len = sim_put_request(req, 0xc0000000ULL, i + 1, "k", "v");

		r = ec__request__unpack(NULL, len, req);
		len = ec_msg_encode(dgram, sizeof(dgram), &m, &r->base);
		ec__request__free_unpacked(r, NULL);
		sim_receive_at(s, 0, &client, dgram, len);
	}
	ck_assert_uint_eq(sim_st(s, 0).op, 0);
	ec_core_input_done(s->r[0]);
	ck_assert_uint_eq(sim_st(s, 0).op, 1);
	sim_free(s);
}
END_TEST

START_TEST(batch_closes_at_the_count_limit)
{
	struct sim *s = sim_new(3, 1);
	char key[16];

	sim_set_batch(s, 4);
	for (unsigned c = 0; c < 10; c++) {
		snprintf(key, sizeof(key), "k%u", c);
		sim_put(s, c, 0, 1, key, "x");
	}
	sim_deliver(s);
	ck_assert_uint_eq(sim_st(s, 0).op, 3);
	ck_assert_int_eq(requests_at(s, 2, 1), 4);
	ck_assert_int_eq(requests_at(s, 2, 2), 4);
	ck_assert_int_eq(requests_at(s, 2, 3), 2);
	ck_assert_uint_eq(ec_core_stats(s->r[0])->batched_requests, 10);
	sim_free(s);
}
END_TEST

START_TEST(batch_closes_at_the_frame_limit)
{
	struct sim *s = sim_new(3, 1);
	char key[16], value[500];

	memset(value, 'v', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';
	for (unsigned c = 0; c < 5; c++) {
		snprintf(key, sizeof(key), "k%u", c);
		sim_put(s, c, 0, 1, key, value);
	}
	sim_deliver(s);
	ck_assert_uint_eq(sim_st(s, 0).op, 3); /* 2 + 2 + 1 */
	for (uint64_t op = 1; op <= 3; op++) {
		struct sim_entry e;

		ck_assert(sim_log_at(s, 0, op, &e));
		ck_assert_uint_le(e.len, EC_MAX_ENTRY_BODY);
	}
	sim_run(s, 20 * MS, MS);
	ck_assert_uint_eq(ec_kv_count(ec_core_kv(s->r[2])), 5);
	sim_free(s);
}
END_TEST

/* A request and its retry in the same burst are ordered once; a retry of
 * one executed inside a batch is answered from the cache. */
START_TEST(duplicates_inside_batches_execute_once)
{
	struct sim *s = sim_new(3, 1);

	sim_request(s, 0, 0, 1, EC__OP_KIND__OP_CAS, "k", "1", NULL);
	sim_request(s, 0, 0, 1, EC__OP_KIND__OP_CAS, "k", "1", NULL);
	sim_put(s, 1, 0, 1, "other", "x");
	sim_deliver(s);
	ck_assert_uint_eq(ec_core_stats(s->r[0])->batched_requests, 2);
	ck_assert_int_eq(s->reply[0].status, EC__STATUS__ST_CAS_FAILED);
	/* retry after execution: the cached reply, nothing ordered */
	s->reply[0].have = false;
	sim_request(s, 0, 0, 1, EC__OP_KIND__OP_CAS, "k", "1", NULL);
	sim_put(s, 2, 0, 1, "third", "y");
	sim_deliver(s);
	ck_assert(s->reply[0].have);
	ck_assert_uint_eq(ec_core_stats(s->r[0])->duplicate_requests, 1);
	ck_assert_uint_eq(ec_core_stats(s->r[0])->batched_requests, 3);
	sim_free(s);
}
END_TEST

/* A batch prepared on the followers but never committed by its leader
 * survives the view change whole. */
START_TEST(view_change_carries_batches)
{
	struct sim *s = sim_new(3, 1);
	struct sim_drop_rule r = { .type = EC_MSG_PREPARE_OK, .on = true };
	char key[16];

	s->filter = sim_drop_by_rule;
	s->filter_arg = &r;
	for (unsigned c = 0; c < 8; c++) {
		snprintf(key, sizeof(key), "k%u", c);
		sim_put(s, c, 0, 1, key, "x");
	}
	sim_deliver(s);
	ck_assert_uint_eq(sim_st(s, 1).op, 1);
	ck_assert_uint_eq(sim_st(s, 0).commit, 0);
	r.on = false;
	sim_crash(s, 0);
	sim_run(s, 600 * MS, MS);
	ck_assert_int_eq(sim_leader(s), 1);
	ck_assert_uint_eq(sim_st(s, 1).commit, 1);
	ck_assert_uint_eq(ec_kv_count(ec_core_kv(s->r[1])), 8);
	ck_assert_uint_eq(ec_kv_count(ec_core_kv(s->r[2])), 8);
	sim_free(s);
}
END_TEST

/* A follower that missed batches gets them by state transfer. */
START_TEST(state_transfer_carries_batches)
{
	struct sim *s = sim_new(3, 1);
	struct sim_drop_rule r = { .type = EC_MSG_PREPARE, .to_mask = 1u << 2,
				   .on = true };
	char key[16];

	s->filter = sim_drop_by_rule;
	s->filter_arg = &r;
	for (unsigned round = 0; round < 20; round++) {
		for (unsigned c = 0; c < 16; c++) {
			snprintf(key, sizeof(key), "k%u", c);
			sim_put(s, c, 0, round + 1, key, "x");
		}
		sim_deliver(s);
	}
	ck_assert_uint_eq(sim_st(s, 2).op, 0);
	r.on = false;
	sim_put(s, 20, 0, 1, "last", "y");
	sim_run(s, 100 * MS, MS);
	ck_assert_uint_eq(sim_st(s, 2).commit, sim_st(s, 0).commit);
	ck_assert_uint_eq(ec_kv_digest(ec_core_kv(s->r[2])),
			  ec_kv_digest(ec_core_kv(s->r[0])));
	ck_assert_uint_eq(ec_core_stats(s->r[0])->batched_requests, 321);
	ck_assert_ptr_null(sim_check_agreement(s));
	sim_free(s);
}
END_TEST

/* What a broken leader could log: the entry goes to every follower like
 * any other (as a fast ack would take it), and executes the same way on
 * every replica. */
static void leader_logs(struct sim *s, const uint8_t *body, size_t len)
{
	ck_assert_uint_ne(sim_hook_log_as_leader(s, 0, body, len), 0);
}

START_TEST(malformed_batch_executes_as_nothing_everywhere)
{
	static const uint8_t junk[] = { 0x0a, 0x03, 0xff, 0xff, 0xff };
	struct sim *s = sim_new(3, 1);

	sim_put(s, 0, 0, 1, "a", "1");
	sim_deliver(s);
	leader_logs(s, junk, sizeof(junk));
	sim_put(s, 0, 0, 2, "a", "2");
	sim_run(s, 50 * MS, MS);
	for (unsigned i = 0; i < 3; i++) {
		ck_assert_uint_eq(sim_st(s, i).executed, 3);
		ck_assert_uint_eq(ec_core_stats(s->r[i])->malformed_batches, 1);
	}
	ck_assert_str_eq(s->reply[0].value, "");
	ck_assert_uint_eq(s->reply[0].request_id, 2);
	ck_assert_ptr_null(sim_check_agreement(s));
	sim_free(s);
}
END_TEST

START_TEST(invalid_request_in_a_batch_is_never_executed)
{
	static struct ec_batch_builder b;
	struct sim *s = sim_new(3, 1);
	uint8_t req[128];
	struct ec_batch *taken;
	size_t len;

	sim_put(s, 0, 0, 1, "a", "1");
	sim_deliver(s);
	len = sim_put_request(req, 0xc0000000ULL, 2, "b", "2");
	ec_batch_add(&b, req, len, ec__request__unpack(NULL, len, req));
	len = sim_put_request(req, 0xc0000000ULL, 0, "c", "3"); /* id 0 */
	ec_batch_add(&b, req, len, ec__request__unpack(NULL, len, req));
	ck_assert(ec_batch_take(&b, &taken));
	ec_batch_free(taken);
	leader_logs(s, b.buf, b.bytes);
	sim_run(s, 50 * MS, MS);
	for (unsigned i = 0; i < 3; i++) {
		const struct ec_kv *kv = ec_core_kv(s->r[i]);

		ck_assert_uint_eq(sim_st(s, i).executed, 2);
		ck_assert_uint_eq(ec_kv_count(kv), 2); /* a and b, never c */
		ck_assert_uint_eq(ec_core_stats(s->r[i])->invalid_logged, 1);
	}
	ck_assert_int_eq(s->reply[0].status, EC__STATUS__ST_BAD_REQUEST);
	ck_assert_ptr_null(sim_check_agreement(s));
	sim_free(s);
}
END_TEST

static Suite *batch_suite(void)
{
	Suite *s = suite_create("batch");
	TCase *t = tcase_create("batch");

	tcase_add_test(t, builder_encodes_what_protobuf_decodes);
	tcase_add_test(t, builder_limits_count_and_bytes);
	tcase_add_test(t, malformed_bytes_decode_as_malformed);
	tcase_add_test(t, batch_closes_when_nothing_more_waits);
	tcase_add_test(t, partial_batch_waits_for_flush);
	tcase_add_test(t, batch_closes_at_the_count_limit);
	tcase_add_test(t, batch_closes_at_the_frame_limit);
	tcase_add_test(t, duplicates_inside_batches_execute_once);
	tcase_add_test(t, view_change_carries_batches);
	tcase_add_test(t, state_transfer_carries_batches);
	tcase_add_test(t, malformed_batch_executes_as_nothing_everywhere);
	tcase_add_test(t, invalid_request_in_a_batch_is_never_executed);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return run_suite(batch_suite());
}
