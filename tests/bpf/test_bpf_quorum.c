/*
 * test_bpf_quorum.c - the ec_xdp program as the leader: waiting on a
 * quorum of fast acks (which ack goes up flagged, which are dropped, the
 * quorum slots, the counters, forged flags cleared), run on crafted frames
 * with BPF_PROG_TEST_RUN.  Needs root.
 */
#include <arpa/inet.h>
#include <check.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "xdp_harness.h"

/* Replica 0 leads view 5 of 5, commit 19, op 20. */
#define L_VIEW 5
#define L_COMMIT 19
#define L_OP 20

/* Replica 0 of n, leader of L_VIEW with quorum (n - 1) / 2 and L_OP
 * prepared. */
static void leader(unsigned n)
{
	struct ec_xdp_state *st;

	skel = open_load(n, 0, 0);
	st = &skel->bss->ec_state;
	st->switches[EC_OFFLOAD_QUORUM] = 1u << EC_MSG_PREPARE_OK;
	st->view = L_VIEW;
	st->leader = 0;
	st->lead = 1;
	st->commit = L_COMMIT;
	st->quorum = (n - 1) / 2;
	skel->bss->ec_slots[L_OP % EC_QUORUM_SLOTS] = EC_SLOT_TAG(L_OP, L_VIEW);
}

/* Checked fixture: the leader of five. */
static void setup_leader5(void) { leader(5); }

/* ---- leader wait on quorum (n = 5, quorum 2) ---- */

/* An ack for L_OP from follower `from` in pkt, with a real UDP checksum
 * when csum; returns its length. */
static size_t ack(unsigned from, uint32_t view, uint64_t op, bool csum)
{
	size_t len = build(pkt, from, 0, EC_MSG_PREPARE_OK, view, op, 0);

	ec_of(pkt)->flags = EC_F_FAST_ACK;
	if (csum)
		set_udp_csum(pkt);
	return len;
}

/* The quorum slot of op, as the program left it. */
static uint64_t slot(uint64_t op)
{
	return __atomic_load_n(&skel->bss->ec_slots[op % EC_QUORUM_SLOTS],
			       __ATOMIC_ACQUIRE);
}

/* True if frame f's UDP checksum is absent (0) or verifies. */
static bool udp_csum_ok(const uint8_t *f)
{
	return udp_of(f)->check == 0 || udp_csum_valid(f);
}

/* The frame went up as it came in, but with EC_F_QUORUM set and a valid
 * checksum: a present one updated, an absent one (0) still absent. */
static void assert_flagged(size_t len)
{
	ck_assert_uint_eq(out_len, len);
	ck_assert_uint_eq(ec_of(out)->flags, EC_F_FAST_ACK | EC_F_QUORUM);
	ck_assert(udp_csum_ok(out));
	if (udp_of(pkt)->check)
		ck_assert(udp_of(out)->check != 0 && udp_csum_valid(out));
	else
		ck_assert_uint_eq(udp_of(out)->check, 0);
	/* the rest must be the input's: copy over what may differ */
	ec_of(out)->flags = ec_of(pkt)->flags;
	udp_of(out)->check = udp_of(pkt)->check;
	ck_assert(memcmp(out, pkt, len) == 0);
}

START_TEST(q_first_ack_pending)
{
	expect(ack(1, L_VIEW, L_OP, false), XDP_DROP, EC_XDP_Q_PENDING);
	ck_assert_uint_eq(slot(L_OP), EC_SLOT_TAG(L_OP, L_VIEW) | 1u << 1);
}
END_TEST

START_TEST(q_same_follower_dup)
{
	size_t len = ack(1, L_VIEW, L_OP, false);

	expect(len, XDP_DROP, EC_XDP_Q_PENDING);
	expect(len, XDP_DROP, EC_XDP_Q_DUP);
	ck_assert_uint_eq(slot(L_OP), EC_SLOT_TAG(L_OP, L_VIEW) | 1u << 1);
}
END_TEST

START_TEST(q_second_ack_completes)
{
	size_t len;

	expect(ack(1, L_VIEW, L_OP, true), XDP_DROP, EC_XDP_Q_PENDING);
	len = ack(2, L_VIEW, L_OP, true);
	expect(len, XDP_PASS, EC_XDP_Q_QUORUM);
	ck_assert_uint_ne(udp_of(out)->check, 0);
	assert_flagged(len);
	ck_assert_uint_eq(slot(L_OP), EC_SLOT_TAG(L_OP, L_VIEW) | 1u << 1 | 1u << 2);
}
END_TEST

