/*
 * test_quorum.c - quorum sizes (replica/core/quorum.c) as tables and against
 * brute force, then the property they exist for, on the simulated
 * cluster: for every n from 1 to 9 and every split of the replicas into
 * two sides, a partition under load lets at most one side commit (only
 * one holding a quorum), and after the heal no committed op is lost or
 * changed.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/quorum.h"
#include "sim.h"
#include "../run_suite.h"

#define MS 1000ULL

START_TEST(sizes_are_strict_majorities)
{
	static const unsigned q[] = { 0, 1, 2, 2, 3, 3, 4, 4, 5, 5 };
	static const unsigned rec[] = { 0, 1, 1, 2, 2, 3, 3, 4, 4, 5 };

	for (unsigned n = 1; n <= EC_MAX_REPLICAS; n++) {
		ck_assert_uint_eq(ec_quorum(n), q[n]);
		ck_assert_uint_eq(ec_quorum_followers(n), q[n] - 1);
		ck_assert_uint_eq(ec_quorum_recovery(n), rec[n]);
		ck_assert(2 * ec_quorum(n) > n);
	}
}
END_TEST

/* Any two quorums share a replica: every pair of masks, every n. */
START_TEST(any_two_quorums_intersect)
{
	for (unsigned n = 1; n <= EC_MAX_REPLICAS; n++) {
		uint32_t all = (1u << n) - 1;

		for (uint32_t a = 0; a <= all; a++) {
			if (!ec_quorum_has(n, a))
				continue;
			for (uint32_t b = 0; b <= all; b++)
				if (ec_quorum_has(n, b))
					ck_assert_msg(a & b, "n %u: %#x and %#x",
						      n, a, b);
		}
	}
}
END_TEST

/* A recovering replica r forgot its promises: the answers it waits for
 * (from others only) meet every quorum in a replica other than r, and
 * one answer fewer does not. */
START_TEST(recovery_answers_meet_every_quorum_without_the_recovering)
{
	for (unsigned n = 2; n <= EC_MAX_REPLICAS; n++) {
		uint32_t all = (1u << n) - 1;
		unsigned need = ec_quorum_recovery(n);
		bool fewer_misses = false;

		for (unsigned r = 0; r < n; r++) {
			for (uint32_t ans = 0; ans <= all; ans++) {
				unsigned k = (unsigned)__builtin_popcount(ans);

				if ((ans & (1u << r)) || k + 1 < need || k > need)
					continue;
				for (uint32_t q = 0; q <= all; q++) {
					if (!ec_quorum_has(n, q))
						continue;
					if (k == need && !(ans & q & ~(1u << r)))
						ck_abort_msg("n %u r %u: %#x, %#x",
							     n, r, ans, q);
					else if (k < need && !(ans & q & ~(1u << r)))
						fewer_misses = true;
				}
			}
		}
		ck_assert_msg(fewer_misses, "n %u: fewer answers would do", n);
	}
}
END_TEST

/* The committed op is the highest that a quorum holds: checked against
 * counting, on random acknowledgements. */
START_TEST(committed_is_the_highest_op_a_quorum_holds)
{
	uint64_t rng = 7;

	for (unsigned n = 1; n <= EC_MAX_REPLICAS; n++) {
		for (unsigned round = 0; round < 2000; round++) {
			uint64_t acked[EC_MAX_REPLICAS], want = 0;

			for (unsigned i = 0; i < n; i++) {
				rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
				acked[i] = (rng >> 33) % 12;
			}
			for (uint64_t op = 0; op < 12; op++) {
				unsigned holding = 0;

				for (unsigned i = 0; i < n; i++)
					holding += acked[i] >= op;
				if (holding >= ec_quorum(n))
					want = op;
			}
			if (ec_quorum_committed(acked, n) != want)
				ck_abort_msg("n %u: %llu, want %llu", n,
					     (unsigned long long)
						     ec_quorum_committed(acked, n),
					     (unsigned long long)want);
		}
	}
}
END_TEST

