/*
 * test_transfer_window.c - state transfer in windows: one GET_SNAPSHOT or
 * GET_STATE (committed entries) is answered with up to EC_TRANSFER_WINDOW
 * chunks, all but the last saying more follow; the asker asks again only
 * when an answer is over (or its interval passed), and a chunk lost
 * inside an answer is asked for right after that answer's last chunk.
 * Driven through the simulated network (sim.c), every packet watched.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "sim.h"
#include "../run_suite.h"

#define MS 1000ULL

/* What the watcher saw of the transfer to replica 2. */
struct watch {
	unsigned asks;            /* GET_SNAPSHOT / committed GET_STATE from 2 */
	uint32_t asked_chunks;    /* the `chunks` of the last one */
	uint64_t asked_at;        /* when the last one was delivered */
	unsigned chunks, answers; /* chunks to 2; of them the last of an answer */
	unsigned in_answer;       /* chunks of the answer going on */
	unsigned max_answer;      /* most chunks seen in one answer */
	uint64_t next_offset;     /* SNAPSHOT: where the answer's next starts */
	uint64_t next_op;         /* NEW_STATE: where the answer's next starts */
	bool broken;              /* an answer's chunks were not consecutive */
	int drop_chunk;           /* drop the chunk with this index (-1: none) */
	uint64_t dropped_at;      /* when it was dropped */
	uint64_t reask_gap;       /* first ask after the drop: how much later */
	bool reasked;
};

static void saw_ask(struct sim *s, struct watch *w, uint32_t chunks)
{
	w->asks++;
	w->asked_chunks = chunks;
	w->asked_at = s->now;
	if (w->dropped_at && !w->reasked) {
		w->reasked = true;
		w->reask_gap = s->now - w->dropped_at;
	}
}

/* One chunk of an answer: offsets or ops must follow on within it. */
static bool saw_chunk(struct sim *s, struct watch *w, uint64_t start,
		      uint64_t end, uint64_t *next, bool more)
{
	if (w->in_answer && start != *next)
		w->broken = true;
	*next = end;
	w->in_answer++;
	if (w->in_answer > w->max_answer)
		w->max_answer = w->in_answer;
	if (!more) {
		w->answers++;
		w->in_answer = 0;
	}
	if ((int)w->chunks++ == w->drop_chunk) {
		w->dropped_at = s->now;
		return true;
	}
	return false;
}

/* sim filter: watch the transfer to replica 2, dropping one chunk if
 * asked.  While cut, replica 2 is cut off; while swallow, nothing reaches
 * it (it is watched only). */
struct transfer_watch {
	struct watch w;
	bool cut, swallow;
};

static bool watch_transfer(struct sim *s, const struct sim_pkt *p, void *arg)
{
	struct transfer_watch *t = arg;
	struct watch *w = &t->w;
	struct ec_msg m;
	bool drop = false;

	if (t->cut)
		return p->to == 2 || p->from == 2;
	if (ec_msg_parse(p->buf, p->len, s->n, &m, NULL) != EC_PARSE_OK)
		return false;
	if (p->from == 2 && m.type == EC_MSG_GET_SNAPSHOT) {
		Ec__GetSnapshot *gs = (Ec__GetSnapshot *)ec_msg_unpack(
			&m, &ec__get_snapshot__descriptor, NULL);

		ck_assert_ptr_nonnull(gs);
		saw_ask(s, w, gs->chunks);
		ec__get_snapshot__free_unpacked(gs, NULL);
	} else if (p->from == 2 && m.type == EC_MSG_GET_STATE) {
		Ec__GetState *gs = (Ec__GetState *)ec_msg_unpack(
			&m, &ec__get_state__descriptor, NULL);

		ck_assert_ptr_nonnull(gs);
		if (gs->committed_only)
			saw_ask(s, w, gs->chunks);
		ec__get_state__free_unpacked(gs, NULL);
	} else if (p->to == 2 && m.type == EC_MSG_SNAPSHOT) {
		Ec__Snapshot *sn = (Ec__Snapshot *)ec_msg_unpack(
			&m, &ec__snapshot__descriptor, NULL);

		ck_assert_ptr_nonnull(sn);
		drop = saw_chunk(s, w, sn->offset, sn->offset + sn->data.len,
				 &w->next_offset, sn->more);
		ec__snapshot__free_unpacked(sn, NULL);
	} else if (p->to == 2 && m.type == EC_MSG_NEW_STATE) {
		Ec__LogChunk *nc = (Ec__LogChunk *)ec_msg_unpack(
			&m, &ec__log_chunk__descriptor, NULL);

		ck_assert_ptr_nonnull(nc);
		if (nc->committed_only && nc->n_entries)
			drop = saw_chunk(s, w, nc->entries[0]->op,
					 nc->entries[nc->n_entries - 1]->op + 1,
					 &w->next_op, nc->more);
		ec__log_chunk__free_unpacked(nc, NULL);
	}
	return drop || (t->swallow && p->to == 2);
}