/* A follower's first ack for a slot already at quorum is not needed. */
START_TEST(q_extra_after_quorum)
{
	expect(ack(1, L_VIEW, L_OP, false), XDP_DROP, EC_XDP_Q_PENDING);
	expect(ack(2, L_VIEW, L_OP, false), XDP_PASS, EC_XDP_Q_QUORUM);
	expect(ack(3, L_VIEW, L_OP, false), XDP_DROP, EC_XDP_Q_EXTRA);
	expect(ack(4, L_VIEW, L_OP, true), XDP_DROP, EC_XDP_Q_EXTRA);
	ck_assert_uint_eq(EC_SLOT_BITS(slot(L_OP)), 0x1e);
}
END_TEST

/* A counted follower acks the slot again after the quorum (it answers the
 * leader's retransmission: the quorum ack was lost on its way up): passed
 * flagged, each time, until user space reports the commit. */
START_TEST(q_late_repeat_after_quorum)
{
	size_t len;

	expect(ack(1, L_VIEW, L_OP, false), XDP_DROP, EC_XDP_Q_PENDING);
	expect(ack(2, L_VIEW, L_OP, false), XDP_PASS, EC_XDP_Q_QUORUM);
	len = ack(1, L_VIEW, L_OP, true);
	expect(len, XDP_PASS, EC_XDP_Q_LATE);
	assert_flagged(len);
	len = ack(2, L_VIEW, L_OP, false);
	expect(len, XDP_PASS, EC_XDP_Q_LATE);
	assert_flagged(len);
	expect(len, XDP_PASS, EC_XDP_Q_LATE);
	skel->bss->ec_state.commit = L_OP;
	expect(len, XDP_DROP, EC_XDP_Q_COMMITTED);
	ck_assert_uint_eq(EC_SLOT_BITS(slot(L_OP)), 0x6);
}
END_TEST

START_TEST(q_committed_dropped)
{
	expect(ack(1, L_VIEW, L_OP, false), XDP_DROP, EC_XDP_Q_PENDING);
	expect(ack(2, L_VIEW, L_OP, false), XDP_PASS, EC_XDP_Q_QUORUM);
	skel->bss->ec_state.commit = L_OP;
	expect(ack(3, L_VIEW, L_OP, false), XDP_DROP, EC_XDP_Q_COMMITTED);
	expect(ack(1, L_VIEW, L_OP, false), XDP_DROP, EC_XDP_Q_COMMITTED);
	expect(ack(4, L_VIEW, L_OP - 5, false), XDP_DROP, EC_XDP_Q_COMMITTED);
	ck_assert_uint_eq(EC_SLOT_BITS(slot(L_OP)), 0x6);
}
END_TEST

START_TEST(q_not_leader)
{
	size_t len = ack(1, L_VIEW, L_OP, false);

	skel->bss->ec_state.lead = 0;
	expect_untouched(len, XDP_PASS, EC_XDP_Q_NOT_LEADER);
	ck_assert_uint_eq(slot(L_OP), EC_SLOT_TAG(L_OP, L_VIEW));
}
END_TEST

START_TEST(q_wrong_view)
{
	size_t len = ack(1, L_VIEW - 1, L_OP, false);

	expect_untouched(len, XDP_PASS, EC_XDP_Q_VIEW);
	len = ack(1, L_VIEW + 1, L_OP, false);
	expect_untouched(len, XDP_PASS, EC_XDP_Q_VIEW);
	ck_assert_uint_eq(slot(L_OP), EC_SLOT_TAG(L_OP, L_VIEW));
}
END_TEST

START_TEST(q_switch_off)
{
	size_t len = ack(1, L_VIEW, L_OP, false);

	skel->bss->ec_state.switches[EC_OFFLOAD_QUORUM] =
		~(1u << EC_MSG_PREPARE_OK);
	skel->bss->ec_state.switches[EC_OFFLOAD_FASTACK] = ~0u;
	expect_untouched(len, XDP_PASS, EC_XDP_Q_OFF);
	ck_assert_uint_eq(slot(L_OP), EC_SLOT_TAG(L_OP, L_VIEW));
}
END_TEST

