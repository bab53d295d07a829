/*
 * test_bpf_conformance.c - the unit tests' model of the XDP program
 * against the program (conform.h): hand-picked frames, each pinned to the
 * program verdict it is about, and the quorum threshold for every n from
 * 1 to 9.  test_bpf_conformance_random.c runs seeded sequences.  Needs
 * root.
 */
#include <check.h>
#include <stdio.h>

#include "conform.h"
#include "core/quorum.h"

/* The model: set its state, then cf_push() gives it to the program. */
static struct sim_kernel *const k = &cf_model;

/* ---- hand-picked cases: n = 5, the program is replica 2 ---- */

#define N5 5
#define ME 2
#define F_VIEW 6   /* led by 1 */
#define F_NEXT 10
#define L_VIEW 7   /* led by 2: us */
#define L_COMMIT 19
#define L_OP 20

/* Replica ME following view F_VIEW, window open at F_NEXT. */
static void setup_follower(void)
{
	cf_load(N5);
	k->fastack_on = k->fastack_commit_on = k->quorum_on = true;
	k->view = F_VIEW;
	k->leader = F_VIEW % N5;
	k->expected = F_NEXT;
	cf_epoch = 3;
	cf_push();
	snprintf(cf_where, sizeof(cf_where), "n 5 follower");
}

/* Replica ME leading view L_VIEW, L_OP prepared. */
static void setup_leader(void)
{
	cf_load(N5);
	k->fastack_on = k->fastack_commit_on = k->quorum_on = true;
	k->view = L_VIEW;
	k->leader = L_VIEW % N5;
	k->lead = true;
	k->commit = L_COMMIT;
	sim_kernel_tag(k, L_OP, L_VIEW);
	cf_push();
	snprintf(cf_where, sizeof(cf_where), "n 5 leader");
}

static struct cf_frame prepare(uint64_t op)
{
	struct cf_frame fr =
		cf_frame_of(EC_MSG_PREPARE, F_VIEW % N5, F_VIEW, op);

	fr.body = fr.body_len = 40;
	return fr;
}

/* Heartbeat seq of the follower's leader, its last op F_NEXT - 1. */
static struct cf_frame heartbeat(uint64_t seq)
{
	struct cf_frame fr =
		cf_frame_of(EC_MSG_COMMIT, F_VIEW % N5, F_VIEW, F_NEXT - 1);

	fr.seq = seq;
	fr.commit = F_NEXT - 2;
	return fr;
}

static struct cf_frame ack_from(unsigned sender, uint64_t op)
{
	return cf_frame_of(EC_MSG_PREPARE_OK, sender, L_VIEW, op);
}

START_TEST(next_op_acked_duplicate_old_gap)
{
	struct cf_frame fr = prepare(F_NEXT);

	cf_expect(&fr, EC_XDP_FA_ACKED);
	cf_expect(&fr, EC_XDP_FA_OLD);      /* duplicate */
	fr = prepare(F_NEXT - 3);
	cf_expect(&fr, EC_XDP_FA_OLD);
	fr = prepare(F_NEXT + 2);
	cf_expect(&fr, EC_XDP_FA_GAP);
	fr = prepare(F_NEXT + 1);
	cf_expect(&fr, EC_XDP_FA_ACKED);
}
END_TEST

START_TEST(wrong_view_not_leader_closed_off)
{
	struct cf_frame fr = prepare(F_NEXT);

	fr.view = F_VIEW + 1;
	cf_expect(&fr, EC_XDP_FA_VIEW);
	fr.view = F_VIEW + 256; /* the low byte of the word's tag agrees */
	cf_expect(&fr, EC_XDP_FA_VIEW);
	fr = prepare(F_NEXT);
	fr.sender = fr.from = 3;
	cf_expect(&fr, EC_XDP_FA_NOT_LEADER);
	fr.from = F_VIEW % N5; /* the leader's address, another's name */
	cf_expect(&fr, EC_XDP_NOT_MEMBER);
	k->fastack_on = false;
	cf_push();
	fr = prepare(F_NEXT);
	cf_expect(&fr, EC_XDP_FA_OFF);
	k->fastack_on = true;
	k->expected = 0;
	cf_push();
	cf_expect(&fr, EC_XDP_FA_CLOSED);
}
END_TEST

