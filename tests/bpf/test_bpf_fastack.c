/*
 * test_bpf_fastack.c - the ec_xdp program as a follower: fast ack of the
 * leader's PREPAREs and heartbeats (verdict, the ack's bytes and
 * checksums, the fast-ack log records, the expected op, the promise
 * stamps: expect() checks those of every run) and the classification of
 * frames that are not ours, run on crafted frames with
 * BPF_PROG_TEST_RUN.  Needs root.
 */
#define _GNU_SOURCE /* CPU_COUNT */
#include <arpa/inet.h>
#include <check.h>
#include <endian.h>
#include <linux/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "xdp_harness.h"

/* Replica 1 of 5 in view 3, led by 0, expecting 10. */
#define F_SELF 1
#define F_VIEW 3
#define F_LEADER 0
#define F_NEXT 10

/* Replica F_SELF of 5, a normal follower with fast ack open (for
 * PREPAREs and heartbeats), promise slots for promise_cpus CPUs. */
static void follower_cpus(unsigned ring_bytes, unsigned promise_cpus)
{
	struct ec_xdp_state *st;

	skel = open_load_cpus(5, F_SELF, ring_bytes, promise_cpus);
	st = &skel->bss->ec_state;
	st->switches[EC_OFFLOAD_FASTACK] =
		1u << EC_MSG_PREPARE | 1u << EC_MSG_COMMIT;
	st->view = F_VIEW;
	st->leader = F_LEADER;
	st->expected = EC_FA_WORD(F_VIEW, 1, F_NEXT);
}

/* The follower with a slot for every CPU, as the replica loads it. */
static void follower(unsigned ring_bytes)
{
	follower_cpus(ring_bytes, possible_cpus());
}

/* Checked fixture: the follower with the default ring. */
static void setup_follower(void) { follower(0); }

/* The next op the follower fast-acks (from the expected word). */
static uint64_t expected(void)
{
	return EC_FA_OP(__atomic_load_n(&skel->bss->ec_state.expected,
					__ATOMIC_ACQUIRE));
}

/* ---- follower fast ack ---- */

START_TEST(fa_stores_and_acks)
{
	struct ec_bpf_peer me = peer(F_SELF), ldr = peer(F_LEADER);
	size_t len = build(pkt, F_LEADER, F_SELF, EC_MSG_PREPARE, F_VIEW,
			   F_NEXT, 100);
	struct ec_hdr *h = ec_of(out);

	expect(len, XDP_TX, EC_XDP_FA_ACKED);
	ck_assert_uint_eq(out_len, 74);
	ck_assert(memcmp(eth_of(out)->h_dest, ldr.mac, ETH_ALEN) == 0);
	ck_assert(memcmp(eth_of(out)->h_source, me.mac, ETH_ALEN) == 0);
	ck_assert_uint_eq(eth_of(out)->h_proto, htons(ETH_P_IP));
	ck_assert_uint_eq(ip_of(out)->saddr, me.ip);
	ck_assert_uint_eq(ip_of(out)->daddr, ldr.ip);
	ck_assert_uint_eq(ntohs(ip_of(out)->tot_len), 20 + 8 + 32);
	ck_assert_uint_eq(ip_of(out)->ttl, 64);
	ck_assert_uint_eq(ip_of(out)->protocol, IPPROTO_UDP);
	ck_assert(ip_csum_ok(out));
	ck_assert_uint_eq(udp_of(out)->source, me.port);
	ck_assert_uint_eq(udp_of(out)->dest, ldr.port);
	ck_assert_uint_eq(ntohs(udp_of(out)->len), 8 + 32);
	ck_assert_uint_eq(udp_of(out)->check, 0);
	ck_assert_uint_eq(ntohl(h->magic), EC_MAGIC);
	ck_assert_uint_eq(h->version, EC_VERSION);
	ck_assert_uint_eq(h->type, EC_MSG_PREPARE_OK);
	ck_assert_uint_eq(h->sender, F_SELF);
	ck_assert_uint_eq(h->flags, EC_F_FAST_ACK);
	ck_assert_uint_eq(h->body_len, 0);
	ck_assert_uint_eq(be64toh(h->op), F_NEXT);
	ck_assert_uint_eq(ntohl(h->view), F_VIEW);
	ck_assert_uint_eq(h->commit, 0);

	ck_assert_uint_eq(expected(), F_NEXT + 1);
	ck_assert_uint_eq(drain(), 1);
	assert_record(0, pkt, 100);
}
END_TEST

/* Bodies of every size the log takes, in consecutive ops: the records
 * come out in op order, each the exact payload. */
START_TEST(fa_records_in_op_order)
{
	static const uint32_t sizes[] = { 0, 1, 333, EC_MAX_ENTRY_BODY };
	static struct fbuf sent[4];

	for (unsigned i = 0; i < 4; i++) {
		size_t len = build(pkt, F_LEADER, F_SELF, EC_MSG_PREPARE,
				   F_VIEW, F_NEXT + i, sizes[i]);

		memcpy(FRAME(&sent[i]), pkt, len);
		expect(len, XDP_TX, EC_XDP_FA_ACKED);
		ck_assert_uint_eq(out_len, ACK_LEN);
		ck_assert_uint_eq(be64toh(ec_of(out)->op), F_NEXT + i);
	}
	ck_assert_uint_eq(expected(), F_NEXT + 4);
	ck_assert_uint_eq(drain(), 4);
	for (unsigned i = 0; i < 4; i++)
		assert_record(i, FRAME(&sent[i]), sizes[i]);
	ck_assert_uint_eq(counter(EC_XDP_FA_ACKED), 4);
}
END_TEST

