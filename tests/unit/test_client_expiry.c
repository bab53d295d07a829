/*
 * test_client_expiry.c - the bounded client table (replica/app/client_table.h): clients
 * expire at the same ops on every replica, a retry of an expired client is
 * refused (SESSION_EXPIRED) and never executed twice, a new session is
 * told apart from an expired one by its session_op, and a hello is
 * answered with the commit number a session starts from.  Through the
 * simulated network (sim.c).
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "sim.h"
#include "../run_suite.h"

#define MS 1000ULL
#define EXPIRY 5000

/* A 3-replica sim whose clients expire after EXPIRY ops, an op per
 * request (op numbers are then request counts). */
static struct sim *expiring_sim(void)
{
	struct sim *s = sim_new(3, 1);

	sim_set_batch(s, 1);
	sim_set_client_expiry_ops(s, EXPIRY);
	return s;
}

/* Clients 1..clients write `count` values to their own keys, in rounds,
 * with request ids from rid. */
static void load(struct sim *s, unsigned clients, unsigned count,
		 uint64_t rid)
{
	char key[16], value[16];

	for (unsigned i = 0; i < count; i++) {
		unsigned c = 1 + i % clients;

		snprintf(key, sizeof(key), "k%u", c);
		snprintf(value, sizeof(value), "%u", i);
		sim_put(s, c, 0, rid + i / clients, key, value);
		if (c == clients)
			sim_deliver(s);
	}
	sim_run(s, 20 * MS, MS);
}

static bool knows(const struct sim *s, unsigned i, unsigned client)
{
	return sim_client_executed(s, i, client) > 0;
}

/* Client 0 writes once and falls silent; others run the log past two
 * expiry scans: every replica forgets client 0 at the same op, and keeps
 * the same clients. */
START_TEST(expiry_is_the_same_on_every_replica)
{
	struct sim *s = expiring_sim();

	sim_put(s, 0, 0, 1, "a", "1");
	sim_deliver(s);
	load(s, 8, 9000, 1);
	for (unsigned i = 0; i < 3; i++) {
		ck_assert_uint_ge(sim_st(s, i).executed, 9001);
		ck_assert(!knows(s, i, 0));
		ck_assert(knows(s, i, 8));
		ck_assert_uint_eq(sim_clients(s, i), sim_clients(s, 1));
		ck_assert_uint_eq(ec_core_stats(s->r[i])->clients_expired, 1);
	}
	ck_assert_ptr_null(sim_check_agreement(s));
	sim_free(s);
}
END_TEST

/* The retry of an expired client's executed request would write again
 * what was since deleted: it is refused and changes nothing. */
START_TEST(retry_of_an_expired_client_is_never_executed_twice)
{
	struct sim *s = expiring_sim();
	uint64_t digest;

	sim_put(s, 0, 0, 1, "a", "1");
	sim_deliver(s);
	sim_request(s, 1, 0, 1, EC__OP_KIND__OP_DELETE, "a", NULL, NULL);
	sim_deliver(s);
	load(s, 8, 9000, 1);
	digest = ec_kv_digest(ec_core_kv(s->r[0]));
	s->reply[0].have = false;
	sim_put(s, 0, 0, 1, "a", "1"); /* the same request again */
	sim_run(s, 20 * MS, MS);
	ck_assert(s->reply[0].have);
	ck_assert_int_eq(s->reply[0].status, EC__STATUS__ST_SESSION_EXPIRED);
	for (unsigned i = 0; i < 3; i++)
		ck_assert_uint_eq(ec_kv_digest(ec_core_kv(s->r[i])), digest);
	ck_assert_uint_ge(ec_core_stats(s->r[0])->sessions_expired, 1);
	sim_free(s);
}
END_TEST

/* A hello is answered at once, unordered, with the commit number; a new
 * client whose session_op is that number is a new session, while one that
 * says 0 once the log is past the expiry horizon is refused. */
START_TEST(new_session_starts_from_a_hello)
{
	struct sim *s = expiring_sim();
	uint64_t op;

	load(s, 8, 6000, 1);
	op = sim_st(s, 0).op;
	sim_hello(s, 20, 1); /* a follower answers too */
	sim_deliver(s);
	ck_assert(s->reply[20].have);
	ck_assert_int_eq(s->reply[20].status, EC__STATUS__ST_OK);
	ck_assert_uint_eq(s->reply[20].request_id, 0);
	ck_assert_uint_ge(s->reply[20].commit, op - 32);
	ck_assert_uint_eq(sim_st(s, 0).op, op); /* nothing ordered */
	/* session_op 0: too old */
	sim_put(s, 21, 0, 1, "b", "x");
	sim_deliver(s);
	ck_assert_int_eq(s->reply[21].status, EC__STATUS__ST_SESSION_EXPIRED);
	ck_assert_uint_eq(sim_st(s, 0).op, op); /* refused before ordering */
	/* session_op from the hello: a new session, executed */
	s->session_op[20] = s->reply[20].commit;
	sim_put(s, 20, 0, 1, "b", "y");
	sim_run(s, 20 * MS, MS);
	ck_assert_int_eq(s->reply[20].status, EC__STATUS__ST_OK);
	for (unsigned i = 0; i < 3; i++)
		ck_assert(knows(s, i, 20));
	sim_free(s);
}
END_TEST

/* The expiry marks travel in snapshots: a replica restored from one keeps
 * the same clients and forgets the same ones later. */
START_TEST(expiry_survives_a_snapshot)
{
	struct sim *s = expiring_sim();

	sim_set_checkpoint_ops(s, 1000);
	sim_put(s, 0, 0, 1, "a", "1");
	sim_deliver(s);
	load(s, 8, 3000, 1);
	sim_crash(s, 2);
	sim_restart(s, 2);
	sim_run(s, 300 * MS, MS);
	ck_assert_int_eq(sim_st(s, 2).status, EC_ST_NORMAL);
	ck_assert(knows(s, 2, 0));
	load(s, 8, 6000, 1000);
	for (unsigned i = 0; i < 3; i++) {
		ck_assert_msg(!knows(s, i, 0), "replica %u executed %llu", i,
			      (unsigned long long)sim_st(s, i).executed);
		ck_assert_uint_eq(sim_clients(s, i), sim_clients(s, 0));
	}
	ck_assert_ptr_null(sim_check_agreement(s));
	sim_free(s);
}
END_TEST

static Suite *sessions_suite(void)
{
	Suite *s = suite_create("sessions");
	TCase *t = tcase_create("sessions");

	tcase_set_timeout(t, 120);
	tcase_add_test(t, expiry_is_the_same_on_every_replica);
	tcase_add_test(t, retry_of_an_expired_client_is_never_executed_twice);
	tcase_add_test(t, new_session_starts_from_a_hello);
	tcase_add_test(t, expiry_survives_a_snapshot);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return run_suite(sessions_suite());
}
