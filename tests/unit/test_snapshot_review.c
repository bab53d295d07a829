/*
 * test_snapshot_review.c - tests from a review of checkpoints, log
 * compaction and snapshot state transfer: a random-fault harness with a history
 * checker that remembers what was committed and executed across the whole
 * run (not just the replicas' current logs), and targeted scenarios.
 *
 * REVIEW_SEEDS=a-b runs the random harness over seeds a..b in every
 * configuration (slow); by default a few seeds run.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "../run_suite.h"

#define MS 1000ULL

/* ---- a history checker: committed entries and executed states ---- */

#define HIST_OPS 8192

struct hist {
	bool have[HIST_OPS];
	uint32_t view[HIST_OPS];
	uint64_t body[HIST_OPS];      /* FNV of the entry's bytes */
	bool have_state[HIST_OPS];
	uint64_t state[HIST_OPS];     /* snapshot digest of (kv, ct) */
	uint64_t last_exec[EC_MAX_REPLICAS];
	char why[256];
};

static uint64_t fnv(const uint8_t *b, size_t n)
{
	return ec_snapshot_digest(b, n);
}

/* The digest of snap, just taken (0: it was), which is then cleared. */
static uint64_t taken_digest(int taken, struct ec_snapshot *snap)
{
	uint64_t d = snap->digest;

	ck_assert_int_eq(taken, 0);
	ec_snapshot_clear(snap);
	return d;
}

/* Digest of a replicated state (kv and client table). */
static uint64_t state_digest(const struct ec_kv *kv,
			     const struct ec_client_table *ct)
{
	struct ec_snapshot snap = { 0 };

	return taken_digest(ec_snapshot_take(kv, ct, 0, 0, &snap), &snap);
}

/* The same of replica i's (ec_core_snapshot_take serializes its store and
 * client table). */
static uint64_t replica_digest(const struct sim *s, unsigned i)
{
	struct ec_snapshot snap = { 0 };

	return taken_digest(ec_core_snapshot_take(s->r[i], 0, 0, &snap), &snap);
}

/* Returns NULL or what went wrong. */
static const char *hist_check(struct hist *h, const struct sim *s)
{
	const char *bad = sim_check_agreement(s);

	if (bad)
		return bad;
	for (unsigned i = 0; i < s->n; i++) {
		struct ec_core_state st = sim_st(s, i);
		const struct ec_snapshot *ckpt = sim_checkpoint(s, i);

		if (s->down[i])
			continue;
		if (st.log_base > st.executed || st.executed > st.commit ||
		    st.commit > st.op) {
			snprintf(h->why, sizeof(h->why),
				 "replica %u: base %llu executed %llu commit %llu last %llu",
				 i, (unsigned long long)st.log_base,
				 (unsigned long long)st.executed,
				 (unsigned long long)st.commit,
				 (unsigned long long)st.op);
			return h->why;
		}
		for (uint64_t op = st.log_base + 1;
		     op <= st.commit && op < HIST_OPS; op++) {
			struct sim_entry e;
			uint64_t b;

			if (!sim_log_at(s, i, op, &e)) {
				snprintf(h->why, sizeof(h->why),
					 "replica %u: no op %llu above its base",
					 i, (unsigned long long)op);
				return h->why;
			}
			b = fnv(e.body, e.len);
			if (!h->have[op]) {
				h->have[op] = true;
				h->view[op] = e.view;
				h->body[op] = b;
			} else if (h->view[op] != e.view || h->body[op] != b) {
				snprintf(h->why, sizeof(h->why),
					 "replica %u commits op %llu (view %u) unlike before (view %u)",
					 i, (unsigned long long)op, e.view,
					 h->view[op]);
				return h->why;
			}
		}
		if (st.executed < HIST_OPS) {
			uint64_t d = replica_digest(s, i);
			uint64_t op = st.executed;

			if (!h->have_state[op]) {
				h->have_state[op] = true;
				h->state[op] = d;
			} else if (h->state[op] != d) {
				snprintf(h->why, sizeof(h->why),
					 "replica %u: state after op %llu unlike another's",
					 i, (unsigned long long)op);
				return h->why;
			}
		}
		if (ckpt->op && ckpt->op < HIST_OPS) {
			/* a checkpoint's bytes are the state at its op */
			struct ec_kv *kv;
			struct ec_client_table *ct;
			uint64_t op, d;
			uint32_t view;

			if (ec_snapshot_restore(ckpt->buf, ckpt->len, &kv, &ct,
						&op, &view) < 0 ||
			    op != ckpt->op) {
				snprintf(h->why, sizeof(h->why),
					 "replica %u: checkpoint %llu does not decode",
					 i, (unsigned long long)ckpt->op);
				return h->why;
			}
			d = state_digest(kv, ct);
			ec_kv_free(kv);
			ec_ct_free(ct);
			if (!h->have_state[op]) {
				h->have_state[op] = true;
				h->state[op] = d;
			} else if (h->state[op] != d) {
				snprintf(h->why, sizeof(h->why),
					 "replica %u: checkpoint %llu unlike the state there",
					 i, (unsigned long long)op);
				return h->why;
			}
		}
	}
	return NULL;
}