/* A UDP checksum on the PREPARE and link padding behind the datagram:
 * still acked, 74 bytes, checksum 0, padding not stored. */
START_TEST(fa_checksum_and_padding)
{
	size_t len = build(pkt, F_LEADER, F_SELF, EC_MSG_PREPARE, F_VIEW,
			   F_NEXT, 50);

	set_udp_csum(pkt);
	memset(pkt + len, 0xee, 10);
	expect(len + 10, XDP_TX, EC_XDP_FA_ACKED);
	ck_assert_uint_eq(out_len, ACK_LEN);
	ck_assert_uint_eq(udp_of(out)->check, 0);
	ck_assert(ip_csum_ok(out));
	ck_assert_uint_eq(drain(), 1);
	assert_record(0, pkt, 50);
}
END_TEST

START_TEST(fa_switch_off)
{
	size_t len = build(pkt, F_LEADER, F_SELF, EC_MSG_PREPARE, F_VIEW,
			   F_NEXT, 10);

	/* other offloads and other types on, not fast ack for PREPARE */
	skel->bss->ec_state.switches[EC_OFFLOAD_FASTACK] = ~(1u << EC_MSG_PREPARE);
	skel->bss->ec_state.switches[EC_OFFLOAD_QUORUM] = ~0u;
	expect_untouched(len, XDP_PASS, EC_XDP_FA_OFF);
	ck_assert_uint_eq(expected(), F_NEXT);
	ck_assert_uint_eq(drain(), 0);
}
END_TEST

START_TEST(fa_closed)
{
	size_t len = build(pkt, F_LEADER, F_SELF, EC_MSG_PREPARE, F_VIEW,
			   F_NEXT, 10);

	skel->bss->ec_state.expected = 0;
	expect_untouched(len, XDP_PASS, EC_XDP_FA_CLOSED);
	ck_assert_uint_eq(expected(), 0);
	ck_assert_uint_eq(drain(), 0);
}
END_TEST

START_TEST(fa_wrong_view)
{
	size_t len = build(pkt, F_LEADER, F_SELF, EC_MSG_PREPARE, F_VIEW + 1,
			   F_NEXT, 10);

	expect_untouched(len, XDP_PASS, EC_XDP_FA_VIEW);
	build(pkt, F_LEADER, F_SELF, EC_MSG_PREPARE, F_VIEW - 1, F_NEXT, 10);
	expect_untouched(len, XDP_PASS, EC_XDP_FA_VIEW);
	ck_assert_uint_eq(expected(), F_NEXT);
	ck_assert_uint_eq(drain(), 0);
}
END_TEST

/* A valid peer, from its own address, but not the leader of our view. */
START_TEST(fa_not_from_leader)
{
	size_t len = build(pkt, 2, F_SELF, EC_MSG_PREPARE, F_VIEW, F_NEXT, 10);

	expect_untouched(len, XDP_PASS, EC_XDP_FA_NOT_LEADER);
	ck_assert_uint_eq(expected(), F_NEXT);
	ck_assert_uint_eq(drain(), 0);
}
END_TEST

START_TEST(fa_gap)
{
	size_t len = build(pkt, F_LEADER, F_SELF, EC_MSG_PREPARE, F_VIEW,
			   F_NEXT + 1, 10);

	expect_untouched(len, XDP_PASS, EC_XDP_FA_GAP);
	ck_assert_uint_eq(expected(), F_NEXT);
	ck_assert_uint_eq(drain(), 0);
}
END_TEST

/* An op below expected, and a resend of the op just acked. */
START_TEST(fa_old_and_duplicate)
{
	size_t len = build(pkt, F_LEADER, F_SELF, EC_MSG_PREPARE, F_VIEW,
			   F_NEXT - 1, 10);

	expect_untouched(len, XDP_PASS, EC_XDP_FA_OLD);
	len = build(pkt, F_LEADER, F_SELF, EC_MSG_PREPARE, F_VIEW, F_NEXT, 10);
	expect(len, XDP_TX, EC_XDP_FA_ACKED);
	expect_untouched(len, XDP_PASS, EC_XDP_FA_OLD);
	ck_assert_uint_eq(expected(), F_NEXT + 1);
	ck_assert_uint_eq(drain(), 1);
}
END_TEST

START_TEST(fa_oversized)
{
	size_t len = build(pkt, F_LEADER, F_SELF, EC_MSG_PREPARE, F_VIEW,
			   F_NEXT, EC_MAX_ENTRY_BODY + 1);

	expect_untouched(len, XDP_PASS, EC_XDP_FA_OVERSIZED);
	/* a huge claimed body on a small frame is oversized too */
	len = build(pkt, F_LEADER, F_SELF, EC_MSG_PREPARE, F_VIEW, F_NEXT, 8);
	ec_of(pkt)->body_len = htonl(0x7fffffff);
	expect_untouched(len, XDP_PASS, EC_XDP_FA_OVERSIZED);
	ck_assert_uint_eq(expected(), F_NEXT);
	ck_assert_uint_eq(drain(), 0);
}
END_TEST