/* ---- partitions on the simulated cluster ---- */

#define MAX_OPS 8192
#define CLIENTS 4

struct split {
	uint32_t side;          /* replicas on side A (the rest: side B) */
	bool on;                /* partition in force */
	uint64_t entry[MAX_OPS];/* digest of each op seen committed */
	bool seen[MAX_OPS];
	uint64_t seen_upto[EC_MAX_REPLICAS];
};

static bool side_of(const struct split *sp, unsigned i)
{
	return sp->side & (1u << i);
}

/* Filter: drop what crosses between the sides while the partition holds
 * (clients reach every replica). */
static bool cut(struct sim *s, const struct sim_pkt *p, void *arg)
{
	const struct split *sp = arg;

	(void)s;
	return sp->on && p->from < SIM_CLIENT && p->to < SIM_CLIENT &&
	       side_of(sp, p->from) != side_of(sp, p->to);
}

/* Record every op that some replica now counts as committed; an op seen
 * committed with two different entries is two decisions for one slot. */
static void record_commits(struct sim *s, struct split *sp, const char *ctx)
{
	for (unsigned i = 0; i < s->n; i++) {
		uint64_t commit = sim_st(s, i).commit;

		for (uint64_t op = sp->seen_upto[i] + 1; op <= commit; op++) {
			uint64_t d;

			/* plain ifs: a Check assertion costs a write(2) */
			if (op >= MAX_OPS)
				ck_abort_msg("%s: too many ops", ctx);
			if (!sim_entry_digest(s, i, op, &d))
				continue; /* compacted: its checkpoint stands */
			if (sp->seen[op] && sp->entry[op] != d)
				ck_abort_msg("%s: op %llu committed twice, "
					     "differently (replica %u)", ctx,
					     (unsigned long long)op, i);
			sp->seen[op] = true;
			sp->entry[op] = d;
		}
		if (commit > sp->seen_upto[i])
			sp->seen_upto[i] = commit;
	}
}

/* Each client writes its own key, to a replica of its side that thinks it
 * leads (else any of that side), retrying every few ms: both sides are
 * under load all the time. */
static void load(struct sim *s, const struct split *sp, uint64_t *rid,
		 unsigned step)
{
	uint32_t all = (1u << s->n) - 1;

	for (unsigned c = 0; c < CLIENTS; c++) {
		bool a = c % 2 == 0 || sp->side == all;
		unsigned cand[EC_MAX_REPLICAS], k = 0, to;
		char key[16], value[32];

		if (s->reply[c].have && s->reply[c].request_id == rid[c] &&
		    s->reply[c].status == EC__STATUS__ST_OK)
			rid[c]++;
		else if (step % 4 != c % 4)
			continue;
		s->reply[c].have = false;
		for (unsigned i = 0; i < s->n; i++) {
			struct ec_core_state st = sim_st(s, i);

			if (side_of(sp, i) == a && st.status == EC_ST_NORMAL &&
			    st.leader == i)
				cand[k++] = i;
		}
		for (unsigned i = 0; k == 0 && i < s->n; i++)
			if (side_of(sp, i) == a)
				cand[k++] = i;
		to = cand[sim_rand(s, k)];
		snprintf(key, sizeof(key), "c%u", c);
		snprintf(value, sizeof(value), "%u.%llu", c,
			 (unsigned long long)rid[c]);
		sim_put(s, c, to, rid[c], key, value);
	}
}

/* Highest op any replica holds. */
static uint64_t max_op(const struct sim *s)
{
	uint64_t m = 0;

	for (unsigned i = 0; i < s->n; i++)
		if (sim_st(s, i).op > m)
			m = sim_st(s, i).op;
	return m;
}