/* The slot holds another op (one EC_QUORUM_SLOTS later, or none yet). */
START_TEST(q_unknown_slot)
{
	uint64_t other = EC_SLOT_TAG(L_OP + EC_QUORUM_SLOTS, L_VIEW) | 1u << 3;
	size_t len = ack(1, L_VIEW, L_OP, false);

	skel->bss->ec_slots[L_OP % EC_QUORUM_SLOTS] = other;
	expect_untouched(len, XDP_PASS, EC_XDP_Q_UNKNOWN);
	ck_assert_uint_eq(slot(L_OP), other);
	len = ack(1, L_VIEW, L_OP + 1, false);
	expect_untouched(len, XDP_PASS, EC_XDP_Q_UNKNOWN);
	ck_assert_uint_eq(slot(L_OP + 1), 0);
}
END_TEST

/* A sender's EC_F_QUORUM never reaches user space unless the kernel set
 * it: cleared, checksum kept valid, on every pass-up path. */
static void expect_flag_cleared(size_t len, unsigned verdict)
{
	ec_of(pkt)->flags |= EC_F_QUORUM;
	set_udp_csum(pkt);
	expect(len, XDP_PASS, verdict);
	ck_assert_uint_eq(out_len, len);
	ck_assert_uint_eq(ec_of(out)->flags, EC_F_FAST_ACK);
	ck_assert(udp_of(out)->check != 0 && udp_csum_ok(out));
	ec_of(out)->flags = ec_of(pkt)->flags;
	udp_of(out)->check = udp_of(pkt)->check;
	ck_assert(memcmp(out, pkt, len) == 0);
}

START_TEST(q_forged_flag_cleared)
{
	struct ec_xdp_state *st = &skel->bss->ec_state;

	expect_flag_cleared(ack(1, L_VIEW, L_OP + 1, false), EC_XDP_Q_UNKNOWN);
	expect_flag_cleared(ack(1, L_VIEW + 1, L_OP, false), EC_XDP_Q_VIEW);
	st->lead = 0;
	expect_flag_cleared(ack(1, L_VIEW, L_OP, false), EC_XDP_Q_NOT_LEADER);
	st->lead = 1;
	st->switches[EC_OFFLOAD_QUORUM] = 0;
	expect_flag_cleared(ack(1, L_VIEW, L_OP, false), EC_XDP_Q_OFF);
	/* not a valid peer: dropped, counted nowhere else */
	ack(1, L_VIEW, L_OP, false);
	ec_of(pkt)->sender = 7;
	expect_untouched(ACK_LEN, XDP_DROP, EC_XDP_NOT_MEMBER);
	ck_assert_uint_eq(slot(L_OP), EC_SLOT_TAG(L_OP, L_VIEW));
}
END_TEST

/* A follower's HEARTBEAT_OK, built by its XDP program or not, with
 * every switch on: the leader's user space counts it (the lease); the
 * quorum program leaves it and the slots alone. */
START_TEST(q_heartbeat_ok_passed)
{
	struct ec_xdp_state *st = &skel->bss->ec_state;
	size_t len = build(pkt, 1, 0, EC_MSG_HEARTBEAT_OK, L_VIEW, L_OP, 0);

	st->switches[EC_OFFLOAD_QUORUM] = ~0u;
	st->switches[EC_OFFLOAD_FASTACK] = ~0u;
	ec_of(pkt)->commit = 0;
	ec_of(pkt)->flags = EC_F_FAST_ACK;
	expect_untouched(len, XDP_PASS, EC_XDP_PASS_OTHER);
	ec_of(pkt)->flags = 0;
	set_udp_csum(pkt);
	expect_untouched(len, XDP_PASS, EC_XDP_PASS_OTHER);
	ck_assert_uint_eq(slot(L_OP), EC_SLOT_TAG(L_OP, L_VIEW));
}
END_TEST

/* n = 3: one follower ack is the quorum. */
START_TEST(q_n3_first_ack_completes)
{
	size_t len;

	teardown();
	leader(3);
	ck_assert_uint_eq(skel->bss->ec_state.quorum, 1);
	len = ack(2, L_VIEW, L_OP, true);
	expect(len, XDP_PASS, EC_XDP_Q_QUORUM);
	assert_flagged(len);
	expect(ack(1, L_VIEW, L_OP, false), XDP_DROP, EC_XDP_Q_EXTRA);
	len = ack(2, L_VIEW, L_OP, false);
	expect(len, XDP_PASS, EC_XDP_Q_LATE);
	assert_flagged(len);
	/* replica 3 does not exist with n = 3 */
	len = build(pkt, 3, 0, EC_MSG_PREPARE_OK, L_VIEW, L_OP, 0);
	expect_untouched(len, XDP_DROP, EC_XDP_NOT_MEMBER);
}
END_TEST