/* Lengths that do not add up, one at a time, and a commit past the op. */
START_TEST(fa_malformed_lengths)
{
	size_t len;

	/* UDP length one short */
	len = build(pkt, F_LEADER, F_SELF, EC_MSG_PREPARE, F_VIEW, F_NEXT, 64);
	udp_of(pkt)->len = htons(ntohs(udp_of(pkt)->len) - 1);
	expect_untouched(len, XDP_PASS, EC_XDP_FA_MALFORMED);
	/* IP total length one long */
	len = build(pkt, F_LEADER, F_SELF, EC_MSG_PREPARE, F_VIEW, F_NEXT, 64);
	ip_of(pkt)->tot_len = htons(ntohs(ip_of(pkt)->tot_len) + 1);
	fix_ip_csum(pkt);
	expect_untouched(len, XDP_PASS, EC_XDP_FA_MALFORMED);
	/* body_len smaller than the datagram carries */
	len = build(pkt, F_LEADER, F_SELF, EC_MSG_PREPARE, F_VIEW, F_NEXT, 64);
	ec_of(pkt)->body_len = htonl(63);
	expect_untouched(len, XDP_PASS, EC_XDP_FA_MALFORMED);
	/* headers consistent, frame cut short */
	len = build(pkt, F_LEADER, F_SELF, EC_MSG_PREPARE, F_VIEW, F_NEXT, 64);
	expect_untouched(len - 1, XDP_PASS, EC_XDP_FA_MALFORMED);
	/* a commit past the op: user space would refuse to keep it */
	len = build(pkt, F_LEADER, F_SELF, EC_MSG_PREPARE, F_VIEW, F_NEXT, 64);
	ec_of(pkt)->commit = htobe64(F_NEXT + 1);
	expect_untouched(len, XDP_PASS, EC_XDP_FA_MALFORMED);
	ck_assert_uint_eq(expected(), F_NEXT);
	ck_assert_uint_eq(drain(), 0);
	ck_assert_uint_eq(counter(EC_XDP_FA_MALFORMED), 5);
}
END_TEST

/* A ring of one page holds two records: the third PREPARE goes up and
 * expected stays; once user space drains, the retry is acked. */
START_TEST(fa_ring_full)
{
	size_t len;

	teardown();
	follower((unsigned)getpagesize());
	ck_assert_uint_lt(2 * (sizeof(struct ec_fa_record) + 8),
			  (size_t)getpagesize());
	for (unsigned i = 0; i < 2; i++) {
		len = build(pkt, F_LEADER, F_SELF, EC_MSG_PREPARE, F_VIEW,
			    F_NEXT + i, EC_MAX_ENTRY_BODY);
		expect(len, XDP_TX, EC_XDP_FA_ACKED);
	}
	len = build(pkt, F_LEADER, F_SELF, EC_MSG_PREPARE, F_VIEW, F_NEXT + 2,
		    EC_MAX_ENTRY_BODY);
	expect_untouched(len, XDP_PASS, EC_XDP_FA_FULL);
	ck_assert_uint_eq(expected(), F_NEXT + 2);
	ck_assert_uint_eq(drain(), 2);
	expect(len, XDP_TX, EC_XDP_FA_ACKED);
	ck_assert_uint_eq(expected(), F_NEXT + 3);
	ck_assert_uint_eq(drain(), 1);
	assert_record(2, pkt, EC_MAX_ENTRY_BODY);
}
END_TEST

/* What user space does on closing and reopening: move expected under the
 * program's feet (here between 0 and F_NEXT in a new epoch each time).
 * Lost compare-and-swaps must pass the frame up untouched and leave
 * nothing in the log.  The race needs both threads on a CPU at once, which
 * a loaded two-CPU machine grants rarely: hence a long deadline, ended
 * early by the third race, and a test-case timeout above it. */
#define RACE_DEADLINE_S 30

struct closer {
	volatile bool stop;
	__u64 *expected;
};

/* Thread body: close and reopen fast ack until told to stop. */
static void *close_reopen(void *arg)
{
	struct closer *c = arg;

	for (unsigned epoch = 2; !c->stop; epoch++) {
		__atomic_store_n(c->expected, 0, __ATOMIC_SEQ_CST);
		__atomic_store_n(c->expected, EC_FA_WORD(F_VIEW, epoch, F_NEXT),
				 __ATOMIC_SEQ_CST);
	}
	return NULL;
}

/* Run pkt[0..len) (whose body of body_len bytes goes into the ring when
 * acked) against close_reopen until three runs lost the race (verdict
 * `race`): each of those goes up untouched and leaves no record; every
 * `acked` leaves one. */