/* ---- the random harness ---- */

struct cfg {
	unsigned n;
	bool fastack, quorum, lazy;
	uint64_t ckpt;
	unsigned loss, dup;
	bool reorder;
	bool partitions; /* cut one replica off for a while, now and then */
	unsigned batch;
	uint64_t delay_us; /* NEW_STATE, GET_SNAPSHOT, SNAPSHOT, DVC arrive
			    * this late: stale answers */
};

struct cut {
	unsigned who;
	bool on;
};

static bool cut_filter(struct sim *s, const struct sim_pkt *p, void *arg)
{
	struct cut *c = arg;

	(void)s;
	return c->on && (p->to == c->who || p->from == c->who);
}

/* Returns NULL or a failure description. */
static const char *review_random(uint64_t seed, const struct cfg *cfg)
{
	static char msg[512];
	struct sim *s = sim_new_offload(cfg->n, seed, cfg->fastack, cfg->quorum);
	struct hist *h = calloc(1, sizeof(*h));
	uint64_t rid[8] = { 0 }, last_acked[8] = { 0 };
	struct cut cut = { 0 };
	const char *bad = NULL;
	unsigned acked = 0;
	int leader;

	s->kernel_lazy = cfg->lazy;
	s->loss_pct = cfg->loss;
	s->dup_pct = cfg->dup;
	s->reorder = cfg->reorder;
	if (cfg->batch)
		sim_set_batch(s, cfg->batch);
	if (cfg->ckpt)
		sim_set_checkpoint_ops(s, cfg->ckpt);
	s->filter = cut_filter;
	s->filter_arg = &cut;
	if (cfg->delay_us) {
		s->delay_us[EC_MSG_NEW_STATE] = cfg->delay_us;
		s->delay_us[EC_MSG_SNAPSHOT] = cfg->delay_us / 2;
		s->delay_us[EC_MSG_GET_SNAPSHOT] = cfg->delay_us / 3;
		s->delay_us[EC_MSG_DO_VIEW_CHANGE] = cfg->delay_us;
	}
	for (unsigned round = 0; round < 800; round++) {
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
				continue;
			}
			s->reply[c].have = false;
			snprintf(key, sizeof(key), "c%u", c);
			snprintf(value, sizeof(value), "%llu",
				 (unsigned long long)rid[c]);
			to = sim_leader(s);
			sim_put(s, c, to < 0 ? sim_rand(s, cfg->n) : (unsigned)to,
				rid[c], key, value);
		}
		sim_run(s, 2 * MS, MS);
		if (getenv("REVIEW_TRACE")) {
			fprintf(stderr, "round %u:", round);
			for (unsigned i = 0; i < cfg->n; i++) {
				struct ec_core_state st = sim_st(s, i);

				fprintf(stderr, " [%u%s st %d v %u ex %llu op %llu b %llu]", i,
					s->down[i] ? "D" : "", st.status, st.view,
					(unsigned long long)st.executed,
					(unsigned long long)st.op,
					(unsigned long long)st.log_base);
			}
			fprintf(stderr, "\n");
		}
		/* faults: crash a leader or a random replica, restart, cut */
		if (round % 150 == 30) {
			int l = sim_leader(s);
			unsigned v = l >= 0 && sim_rand(s, 2) ? (unsigned)l :
				     sim_rand(s, cfg->n);
			bool healthy = true;

			/* at most f replicas without their state: crash only
			 * when every replica is up and normal */
			for (unsigned i = 0; i < cfg->n; i++)
				healthy = healthy && !s->down[i] &&
					  sim_st(s, i).status != EC_ST_RECOVERING;
			if (healthy)
				sim_crash(s, v);
		}
		if (round % 150 == 100)
			for (unsigned i = 0; i < cfg->n; i++)
				if (s->down[i])
					sim_restart(s, i);
		if (cfg->partitions) {
			if (round % 45 == 5) {
				cut.who = sim_rand(s, cfg->n);
				cut.on = true;
			}
			if (round % 45 == 35)
				cut.on = false;
		}
		bad = hist_check(h, s);
		if (bad) {
			snprintf(msg, sizeof(msg), "seed %llu round %u: %s",
				 (unsigned long long)seed, round, bad);
			goto out;
		}
	}
	cut.on = false;
	s->loss_pct = s->dup_pct = 0;
	for (unsigned i = 0; i < cfg->n; i++)
		if (s->down[i])
			sim_restart(s, i);
	sim_run(s, 1500 * MS, MS);
	bad = hist_check(h, s);
	if (bad) {
		snprintf(msg, sizeof(msg), "seed %llu end: %s",
			 (unsigned long long)seed, bad);
		goto out;
	}
	leader = sim_leader(s);
	if (leader < 0) {
		int k = snprintf(msg, sizeof(msg), "seed %llu: no leader at the end:",
			 (unsigned long long)seed);
		for (unsigned i = 0; i < cfg->n && k < 400; i++) {
			struct ec_core_state st = sim_st(s, i);

			k += snprintf(msg + k, sizeof(msg) - k,
				      " [%u: st %d v %u ex %llu op %llu]", i,
				      st.status, st.view,
				      (unsigned long long)st.executed,
				      (unsigned long long)st.op);
		}
		bad = msg;
		goto out;
	}
	for (unsigned i = 0; i < cfg->n; i++) {
		struct ec_core_state st = sim_st(s, i);

		if (st.status != EC_ST_NORMAL ||
		    st.executed != sim_st(s, (unsigned)leader).executed) {
			snprintf(msg, sizeof(msg),
				 "seed %llu: replica %u stuck: status %d view %u executed %llu commit %llu op %llu base %llu (leader %d executed %llu) fetch %d",
				 (unsigned long long)seed, i, st.status, st.view,
				 (unsigned long long)st.executed,
				 (unsigned long long)st.commit,
				 (unsigned long long)st.op,
				 (unsigned long long)st.log_base, leader,
				 (unsigned long long)sim_st(s, (unsigned)leader).executed,
				 sim_snapshot_fetch(s, i).active);
			bad = msg;
			goto out;
		}
	}
	for (unsigned c = 0; c < 8; c++) {
		char key[16];

		snprintf(key, sizeof(key), "c%u", c);
		s->reply[20 + c].have = false;
		sim_request(s, 20 + c, (unsigned)leader, 1, EC__OP_KIND__OP_GET,
			    key, NULL, NULL);
		sim_deliver(s);
		if (!s->reply[20 + c].have ||
		    strtoull(s->reply[20 + c].value, NULL, 10) < last_acked[c]) {
			snprintf(msg, sizeof(msg),
				 "seed %llu: client %u acked %llu, reads %s",
				 (unsigned long long)seed, c,
				 (unsigned long long)last_acked[c],
				 s->reply[20 + c].value);
			bad = msg;
			goto out;
		}
	}
	if (acked < 50) {
		snprintf(msg, sizeof(msg), "seed %llu: only %u acked",
			 (unsigned long long)seed, acked);
		bad = msg;
	}
