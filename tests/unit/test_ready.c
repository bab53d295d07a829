/*
 * test_ready.c - the core's output record (ec_core_ready, ec_core_advance)
 * and its quiesce hook, through the public API alone: what a turn
 * produced comes out once, the datagrams can be marked before they leave,
 * each kind of event is reported when it happens, and the PREPAREs a
 * quiesce hook hands back are absorbed, with the core stopping when they
 * fall short of what was acknowledged.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "sim.h"
#include "../run_suite.h"

#define MS 1000ULL

/* n puts by client 0 to the leader, replica 0, one at a time. */
static void load(struct sim *s, unsigned n)
{
	static uint64_t rid;
	char key[16];

	for (unsigned i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "k%u", i % 7);
		sim_put(s, 0, 0, ++rid, key, "v");
		sim_deliver(s);
	}
}

/* A leader's heartbeat comes out once, writable; after advance the record
 * is empty. */
START_TEST(ready_hands_out_a_turn_once)
{
	struct sim *s = sim_new(3, 1);
	struct ec_ready rd;

	ec_core_tick(s->r[0], s->now + EC_DEFAULT_HEARTBEAT_US);
	ec_core_ready(s->r[0], &rd);
	ck_assert_uint_eq(rd.n_out, 1);
	ck_assert_uint_eq(rd.out[0].type, EC_MSG_COMMIT);
	ck_assert_int_eq(rd.out[0].dest, EC_TO_ALL);
	ck_assert_int_eq(rd.state.status, EC_ST_NORMAL);
	ck_assert_uint_eq(rd.state.leader, 0);
	ck_assert_uint_eq(rd.n_events, 0);
	/* what the broadcast offload does before sending */
	((struct ec_hdr *)rd.out[0].buf)->flags |= EC_F_TO_ALL;
	ck_assert(((const struct ec_hdr *)rd.out[0].buf)->flags & EC_F_TO_ALL);
	ec_core_advance(s->r[0]);
	ec_core_ready(s->r[0], &rd);
	ck_assert_uint_eq(rd.n_out, 0);
	ck_assert_uint_eq(rd.n_events, 0);
	ec_core_advance(s->r[0]);
	sim_free(s);
}
END_TEST

/* The leader fails: each follower reports the view change and then being
 * normal in the new view, with the state of that moment. */
START_TEST(view_change_is_reported)
{
	struct sim *s = sim_new(3, 1);
	const struct ec_event *ev;

	load(s, 3);
	sim_crash(s, 0);
	sim_run(s, 400 * MS, MS);
	ck_assert_int_eq(sim_leader(s), 1);
	for (unsigned i = 1; i < 3; i++) {
		ck_assert_uint_ge(s->events[i][EC_EV_STATUS], 2);
		ev = &s->last_event[i][EC_EV_STATUS];
		ck_assert_int_eq(ev->state.status, EC_ST_NORMAL);
		ck_assert_uint_eq(ev->state.view, 1);
		ck_assert_uint_eq(ev->state.leader, 1);
		ck_assert_uint_eq(ev->state.op, 3);
		ck_assert_uint_eq(s->events[i][EC_EV_RECOVERED], 0);
	}
	sim_free(s);
}
END_TEST

/* A restarted replica reports once that it recovered; with checkpoints
 * behind it, that it installed one, and from whom; every replica reports
 * each checkpoint it keeps. */
START_TEST(recovery_and_checkpoints_are_reported)
{
	struct sim *s = sim_new(3, 1);
	const struct ec_event *ev;

	sim_set_batch(s, 1);
	sim_set_checkpoint_ops(s, 10);
	load(s, 35);
	sim_run(s, 30 * MS, MS);
	for (unsigned i = 0; i < 3; i++) {
		const struct ec_core_stats *st = ec_core_stats(s->r[i]);

		ck_assert_uint_eq(s->events[i][EC_EV_CHECKPOINT],
				  st->checkpoints);
		ck_assert_uint_eq(s->last_event[i][EC_EV_CHECKPOINT].op,
				  sim_st(s, i).checkpoint);
		ck_assert_uint_eq(s->events[i][EC_EV_CHECKPOINT_FAILED], 0);
	}
	sim_crash(s, 2);
	memset(s->events[2], 0, sizeof(s->events[2]));
	sim_restart(s, 2);
	sim_run(s, 300 * MS, MS);
	ck_assert_int_eq(sim_st(s, 2).status, EC_ST_NORMAL);
	ck_assert_uint_eq(s->events[2][EC_EV_RECOVERED], 1);
	ev = &s->last_event[2][EC_EV_RECOVERED];
	ck_assert_int_eq(ev->state.status, EC_ST_NORMAL);
	ck_assert_uint_eq(s->events[2][EC_EV_SNAPSHOT_INSTALLED],
			  ec_core_stats(s->r[2])->snapshots_installed);
	ck_assert_uint_ge(s->events[2][EC_EV_SNAPSHOT_INSTALLED], 1);
	ev = &s->last_event[2][EC_EV_SNAPSHOT_INSTALLED];
	ck_assert_uint_eq(ev->op, 30);
	ck_assert_uint_ne(ev->replica, 2);
	sim_free(s);
}
END_TEST