static void race_lost_cas(size_t len, size_t body_len, unsigned acked_v,
			  unsigned race)
{
	struct closer c = { .expected = &skel->bss->ec_state.expected };
	uint64_t acked = 0, raced = 0, c_now[EC_XDP_MAX];
	struct timespec t0, t;
	pthread_t th;

	ck_assert_int_eq(pthread_create(&th, NULL, close_reopen, &c), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		int r = run_on(pkt, len, out, &out_len);

		ck_assert_int_ge(r, 0);
		counters(c_now);
		if (c_now[race] > raced) {
			ck_assert_int_eq(r, XDP_PASS);
			ck_assert_uint_eq(out_len, len);
			ck_assert(memcmp(out, pkt, len) == 0);
			raced = c_now[race];
		}
		if (r == XDP_TX)
			acked++;
		drain();
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (raced < 3 && t.tv_sec - t0.tv_sec < RACE_DEADLINE_S);
	c.stop = true;
	pthread_join(th, NULL);
	ck_assert_msg(raced > 0, "no lost compare-and-swap in %d s",
		      RACE_DEADLINE_S);
	ck_assert_uint_eq(c_now[acked_v], acked);
	/* one record for every ack, none for anything else */
	ck_assert_uint_eq(sink.n, acked);
	for (unsigned i = 0; i < sink.n && i < SINK_MAX; i++)
		assert_record(i, pkt, body_len);
}

START_TEST(fa_race_lost_cas)
{
	size_t len = build(pkt, F_LEADER, F_SELF, EC_MSG_PREPARE, F_VIEW,
			   F_NEXT, EC_MAX_ENTRY_BODY);

	if (have_cpus(2, "fa_race_lost_cas"))
		race_lost_cas(len, EC_MAX_ENTRY_BODY, EC_XDP_FA_ACKED,
			      EC_XDP_FA_RACE);
}
END_TEST

/* Several CPUs handing the program the same PREPAREs: each op is stored
 * and acked exactly once, and the log holds the ops in order. */
#define FA_THREADS 4
#define FA_OPS 1000

struct fa_worker {
	pthread_t th;
	struct fbuf in, out;
	unsigned acked;
	int err;
};

/* Thread body: feed ops 1..FA_OPS, each until some thread's ack moved
 * expected past it; counts this thread's acks. */
static void *fa_work(void *arg)
{
	struct fa_worker *w = arg;
	uint8_t *f = FRAME(&w->in);
	size_t olen;

	for (uint64_t op = 1; op <= FA_OPS; op++) {
		size_t len = build(f, F_LEADER, F_SELF, EC_MSG_PREPARE, F_VIEW,
				   op, (uint32_t)(op % 200));

		while (expected() <= op) {
			int r = run_on(f, len, FRAME(&w->out), &olen);

			if (r < 0 || (r == XDP_TX && olen != ACK_LEN)) {
				w->err = 1;
				return NULL;
			}
			if (r == XDP_TX)
				w->acked++;
		}
	}
	return NULL;
}

START_TEST(fa_concurrent_prepares_once_each)
{
	static struct fa_worker w[FA_THREADS];
	unsigned acked = 0;

	skel->bss->ec_state.expected = EC_FA_WORD(F_VIEW, 1, 1);
	for (int i = 0; i < FA_THREADS; i++)
		ck_assert_int_eq(pthread_create(&w[i].th, NULL, fa_work, &w[i]), 0);
	for (int i = 0; i < FA_THREADS; i++) {
		pthread_join(w[i].th, NULL);
		ck_assert_int_eq(w[i].err, 0);
		acked += w[i].acked;
	}
	ck_assert_uint_eq(acked, FA_OPS);
	ck_assert_uint_eq(counter(EC_XDP_FA_ACKED), FA_OPS);
	ck_assert_uint_eq(expected(), FA_OPS + 1);
	ck_assert_uint_eq(drain(), FA_OPS);
	for (unsigned i = 0; i < FA_OPS; i++) {
		const struct ec_fa_record *r = &sink.rec[i];
		const struct ec_hdr *h = (const struct ec_hdr *)r->data;
		uint32_t body = (i + 1) % 200;

		ck_assert_uint_eq(be64toh(h->op), i + 1);
		ck_assert_uint_eq(r->len, sizeof(*h) + body);
		for (uint32_t b = 0; b < body; b++)
			ck_assert_uint_eq(r->data[sizeof(*h) + b],
					  body_byte(i + 1, b));
	}
}
END_TEST

/* ---- follower fast ack of heartbeats ---- */

/* A heartbeat from `from` in pkt: a COMMIT of view with the leader's last
 * op F_NEXT - 1 (commit one below) and heartbeat number seq.  Returns its
 * length. */
static size_t heartbeat(unsigned from, uint32_t view, uint64_t seq)
{
	size_t len = build(pkt, from, F_SELF, EC_MSG_COMMIT, view, F_NEXT - 1,
			   sizeof(struct ec_heartbeat));
	struct ec_heartbeat hb = { htobe64(seq) };

	memcpy(pkt + ACK_LEN, &hb, sizeof(hb));
	return len;
}

#define HB_SEQ 77

START_TEST(hb_stores_and_acks)
{
	struct ec_bpf_peer me = peer(F_SELF), ldr = peer(F_LEADER);
	size_t len = heartbeat(F_LEADER, F_VIEW, HB_SEQ);
	struct ec_hdr *h = ec_of(out);
	uint64_t t0 = boot_ns();

	expect(len, XDP_TX, EC_XDP_HB_ACKED);
	/* the stamp: no earlier than the frame, which expect() bounds by
	 * the run as well */
	ck_assert_uint_ge(last_stamp, t0);
	ck_assert_uint_le(last_stamp, boot_ns());
	ck_assert_uint_eq(out_len, 74);
	ck_assert(memcmp(eth_of(out)->h_dest, ldr.mac, ETH_ALEN) == 0);
	ck_assert(memcmp(eth_of(out)->h_source, me.mac, ETH_ALEN) == 0);
	ck_assert_uint_eq(eth_of(out)->h_proto, htons(ETH_P_IP));
	ck_assert_uint_eq(ip_of(out)->saddr, me.ip);
	ck_assert_uint_eq(ip_of(out)->daddr, ldr.ip);
	ck_assert_uint_eq(ntohs(ip_of(out)->tot_len), 20 + 8 + 32);
	ck_assert_uint_eq(ip_of(out)->ttl, 64);
	ck_assert_uint_eq(ip_of(out)->protocol, IPPROTO_UDP);
	ck_assert(ip_csum_ok(out));
	ck_assert_uint_eq(udp_of(out)->source, me.port);
	ck_assert_uint_eq(udp_of(out)->dest, ldr.port);
	ck_assert_uint_eq(ntohs(udp_of(out)->len), 8 + 32);
	ck_assert_uint_eq(udp_of(out)->check, 0);
	ck_assert_uint_eq(ntohl(h->magic), EC_MAGIC);
	ck_assert_uint_eq(h->version, EC_VERSION);
	ck_assert_uint_eq(h->type, EC_MSG_HEARTBEAT_OK);
	ck_assert_uint_eq(h->sender, F_SELF);
	ck_assert_uint_eq(h->flags, EC_F_FAST_ACK);
	ck_assert_uint_eq(h->body_len, 0);
	ck_assert_uint_eq(be64toh(h->op), HB_SEQ);
	ck_assert_uint_eq(ntohl(h->view), F_VIEW);
	ck_assert_uint_eq(h->commit, 0);

	/* a heartbeat holds no op: the window stays where it was */
	ck_assert_uint_eq(expected(), F_NEXT);
	ck_assert_uint_eq(drain(), 1);
	assert_record(0, pkt, sizeof(struct ec_heartbeat));
}
END_TEST

/* Heartbeats between PREPAREs: each acked, the records in arrival
 * order, expected moved by the PREPAREs only; a UDP checksum and link
 * padding on a heartbeat change nothing of its ack. */
START_TEST(hb_between_prepares)
{
	static struct fbuf sent[4];
	size_t lens[4], len;
	uint64_t stamp;

	len = build(pkt, F_LEADER, F_SELF, EC_MSG_PREPARE, F_VIEW, F_NEXT, 30);
	memcpy(FRAME(&sent[0]), pkt, lens[0] = len);
	expect(len, XDP_TX, EC_XDP_FA_ACKED);
	stamp = last_stamp;
	len = heartbeat(F_LEADER, F_VIEW, 1);
	set_udp_csum(pkt);
	memcpy(FRAME(&sent[1]), pkt, lens[1] = len);
	memset(pkt + len, 0xee, 10);
	expect(len + 10, XDP_TX, EC_XDP_HB_ACKED);
	ck_assert_uint_eq(out_len, ACK_LEN);
	ck_assert_uint_eq(udp_of(out)->check, 0);
	ck_assert(ip_csum_ok(out));
	ck_assert_uint_eq(be64toh(ec_of(out)->op), 1);
	ck_assert_uint_gt(last_stamp, stamp);
	len = heartbeat(F_LEADER, F_VIEW, 2);
	memcpy(FRAME(&sent[2]), pkt, lens[2] = len);
	expect(len, XDP_TX, EC_XDP_HB_ACKED);
	len = build(pkt, F_LEADER, F_SELF, EC_MSG_PREPARE, F_VIEW, F_NEXT + 1,
		    0);
	memcpy(FRAME(&sent[3]), pkt, lens[3] = len);
	expect(len, XDP_TX, EC_XDP_FA_ACKED);
	ck_assert_uint_eq(expected(), F_NEXT + 2);
	ck_assert_uint_eq(drain(), 4);
	assert_record(0, FRAME(&sent[0]), 30);
	assert_record(1, FRAME(&sent[1]), 8);
	assert_record(2, FRAME(&sent[2]), 8);
	assert_record(3, FRAME(&sent[3]), 0);
}
END_TEST

/* The switch bit of COMMIT alone decides, whatever the others say. */
START_TEST(hb_switch_off)
{
	struct ec_xdp_state *st = &skel->bss->ec_state;
	size_t len = heartbeat(F_LEADER, F_VIEW, HB_SEQ);

	st->switches[EC_OFFLOAD_FASTACK] = ~(1u << EC_MSG_COMMIT);
	st->switches[EC_OFFLOAD_QUORUM] = ~0u;
	expect_untouched(len, XDP_PASS, EC_XDP_HB_OFF);
	/* and the PREPARE bit off does not stop heartbeats */
	st->switches[EC_OFFLOAD_FASTACK] = 1u << EC_MSG_COMMIT;
	expect(len, XDP_TX, EC_XDP_HB_ACKED);
	len = build(pkt, F_LEADER, F_SELF, EC_MSG_PREPARE, F_VIEW, F_NEXT, 10);
	expect_untouched(len, XDP_PASS, EC_XDP_FA_OFF);
	ck_assert_uint_eq(drain(), 1);
}
END_TEST

START_TEST(hb_closed)
{
	size_t len = heartbeat(F_LEADER, F_VIEW, HB_SEQ);

	skel->bss->ec_state.expected = 0;
	expect_untouched(len, XDP_PASS, EC_XDP_HB_CLOSED);
	ck_assert_uint_eq(expected(), 0);
	ck_assert_uint_eq(drain(), 0);
}
END_TEST

/* Another view, also one with the same low byte as ours (the word's tag
 * agrees, the view does not). */
START_TEST(hb_wrong_view)
{
	static const uint32_t views[] = { F_VIEW + 1, F_VIEW - 1,
					  F_VIEW + 256 };

	for (unsigned i = 0; i < 3; i++) {
		size_t len = heartbeat(F_LEADER, views[i], HB_SEQ);

		expect_untouched(len, XDP_PASS, EC_XDP_HB_VIEW);
	}
	ck_assert_uint_eq(expected(), F_NEXT);
	ck_assert_uint_eq(drain(), 0);
}
END_TEST

/* A peer from its own address, but not our view's leader. */
START_TEST(hb_not_from_leader)
{
	size_t len = heartbeat(2, F_VIEW, HB_SEQ);

	expect_untouched(len, XDP_PASS, EC_XDP_HB_NOT_LEADER);
	ck_assert_uint_eq(drain(), 0);
}
END_TEST

/* What user space would not answer, one at a time: no heartbeat body, a
 * body of another size, seq 0, lengths that do not add up, a frame cut
 * short, a commit past the leader's op. */
START_TEST(hb_malformed)
{
	static const uint32_t bodies[] = { 0, 7, 9, 16 };
	size_t len;

	for (unsigned i = 0; i < 4; i++) {
		len = build(pkt, F_LEADER, F_SELF, EC_MSG_COMMIT, F_VIEW,
			    F_NEXT - 1, bodies[i]);
		expect_untouched(len, XDP_PASS, EC_XDP_HB_MALFORMED);
	}
	len = heartbeat(F_LEADER, F_VIEW, 0);
	expect_untouched(len, XDP_PASS, EC_XDP_HB_MALFORMED);
	/* body_len says 8, the datagram carries 9 */
	len = build(pkt, F_LEADER, F_SELF, EC_MSG_COMMIT, F_VIEW, F_NEXT - 1,
		    9);
	ec_of(pkt)->body_len = htonl(8);
	memset(pkt + ACK_LEN, 1, 8);
	expect_untouched(len, XDP_PASS, EC_XDP_HB_MALFORMED);
	/* UDP length one short */
	len = heartbeat(F_LEADER, F_VIEW, HB_SEQ);
	udp_of(pkt)->len = htons(ntohs(udp_of(pkt)->len) - 1);
	expect_untouched(len, XDP_PASS, EC_XDP_HB_MALFORMED);
	/* headers consistent, frame cut short (inside the seq, and right
	 * after the header) */
	len = heartbeat(F_LEADER, F_VIEW, HB_SEQ);
	expect_untouched(len - 1, XDP_PASS, EC_XDP_HB_MALFORMED);
	expect_untouched(ACK_LEN, XDP_PASS, EC_XDP_HB_MALFORMED);
	/* a commit past the op: user space refuses the COMMIT */
	len = heartbeat(F_LEADER, F_VIEW, HB_SEQ);
	ec_of(pkt)->commit = htobe64(F_NEXT);
	expect_untouched(len, XDP_PASS, EC_XDP_HB_MALFORMED);
	ck_assert_uint_eq(drain(), 0);
	ck_assert_uint_eq(counter(EC_XDP_HB_MALFORMED), 10);
}
END_TEST

/* A ring of one page, two full PREPAREs in it: the heartbeat goes up,
 * and is acked once user space drained. */
START_TEST(hb_ring_full)
{
	size_t len;

	teardown();
	follower((unsigned)getpagesize());
	for (unsigned i = 0; i < 2; i++) {
		len = build(pkt, F_LEADER, F_SELF, EC_MSG_PREPARE, F_VIEW,
			    F_NEXT + i, EC_MAX_ENTRY_BODY);
		expect(len, XDP_TX, EC_XDP_FA_ACKED);
	}
	len = heartbeat(F_LEADER, F_VIEW, HB_SEQ);
	expect_untouched(len, XDP_PASS, EC_XDP_HB_FULL);
	ck_assert_uint_eq(drain(), 2);
	expect(len, XDP_TX, EC_XDP_HB_ACKED);
	ck_assert_uint_eq(drain(), 1);
	assert_record(2, pkt, sizeof(struct ec_heartbeat));
}
END_TEST

/* The window closed (or reopened) between the program's read and its
 * compare-and-swap: the heartbeat goes up untouched, unrecorded. */
START_TEST(hb_race_lost_cas)
{
	size_t len = heartbeat(F_LEADER, F_VIEW, HB_SEQ);

	if (have_cpus(2, "hb_race_lost_cas"))
		race_lost_cas(len, sizeof(struct ec_heartbeat),
			      EC_XDP_HB_ACKED, EC_XDP_HB_RACE);
}
END_TEST

/* Run on CPU cpu from now on. */
static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	ck_assert_int_eq(sched_setaffinity(0, sizeof(set), &set), 0);
}