out:
	if (bad && bad != msg) {
		snprintf(msg, sizeof(msg), "%s", bad);
		bad = msg;
	}
	free(h);
	sim_free(s);
	return bad;
}

static const struct cfg cfgs[] = {
	{ 5, false, false, false, 5, 10, 5, true, false, 0, 0 },
	{ 5, true, false, false, 5, 10, 5, true, false, 0, 0 },
	{ 5, true, true, false, 5, 10, 5, true, false, 0, 0 },
	{ 5, false, true, false, 5, 10, 5, true, false, 0, 0 },
	{ 3, true, true, true, 3, 10, 30, true, true, 0, 0 },
	{ 3, false, false, false, 3, 5, 30, true, true, 0, 0 },
	{ 5, true, false, true, 7, 15, 30, true, true, 0, 0 },
	{ 5, false, false, false, 1, 10, 10, true, true, 0, 0 },
	{ 3, true, false, false, 2, 20, 40, true, true, 2, 0 },
	{ 5, true, true, false, 3, 10, 20, true, true, 0, 30 * MS },
	{ 3, false, false, false, 2, 10, 30, true, true, 0, 50 * MS },
};
#define N_CFGS (sizeof(cfgs) / sizeof(cfgs[0]))

static void sweep(uint64_t lo, uint64_t hi, int only)
{
	unsigned failures = 0;

	for (uint64_t seed = lo; seed <= hi; seed++) {
		if (seed % 50 == 0)
			fprintf(stderr, "seed %llu\n", (unsigned long long)seed);
		for (unsigned k = 0; k < N_CFGS; k++) {
			const char *bad;

			if (only >= 0 && (unsigned)only != k)
				continue;
			bad = review_random(seed, &cfgs[k]);
			if (bad) {
				failures++;
				fprintf(stderr, "cfg %u: %s\n", k, bad);
				fflush(stderr);
			}
		}
	}
	ck_assert_msg(failures == 0, "%u failures", failures);
}

