/*
 * test_core.c - the protocol core driven through the simulated network
 * (sim.c): normal case, quorum counting, de-duplication, view change and
 * log merge, gap repair, retransmission, recovery (random faults:
 * test_random_faults.c).
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "../run_suite.h"

#define MS 1000ULL

/* Drop every packet from or to the replica *arg. */
static bool isolate(struct sim *s, const struct sim_pkt *p, void *arg)
{
	const unsigned *who = arg;

	(void)s;
	return p->from == *who || p->to == *who;
}

START_TEST(normal_case_commits_and_replies)
{
	struct sim *s = sim_new(5, 1);

	sim_put(s, 0, 0, 1, "k", "v1");
	sim_deliver(s);
	ck_assert(s->reply[0].have);
	ck_assert_int_eq(s->reply[0].status, EC__STATUS__ST_OK);
	ck_assert_uint_eq(sim_st(s, 0).commit, 1);
	sim_request(s, 0, 0, 2, EC__OP_KIND__OP_GET, "k", NULL, NULL);
	sim_deliver(s);
	ck_assert_str_eq(s->reply[0].value, "v1");
	/* followers learn the commit from the heartbeat and execute */
	sim_run(s, 30 * MS, MS);
	for (unsigned i = 1; i < 5; i++)
		ck_assert_uint_eq(sim_st(s, i).executed, 2);
	ck_assert_ptr_null(sim_check_agreement(s));
	sim_free(s);
}
END_TEST

START_TEST(ops_are_sequenced_in_arrival_order)
{
	struct sim *s = sim_new(3, 1);
	char key[16];

	for (unsigned c = 0; c < 10; c++) {
		snprintf(key, sizeof(key), "k%u", c);
		sim_put(s, c, 0, 1, key, "x");
	}
	sim_deliver(s);
	ck_assert_uint_eq(sim_st(s, 0).executed, sim_st(s, 0).op);
	for (uint64_t op = 1, next = 0; op <= sim_st(s, 1).op; op++) {
		struct sim_entry e;
		struct ec_batch *b;

		ck_assert(sim_log_at(s, 1, op, &e));
		b = ec_batch_decode(e.body, e.len);
		ck_assert(b && !b->malformed);
		for (size_t i = 0; i < b->n; i++)
			ck_assert_uint_eq(b->req[i]->client_id,
					  0xc0000000ULL + next++);
		ec_batch_free(b);
		if (op == sim_st(s, 1).op)
			ck_assert_uint_eq(next, 10);
	}
	sim_free(s);
}
END_TEST

START_TEST(follower_redirects_client_to_leader)
{
	struct sim *s = sim_new(3, 1);

	sim_put(s, 0, 2, 1, "k", "v");
	sim_deliver(s);
	ck_assert(s->reply[0].have);
	ck_assert_int_eq(s->reply[0].status, EC__STATUS__ST_NOT_LEADER);
	ck_assert_uint_eq(s->reply[0].view, 0);
	ck_assert_uint_eq(sim_st(s, 0).op, 0);
	sim_free(s);
}
END_TEST

START_TEST(commit_needs_f_followers)
{
	struct sim *s = sim_new(5, 1);
	struct sim_drop_rule r = { .type = EC_MSG_PREPARE, .on = true };

	/* only replica 1 gets the PREPARE: 1 ack < f = 2 */
	s->filter = sim_drop_by_rule;
	s->filter_arg = &r;
	r.to_mask = 1u << 2 | 1u << 3 | 1u << 4;
	sim_put(s, 0, 0, 1, "k", "v");
	sim_deliver(s);
	ck_assert_uint_eq(sim_st(s, 0).commit, 0);
	ck_assert(!s->reply[0].have);
	/* a duplicate ack from the same follower must not count twice */
	{
		struct ec_msg m = { .type = EC_MSG_PREPARE_OK, .sender = 1, .view = 0, .op = 1 };
		uint8_t buf[64];
		size_t len = ec_msg_encode(buf, sizeof(buf), &m, NULL);

		for (int i = 0; i < 3; i++)
			sim_receive_from(s, 0, 1, buf, len);
	}
	ck_assert_uint_eq(sim_st(s, 0).commit, 0);
	/* a second follower's ack completes the quorum */
	{
		struct ec_msg m = { .type = EC_MSG_PREPARE_OK, .sender = 4, .view = 0, .op = 1 };
		uint8_t buf[64];
		size_t len = ec_msg_encode(buf, sizeof(buf), &m, NULL);

		sim_receive_from(s, 0, 4, buf, len);
	}
	ck_assert_uint_eq(sim_st(s, 0).commit, 1);
	sim_free(s);
}
END_TEST