/* Slots for CPU 0 only: on CPU 1 neither a PREPARE nor a heartbeat is
 * acknowledged (user space would never see the promise), on CPU 0 both
 * are, stamping slot 0. */
START_TEST(no_promise_slot)
{
	size_t len;

	if (!have_cpus(2, "no_promise_slot"))
		return;
	teardown();
	follower_cpus(0, 1);
	pin(1);
	len = build(pkt, F_LEADER, F_SELF, EC_MSG_PREPARE, F_VIEW, F_NEXT, 10);
	expect_untouched(len, XDP_PASS, EC_XDP_FA_NO_CPU);
	len = heartbeat(F_LEADER, F_VIEW, HB_SEQ);
	expect_untouched(len, XDP_PASS, EC_XDP_HB_NO_CPU);
	ck_assert_uint_eq(expected(), F_NEXT);
	ck_assert_uint_eq(drain(), 0);
	pin(0);
	expect(len, XDP_TX, EC_XDP_HB_ACKED);
	ck_assert_uint_eq(skel->bss->ec_promise_ns[0], last_stamp);
	len = build(pkt, F_LEADER, F_SELF, EC_MSG_PREPARE, F_VIEW, F_NEXT, 10);
	expect(len, XDP_TX, EC_XDP_FA_ACKED);
	ck_assert_uint_eq(skel->bss->ec_promise_ns[0], last_stamp);
	ck_assert_uint_eq(drain(), 2);
}
END_TEST