START_TEST(sizes_lengths_commit)
{
	struct cf_frame fr = prepare(F_NEXT);

	fr.body = fr.body_len = EC_MAX_ENTRY_BODY + 1;
	cf_expect(&fr, EC_XDP_FA_OVERSIZED);
	fr.body_len = EC_MAX_ENTRY_BODY;
	cf_expect(&fr, EC_XDP_FA_MALFORMED);
	fr.body = EC_MAX_ENTRY_BODY;
	fr.commit = F_NEXT + 1;
	cf_expect(&fr, EC_XDP_FA_MALFORMED);
	fr.commit = F_NEXT;
	fr.pad = 12;
	fr.csum = true;
	cf_expect(&fr, EC_XDP_FA_ACKED);
}
END_TEST

/* Heartbeats acked between PREPAREs, with a checksum and padding; the
 * window stays where the PREPAREs left it. */
START_TEST(heartbeats_acked_between_prepares)
{
	struct cf_frame fr = heartbeat(1);

	cf_expect(&fr, EC_XDP_HB_ACKED);
	fr = prepare(F_NEXT);
	cf_expect(&fr, EC_XDP_FA_ACKED);
	fr = heartbeat(2);
	fr.csum = true;
	fr.pad = 9;
	cf_expect(&fr, EC_XDP_HB_ACKED);
	cf_expect(&fr, EC_XDP_HB_ACKED); /* a duplicate is answered too */
	fr = heartbeat(0xfedcba9876543210ull);
	fr.op = F_NEXT + 5; /* the leader is ahead: user space will ask */
	fr.flags = 0xff;
	cf_expect(&fr, EC_XDP_HB_ACKED);
	fr = prepare(F_NEXT + 1);
	cf_expect(&fr, EC_XDP_FA_ACKED);
}
END_TEST

START_TEST(heartbeat_view_leader_closed_off)
{
	struct cf_frame fr = heartbeat(3);

	fr.view = F_VIEW - 1;
	cf_expect(&fr, EC_XDP_HB_VIEW);
	fr.view = F_VIEW + 256;
	cf_expect(&fr, EC_XDP_HB_VIEW);
	fr = heartbeat(3);
	fr.sender = fr.from = 3;
	cf_expect(&fr, EC_XDP_HB_NOT_LEADER);
	fr.from = CF_NOBODY;
	cf_expect(&fr, EC_XDP_NOT_MEMBER);
	fr = heartbeat(3);
	k->fastack_commit_on = false;
	cf_push();
	cf_expect(&fr, EC_XDP_HB_OFF);
	fr = prepare(F_NEXT); /* the PREPARE switch is its own */
	cf_expect(&fr, EC_XDP_FA_ACKED);
	k->fastack_commit_on = true;
	k->fastack_on = false;
	cf_push();
	fr = heartbeat(3);
	cf_expect(&fr, EC_XDP_HB_ACKED);
	k->expected = 0;
	cf_push();
	cf_expect(&fr, EC_XDP_HB_CLOSED);
}
END_TEST

/* What user space would not answer: no seq, bodies of other sizes,
 * lengths that do not add up, a commit past the leader's op. */
START_TEST(heartbeat_malformed)
{
	static const uint32_t bodies[] = { 0, 7, 9, 64 };
	struct cf_frame fr = heartbeat(0);

	cf_expect(&fr, EC_XDP_HB_MALFORMED);
	for (unsigned i = 0; i < 4; i++) {
		fr = heartbeat(5);
		fr.body = fr.body_len = bodies[i];
		cf_expect(&fr, EC_XDP_HB_MALFORMED);
	}
	fr = heartbeat(5);
	fr.body = 9;
	cf_expect(&fr, EC_XDP_HB_MALFORMED);
	fr = heartbeat(5);
	fr.body_len = 9;
	cf_expect(&fr, EC_XDP_HB_MALFORMED);
	fr = heartbeat(5);
	fr.cut = sizeof(struct ec_hdr) + 4;
	cf_expect(&fr, EC_XDP_HB_MALFORMED);
	fr = heartbeat(5);
	fr.commit = fr.op + 1;
	cf_expect(&fr, EC_XDP_HB_MALFORMED);
}
END_TEST

