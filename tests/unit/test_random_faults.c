/*
 * test_random_faults.c - the protocol core through the simulated network
 * (sim.c) under random faults: loss, duplication, reordering, leader
 * crashes and restarts in recovery, with and without the XDP offloads
 * modelled and with checkpoints every few ops.  Logs must agree on every
 * committed op and no acknowledged write may be lost.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "sim.h"
#include "../run_suite.h"

#define MS 1000ULL

/*
 * Randomized: clients keep writing through loss, duplication, reordering
 * and leader crashes (with restarts in recovery).  Logs must agree on
 * every committed op, every acknowledged write must be readable at the
 * end, and the cluster must make progress.  Optionally with the XDP
 * offloads modelled (sim.c): then the kernel must have done real work.
 */
static void run_random(uint64_t seed, bool fastack, bool quorum,
		       uint64_t checkpoint_ops)
{
	struct sim *s = sim_new_offload(5, seed, fastack, quorum);
	uint64_t rid[8] = { 0 }, last_acked[8] = { 0 };
	uint64_t fast_acked = 0, quorum_dropped = 0;
	unsigned acked = 0;
	const char *bad;
	int leader;

	s->loss_pct = 10;
	s->dup_pct = 5;
	s->reorder = true;
	if (checkpoint_ops)
		sim_set_checkpoint_ops(s, checkpoint_ops);
	for (unsigned round = 0; round < 400; round++) {
		for (unsigned c = 0; c < 8; c++) {
			char key[16], value[16];
			int to;

			if (s->reply[c].have && s->reply[c].request_id == rid[c] &&
			    s->reply[c].status == EC__STATUS__ST_OK) {
				acked++;
				last_acked[c] = rid[c]++;
			} else if (rid[c] == 0) {
				rid[c] = 1;
			} else if (sim_rand(s, 4) != 0) {
				continue; /* wait a little before retrying */
			}
			s->reply[c].have = false;
			snprintf(key, sizeof(key), "c%u", c);
			snprintf(value, sizeof(value), "%llu",
				 (unsigned long long)rid[c]);
			to = sim_leader(s);
			sim_put(s, c, to < 0 ? sim_rand(s, 5) : (unsigned)to, rid[c],
			    key, value);
		}
		sim_run(s, 2 * MS, MS);
		if (round == 100 || round == 250) {
			int l = sim_leader(s);

			if (l >= 0)
				sim_crash(s, (unsigned)l);
		}
		if (round == 180 || round == 330)
			for (unsigned i = 0; i < 5; i++)
				if (s->down[i])
					sim_restart(s, i);
		bad = sim_check_agreement(s);
		ck_assert_msg(bad == NULL, "seed %llu round %u: %s",
			      (unsigned long long)seed, round, bad);
	}
	s->loss_pct = s->dup_pct = 0;
	sim_run(s, 1000 * MS, MS);
	ck_assert_msg(acked > 100, "seed %llu: only %u acked",
		      (unsigned long long)seed, acked);
	bad = sim_check_agreement(s);
	ck_assert_msg(bad == NULL, "seed %llu: %s", (unsigned long long)seed,
		      bad);
	/* every acknowledged write (or a later one) is what we read */
	leader = sim_leader(s);
	ck_assert_int_ge(leader, 0);
	for (unsigned c = 0; c < 8; c++) {
		char key[16];

		snprintf(key, sizeof(key), "c%u", c);
		sim_request(s, 20 + c, (unsigned)leader, 1, EC__OP_KIND__OP_GET,
			    key, NULL, NULL);
		sim_deliver(s);
		ck_assert(s->reply[20 + c].have);
		ck_assert_uint_ge(strtoull(s->reply[20 + c].value, NULL, 10),
				  last_acked[c]);
	}
	for (unsigned i = 0; i < 5; i++) {
		fast_acked += s->kern[i].fast_acked;
		quorum_dropped += s->kern[i].quorum_dropped;
	}
	ck_assert(!fastack || fast_acked > 100);
	ck_assert(!quorum || quorum_dropped > 100);
	if (checkpoint_ops)
		for (unsigned i = 0; i < 5; i++)
			ck_assert(sim_st(s, i).log_base > 0);
	sim_free(s);
}

START_TEST(random_faults_keep_agreement)
{
	for (uint64_t seed = 1; seed <= 20; seed++)
		run_random(seed, false, false, 0);
}
END_TEST

START_TEST(random_faults_keep_agreement_with_fast_ack)
{
	for (uint64_t seed = 1; seed <= 12; seed++)
		run_random(seed, true, false, 0);
}
END_TEST

START_TEST(random_faults_keep_agreement_with_quorum_offload)
{
	for (uint64_t seed = 1; seed <= 12; seed++)
		run_random(seed, false, true, 0);
}
END_TEST

START_TEST(random_faults_keep_agreement_with_both_offloads)
{
	for (uint64_t seed = 1; seed <= 12; seed++)
		run_random(seed, true, true, 0);
}
END_TEST

/* The same with a checkpoint every 20 ops (a run executes about 180):
 * logs compacted, replicas that fell behind or restarted catch up by
 * snapshot, under the same faults, with every offload model. */
START_TEST(random_faults_keep_agreement_with_checkpoints)
{
	for (uint64_t seed = 1; seed <= 8; seed++) {
		run_random(seed, false, false, 20);
		run_random(seed, true, false, 20);
		run_random(seed, false, true, 20);
		run_random(seed, true, true, 20);
	}
}
END_TEST

static Suite *random_suite(void)
{
	Suite *s = suite_create("random_faults");
	TCase *t = tcase_create("random_faults");

	tcase_set_timeout(t, 120);
	tcase_add_test(t, random_faults_keep_agreement);
	tcase_add_test(t, random_faults_keep_agreement_with_fast_ack);
	tcase_add_test(t, random_faults_keep_agreement_with_quorum_offload);
	tcase_add_test(t, random_faults_keep_agreement_with_both_offloads);
	tcase_add_test(t, random_faults_keep_agreement_with_checkpoints);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return run_suite(random_suite());
}