/* ---- classification (any role) ---- */

/* Frames flooded by the bridge to us but for another replica. */
START_TEST(not_for_us)
{
	struct ec_bpf_peer other = peer(3);
	size_t len;

	len = build(pkt, F_LEADER, F_SELF, EC_MSG_PREPARE, F_VIEW, F_NEXT, 10);
	memcpy(eth_of(pkt)->h_dest, other.mac, ETH_ALEN);
	expect_untouched(len, XDP_PASS, EC_XDP_PASS_NOT_EC);
	len = build(pkt, F_LEADER, F_SELF, EC_MSG_PREPARE, F_VIEW, F_NEXT, 10);
	ip_of(pkt)->daddr = other.ip;
	fix_ip_csum(pkt);
	expect_untouched(len, XDP_PASS, EC_XDP_PASS_NOT_EC);
	len = build(pkt, F_LEADER, F_SELF, EC_MSG_PREPARE, F_VIEW, F_NEXT, 10);
	udp_of(pkt)->dest = other.port;
	expect_untouched(len, XDP_PASS, EC_XDP_PASS_NOT_EC);
	/* the whole frame for replica 3 */
	len = build(pkt, F_LEADER, 3, EC_MSG_PREPARE, F_VIEW, F_NEXT, 10);
	expect_untouched(len, XDP_PASS, EC_XDP_PASS_NOT_EC);
	ck_assert_uint_eq(expected(), F_NEXT);
}
END_TEST