START_TEST(stale_view_ack_is_ignored)
{
	struct sim *s = sim_new(3, 1);
	struct sim_drop_rule r = { .type = EC_MSG_PREPARE, .on = true };
	struct ec_msg m = { .type = EC_MSG_PREPARE_OK, .sender = 1, .view = 7, .op = 1 };
	uint8_t buf[64];
	size_t len = ec_msg_encode(buf, sizeof(buf), &m, NULL);

	s->filter = sim_drop_by_rule;
	s->filter_arg = &r;
	sim_put(s, 0, 0, 1, "k", "v");
	sim_deliver(s);
	sim_receive_from(s, 0, 1, buf, len);
	ck_assert_uint_eq(sim_st(s, 0).commit, 0);
	sim_free(s);
}
END_TEST

START_TEST(retried_request_executes_once)
{
	struct sim *s = sim_new(3, 1);

	sim_request(s, 0, 0, 1, EC__OP_KIND__OP_CAS, "k", "a", NULL);
	sim_deliver(s);
	/* CAS with empty expected on a missing key fails: not found */
	ck_assert(s->reply[0].have);
	ck_assert_uint_eq(s->reply[0].request_id, 1);
	ck_assert_int_eq(s->reply[0].status, EC__STATUS__ST_CAS_FAILED);
	ck_assert(!s->reply[0].found);
	ck_assert_str_eq(s->reply[0].value, "");
	ck_assert_uint_eq(ec_kv_count(ec_core_kv(s->r[0])), 0);
	sim_put(s, 0, 0, 2, "k", "v1");
	sim_deliver(s);
	sim_put(s, 1, 0, 1, "k", "v2");
	sim_deliver(s);
	/* client 0 retries request 2 after another write: must not re-execute */
	sim_put(s, 0, 0, 2, "k", "v1");
	sim_deliver(s);
	ck_assert_uint_eq(s->reply[0].request_id, 2);
	ck_assert_int_eq(s->reply[0].status, EC__STATUS__ST_OK);
	ck_assert_uint_eq(sim_st(s, 0).op, 3);
	ck_assert_uint_eq(ec_core_stats(s->r[0])->duplicate_requests, 1);
	sim_request(s, 2, 0, 1, EC__OP_KIND__OP_GET, "k", NULL, NULL);
	sim_deliver(s);
	ck_assert_str_eq(s->reply[2].value, "v2");
	/* an older request id gets nothing */
	s->reply[0].have = false;
	sim_put(s, 0, 0, 1, "k", "old");
	sim_deliver(s);
	ck_assert(!s->reply[0].have);
	sim_free(s);
}
END_TEST

START_TEST(retry_of_in_flight_request_is_not_prepared_twice)
{
	struct sim *s = sim_new(3, 1);
	struct sim_drop_rule r = { .type = EC_MSG_PREPARE_OK, .on = true };

	s->filter = sim_drop_by_rule;
	s->filter_arg = &r;
	sim_put(s, 0, 0, 1, "k", "v");
	sim_deliver(s);
	sim_put(s, 0, 0, 1, "k", "v");
	sim_deliver(s);
	ck_assert_uint_eq(sim_st(s, 0).op, 1);
	r.on = false;
	sim_run(s, 100 * MS, MS); /* retransmission gets the acks through */
	ck_assert_uint_eq(sim_st(s, 0).commit, 1);
	ck_assert(s->reply[0].have);
	sim_free(s);
}
END_TEST