/* A snapshot taken with other store bounds is refused, and each refusal
 * is reported with both bounds. */
START_TEST(snapshot_refusal_is_reported)
{
	struct sim *s = sim_new(3, 1);
	const struct ec_event *ev;

	sim_set_batch(s, 1);
	sim_set_checkpoint_ops(s, 10);
	load(s, 35);
	sim_run(s, 30 * MS, MS);
	sim_crash(s, 2);
	s->opts.kv_limits.max_keys++;
	sim_restart(s, 2);
	sim_run(s, 300 * MS, MS);
	ck_assert_int_eq(sim_st(s, 2).status, EC_ST_RECOVERING);
	ck_assert_uint_ge(s->events[2][EC_EV_SNAPSHOT_REFUSED], 1);
	ck_assert_uint_eq(s->events[2][EC_EV_SNAPSHOT_REFUSED],
			  ec_core_stats(s->r[2])->snapshot_limits_mismatch);
	ev = &s->last_event[2][EC_EV_SNAPSHOT_REFUSED];
	ck_assert_uint_eq(ev->theirs.max_keys, EC_KV_DEFAULT_MAX_KEYS);
	ck_assert_uint_eq(ev->ours.max_keys, EC_KV_DEFAULT_MAX_KEYS + 1);
	ck_assert_uint_eq(ev->theirs.max_bytes, ev->ours.max_bytes);
	ck_assert_uint_eq(ev->op, 30);
	sim_free(s);
}
END_TEST

/* A quiesce hook of the test's own: it hands back one PREPARE (op 1 of
 * view 0, from replica 0) and says ops up to `through` were acked. */
struct handback {
	uint8_t dgram[EC_MAX_MSG];
	struct ec_dgram d;
	uint64_t through;
	unsigned calls;
	uint64_t last_op;
};

static void hand_back(void *arg, uint64_t last_op, struct ec_quiesced *q)
{
	struct handback *h = arg;

	h->calls++;
	h->last_op = last_op;
	q->acked = &h->d;
	q->n = h->calls == 1;
	q->through = h->calls == 1 ? h->through : 0;
}

/* Replica 1 of 3 with hook h, its view timeout due: the view change it
 * starts quiesces first. */
static struct ec_core *follower_with(struct handback *h, uint64_t through)
{
	struct ec_core_opts o;
	uint8_t req[128], batch[160];
	size_t len;

	ec_core_opts_default(&o, 3, 1);
	o.members.n = 3;
	for (unsigned i = 0; i < 3; i++)
		o.members.addr[i] = sim_addr(i);
	o.quiesce = hand_back;
	o.quiesce_arg = h;
	len = sim_put_request(req, 7, 1, "k", "v");
	len = sim_batch_of(batch, req, len);
	h->d.len = sim_prepare_dgram(h->dgram, 0, 0, 1, batch, len);
	h->d.buf = h->dgram;
	h->through = through;
	return ec_core_new(&o, 1000);
}

START_TEST(quiesce_hands_back_what_was_acked)
{
	struct handback h = { 0 };
	struct ec_core *c = follower_with(&h, 1);
	struct ec_core_state st;
	struct ec_ready rd;

	ck_assert_ptr_nonnull(c);
	ec_core_tick(c, 1000 + EC_DEFAULT_VIEW_TIMEOUT_US);
	ck_assert_uint_eq(h.calls, 1);
	ck_assert_uint_eq(h.last_op, 0);
	ec_core_get_state(c, &st);
	ck_assert_int_eq(st.status, EC_ST_VIEW_CHANGE);
	ck_assert_uint_eq(st.op, 1);
	ck_assert_uint_eq(ec_core_stats(c)->absorbed, 1);
	/* the view change it reports carries the absorbed op */
	ec_core_ready(c, &rd);
	ck_assert_uint_eq(rd.n_events, 1);
	ck_assert_int_eq(rd.events[0].kind, EC_EV_STATUS);
	ck_assert_uint_eq(rd.events[0].state.op, 1);
	ec_core_advance(c);
	ec_core_free(c);
}
END_TEST

/* Acked up to op 2, handed back only op 1: the core must not go on to
 * a DO_VIEW_CHANGE without op 2. */
START_TEST(quiesce_short_of_the_acks_stops_the_core)
{
	struct handback h = { 0 };
	struct ec_core *c = follower_with(&h, 2);

	ck_assert_ptr_nonnull(c);
	ec_core_tick(c, 1000 + EC_DEFAULT_VIEW_TIMEOUT_US); /* SIGABRT */
	ec_core_free(c);
}
END_TEST

static Suite *ready_suite(void)
{
	Suite *s = suite_create("ready");
	TCase *t = tcase_create("ready");

	tcase_set_timeout(t, 60);
	tcase_add_test(t, ready_hands_out_a_turn_once);
	tcase_add_test(t, view_change_is_reported);
	tcase_add_test(t, recovery_and_checkpoints_are_reported);
	tcase_add_test(t, snapshot_refusal_is_reported);
	tcase_add_test(t, quiesce_hands_back_what_was_acked);
	tcase_add_test_raise_signal(t, quiesce_short_of_the_acks_stops_the_core,
				    SIGABRT);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return run_suite(ready_suite());
}