/* Load the 3-replica cluster with n PUTs of 500-byte values (one request
 * per op) while replica 2 is cut off. */
static void load_cut_off(struct sim *s, struct transfer_watch *t, unsigned n)
{
	char key[16], value[512];

	t->cut = true;
	for (unsigned i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "k%u", i % 3000);
		memset(value, 'a' + i % 26, 500);
		snprintf(value, 9, "%08u", i);
		value[8] = 'v';
		value[500] = '\0';
		sim_put(s, i % 32, 0, i / 32 + 1, key, value);
		sim_deliver(s);
	}
	ck_assert_uint_eq(sim_st(s, 0).commit, n);
	ck_assert_uint_eq(sim_st(s, 2).commit, 0);
	t->cut = false;
}

/* Run until replica 2 executed what replica 0 did (at most 2 s). */
static void run_until_caught_up(struct sim *s)
{
	for (unsigned ms = 0; ms < 2000; ms++) {
		if (sim_st(s, 2).executed == sim_st(s, 0).executed)
			break;
		sim_run(s, MS, MS);
	}
	ck_assert_uint_eq(sim_st(s, 2).executed, sim_st(s, 0).executed);
	ck_assert_uint_eq(ec_kv_digest(ec_core_kv(s->r[2])),
			  ec_kv_digest(ec_core_kv(s->r[0])));
	ck_assert_ptr_null(sim_check_agreement(s));
}

/* A snapshot of many chunks comes in full windows: one question per
 * EC_TRANSFER_WINDOW chunks, every answer consecutive.  Each chunk asked
 * for alone would take a question per chunk. */
START_TEST(snapshot_comes_in_windows)
{
	struct sim *s = sim_new(3, 1);
	struct transfer_watch t = { .w = { .drop_chunk = -1 } };
	unsigned need;

	sim_set_checkpoint_ops(s, 1000);
	s->filter = watch_transfer;
	s->filter_arg = &t;
	load_cut_off(s, &t, 2100); /* checkpoints at 1000 and 2000 */
	need = (unsigned)((sim_checkpoint(s, 0)->len + sim_snap_chunk - 1) /
			  sim_snap_chunk);
	ck_assert_uint_gt(need, 2 * sim_transfer_window);
	run_until_caught_up(s);
	ck_assert_uint_eq(sim_stats(s, 2)->snapshots_installed, 1);
	ck_assert_uint_eq(sim_stats(s, 2)->snapshot_chunks_received, need);
	ck_assert_uint_eq(t.w.max_answer, sim_transfer_window);
	ck_assert(!t.w.broken);
	/* a question per window, and the few before and after it for the
	 * log */
	ck_assert_uint_le(t.w.asks, (need + sim_transfer_window - 1) /
					    sim_transfer_window + 3);
	sim_free(s);
}
END_TEST

/* Committed entries (no checkpoint in the way) come in windows too. */
START_TEST(committed_entries_come_in_windows)
{
	struct sim *s = sim_new(3, 1);
	struct transfer_watch t = { .w = { .drop_chunk = -1 } };

	sim_set_batch(s, 1);
	s->filter = watch_transfer;
	s->filter_arg = &t;
	load_cut_off(s, &t, 3000); /* about 1.6 MB: 28 chunks */
	run_until_caught_up(s);
	ck_assert_uint_eq(sim_stats(s, 2)->snapshots_installed, 0);
	ck_assert_uint_ge(t.w.chunks, 3 * sim_transfer_window);
	ck_assert_uint_eq(t.w.max_answer, sim_transfer_window);
	ck_assert_uint_eq(t.w.asked_chunks, sim_transfer_window);
	ck_assert(!t.w.broken);
	ck_assert_uint_le(t.w.asks, t.w.answers + 1);
	ck_assert_uint_le(t.w.answers, t.w.chunks / sim_transfer_window + 1);
	sim_free(s);
}
END_TEST

/* A chunk lost inside an answer: the chunks after it are no use, and it
 * is asked for as soon as the answer's last chunk is in, not after a
 * retransmission interval.  Losing the last chunk of an answer leaves
 * nothing to say the answer ended: asked again after the interval. */