START_TEST(lost_prepares_are_repaired)
{
	struct sim *s = sim_new(3, 1);
	struct sim_drop_rule r = { .type = EC_MSG_PREPARE, .on = true };

	s->filter = sim_drop_by_rule;
	s->filter_arg = &r;
	sim_put(s, 0, 0, 1, "k", "v");
	sim_deliver(s);
	ck_assert_uint_eq(sim_st(s, 0).commit, 0);
	r.on = false;
	sim_run(s, 60 * MS, MS);
	ck_assert_uint_eq(sim_st(s, 0).commit, 1);
	sim_free(s);
}
END_TEST

START_TEST(lost_acks_trigger_retransmission)
{
	struct sim *s = sim_new(3, 1);
	struct sim_drop_rule r = { .type = EC_MSG_PREPARE_OK, .on = true };

	s->filter = sim_drop_by_rule;
	s->filter_arg = &r;
	sim_put(s, 0, 0, 1, "k", "v");
	sim_run(s, 25 * MS, MS);
	ck_assert_uint_eq(sim_st(s, 0).commit, 0);
	ck_assert(ec_core_stats(s->r[0])->retransmits > 0);
	r.on = false;
	sim_run(s, 100 * MS, MS);
	ck_assert_uint_eq(sim_st(s, 0).commit, 1);
	sim_free(s);
}
END_TEST

START_TEST(follower_repairs_gap)
{
	struct sim *s = sim_new(3, 1);
	struct sim_drop_rule r = { .type = EC_MSG_PREPARE, .to_mask = 1u << 2, .on = true };
	char key[16];

	s->filter = sim_drop_by_rule;
	s->filter_arg = &r;
	for (unsigned i = 0; i < 5; i++) {
		snprintf(key, sizeof(key), "k%u", i);
		sim_put(s, i, 0, 1, key, "v");
		sim_deliver(s);
	}
	ck_assert_uint_eq(sim_st(s, 2).op, 0);
	r.on = false;
	sim_put(s, 9, 0, 1, "last", "v");
	sim_deliver(s);
	sim_run(s, 30 * MS, MS);
	ck_assert_uint_eq(sim_st(s, 2).op, 6);
	ck_assert(ec_core_stats(s->r[2])->gap_requests > 0);
	ck_assert_ptr_null(sim_check_agreement(s));
	sim_free(s);
}
END_TEST

START_TEST(view_change_after_leader_failure)
{
	struct sim *s = sim_new(5, 1);

	sim_put(s, 0, 0, 1, "a", "1");
	sim_deliver(s);
	sim_crash(s, 0);
	sim_run(s, 400 * MS, MS);
	ck_assert_int_eq(sim_leader(s), 1);
	ck_assert_uint_eq(sim_st(s, 1).view, 1);
	sim_put(s, 0, 1, 2, "b", "2");
	sim_deliver(s);
	ck_assert_int_eq(s->reply[0].status, EC__STATUS__ST_OK);
	sim_request(s, 1, 1, 1, EC__OP_KIND__OP_GET, "a", NULL, NULL);
	sim_deliver(s);
	ck_assert_str_eq(s->reply[1].value, "1");
	ck_assert_ptr_null(sim_check_agreement(s));
	sim_free(s);
}
END_TEST

/* An op prepared at only f followers may have been committed: the view
 * change must keep it even though the new leader never saw it. */
START_TEST(view_change_keeps_possibly_committed_op)
{
	struct sim *s = sim_new(5, 1);
	struct sim_drop_rule r = { .type = EC_MSG_PREPARE, .to_mask = 1u << 1, .on = true };

	s->filter = sim_drop_by_rule;
	s->filter_arg = &r;
	sim_put(s, 0, 0, 1, "a", "1");
	sim_deliver(s);
	ck_assert_uint_eq(sim_st(s, 0).commit, 1); /* replied, so committed */
	ck_assert_uint_eq(sim_st(s, 1).op, 0);
	sim_crash(s, 0);
	r.on = false;
	sim_run(s, 400 * MS, MS);
	ck_assert_int_eq(sim_leader(s), 1);
	ck_assert_uint_ge(sim_st(s, 1).commit, 1);
	sim_request(s, 1, 1, 1, EC__OP_KIND__OP_GET, "a", NULL, NULL);
	sim_deliver(s);
	ck_assert_str_eq(s->reply[1].value, "1");
	/* the client's retry is answered from the client table */
	sim_put(s, 0, 1, 1, "a", "1");
	sim_deliver(s);
	ck_assert_int_eq(s->reply[0].status, EC__STATUS__ST_OK);
	ck_assert_ptr_null(sim_check_agreement(s));
	sim_free(s);
}
END_TEST

