/*
 * test_bpf_conformance_random.c - the unit tests' model of the XDP
 * program against the program (conform.h) on seeded random sequences,
 * for every n from 1 to 9: from a random state user space could have
 * left (a follower with its window open or closed, a leader with slots
 * partly acked, sometimes both), frames near what the state expects
 * (the next op and its neighbours, heartbeats, acks of tagged and
 * untagged slots, other views, other senders and addresses, bodies up to
 * and past the limit, lengths and commits that do not add up, forged
 * flags, other types, datagrams that are not electrode-c's), and between
 * frames what
 * user space does (commits, new slots, the window closed, reopened or
 * moved past ops, view changes, switches flipped).  With the default
 * number of sequences every verdict n makes possible must be reached.
 *
 * EC_CONFORM_SEED (default 1) and EC_CONFORM_SEQS (sequences per n,
 * default 250, of 40 frames each) choose them; a failure names n, seed,
 * sequence and frame.  Needs root.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conform.h"
#include "offload/switches.h"
#include "core/quorum.h"

#define SEQ_FRAMES 40
#define DEFAULT_SEQS 250

static struct sim_kernel *const k = &cf_model;
static uint64_t seed;

static uint64_t env_num(const char *name, uint64_t dflt)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : dflt;
}

/* A follower id other than ours, or any id when there is none. */
static unsigned some_follower(void)
{
	unsigned s;

	if (k->n < 2)
		return cf_rnd(EC_MAX_REPLICAS);
	do
		s = cf_rnd(k->n);
	while (s == k->self);
	return s;
}

/* Tag the slots of the ops after commit, up to the window, with random
 * acks of followers. */
static void random_slots(void)
{
	unsigned window = cf_rnd(33);

	memset(k->slots, 0, sizeof(k->slots));
	for (unsigned i = 1; i <= window; i++) {
		uint64_t op = k->commit + i;
		unsigned acks = cf_rnd(k->n);

		sim_kernel_tag(k, op, cf_rnd(8) ? k->view : k->view - 1);
		while (acks-- && k->n > 1)
			k->slots[op % EC_QUORUM_SLOTS] |= 1u << some_follower();
	}
	/* one left over from an op EC_QUORUM_SLOTS back */
	if (cf_rnd(4) == 0)
		sim_kernel_tag(k, k->commit + 1 + cf_rnd(8) + EC_QUORUM_SLOTS,
			       k->view);
}

/* A state user space could have left: a follower with its window open,
 * closed, or a leader; sometimes both fields at once (the program reads
 * each for its own message type). */
static void random_state(void)
{
	k->view = cf_rnd(4) ? cf_rnd(40) : 0xffffff00u + cf_rnd(256);
	k->leader = cf_rnd(8) ? k->view % k->n : cf_rnd(EC_MAX_REPLICAS);
	k->fastack_on = cf_rnd(8) != 0;
	k->fastack_commit_on = cf_rnd(8) != 0;
	k->quorum_on = cf_rnd(8) != 0;
	k->lead = k->leader == k->self ? cf_rnd(6) != 0 : cf_rnd(10) == 0;
	k->expected = k->leader != k->self && cf_rnd(6) ? 1 + cf_rnd(500) :
		      cf_rnd(10) == 0			    ? 1 + cf_rnd(500) :
							      0;
	k->commit = cf_rnd(500);
	random_slots();
	cf_epoch = cf_rnd(256);
}

/* What user space may do between two frames. */
static void user_space_event(void)
{
	switch (cf_rnd(8)) {
	case 0: /* a commit (it only grows) */
		k->commit += cf_rnd(3);
		break;
	case 1: /* the leader prepares another op */
		sim_kernel_tag(k, k->commit + 1 + cf_rnd(34), k->view);
		break;
	case 2: /* quiesce, or reopen in a new epoch */
		k->expected = k->expected ? 0 : 1 + cf_rnd(500);
		cf_epoch++;
		break;
	case 3: /* the slow path appended ops itself */
		if (k->expected)
			k->expected += 1 + cf_rnd(2);
		break;
	case 4: /* a view change */
		k->view++;
		k->leader = k->view % k->n;
		k->lead = k->leader == k->self;
		k->expected = k->lead ? 0 : 1 + cf_rnd(500);
		cf_epoch++;
		random_slots();
		break;
	case 5:
		k->fastack_on = !k->fastack_on;
		break;
	case 6:
		k->fastack_commit_on = !k->fastack_commit_on;
		break;
	default:
		k->quorum_on = !k->quorum_on;
	}
	cf_push();
}