START_TEST(lost_chunk_is_asked_for_after_its_answer)
{
	for (int last = 0; last <= 1; last++) {
		struct sim *s = sim_new(3, 1);
		struct transfer_watch t = { .w = { .drop_chunk = -1 } };

		sim_set_checkpoint_ops(s, 1000);
		s->filter = watch_transfer;
		s->filter_arg = &t;
		load_cut_off(s, &t, 2100);
		/* the third chunk of the second answer, or its last */
		t.w.drop_chunk = (int)sim_transfer_window +
				 (last ? (int)sim_transfer_window - 1 : 2);
		run_until_caught_up(s);
		ck_assert(t.w.reasked);
		if (last)
			ck_assert_uint_ge(t.w.reask_gap, s->opts.retransmit_us);
		else
			ck_assert_uint_lt(t.w.reask_gap, s->opts.retransmit_us);
		ck_assert_uint_eq(sim_stats(s, 2)->snapshots_installed, 1);
		ck_assert_uint_eq(sim_stats(s, 2)->snapshot_bad, 0);
		sim_free(s);
	}
}
END_TEST

/* Replica 0 answers a forged question for `chunks` chunks; returns how
 * many chunks it sent, checking each answer's `more` flags. */
static unsigned answer_size(struct sim *s, const ProtobufCMessage *q,
			    uint8_t type)
{
	struct transfer_watch t = { .w = { .drop_chunk = -1 }, .swallow = true };
	struct ec_msg m = { .type = type, .sender = 2, .view = 0, .op = 0 };
	uint8_t buf[256];
	size_t n = ec_msg_encode(buf, sizeof(buf), &m, q);

	ck_assert_uint_gt(n, 0);
	s->filter = watch_transfer;
	s->filter_arg = &t;
	sim_receive_from(s, 0, 2, buf, n);
	sim_deliver(s);
	s->filter = NULL;
	ck_assert(!t.w.broken);
	ck_assert_uint_eq(t.w.in_answer, 0); /* the last said: no more */
	ck_assert_uint_eq(t.w.answers, t.w.chunks ? 1 : 0);
	return t.w.chunks;
}

/* The answerer sends what was asked, never more than a window, and stops
 * at the end of the snapshot or of its committed entries. */
START_TEST(answers_are_capped)
{
	struct sim *s = sim_new(3, 1);
	struct transfer_watch t = { .w = { .drop_chunk = -1 } };
	Ec__GetSnapshot gsn = EC__GET_SNAPSHOT__INIT;
	Ec__GetState gst = EC__GET_STATE__INIT;
	uint64_t len, sent;

	sim_set_batch(s, 1);
	sim_set_checkpoint_ops(s, 1000);
	s->filter = watch_transfer;
	s->filter_arg = &t;
	load_cut_off(s, &t, 1100);
	len = sim_checkpoint(s, 0)->len;
	ck_assert_uint_gt(len, (sim_transfer_window + 2) * sim_snap_chunk);

	gsn.op = sim_checkpoint(s, 0)->op;
	ck_assert_uint_eq(answer_size(s, &gsn.base, EC_MSG_GET_SNAPSHOT), 1);
	gsn.chunks = 3;
	ck_assert_uint_eq(answer_size(s, &gsn.base, EC_MSG_GET_SNAPSHOT), 3);
	gsn.chunks = 1000;
	ck_assert_uint_eq(answer_size(s, &gsn.base, EC_MSG_GET_SNAPSHOT),
			  sim_transfer_window);
	gsn.offset = len - sim_snap_chunk - 1; /* two chunks left */
	ck_assert_uint_eq(answer_size(s, &gsn.base, EC_MSG_GET_SNAPSHOT), 2);

	/* committed entries 1001..1100 above the base (1000 after the
	 * next checkpoint; none yet): about one chunk */
	gst.committed_only = true;
	gst.from_op = 1001;
	gst.chunks = 1000;
	sent = answer_size(s, &gst.base, EC_MSG_GET_STATE);
	ck_assert_uint_ge(sent, 1);
	ck_assert_uint_le(sent, 2);
	gst.from_op = 1;
	ck_assert_uint_eq(answer_size(s, &gst.base, EC_MSG_GET_STATE),
			  sim_transfer_window);
	gst.chunks = 0;
	ck_assert_uint_eq(answer_size(s, &gst.base, EC_MSG_GET_STATE), 1);
	gst.from_op = 1101; /* past the commit number: nothing */
	gst.chunks = 4;
	ck_assert_uint_eq(answer_size(s, &gst.base, EC_MSG_GET_STATE), 0);
	sim_free(s);
}
END_TEST

static Suite *transfer_window_suite(void)
{
	Suite *s = suite_create("transfer_window");
	TCase *t = tcase_create("transfer_window");

	tcase_set_timeout(t, 120);
	tcase_add_test(t, snapshot_comes_in_windows);
	tcase_add_test(t, committed_entries_come_in_windows);
	tcase_add_test(t, lost_chunk_is_asked_for_after_its_answer);
	tcase_add_test(t, answers_are_capped);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return run_suite(transfer_window_suite());
}
