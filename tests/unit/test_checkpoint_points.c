/*
 * test_checkpoint_points.c - which ops are checkpoint ops: the first op at
 * which checkpoint_ops ops were executed since the last checkpoint op, or
 * at which their entries carry checkpoint_bytes bytes, whichever comes
 * first.  Every replica must pick the same ops, a restarted one too once
 * it installed a checkpoint.  Through the simulated network (sim.c).
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "sim.h"
#include "../run_suite.h"

#define MS 1000ULL

/* n PUTs to replica 0 of values of 8..507 bytes (seeded by the sim), one
 * request per op; clients 0..31. */
static void load(struct sim *s, unsigned n)
{
	static uint64_t rid[32];
	static unsigned seq;
	char key[16], value[512];

	for (unsigned i = 0; i < n; i++, seq++) {
		size_t len = 8 + sim_rand(s, 500);
		unsigned c = seq % 32;

		snprintf(key, sizeof(key), "k%u", seq % 700);
		memset(value, 'a' + seq % 26, len);
		value[len] = '\0';
		sim_put(s, c, 0, ++rid[c], key, value);
		sim_deliver(s);
	}
}

/* Bytes of the entries of ops first..last in replica i's log. */
static uint64_t entry_bytes(const struct sim *s, unsigned i, uint64_t first,
			    uint64_t last)
{
	uint64_t sum = 0;

	for (uint64_t op = first; op <= last; op++) {
		struct sim_entry e;

		ck_assert(sim_log_at(s, i, op, &e));
		sum += e.len;
	}
	return sum;
}

/* With a bound in bytes only: the latest checkpoint op is the first at
 * which the entries since the previous one reach the bound, on every
 * replica alike. */
START_TEST(bytes_bound_picks_the_same_ops_everywhere)
{
	const uint64_t bound = 40000;
	struct sim *s = sim_new(3, 5);
	uint64_t prev, last;

	sim_set_batch(s, 1);
	sim_set_checkpoint_ops(s, 0);
	sim_set_checkpoint_bytes(s, bound);
	load(s, 1500); /* about 400 KB: some ten checkpoints */
	sim_run(s, 30 * MS, MS);
	prev = sim_prev_checkpoint(s, 0)->op;
	last = sim_checkpoint(s, 0)->op;
	ck_assert_uint_gt(prev, 0);
	ck_assert_uint_gt(last, prev);
	for (unsigned i = 1; i < 3; i++) {
		ck_assert_uint_eq(sim_checkpoint(s, i)->op, last);
		ck_assert_uint_eq(sim_prev_checkpoint(s, i)->op, prev);
	}
	/* the log is held from prev on: the rule, checked on the entries */
	ck_assert_uint_eq(sim_st(s, 0).log_base, prev);
	ck_assert_uint_ge(entry_bytes(s, 0, prev + 1, last), bound);
	ck_assert_uint_lt(entry_bytes(s, 0, prev + 1, last - 1), bound);
	ck_assert_ptr_null(sim_check_agreement(s));
	sim_free(s);
}
END_TEST

/* A bound in ops and one in bytes: whichever comes first. */
START_TEST(ops_or_bytes_whichever_first)
{
	struct sim *s = sim_new(3, 6);
	const struct ec_snapshot *last = sim_checkpoint(s, 0);
	const struct ec_snapshot *prev = sim_prev_checkpoint(s, 0);

	sim_set_batch(s, 1);
	sim_set_checkpoint_ops(s, 50);
	sim_set_checkpoint_bytes(s, 1 << 30);
	load(s, 420);
	ck_assert_uint_eq(last->op, 400); /* ops first: 50, 100, ... */
	ck_assert_uint_eq(prev->op, 350);
	sim_set_checkpoint_bytes(s, 2000); /* bytes first: every few ops */
	load(s, 100);
	ck_assert_uint_gt(last->op, 420);
	ck_assert_uint_lt(last->op - prev->op, 50);
	ck_assert_uint_ge(entry_bytes(s, 0, prev->op + 1, last->op), 2000);
	sim_free(s);
}
END_TEST

/* Both 0: no checkpoint ever, the log is kept whole. */
START_TEST(no_bound_no_checkpoint)
{
	struct sim *s = sim_new(3, 7);

	sim_set_checkpoint_ops(s, 0);
	sim_set_checkpoint_bytes(s, 0);
	load(s, 300);
	ck_assert_uint_eq(sim_checkpoint(s, 0)->op, 0);
	ck_assert_uint_eq(sim_st(s, 0).log_base, 0);
	ck_assert_uint_eq(sim_stats(s, 0)->checkpoints, 0);
	sim_free(s);
}
END_TEST

/* A replica restarted past compaction installs a checkpoint, then goes on
 * counting from its op: its later checkpoints are at the others' ops. */
START_TEST(restarted_replica_keeps_the_same_ops)
{
	struct sim *s = sim_new(3, 8);

	sim_set_batch(s, 1);
	sim_set_checkpoint_ops(s, 0);
	sim_set_checkpoint_bytes(s, 30000);
	load(s, 200);
	sim_run(s, 30 * MS, MS);
	sim_crash(s, 2);
	load(s, 800);
	ck_assert_uint_gt(sim_st(s, 0).log_base, sim_st(s, 2).commit);
	sim_restart(s, 2);
	sim_run(s, 500 * MS, MS);
	ck_assert_uint_eq(sim_stats(s, 2)->snapshots_installed, 1);
	ck_assert_uint_eq(sim_st(s, 2).executed, sim_st(s, 0).executed);
	load(s, 600); /* several more checkpoints, counted from the install */
	sim_run(s, 30 * MS, MS);
	ck_assert_uint_gt(sim_stats(s, 2)->checkpoints, 1);
	ck_assert_uint_eq(sim_checkpoint(s, 2)->op, sim_checkpoint(s, 0)->op);
	ck_assert_uint_eq(sim_prev_checkpoint(s, 2)->op,
			  sim_prev_checkpoint(s, 0)->op);
	ck_assert_uint_eq(sim_checkpoint(s, 2)->digest,
			  sim_checkpoint(s, 0)->digest);
	ck_assert_ptr_null(sim_check_agreement(s));
	sim_free(s);
}
END_TEST

static Suite *checkpoint_points_suite(void)
{
	Suite *s = suite_create("checkpoint_points");
	TCase *t = tcase_create("checkpoint_points");

	tcase_set_timeout(t, 60);
	tcase_add_test(t, bytes_bound_picks_the_same_ops_everywhere);
	tcase_add_test(t, ops_or_bytes_whichever_first);
	tcase_add_test(t, no_bound_no_checkpoint);
	tcase_add_test(t, restarted_replica_keeps_the_same_ops);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return run_suite(checkpoint_points_suite());
}