/* A view: mostly ours, else a neighbour, ours + 256 (same low byte) or
 * any. */
static uint32_t random_view(void)
{
	static const uint32_t d[] = { 1, -1u, 256, 0x1000000 };

	if (cf_rnd(5))
		return k->view;
	return cf_rnd(5) ? k->view + d[cf_rnd(4)] : cf_rnd(0xffffffffu);
}

/* A frame for the state the model is in; see the head of the file. */
static void random_frame(struct cf_frame *fr)
{
	static const uint32_t edge[] = { 0, 1, EC_MAX_ENTRY_BODY - 1,
					 EC_MAX_ENTRY_BODY,
					 EC_MAX_ENTRY_BODY + 1, 1440 };
	unsigned kind = cf_rnd(24);

	if (kind >= 20) {
		/* a heartbeat, mostly of our leader, numbered 0 (none) now
		 * and then, its body of another size, or lengths, commit or
		 * flags off */
		*fr = cf_frame_of(EC_MSG_COMMIT,
				  cf_rnd(6) ? k->leader :
					      cf_rnd(EC_MAX_REPLICAS + 1),
				  random_view(), k->commit + cf_rnd(4));
		fr->commit = fr->op - cf_rnd(2);
		fr->seq = cf_rnd(8) ? 1 + cf_rnd(100) :
			  cf_rnd(2)  ? 0 :
				       ~0ull - cf_rnd(3);
		if (cf_rnd(8) == 0)
			fr->body = fr->body_len = cf_rnd(20);
		if (cf_rnd(12) == 0)
			fr->body_len += cf_rnd(3) - 1;
		if (cf_rnd(12) == 0)
			fr->commit = fr->op + 1 + cf_rnd(3);
		if (cf_rnd(6) == 0)
			fr->flags = (uint8_t)cf_rnd(256);
	} else if (kind < 8) {
		/* sender EC_MAX_REPLICAS stands for any id past the table */
		*fr = cf_frame_of(EC_MSG_PREPARE,
				  cf_rnd(6) ? k->leader :
					      cf_rnd(EC_MAX_REPLICAS + 1),
				  random_view(),
				  k->expected && cf_rnd(6) ?
					  k->expected + cf_rnd(5) - 2 :
					  cf_rnd(600));
		fr->body = cf_rnd(4) ? cf_rnd(200) : edge[cf_rnd(6)];
		fr->body_len = fr->body;
		if (cf_rnd(10) == 0)
			fr->body_len += cf_rnd(7) - 3;
		if (cf_rnd(10) == 0)
			fr->commit = cf_rnd(2) ? fr->op + 1 + cf_rnd(3) : 0;
		if (cf_rnd(6) == 0)
			fr->flags = (uint8_t)cf_rnd(256);
	} else if (kind < 16) {
		/* around the window, EC_QUORUM_SLOTS ops later, or any */
		uint64_t op = k->commit - 1 + cf_rnd(38);

		if (cf_rnd(8) == 0)
			op = cf_rnd(2) ? op + EC_QUORUM_SLOTS :
					 cf_rnd(0xffffffffu);

		*fr = cf_frame_of(EC_MSG_PREPARE_OK,
				  cf_rnd(6) ? some_follower() :
					      cf_rnd(EC_MAX_REPLICAS + 1),
				  random_view(), op);
		if (cf_rnd(10) == 0)
			fr->body = fr->body_len = cf_rnd(20);
		if (cf_rnd(12) == 0)
			fr->body_len = cf_rnd(20);
		if (cf_rnd(10) == 0)
			fr->commit = op + 1 + cf_rnd(3);
		if (cf_rnd(4) == 0)
			fr->flags |= EC_F_QUORUM;
		if (cf_rnd(8) == 0)
			fr->flags = (uint8_t)cf_rnd(256);
	} else if (kind == 16) {
		*fr = cf_frame_of(cf_rnd(2) ? EC_MSG_REQUEST : EC_MSG_READ,
				  cf_rnd(2) ? EC_SENDER_CLIENT :
					      cf_rnd(EC_MAX_REPLICAS),
				  0, 0);
		fr->body = fr->body_len = cf_rnd(60);
	} else {
		/* another type, or not an electrode-c datagram */
		static const uint8_t types[] = { EC_MSG_REPLY, EC_MSG_COMMIT,
						 EC_MSG_START_VIEW,
						 EC_MSG_GET_STATE,
						 EC_MSG_SNAPSHOT };

		*fr = cf_frame_of(types[cf_rnd(5)], cf_rnd(EC_MAX_REPLICAS),
				  k->view, k->commit);
		if (kind == 18)
			fr->magic ^= 1u << cf_rnd(32);
		if (kind == 19) {
			switch (cf_rnd(4)) {
			case 0:
				fr->version++;
				break;
			case 1:
				fr->type = 0;
				break;
			case 2:
				fr->type = EC_MSG_TYPE_MAX + cf_rnd(240);
				break;
			default: /* shorter than a header */
				fr->cut = 1 + cf_rnd(sizeof(struct ec_hdr) - 1);
			}
		}
	}
	/* mostly from the address of the replica it names */
	if (cf_rnd(8) == 0)
		fr->from = cf_rnd(EC_MAX_REPLICAS + 1);
	else if (fr->sender >= EC_MAX_REPLICAS)
		fr->from = CF_NOBODY;
	fr->csum = cf_rnd(4) == 0;
	if (!fr->cut && cf_rnd(8) == 0)
		fr->pad = 1 + cf_rnd(20);
}