/* The new leader is far behind: the DO_VIEW_CHANGE tail does not reach
 * down to its commit number, so it fetches committed entries first. */
START_TEST(view_change_new_leader_fetches_missing_prefix)
{
	struct sim *s = sim_new(3, 1);
	struct sim_drop_rule r = { .type = -1, .to_mask = 1u << 1, .on = true };
	char key[16], value[400];

	memset(value, 'x', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';
	s->filter = sim_drop_by_rule;
	s->filter_arg = &r;
	for (unsigned i = 0; i < 400; i++) {
		snprintf(key, sizeof(key), "k%u", i);
		sim_put(s, i % 60, 0, 1 + i / 60, key, value);
		sim_deliver(s);
	}
	ck_assert_uint_eq(sim_st(s, 0).commit, 400);
	ck_assert_uint_eq(sim_st(s, 1).op, 0);
	sim_crash(s, 0);
	r.on = false;
	sim_run(s, 600 * MS, MS);
	ck_assert_int_eq(sim_leader(s), 1);
	ck_assert_uint_eq(sim_st(s, 1).commit, 400);
	ck_assert_uint_eq(sim_st(s, 1).executed, 400);
	ck_assert_ptr_null(sim_check_agreement(s));
	sim_free(s);
}
END_TEST

/* Replica 1's kernel acknowledged op 1 and nothing handed it to user
 * space before the leader died: the view change must still carry it (the
 * core quiesces the fast ack before leaving normal status). */
START_TEST(view_change_keeps_op_acked_only_in_kernel)
{
	struct sim *s = sim_new_offload(3, 1, true, false);
	struct sim_drop_rule r = { .type = EC_MSG_PREPARE, .to_mask = 1u << 2, .on = true };

	s->kernel_lazy = true;
	s->filter = sim_drop_by_rule;
	s->filter_arg = &r;
	sim_run(s, MS, MS); /* let the followers open their fast ack */
	sim_put(s, 0, 0, 1, "a", "1");
	sim_deliver(s);
	ck_assert_int_eq(s->reply[0].status, EC__STATUS__ST_OK);
	ck_assert_uint_eq(s->kern[1].fast_acked, 1);
	ck_assert_uint_eq(sim_st(s, 1).op, 0); /* still only in the kernel */
	sim_crash(s, 0);
	r.on = false;
	sim_run(s, 400 * MS, MS);
	ck_assert_int_eq(sim_leader(s), 1);
	sim_request(s, 1, 1, 1, EC__OP_KIND__OP_GET, "a", NULL, NULL);
	sim_deliver(s);
	ck_assert_str_eq(s->reply[1].value, "1");
	sim_free(s);
}
END_TEST

/*
 * A fast-ack record of a view the replica has left drains late: the
 * kernel acked op 1 in view 0, the record was not submitted yet, the slow
 * path appended a copy (so quiesce returned), and the view change that
 * followed dropped op 1 (only replica 2 had it).  The record is a
 * duplicate from an older view: ignored, not a reason to abort.
 */
START_TEST(late_fast_ack_record_of_older_view_is_ignored)
{
	struct sim *s = sim_new(5, 1);
	struct sim_drop_rule r = { .type = EC_MSG_PREPARE, .on = true,
			       .to_mask = 1u << 1 | 1u << 3 | 1u << 4 };
	unsigned cut = 2;
	uint8_t rec[EC_MAX_MSG];
	struct sim_entry e;
	uint64_t ignored, absorbed;
	size_t len;

	s->filter = sim_drop_by_rule;
	s->filter_arg = &r;
	sim_put(s, 0, 0, 1, "a", "1");
	sim_deliver(s);
	ck_assert_uint_eq(sim_st(s, 2).op, 1);
	ck_assert_uint_eq(sim_st(s, 0).commit, 0);
	ck_assert(sim_log_at(s, 2, 1, &e));
	len = sim_prepare_dgram(rec, 0, 0, 1, e.body, e.len);
	/* the others change view without replica 2: op 1 is not kept */
	sim_crash(s, 0);
	s->filter = isolate;
	s->filter_arg = &cut;
	sim_run(s, 300 * MS, MS);
	ck_assert_int_eq(sim_leader(s), 1);
	ck_assert_uint_eq(sim_st(s, 1).op, 0);
	/* replica 2 follows view 1 and takes its log */
	s->filter = NULL;
	sim_run(s, 50 * MS, MS);
	ck_assert_int_eq(sim_st(s, 2).status, EC_ST_NORMAL);
	ck_assert_uint_eq(sim_st(s, 2).view, 1);
	ck_assert_uint_eq(sim_st(s, 2).leader, 1);
	ck_assert_uint_eq(sim_st(s, 2).op, 0);
	ignored = ec_core_stats(s->r[2])->ignored[EC_MSG_PREPARE];
	absorbed = ec_core_stats(s->r[2])->absorbed;
	ec_core_absorb(s->r[2], rec, len, s->now);
	ck_assert_uint_eq(sim_st(s, 2).op, 0);
	ck_assert_uint_eq(ec_core_stats(s->r[2])->ignored[EC_MSG_PREPARE],
			  ignored + 1);
	ck_assert_uint_eq(ec_core_stats(s->r[2])->absorbed, absorbed + 1);
	/* and the cluster goes on, replica 2 with it */
	sim_put(s, 0, 1, 2, "b", "2");
	sim_deliver(s);
	ck_assert_int_eq(s->reply[0].status, EC__STATUS__ST_OK);
	sim_run(s, 30 * MS, MS);
	ck_assert_uint_eq(sim_st(s, 2).executed, 1);
	ck_assert_ptr_null(sim_check_agreement(s));
	sim_free(s);
}
END_TEST

/* A fast-ack record of the current view that does not extend the log (a
 * gap) cannot be kept, yet the kernel told the leader we hold it: the
 * core stops rather than vote as if it did. */
START_TEST(fast_ack_record_that_cannot_be_kept_aborts)
{
	struct sim *s = sim_new(3, 1);
	uint8_t rec[EC_MAX_MSG];
	struct sim_entry e;
	size_t len;

	sim_put(s, 0, 0, 1, "a", "1");
	sim_deliver(s);
	ck_assert_uint_eq(sim_st(s, 1).op, 1);
	ck_assert(sim_log_at(s, 1, 1, &e));
	len = sim_prepare_dgram(rec, 0, 0, 3, e.body, e.len);
	ec_core_absorb(s->r[1], rec, len, s->now); /* raises SIGABRT */
	sim_free(s);
}
END_TEST

/* The quorum offload turned on while op 1 is in flight: follower 1's ack
 * was counted in user space, follower 2's will be counted in the kernel;
 * followers 3 and 4 are down.  The stalled commit's retransmission must
 * reach follower 1 too, so that the kernel sees a quorum. */
START_TEST(quorum_switched_on_mid_flight_still_commits)
{
	struct sim *s = sim_new_offload(5, 1, false, false);
	struct sim_drop_rule r = { .type = EC_MSG_PREPARE, .to_mask = 1u << 2, .on = true };

	s->filter = sim_drop_by_rule;
	s->filter_arg = &r;
	sim_crash(s, 3);
	sim_crash(s, 4);
	sim_run(s, MS, MS);
	sim_put(s, 0, 0, 1, "k", "v");
	sim_deliver(s);
	ck_assert_uint_eq(sim_acked(s, 0, 1), 1);
	ck_assert_uint_eq(sim_st(s, 0).commit, 0);
	s->kernel_quorum = true;
	ec_core_trust_quorum_flag(s->r[0], true);
	sim_deliver(s); /* the model takes the lead: slots cleared */
	/* as replica/offload/offload.c does, op 1's slot was tagged when it was sent */
	sim_kernel_tag(&s->kern[0], 1, 0);
	r.on = false;
	sim_run(s, 500 * MS, MS);
	ck_assert_uint_eq(sim_st(s, 0).commit, 1);
	ck_assert(s->reply[0].have);
	sim_free(s);
}
END_TEST

START_TEST(restarted_replica_recovers_state)
{
	struct sim *s = sim_new(3, 1);
	char key[16], value[300];

	memset(value, 'y', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';
	for (unsigned i = 0; i < 500; i++) {
		snprintf(key, sizeof(key), "k%u", i);
		sim_put(s, i % 50, 0, 1 + i / 50, key, value);
		sim_deliver(s);
	}
	sim_crash(s, 2);
	sim_restart(s, 2);
	ck_assert_int_eq(sim_st(s, 2).status, EC_ST_RECOVERING);
	sim_run(s, 200 * MS, MS);
	ck_assert_int_eq(sim_st(s, 2).status, EC_ST_NORMAL);
	ck_assert_uint_eq(sim_st(s, 2).commit, 500);
	ck_assert_uint_eq(ec_kv_digest(ec_core_kv(s->r[2])),
			  ec_kv_digest(ec_core_kv(s->r[0])));
	sim_free(s);
}
END_TEST

START_TEST(single_replica_commits_alone)
{
	struct sim *s = sim_new(1, 1);

	sim_put(s, 0, 0, 1, "k", "v");
	sim_deliver(s);
	ck_assert(s->reply[0].have);
	ck_assert_uint_eq(sim_st(s, 0).commit, 1);
	sim_run(s, 500 * MS, 10 * MS);
	ck_assert_int_eq(sim_st(s, 0).status, EC_ST_NORMAL);
	ck_assert_uint_eq(sim_st(s, 0).view, 0);
	sim_free(s);
}
END_TEST

START_TEST(window_queues_excess_requests)
{
	struct sim *s = sim_new(3, 1);
	struct sim_drop_rule r = { .type = EC_MSG_PREPARE_OK, .on = true };
	char key[16];

	s->filter = sim_drop_by_rule;
	s->filter_arg = &r;
	sim_set_batch(s, 1); /* an op per request */
	for (unsigned i = 0; i < EC_DEFAULT_WINDOW + 5; i++) {
		snprintf(key, sizeof(key), "k%u", i);
		sim_put(s, i, 0, 1, key, "v");
	}
	sim_deliver(s);
	ck_assert_uint_eq(sim_st(s, 0).op, EC_DEFAULT_WINDOW);
	r.on = false;
	sim_run(s, 100 * MS, MS);
	ck_assert_uint_eq(sim_st(s, 0).commit, EC_DEFAULT_WINDOW + 5);
	sim_free(s);
}
END_TEST

static Suite *core_suite(void)
{
	Suite *s = suite_create("core");
	TCase *t = tcase_create("core");

	tcase_set_timeout(t, 120);
	tcase_add_test(t, normal_case_commits_and_replies);
	tcase_add_test(t, ops_are_sequenced_in_arrival_order);
	tcase_add_test(t, follower_redirects_client_to_leader);
	tcase_add_test(t, commit_needs_f_followers);
	tcase_add_test(t, stale_view_ack_is_ignored);
	tcase_add_test(t, retried_request_executes_once);
	tcase_add_test(t, retry_of_in_flight_request_is_not_prepared_twice);
	tcase_add_test(t, lost_prepares_are_repaired);
	tcase_add_test(t, lost_acks_trigger_retransmission);
	tcase_add_test(t, follower_repairs_gap);
	tcase_add_test(t, view_change_after_leader_failure);
	tcase_add_test(t, view_change_keeps_possibly_committed_op);
	tcase_add_test(t, view_change_new_leader_fetches_missing_prefix);
	tcase_add_test(t, view_change_keeps_op_acked_only_in_kernel);
	tcase_add_test(t, late_fast_ack_record_of_older_view_is_ignored);
	tcase_add_test_raise_signal(t, fast_ack_record_that_cannot_be_kept_aborts,
				    SIGABRT);
	tcase_add_test(t, quorum_switched_on_mid_flight_still_commits);
	tcase_add_test(t, restarted_replica_recovers_state);
	tcase_add_test(t, single_replica_commits_alone);
	tcase_add_test(t, window_queues_excess_requests);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return run_suite(core_suite());
}