/* View timeouts the replicas in mask wait, cut off from the others,
 * before a view led by one of them can start: 0 if they hold view 0's
 * leader, else the first view v >= 1 whose leader v mod n is theirs (each
 * view led from the other side fails after one timeout). */
static unsigned timeouts_to_own_view(unsigned n, uint32_t mask)
{
	if (mask == 0 || (mask & 1))
		return 0;
	for (unsigned v = 1;; v++)
		if (mask & (1u << (v % n)))
			return v;
}

/*
 * n replicas, side A = `side`: 60 ms of load, then the partition under
 * load, long enough for either side to reach a view it leads itself (and
 * 400 ms more to commit in it), then the heal.  During
 * the partition a side "commits" when one of its replicas counts an op
 * above every op held when it began (that op was prepared after the cut,
 * so only its own side acknowledged it): only a side holding a quorum may,
 * so at most one does, and a side holding one must.  After the heal the
 * cluster converges, commits new writes, and every op ever seen committed
 * is still the same entry on every replica.
 */
static void run_split(unsigned n, uint32_t side, uint64_t seed, bool fastack,
		      bool quorum)
{
	struct sim *s = sim_new_offload(n, seed, fastack, quorum);
	struct split *sp = calloc(1, sizeof(*sp));
	uint64_t rid[CLIENTS], held, commit_a = 0, commit_b = 0, before;
	unsigned in_a = (unsigned)__builtin_popcount(side), step = 0, cut_ms;
	unsigned ta = timeouts_to_own_view(n, side);
	unsigned tb = timeouts_to_own_view(n, ((1u << n) - 1) & ~side);
	bool quorum_a = ec_quorum_has(n, side);
	bool quorum_b = ec_quorum_has(n, ((1u << n) - 1) & ~side);
	const char *bad;
	char ctx[96];

	ck_assert_ptr_nonnull(sp);
	snprintf(ctx, sizeof(ctx), "n %u side %#x seed %llu%s%s", n, side,
		 (unsigned long long)seed, fastack ? " fastack" : "",
		 quorum ? " quorum" : "");
	for (unsigned c = 0; c < CLIENTS; c++)
		rid[c] = 1;
	sp->side = side;
	s->reorder = true;
	s->filter = cut;
	s->filter_arg = sp;
	for (; step < 60; step++) {
		load(s, sp, rid, step);
		sim_run(s, MS, MS);
		record_commits(s, sp, ctx);
	}
	ck_assert_msg(sim_st(s, 0).commit > 0, "%s: nothing committed", ctx);
	held = max_op(s);
	sp->on = true;
	cut_ms = (unsigned)(EC_DEFAULT_VIEW_TIMEOUT_US / MS) * (ta > tb ? ta : tb) +
		 400;
	for (; step < 60 + cut_ms; step++) {
		load(s, sp, rid, step);
		sim_run(s, MS, MS);
		record_commits(s, sp, ctx);
		for (unsigned i = 0; i < n; i++) {
			uint64_t cm = sim_st(s, i).commit;

			if (side_of(sp, i) && cm > commit_a)
				commit_a = cm;
			if (!side_of(sp, i) && cm > commit_b)
				commit_b = cm;
		}
	}
	ck_assert_msg(quorum_a || commit_a <= held,
		      "%s: side A (%u of %u, no quorum) committed op %llu > %llu",
		      ctx, in_a, n, (unsigned long long)commit_a,
		      (unsigned long long)held);
	ck_assert_msg(quorum_b || commit_b <= held,
		      "%s: side B (%u of %u, no quorum) committed op %llu > %llu",
		      ctx, n - in_a, n, (unsigned long long)commit_b,
		      (unsigned long long)held);
	ck_assert_msg(commit_a <= held || commit_b <= held,
		      "%s: both sides committed", ctx);
	ck_assert_msg(!(quorum_a || quorum_b) ||
			      (quorum_a ? commit_a : commit_b) > held,
		      "%s: the side with a quorum committed nothing", ctx);
	sp->on = false;
	before = max_op(s);
	for (unsigned end = step + 1000; step < end; step++) {
		load(s, sp, rid, step);
		sim_run(s, MS, MS);
		record_commits(s, sp, ctx);
	}
	/* quiet: everyone catches up on what was committed */
	sim_run(s, 300 * MS, MS);
	record_commits(s, sp, ctx);
	bad = sim_check_agreement(s);
	ck_assert_msg(bad == NULL, "%s: %s", ctx, bad);
	ck_assert_msg(sim_st(s, 0).commit > before,
		      "%s: nothing committed after the heal", ctx);
	for (unsigned i = 0; i < n; i++) {
		struct ec_core_state st = sim_st(s, i);

		ck_assert_msg(st.status == EC_ST_NORMAL &&
				      st.commit == sim_st(s, 0).commit,
			      "%s: replica %u not caught up", ctx, i);
		for (uint64_t op = 1; op <= st.commit && op < MAX_OPS; op++) {
			uint64_t d;

			if (sp->seen[op] && sim_entry_digest(s, i, op, &d) &&
			    d != sp->entry[op])
				ck_abort_msg("%s: committed op %llu changed on "
					     "replica %u", ctx,
					     (unsigned long long)op, i);
		}
	}
	free(sp);
	sim_free(s);
}