/* Verdicts the random sequences of n must reach, lest they test less
 * than they seem to: all but FULL, RACE and NO_CPU (never here:
 * conform.h), and of the reads only OFF (the model has none), where n
 * makes them possible. */
static void check_coverage(unsigned n)
{
	unsigned need = ec_quorum_followers(n);
	uint64_t c[EC_XDP_MAX];

	cf_counters(c);
	for (unsigned v = 0; v < EC_XDP_MAX; v++) {
		bool reachable = v != EC_XDP_FA_FULL && v != EC_XDP_FA_RACE &&
				 v != EC_XDP_FA_NO_CPU &&
				 v != EC_XDP_HB_FULL && v != EC_XDP_HB_RACE &&
				 v != EC_XDP_HB_NO_CPU &&
				 (v < EC_XDP_RD_ANSWERED ||
				  v > EC_XDP_RD_MALFORMED || v == EC_XDP_RD_OFF);

		if (n == 1) /* no peer: all but these are unreachable */
			reachable = v == EC_XDP_PASS_NOT_EC ||
				    v == EC_XDP_PASS_OTHER ||
				    v == EC_XDP_RD_OFF ||
				    v == EC_XDP_NOT_MEMBER;
		if (v == EC_XDP_Q_PENDING || v == EC_XDP_Q_DUP)
			reachable &= need >= 2;
		if (v == EC_XDP_Q_EXTRA)
			reachable &= n - 1 > need;
		ck_assert_msg(!reachable || c[v] > 0,
			      "n %u seed %llu: no frame reached %s", n,
			      (unsigned long long)seed, ec_xdp_verdict_name(v));
	}
}

START_TEST(random_sequences_every_n)
{
	unsigned n = (unsigned)_i;
	unsigned seqs = (unsigned)env_num("EC_CONFORM_SEQS", DEFAULT_SEQS);
	struct cf_frame fr;

	seed = env_num("EC_CONFORM_SEED", 1);
	cf_rng = (seed ? seed : 1) * 0x9e3779b97f4a7c15ULL + n;
	cf_load(n);
	for (unsigned q = 0; q < seqs; q++) {
		random_state();
		cf_push();
		for (unsigned f = 0; f < SEQ_FRAMES; f++) {
			snprintf(cf_where, sizeof(cf_where),
				 "n %u seed %llu sequence %u frame %u", n,
				 (unsigned long long)seed, q, f);
			random_frame(&fr);
			cf_step(&fr);
			if (cf_rnd(8) == 0)
				user_space_event();
		}
	}
	/* fewer sequences than the default may miss a verdict or two */
	if (seqs >= DEFAULT_SEQS)
		check_coverage(n);
	cf_unload();
}
END_TEST

static Suite *random_suite(void)
{
	Suite *s = suite_create("bpf_conformance_random");
	TCase *r = tcase_create("random");

	/* room for EC_CONFORM_SEQS past the default */
	tcase_set_timeout(r, 120);
	tcase_add_loop_test(r, random_sequences_every_n, 1,
			    EC_MAX_REPLICAS + 1);
	suite_add_tcase(s, r);
	return s;
}

int main(void)
{
	return run_suite(random_suite());
}