START_TEST(quorum_pending_dup_completion_extra_late_committed)
{
	struct cf_frame fr = ack_from(0, L_OP);

	cf_expect(&fr, EC_XDP_Q_PENDING);
	cf_expect(&fr, EC_XDP_Q_DUP);
	fr = ack_from(4, L_OP);
	fr.csum = true;
	cf_expect(&fr, EC_XDP_Q_QUORUM);
	fr = ack_from(3, L_OP);
	cf_expect(&fr, EC_XDP_Q_EXTRA);
	fr = ack_from(0, L_OP);
	cf_expect(&fr, EC_XDP_Q_LATE);
	k->commit = L_OP;
	cf_push();
	cf_expect(&fr, EC_XDP_Q_COMMITTED);
	fr = ack_from(1, L_OP - 7);
	cf_expect(&fr, EC_XDP_Q_COMMITTED);
}
END_TEST

/* No slot for the op: untagged, another op's, this op's of another view;
 * with a sender's forged EC_F_QUORUM, which must not go up. */
START_TEST(quorum_unknown_slot_and_forged_flag)
{
	struct cf_frame fr = ack_from(0, L_OP + 1);

	fr.flags |= EC_F_QUORUM;
	cf_expect(&fr, EC_XDP_Q_UNKNOWN);
	sim_kernel_tag(k, L_OP + 1 + EC_QUORUM_SLOTS, L_VIEW);
	cf_push();
	cf_expect(&fr, EC_XDP_Q_UNKNOWN);
	sim_kernel_tag(k, L_OP + 1, L_VIEW - 1);
	cf_push();
	cf_expect(&fr, EC_XDP_Q_UNKNOWN);
	fr = ack_from(0, L_OP);
	fr.flags |= EC_F_QUORUM;
	fr.csum = true;
	fr.view = L_VIEW + 1;
	cf_expect(&fr, EC_XDP_Q_VIEW);
	fr.view = L_VIEW;
	k->lead = false;
	cf_push();
	cf_expect(&fr, EC_XDP_Q_NOT_LEADER);
	k->lead = true;
	k->quorum_on = false;
	cf_push();
	cf_expect(&fr, EC_XDP_Q_OFF);
}
END_TEST

/* What user space refuses in a PREPARE_OK (a commit past the op, a body
 * the header does not announce) the program counts all the same. */
START_TEST(quorum_counts_what_user_space_refuses)
{
	struct cf_frame fr = ack_from(0, L_OP);

	fr.commit = L_OP + 1;
	cf_expect(&fr, EC_XDP_Q_PENDING);
	fr = ack_from(1, L_OP);
	fr.body = 3;
	cf_expect(&fr, EC_XDP_Q_QUORUM);
}
END_TEST

