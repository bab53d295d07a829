/*
 * test_catchup.c - a replica that fell behind comes back: committed
 * entries fetched forward chunk by chunk, then the view's tail, through
 * the simulated network (sim.c) with answers delayed around the interval
 * at which a request may be repeated.
 */
#include <check.h>
#include <stdio.h>

#include "sim.h"
#include "../run_suite.h"

#define MS 1000ULL

/*
 * A follower that misses many chunks' worth of ops in one view (its
 * PREPAREs lost) catches up: committed entries chunk by chunk, then the
 * leader's tail.  The answers are delayed around retransmit_us, the
 * interval at which the same GET_STATE may be repeated.
 */
START_TEST(follower_far_behind_in_same_view_catches_up)
{
	static const uint64_t delays_ms[] = { 0, 1, 10, 19, 20, 21, 45 };
	const unsigned ops = 6000, clients = 32;
	char key[16], value[64];

	for (size_t d = 0; d < sizeof(delays_ms) / sizeof(delays_ms[0]); d++) {
		struct sim *s = sim_new(3, 7);
		struct sim_drop_rule r = { .type = EC_MSG_PREPARE,
				       .to_mask = 1u << 2, .on = true };
		uint64_t waited = 0;

		s->filter = sim_drop_by_rule;
		s->filter_arg = &r;
		sim_set_batch(s, 1); /* ops, not batches, fill the chunks */
		for (unsigned i = 0; i < ops; i++) {
			snprintf(key, sizeof(key), "k%u", i % 100);
			snprintf(value, sizeof(value), "%040u", i);
			sim_put(s, i % clients, 0, i / clients + 1, key, value);
			if (i % clients == clients - 1)
				sim_deliver(s);
		}
		sim_deliver(s);
		ck_assert_uint_eq(sim_st(s, 0).commit, ops);
		ck_assert_uint_eq(sim_st(s, 2).op, 0);
		r.on = false;
		s->delay_us[EC_MSG_NEW_STATE] = delays_ms[d] * MS;
		sim_put(s, 0, 0, ops, "last", "v");
		while (sim_st(s, 2).op < ops + 1 && waited < 2000 * MS) {
			sim_run(s, MS, MS);
			waited += MS;
		}
		ck_assert_msg(sim_st(s, 2).op == ops + 1 && sim_st(s, 2).commit == ops + 1,
			      "delay %llu ms: follower at op %llu commit %llu "
			      "after %llu ms, leader at %llu",
			      (unsigned long long)delays_ms[d],
			      (unsigned long long)sim_st(s, 2).op,
			      (unsigned long long)sim_st(s, 2).commit,
			      (unsigned long long)(waited / MS),
			      (unsigned long long)sim_st(s, 0).op);
		/* many chunks, each asked for once or retried on a timer */
		ck_assert_uint_lt(ec_core_stats(s->r[2])->gap_requests,
				  40 + waited / s->opts.retransmit_us);
		ck_assert_ptr_null(sim_check_agreement(s));
		sim_free(s);
	}
}
END_TEST

static Suite *catchup_suite(void)
{
	Suite *s = suite_create("catchup");
	TCase *t = tcase_create("catchup");

	tcase_set_timeout(t, 120);
	tcase_add_test(t, follower_far_behind_in_same_view_catches_up);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return run_suite(catchup_suite());
}