/* Not an electrode-c datagram: other protocols, bad header, too short. */
START_TEST(not_ec)
{
	size_t len;

	len = build(pkt, F_LEADER, F_SELF, EC_MSG_PREPARE, F_VIEW, F_NEXT, 10);
	eth_of(pkt)->h_proto = htons(ETH_P_ARP);
	expect_untouched(len, XDP_PASS, EC_XDP_PASS_NOT_EC);
	eth_of(pkt)->h_proto = htons(ETH_P_IPV6);
	expect_untouched(len, XDP_PASS, EC_XDP_PASS_NOT_EC);
	len = build(pkt, F_LEADER, F_SELF, EC_MSG_PREPARE, F_VIEW, F_NEXT, 10);
	ip_of(pkt)->protocol = IPPROTO_TCP;
	fix_ip_csum(pkt);
	expect_untouched(len, XDP_PASS, EC_XDP_PASS_NOT_EC);
	len = build(pkt, F_LEADER, F_SELF, EC_MSG_PREPARE, F_VIEW, F_NEXT, 10);
	ip_of(pkt)->frag_off = htons(0x2000); /* more fragments */
	fix_ip_csum(pkt);
	expect_untouched(len, XDP_PASS, EC_XDP_PASS_NOT_EC);
	len = build(pkt, F_LEADER, F_SELF, EC_MSG_PREPARE, F_VIEW, F_NEXT, 10);
	ec_of(pkt)->magic = htonl(EC_MAGIC + 1);
	expect_untouched(len, XDP_PASS, EC_XDP_PASS_NOT_EC);
	len = build(pkt, F_LEADER, F_SELF, EC_MSG_PREPARE, F_VIEW, F_NEXT, 10);
	ec_of(pkt)->version = EC_VERSION + 1;
	expect_untouched(len, XDP_PASS, EC_XDP_PASS_NOT_EC);
	len = build(pkt, F_LEADER, F_SELF, EC_MSG_TYPE_MAX, F_VIEW, F_NEXT, 0);
	expect_untouched(len, XDP_PASS, EC_XDP_PASS_NOT_EC);
	/* the electrode-c header cut short */
	build(pkt, F_LEADER, F_SELF, EC_MSG_PREPARE, F_VIEW, F_NEXT, 0);
	expect_untouched(ACK_LEN - 1, XDP_PASS, EC_XDP_PASS_NOT_EC);
	expect_untouched(sizeof(struct ethhdr), XDP_PASS, EC_XDP_PASS_NOT_EC);
	ck_assert_uint_eq(expected(), F_NEXT);
	ck_assert_uint_eq(drain(), 0);
}
END_TEST

/* A PREPARE whose sender is not a valid other replica sending from its
 * own address: dropped, whatever the switches say. */
START_TEST(invalid_sender)
{
	struct ec_bpf_peer two = peer(2);
	size_t len;

	len = build(pkt, F_LEADER, F_SELF, EC_MSG_PREPARE, F_VIEW, F_NEXT, 10);
	ec_of(pkt)->sender = 5; /* n = 5 */
	expect_untouched(len, XDP_DROP, EC_XDP_NOT_MEMBER);
	ec_of(pkt)->sender = EC_SENDER_CLIENT;
	expect_untouched(len, XDP_DROP, EC_XDP_NOT_MEMBER);
	ec_of(pkt)->sender = F_SELF;
	expect_untouched(len, XDP_DROP, EC_XDP_NOT_MEMBER);
	/* claims the leader, sent from replica 2's IP or port */
	len = build(pkt, F_LEADER, F_SELF, EC_MSG_PREPARE, F_VIEW, F_NEXT, 10);
	ip_of(pkt)->saddr = two.ip;
	fix_ip_csum(pkt);
	expect_untouched(len, XDP_DROP, EC_XDP_NOT_MEMBER);
	len = build(pkt, F_LEADER, F_SELF, EC_MSG_PREPARE, F_VIEW, F_NEXT, 10);
	udp_of(pkt)->source = two.port;
	expect_untouched(len, XDP_DROP, EC_XDP_NOT_MEMBER);
	/* all of it from replica 5, whose address is in the table */
	len = build(pkt, 5, F_SELF, EC_MSG_PREPARE, F_VIEW, F_NEXT, 10);
	expect_untouched(len, XDP_DROP, EC_XDP_NOT_MEMBER);
	/* from ourselves, to ourselves, even while we are the leader */
	skel->bss->ec_state.leader = F_SELF;
	len = build(pkt, F_SELF, F_SELF, EC_MSG_PREPARE, F_VIEW, F_NEXT, 10);
	expect_untouched(len, XDP_DROP, EC_XDP_NOT_MEMBER);
	ck_assert_uint_eq(expected(), F_NEXT);
	ck_assert_uint_eq(drain(), 0);
}
END_TEST