START_TEST(review_random_faults)
{
	const char *e = getenv("REVIEW_SEEDS"), *o = getenv("REVIEW_CFG");
	unsigned long long lo = 1, hi = 3;

	if (e)
		sscanf(e, "%llu-%llu", &lo, &hi);
	sweep(lo, hi, o ? atoi(o) : -1);
}
END_TEST


/* ---- targeted scenarios ---- */

/* Drop everything to and from replica `who` (when on), and PREPARE_OKs
 * to replica `ack_to` (when acks_on). */
struct part {
	unsigned who, ack_to;
	bool on, acks_on;
};

static bool part_filter(struct sim *s, const struct sim_pkt *p, void *arg)
{
	struct part *x = arg;

	(void)s;
	if (x->on && (p->to == x->who || p->from == x->who))
		return true;
	return x->acks_on && p->to == x->ack_to && p->type == EC_MSG_PREPARE_OK;
}

/* A NEW_STATE from `from` pointing `to` at checkpoint op, as the answer
 * to a committed-entries GET_STATE `to` sent earlier would (delayed). */
static void send_pointer(struct sim *s, unsigned to, unsigned from,
			 uint32_t view, uint64_t commit, uint64_t op)
{
	uint8_t buf[64];

	sim_send(s, from, to, buf,
		 sim_pointer_dgram(buf, (uint8_t)from, view, commit, op));
}

/*
 * A leader in normal status holds every committed op (the view change
 * took them) and orders requests with its client table: it must never
 * fetch and install a checkpoint (vc_enter_normal clears a fetch for that
 * reason).  But ckpt_hint takes a pointer in any status: a late
 * answer to a GET_STATE the new leader sent during the view change makes
 * it fetch and install while leading, and the install swaps its client
 * table for the checkpoint's, losing where its clients are and which
 * requests it has in flight: a request it has in the log commits but its
 * client hears nothing.
 */