/* Every split of n replicas once (side A holds replica 0; A = all is the
 * unpartitioned run), for seeds first..first+seeds-1, or fewer if the
 * environment's EC_QUORUM_SEEDS says so (the sanitized build: ten times
 * slower). */
static void every_split(unsigned n, uint64_t first, unsigned seeds,
			bool fastack, bool quorum)
{
	uint32_t all = (1u << n) - 1;
	const char *cap = getenv("EC_QUORUM_SEEDS");

	if (cap && strtoul(cap, NULL, 10) > 0 && strtoul(cap, NULL, 10) < seeds)
		seeds = (unsigned)strtoul(cap, NULL, 10);

	for (uint32_t side = 1; side <= all; side += 2)
		for (uint64_t seed = first; seed < first + seeds; seed++)
			run_split(n, side, seed, fastack, quorum);
}

START_TEST(partitions_commit_on_one_side_at_most_small)
{
	for (unsigned n = 1; n <= 6; n++)
		every_split(n, 1, 6, false, false);
}
END_TEST

START_TEST(partitions_commit_on_one_side_at_most_large)
{
	for (unsigned n = 7; n <= EC_MAX_REPLICAS; n++)
		every_split(n, 1, n == EC_MAX_REPLICAS ? 1 : 2, false, false);
}
END_TEST

/* The same with the XDP fast-ack and quorum offloads modelled: the
 * kernel's threshold is the same quorum. */
START_TEST(partitions_commit_on_one_side_at_most_offloaded)
{
	for (unsigned n = 1; n <= 6; n++)
		every_split(n, 101, 2, true, true);
	every_split(EC_MAX_REPLICAS, 101, 1, true, true);
}
END_TEST

static Suite *quorum_suite(void)
{
	Suite *s = suite_create("quorum");
	TCase *t = tcase_create("sizes");
	TCase *p = tcase_create("partitions");

	tcase_add_test(t, sizes_are_strict_majorities);
	tcase_add_test(t, any_two_quorums_intersect);
	tcase_add_test(t, recovery_answers_meet_every_quorum_without_the_recovering);
	tcase_add_test(t, committed_is_the_highest_op_a_quorum_holds);
	suite_add_tcase(s, t);
	tcase_set_timeout(p, 240);
	tcase_add_test(p, partitions_commit_on_one_side_at_most_small);
	tcase_add_test(p, partitions_commit_on_one_side_at_most_large);
	tcase_add_test(p, partitions_commit_on_one_side_at_most_offloaded);
	suite_add_tcase(s, p);
	return s;
}

int main(void)
{
	return run_suite(quorum_suite());
}