/* Eight followers acking the same ops (each twice) from several threads:
 * every follower counted once per op, exactly one quorum ack per op, the
 * other first acks pending or extra, the repeats late or duplicate. */
#define Q_N 9
#define Q_QUORUM 4
#define Q_OPS 1000

struct q_worker {
	pthread_t th;
	unsigned sender;
	struct fbuf in, out;
	unsigned passed, dropped;
	int err;
};

/* Thread body: ack ops 1..Q_OPS twice each as w->sender, counting what
 * was dropped and what went up flagged; anything else is an error. */
static void *q_work(void *arg)
{
	struct q_worker *w = arg;
	uint8_t *f = FRAME(&w->in), *o = FRAME(&w->out);
	size_t olen;

	for (uint64_t op = 1; op <= Q_OPS; op++) {
		size_t len = build(f, w->sender, 0, EC_MSG_PREPARE_OK, L_VIEW,
				   op, 0);

		for (int k = 0; k < 2; k++) {
			int r = run_on(f, len, o, &olen);

			if (r == XDP_DROP) {
				w->dropped++;
			} else if (r == XDP_PASS &&
				   (ec_of(o)->flags & EC_F_QUORUM)) {
				w->passed++;
			} else {
				w->err = 1;
				return NULL;
			}
		}
	}
	return NULL;
}

START_TEST(q_concurrent_acks_count_once)
{
	static struct q_worker w[Q_N - 1];
	uint64_t c[EC_XDP_MAX];
	unsigned passed = 0;

	teardown();
	leader(Q_N);
	skel->bss->ec_state.quorum = Q_QUORUM;
	skel->bss->ec_state.commit = 0;
	for (uint64_t op = 1; op <= Q_OPS; op++)
		skel->bss->ec_slots[op % EC_QUORUM_SLOTS] = EC_SLOT_TAG(op, L_VIEW);
	for (unsigned i = 0; i < Q_N - 1; i++) {
		w[i].sender = i + 1;
		ck_assert_int_eq(pthread_create(&w[i].th, NULL, q_work, &w[i]), 0);
	}
	for (unsigned i = 0; i < Q_N - 1; i++) {
		pthread_join(w[i].th, NULL);
		ck_assert_int_eq(w[i].err, 0);
		passed += w[i].passed;
	}
	counters(c);
	ck_assert_uint_eq(c[EC_XDP_Q_QUORUM], Q_OPS);
	ck_assert_uint_eq(c[EC_XDP_Q_PENDING], (Q_QUORUM - 1) * Q_OPS);
	ck_assert_uint_eq(c[EC_XDP_Q_EXTRA], (Q_N - 1 - Q_QUORUM) * Q_OPS);
	ck_assert_uint_eq(c[EC_XDP_Q_LATE] + c[EC_XDP_Q_DUP], (Q_N - 1) * Q_OPS);
	ck_assert_uint_eq(c[EC_XDP_Q_UNKNOWN], 0);
	ck_assert_uint_eq(passed, c[EC_XDP_Q_QUORUM] + c[EC_XDP_Q_LATE]);
	for (uint64_t op = 1; op <= Q_OPS; op++)
		ck_assert_uint_eq(slot(op), EC_SLOT_TAG(op, L_VIEW) | 0x1fe);
}
END_TEST

static Suite *quorum_suite(void)
{
	Suite *s = suite_create("bpf_quorum");
	TCase *q = tcase_create("quorum");

	tcase_add_checked_fixture(q, setup_leader5, teardown);
	tcase_add_test(q, q_first_ack_pending);
	tcase_add_test(q, q_same_follower_dup);
	tcase_add_test(q, q_second_ack_completes);
	tcase_add_test(q, q_extra_after_quorum);
	tcase_add_test(q, q_late_repeat_after_quorum);
	tcase_add_test(q, q_committed_dropped);
	tcase_add_test(q, q_not_leader);
	tcase_add_test(q, q_wrong_view);
	tcase_add_test(q, q_switch_off);
	tcase_add_test(q, q_unknown_slot);
	tcase_add_test(q, q_forged_flag_cleared);
	tcase_add_test(q, q_heartbeat_ok_passed);
	tcase_add_test(q, q_n3_first_ack_completes);
	tcase_add_test(q, q_concurrent_acks_count_once);
	suite_add_tcase(s, q);
	return s;
}

int main(void)
{
	return run_suite(quorum_suite());
}