/* The membership rule for every type: from an address that is no
 * replica's, a REQUEST goes up, and so does a READ (the read offload is
 * off here: test_bpf_read.c); anything else is dropped. */
START_TEST(member_rule_for_every_type)
{
	for (unsigned t = 1; t < EC_MSG_TYPE_MAX; t++) {
		size_t len = build(pkt, F_LEADER, F_SELF, (uint8_t)t, F_VIEW,
				   F_NEXT, 10);

		if (t == EC_MSG_REQUEST || t == EC_MSG_READ)
			ec_of(pkt)->sender = EC_SENDER_CLIENT;
		ip_of(pkt)->saddr ^= htonl(0x80); /* a client's host */
		fix_ip_csum(pkt);
		if (t == EC_MSG_REQUEST)
			expect_untouched(len, XDP_PASS, EC_XDP_PASS_OTHER);
		else if (t == EC_MSG_READ)
			expect_untouched(len, XDP_PASS, EC_XDP_RD_OFF);
		else
			expect_untouched(len, XDP_DROP, EC_XDP_NOT_MEMBER);
	}
	ck_assert_uint_eq(expected(), F_NEXT);
	ck_assert_uint_eq(drain(), 0);
}
END_TEST

/* Types no offload handles, from the leader and from a follower. */
START_TEST(other_types)
{
	size_t len;

	len = build(pkt, F_LEADER, F_SELF, EC_MSG_START_VIEW, F_VIEW, F_NEXT,
		    40);
	expect_untouched(len, XDP_PASS, EC_XDP_PASS_OTHER);
	/* a HEARTBEAT_OK is the leader's to read (not the quorum's) */
	len = build(pkt, 2, F_SELF, EC_MSG_HEARTBEAT_OK, F_VIEW, 5, 0);
	ec_of(pkt)->flags = EC_F_FAST_ACK;
	expect_untouched(len, XDP_PASS, EC_XDP_PASS_OTHER);
	len = build(pkt, 2, F_SELF, EC_MSG_START_VIEW_CHANGE, F_VIEW, 0, 20);
	expect_untouched(len, XDP_PASS, EC_XDP_PASS_OTHER);
	ck_assert_uint_eq(expected(), F_NEXT);
}
END_TEST

static Suite *fastack_suite(void)
{
	Suite *s = suite_create("bpf_fastack");
	TCase *fa = tcase_create("fastack");
	TCase *hb = tcase_create("heartbeat");
	TCase *cl = tcase_create("classify");

	tcase_add_checked_fixture(fa, setup_follower, teardown);
	tcase_set_timeout(fa, RACE_DEADLINE_S + 10);
	tcase_add_test(fa, fa_stores_and_acks);
	tcase_add_test(fa, fa_records_in_op_order);
	tcase_add_test(fa, fa_checksum_and_padding);
	tcase_add_test(fa, fa_switch_off);
	tcase_add_test(fa, fa_closed);
	tcase_add_test(fa, fa_wrong_view);
	tcase_add_test(fa, fa_not_from_leader);
	tcase_add_test(fa, fa_gap);
	tcase_add_test(fa, fa_old_and_duplicate);
	tcase_add_test(fa, fa_oversized);
	tcase_add_test(fa, fa_malformed_lengths);
	tcase_add_test(fa, fa_ring_full);
	tcase_add_test(fa, fa_race_lost_cas);
	tcase_add_test(fa, fa_concurrent_prepares_once_each);
	suite_add_tcase(s, fa);

	tcase_add_checked_fixture(hb, setup_follower, teardown);
	tcase_set_timeout(hb, RACE_DEADLINE_S + 10);
	tcase_add_test(hb, hb_stores_and_acks);
	tcase_add_test(hb, hb_between_prepares);
	tcase_add_test(hb, hb_switch_off);
	tcase_add_test(hb, hb_closed);
	tcase_add_test(hb, hb_wrong_view);
	tcase_add_test(hb, hb_not_from_leader);
	tcase_add_test(hb, hb_malformed);
	tcase_add_test(hb, hb_ring_full);
	tcase_add_test(hb, hb_race_lost_cas);
	tcase_add_test(hb, no_promise_slot);
	suite_add_tcase(s, hb);

	tcase_add_checked_fixture(cl, setup_follower, teardown);
	tcase_add_test(cl, not_for_us);
	tcase_add_test(cl, not_ec);
	tcase_add_test(cl, invalid_sender);
	tcase_add_test(cl, member_rule_for_every_type);
	tcase_add_test(cl, other_types);
	suite_add_tcase(s, cl);
	return s;
}

int main(void)
{
	return run_suite(fastack_suite());
}