START_TEST(normal_leader_ignores_late_snapshot_pointer)
{
	struct sim *s = sim_new(3, 7);
	struct part x = { .who = 0, .ack_to = 1 };
	int leader;

	sim_set_batch(s, 1);
	sim_set_checkpoint_ops(s, 5);
	for (unsigned i = 1; i <= 25; i++) {
		char v[16];

		snprintf(v, sizeof(v), "v%u", i);
		sim_put(s, 1, 0, i, "k", v);
		sim_deliver(s);
	}
	/* the leader committed 25 (checkpoint 25), the followers know 24 */
	ck_assert_uint_eq(sim_st(s, 0).commit, 25);
	ck_assert_uint_eq(sim_checkpoint(s, 0)->op, 25);
	ck_assert_uint_eq(sim_st(s, 1).commit, 24);
	s->filter = part_filter;
	s->filter_arg = &x;
	x.on = x.acks_on = true;
	sim_run(s, 600 * MS, MS);
	leader = sim_leader(s);
	ck_assert_int_eq(leader, 1);
	ck_assert_uint_eq(sim_st(s, 1).commit, 24);
	/* a client's request goes into the new leader's log, not yet
	 * committed (acks held back) */
	sim_put(s, 9, 1, 1, "other", "x");
	sim_deliver(s);
	ck_assert_uint_eq(sim_st(s, 1).op, 26);
	/* replica 0 back; the late pointer to its checkpoint arrives */
	x.on = false;
	send_pointer(s, 1, 0, 0, 25, 25);
	sim_deliver(s);
	/* the leader must not have fetched or installed anything */
	ck_assert_int_eq(sim_st(s, 1).status, EC_ST_NORMAL);
	ck_assert_uint_eq(sim_stats(s, 1)->snapshots_installed, 0);
	ck_assert(!sim_snapshot_fetch(s, 1).active);
	/* and the client hears back once its op commits */
	x.acks_on = false;
	s->reply[9].have = false;
	sim_run(s, 50 * MS, MS);
	ck_assert_uint_ge(sim_st(s, 1).commit, 26);
	ck_assert_msg(s->reply[9].have, "client of op 26 got no reply");
	ck_assert_ptr_null(sim_check_agreement(s));
	sim_free(s);
}
END_TEST

/*
 * Liveness: a fetch asks one chunk per round trip.  If the answerer kept
 * only its latest checkpoint, a new one taken mid-fetch would send the
 * asker back to byte 0, and a state that takes longer to fetch than the
 * leader takes to execute checkpoint_ops ops would never be installed
 * while the load goes on (this failed so).  The checkpoint being fetched
 * is kept.  Here: about 20 chunks, 2 ms per round trip (40 ms a fetch), a
 * checkpoint every 20 ops at 1 op per ms (20 ms).
 */
START_TEST(fetch_completes_while_checkpoints_move_on)
{
	struct sim *s = sim_new(3, 3);
	struct part x = { .who = 2, .on = true };
	char key[24], value[512];
	unsigned rid = 0;

	sim_set_batch(s, 1);
	sim_set_checkpoint_ops(s, 20);
	s->filter = part_filter;
	s->filter_arg = &x;
	memset(value, 'v', 500);
	value[500] = '\0';
	for (unsigned i = 0; i < 1300; i++) {
		snprintf(key, sizeof(key), "k%u", i);
		sim_put(s, 1, 0, ++rid, key, value);
		sim_deliver(s);
	}
	ck_assert_uint_gt(sim_checkpoint(s, 0)->len, 16 * sim_snap_chunk);
	x.on = false;
	s->delay_us[EC_MSG_SNAPSHOT] = 1 * MS;
	s->delay_us[EC_MSG_GET_SNAPSHOT] = 1 * MS;
	for (unsigned t = 0; t < 2000; t++) {
		snprintf(key, sizeof(key), "k%u", t % 1300);
		sim_put(s, 1, 0, ++rid, key, value);
		sim_run(s, MS, MS);
	}
	ck_assert_msg(sim_stats(s, 2)->snapshots_installed >= 1,
		      "no snapshot installed in 2 s: %llu restarts, %llu chunks",
		      (unsigned long long)sim_stats(s, 2)->snapshot_restarts,
		      (unsigned long long)sim_stats(s, 2)->snapshot_chunks_received);
	sim_free(s);
}
END_TEST

static Suite *review_suite(void)
{
	Suite *s = suite_create("snapshot_review");
	TCase *t = tcase_create("review");

	tcase_set_timeout(t, 0);
	tcase_add_test(t, normal_leader_ignores_late_snapshot_pointer);
	tcase_add_test(t, fetch_completes_while_checkpoints_move_on);
	tcase_add_test(t, review_random_faults);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return run_suite(review_suite());
}