START_TEST(membership_and_other_types)
{
	struct cf_frame fr = ack_from(0, L_OP);

	fr.from = CF_NOBODY;
	cf_expect(&fr, EC_XDP_NOT_MEMBER);
	fr = ack_from(ME, L_OP); /* our own name */
	cf_expect(&fr, EC_XDP_NOT_MEMBER);
	fr = ack_from(N5, L_OP); /* no replica of n */
	cf_expect(&fr, EC_XDP_NOT_MEMBER);
	fr = cf_frame_of(EC_MSG_REQUEST, EC_SENDER_CLIENT, 0, 0);
	fr.from = CF_NOBODY;
	cf_expect(&fr, EC_XDP_PASS_OTHER);
	fr = cf_frame_of(EC_MSG_START_VIEW, 1, L_VIEW, L_OP);
	cf_expect(&fr, EC_XDP_PASS_OTHER);
	fr.from = CF_NOBODY;
	cf_expect(&fr, EC_XDP_NOT_MEMBER);
	/* the leader's window is closed: a heartbeat goes up, and so does
	 * the HEARTBEAT_OK of a follower, for user space to count */
	fr = cf_frame_of(EC_MSG_COMMIT, 1, L_VIEW, L_OP);
	cf_expect(&fr, EC_XDP_HB_CLOSED);
	fr = cf_frame_of(EC_MSG_HEARTBEAT_OK, 1, L_VIEW, 4);
	fr.flags = EC_F_FAST_ACK;
	cf_expect(&fr, EC_XDP_PASS_OTHER);
	fr = ack_from(0, L_OP);
	fr.magic ^= 1;
	cf_expect(&fr, EC_XDP_PASS_NOT_EC);
	fr = ack_from(0, L_OP);
	fr.cut = sizeof(struct ec_hdr) - 1;
	cf_expect(&fr, EC_XDP_PASS_NOT_EC);
}
END_TEST

/* ---- the quorum threshold, n = 1..9 ---- */

/* The leader of n counts one ack of op from each follower in turn: the
 * ec_quorum_followers(n)-th completes the quorum, the ones before are
 * pending and the ones after extra; a repeat is late. */
START_TEST(threshold_every_n)
{
	unsigned n = (unsigned)_i, need = ec_quorum_followers(n), acks = 0;
	struct cf_frame fr;

	cf_load(n);
	snprintf(cf_where, sizeof(cf_where), "threshold n %u", n);
	k->fastack_on = k->fastack_commit_on = k->quorum_on = true;
	k->view = k->leader = k->self;
	k->lead = true;
	k->commit = L_COMMIT;
	sim_kernel_tag(k, L_OP, k->view);
	cf_push();
	for (unsigned s = 0; s < EC_MAX_REPLICAS; s++) {
		fr = cf_frame_of(EC_MSG_PREPARE_OK, s, k->view, L_OP);
		if (s == k->self || s >= n) {
			cf_expect(&fr, EC_XDP_NOT_MEMBER);
			continue;
		}
		acks++;
		cf_expect(&fr, acks < need ? EC_XDP_Q_PENDING :
				    acks == need ? EC_XDP_Q_QUORUM :
						   EC_XDP_Q_EXTRA);
	}
	ck_assert_uint_eq(acks, n - 1);
	fr = cf_frame_of(EC_MSG_PREPARE_OK, 0, /* self = n / 2 >= 1 */
		      k->view, L_OP);
	if (n > 1)
		cf_expect(&fr, EC_XDP_Q_LATE);
	cf_unload();
}
END_TEST

static Suite *conformance_suite(void)
{
	Suite *s = suite_create("bpf_conformance");
	TCase *f = tcase_create("follower");
	TCase *l = tcase_create("leader");
	TCase *q = tcase_create("threshold");

	tcase_add_checked_fixture(f, setup_follower, cf_unload);
	tcase_add_test(f, next_op_acked_duplicate_old_gap);
	tcase_add_test(f, wrong_view_not_leader_closed_off);
	tcase_add_test(f, sizes_lengths_commit);
	tcase_add_test(f, heartbeats_acked_between_prepares);
	tcase_add_test(f, heartbeat_view_leader_closed_off);
	tcase_add_test(f, heartbeat_malformed);
	suite_add_tcase(s, f);
	tcase_add_checked_fixture(l, setup_leader, cf_unload);
	tcase_add_test(l, quorum_pending_dup_completion_extra_late_committed);
	tcase_add_test(l, quorum_unknown_slot_and_forged_flag);
	tcase_add_test(l, quorum_counts_what_user_space_refuses);
	tcase_add_test(l, membership_and_other_types);
	suite_add_tcase(s, l);
	tcase_add_loop_test(q, threshold_every_n, 1, EC_MAX_REPLICAS + 1);
	suite_add_tcase(s, q);
	return s;
}

int main(void)
{
	return run_suite(conformance_suite());
}
