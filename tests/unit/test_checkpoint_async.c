/*
 * test_checkpoint_async.c - checkpoints taken off the core's thread
 * (ec_core_opts.checkpoint_async, what replica/io/checkpointer.c does with a
 * fork): the core keeps going while one is outstanding, skips checkpoint
 * ops met meanwhile, and takes the result, or keeps the previous
 * checkpoint when it failed.  The hook here serializes at once into a
 * side slot, as the forked child would, and hands it over later.
 */
#include <check.h>
#include <stdio.h>

#include "sim.h"
#include "../run_suite.h"

#define MS 1000ULL
#define K 100

/* The "child" of replica 0: the checkpoint it took, not yet handed over. */
static struct ec_snapshot side;
static unsigned started;

static int take_aside(void *arg, uint64_t op, uint32_t view)
{
	struct sim *s = arg;

	started++;
	ck_assert_int_eq(ec_core_snapshot_take(s->r[0], op, view, &side), 0);
	return 0;
}

/* A 3-replica sim, an op per request, checkpoints every K ops; replica
 * 0's go through take_aside. */
static struct sim *async_sim(void)
{
	struct sim *s = sim_new(3, 1);

	sim_set_batch(s, 1);
	sim_set_checkpoint_ops(s, K);
	sim_set_checkpoint_async(s, 0, take_aside, s);
	started = 0;
	return s;
}

/* count writes, in rounds of 10 clients. */
static void load(struct sim *s, unsigned count, uint64_t rid)
{
	char key[16];

	for (unsigned i = 0; i < count; i++) {
		snprintf(key, sizeof(key), "k%u", i % 10);
		sim_put(s, i % 10, 0, rid + i / 10, key, "v");
		if (i % 10 == 9)
			sim_deliver(s);
	}
	sim_run(s, 20 * MS, MS);
}

START_TEST(outstanding_checkpoint_is_taken_when_done)
{
	struct sim *s = async_sim();

	load(s, K + 10, 1);
	ck_assert_uint_eq(started, 1);
	ck_assert_uint_eq(sim_checkpoint(s, 0)->op, 0); /* not yet */
	ck_assert_uint_eq(sim_checkpoint(s, 1)->op, K); /* taken at once */
	load(s, K, 100);                                /* op 2K meanwhile */
	ck_assert_uint_eq(sim_stats(s, 0)->checkpoint_skipped, 1);
	ec_core_checkpoint_done(s->r[0], &side);
	ck_assert_uint_eq(sim_checkpoint(s, 0)->op, K);
	ck_assert_uint_eq(sim_checkpoint(s, 0)->digest,
			  sim_prev_checkpoint(s, 1)->digest);
	load(s, K, 200);                                /* op 3K: the next */
	ck_assert_uint_eq(started, 2);
	ec_core_checkpoint_done(s->r[0], &side);
	ck_assert_uint_eq(sim_checkpoint(s, 0)->op, 3 * K);
	ck_assert_uint_eq(sim_st(s, 0).log_base, K);    /* compacted */
	ck_assert_ptr_null(sim_check_agreement(s));
	sim_free(s);
}
END_TEST

START_TEST(failed_checkpoint_keeps_the_previous_one)
{
	struct sim *s = async_sim();

	load(s, K + 10, 1);
	ec_core_checkpoint_done(s->r[0], &side);
	load(s, K, 100);
	ck_assert_uint_eq(started, 2);
	ec_snapshot_clear(&side);
	ec_core_checkpoint_done(s->r[0], NULL);
	ck_assert_uint_eq(sim_checkpoint(s, 0)->op, K);
	ck_assert_uint_eq(sim_stats(s, 0)->checkpoint_failures, 1);
	load(s, K, 200);                                /* tries again */
	ck_assert_uint_eq(started, 3);
	ec_core_checkpoint_done(s->r[0], &side);
	ck_assert_uint_eq(sim_checkpoint(s, 0)->op, 3 * K);
	sim_free(s);
}
END_TEST

static Suite *async_suite(void)
{
	Suite *s = suite_create("checkpoint_async");
	TCase *t = tcase_create("checkpoint_async");

	tcase_add_test(t, outstanding_checkpoint_is_taken_when_done);
	tcase_add_test(t, failed_checkpoint_keeps_the_previous_one);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return run_suite(async_suite());
}
