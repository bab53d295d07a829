/*
 * test_bpf_xdp.c - the ec_xdp program (follower fast ack, leader wait on
 * quorum) run on crafted frames with BPF_PROG_TEST_RUN: verdict, output
 * bytes, checksums, ring buffer records, .bss side effects and the
 * per-verdict counters.  Needs root (loading BPF); no device is used.
 */
#define _GNU_SOURCE /* CPU_COUNT */
#include <arpa/inet.h>
#include <check.h>
#include <endian.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ec_offload.h"
#include "ec_xdp.skel.h"

#define L2L4_LEN (sizeof(struct ethhdr) + sizeof(struct iphdr) + \
		  sizeof(struct udphdr))
#define ACK_LEN (L2L4_LEN + sizeof(struct ec_hdr))
#define BUF_SIZE 2048
/* Frames start 6 bytes into an 8-aligned buffer, which aligns every
 * field of the IP, UDP and electrode-c headers naturally. */
#define FRAME_OFF 6

/* A frame buffer with its frame at FRAME_OFF. */
struct fbuf {
	_Alignas(8) uint8_t store[BUF_SIZE];
};
#define FRAME(b) ((b)->store + FRAME_OFF)

/* The follower tests: replica 1 of 5 in view 3, led by 0, expecting 10. */
#define F_SELF 1
#define F_VIEW 3
#define F_LEADER 0
#define F_NEXT 10
/* The quorum tests: replica 0 leads view 5 of 5, commit 19, op 20. */
#define L_VIEW 5
#define L_COMMIT 19
#define L_OP 20

static struct ec_xdp *skel;
static struct fbuf in_buf, out_buf;
static uint8_t *const pkt = FRAME(&in_buf);
static uint8_t *const out = FRAME(&out_buf);
static size_t out_len;

static struct ethhdr *eth_of(uint8_t *f) { return (struct ethhdr *)f; }
static struct iphdr *ip_of(uint8_t *f)
{
	return (struct iphdr *)(f + sizeof(struct ethhdr));
}
static struct udphdr *udp_of(uint8_t *f)
{
	return (struct udphdr *)(f + sizeof(struct ethhdr) +
				 sizeof(struct iphdr));
}
static struct ec_hdr *ec_of(uint8_t *f)
{
	return (struct ec_hdr *)(f + L2L4_LEN);
}

/* Replica i's address in the tests: distinct IPs, MACs and ports. */
static struct ec_bpf_peer peer(unsigned i)
{
	struct ec_bpf_peer p = {
		.ip = htonl(0xc6120000u | (10 + i)), /* 198.18.0.10+i */
		.port = htons(7000 + i),
		.mac = { 0x02, 0xec, 0x00, 0x00, 0x00, (uint8_t)(0x10 + i) },
		.valid = 1,
	};
	return p;
}

/* One's complement sum of len bytes (network order words). */
static uint32_t sum16(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Recompute the IP header checksum of frame f. */
static void fix_ip_csum(uint8_t *f)
{
	struct iphdr *ip = ip_of(f);

	ip->check = 0;
	ip->check = htons((uint16_t)~fold(sum16((uint8_t *)ip, sizeof(*ip), 0)));
}

static bool ip_csum_ok(uint8_t *f)
{
	return fold(sum16((uint8_t *)ip_of(f), sizeof(struct iphdr), 0)) ==
	       0xffff;
}

/* Sum of the UDP pseudo-header and datagram of frame f. */
static uint16_t udp_sum(uint8_t *f)
{
	struct iphdr *ip = ip_of(f);
	size_t ulen = ntohs(udp_of(f)->len);
	uint32_t sum = sum16((uint8_t *)&ip->saddr, 8, 0);

	sum += IPPROTO_UDP + ulen;
	return fold(sum16((uint8_t *)udp_of(f), ulen, sum));
}

/* Give frame f a real UDP checksum, as a stack without SO_NO_CHECK would. */
static void set_udp_csum(uint8_t *f)
{
	uint16_t c;

	udp_of(f)->check = 0;
	c = (uint16_t)~udp_sum(f);
	udp_of(f)->check = htons(c ? c : 0xffff);
}

static bool udp_csum_ok(uint8_t *f)
{
	return udp_of(f)->check == 0 || udp_sum(f) == 0xffff;
}

/* The body byte at i of op's PREPARE. */
static uint8_t body_byte(uint64_t op, size_t i)
{
	return (uint8_t)(i * 7 + op);
}

/*
 * Write into f a frame from replica `from` to replica `to` (addresses
 * from peer()), header sender = from, commit = op - 1, UDP checksum 0 and
 * body_len bytes of body.  Returns the frame length.
 */
static size_t build(uint8_t *f, unsigned from, unsigned to, uint8_t type,
		    uint32_t view, uint64_t op, uint32_t body_len)
{
	struct ec_bpf_peer src = peer(from), dst = peer(to);
	struct ethhdr *eth = eth_of(f);
	struct iphdr *ip = ip_of(f);
	struct udphdr *udp = udp_of(f);
	struct ec_hdr *h = ec_of(f);
	size_t len = ACK_LEN + body_len;

	memcpy(eth->h_dest, dst.mac, ETH_ALEN);
	memcpy(eth->h_source, src.mac, ETH_ALEN);
	eth->h_proto = htons(ETH_P_IP);
	memset(ip, 0, sizeof(*ip));
	ip->version = 4;
	ip->ihl = 5;
	ip->tot_len = htons((uint16_t)(len - sizeof(*eth)));
	ip->id = htons(0x1234);
	ip->frag_off = htons(0x4000); /* DF */
	ip->ttl = 17;
	ip->protocol = IPPROTO_UDP;
	ip->saddr = src.ip;
	ip->daddr = dst.ip;
	fix_ip_csum(f);
	udp->source = src.port;
	udp->dest = dst.port;
	udp->len = htons((uint16_t)(len - sizeof(*eth) - sizeof(*ip)));
	udp->check = 0;
	h->magic = htonl(EC_MAGIC);
	h->version = EC_VERSION;
	h->type = type;
	h->flags = 0;
	h->sender = (uint8_t)from;
	h->view = htonl(view);
	h->body_len = htonl(body_len);
	h->op = htobe64(op);
	h->commit = htobe64(op - 1);
	for (size_t i = 0; i < body_len; i++)
		f[ACK_LEN + i] = body_byte(op, i);
	return len;
}

/* Open and load the program as replica self of n; ring_bytes 0 keeps
 * the default ring size. */
static struct ec_xdp *open_load(unsigned n, unsigned self, unsigned ring_bytes)
{
	struct ec_xdp *s = ec_xdp__open();

	ck_assert_msg(s, "ec_xdp__open: %s", strerror(errno));
	for (unsigned i = 0; i < EC_MAX_REPLICAS; i++) {
		struct ec_bpf_peer p = { 0 };

		if (i < n)
			p = peer(i);
		s->rodata->ec_peers[i] = p;
	}
	s->rodata->ec_self = self;
	s->rodata->ec_n = n;
	if (ring_bytes)
		ck_assert_int_eq(bpf_map__set_max_entries(s->maps.fa_log,
							  ring_bytes), 0);
	ck_assert_msg(ec_xdp__load(s) == 0,
		      "ec_xdp__load failed (root? verifier log above)");
	return s;
}

static void teardown(void)
{
	ec_xdp__destroy(skel);
	skel = NULL;
}

/* Replica F_SELF of 5, a normal follower with fast ack open. */
static void follower(unsigned ring_bytes)
{
	struct ec_xdp_state *st;

	skel = open_load(5, F_SELF, ring_bytes);
	st = &skel->bss->ec_state;
	st->switches[EC_OFFLOAD_FASTACK] = 1u << EC_MSG_PREPARE;
	st->view = F_VIEW;
	st->leader = F_LEADER;
	st->expected = EC_FA_WORD(F_VIEW, 1, F_NEXT);
}

static void setup_follower(void) { follower(0); }

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

static void setup_leader5(void) { leader(5); }

/* Run the program once on in[0..len); out receives the result.  Returns
 * the XDP action, or -1 if the run itself failed (safe in threads). */
static int run_on(uint8_t *in, size_t len, uint8_t *o, size_t *olen)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in,
		    .data_size_in = (uint32_t)len, .data_out = o,
		    .data_size_out = BUF_SIZE - FRAME_OFF, .repeat = 1);

	if (bpf_prog_test_run_opts(bpf_program__fd(skel->progs.ec_xdp),
				   &opts) < 0)
		return -1;
	*olen = opts.data_size_out;
	return (int)opts.retval;
}

/* Per-verdict counters summed over CPUs. */
static void counters(uint64_t c[EC_XDP_MAX])
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t vals[ncpu > 0 ? ncpu : 1];

	ck_assert_int_gt(ncpu, 0);
	for (uint32_t k = 0; k < EC_XDP_MAX; k++) {
		ck_assert_int_eq(bpf_map_lookup_elem(
				 bpf_map__fd(skel->maps.counters), &k, vals), 0);
		c[k] = 0;
		for (int i = 0; i < ncpu; i++)
			c[k] += vals[i];
	}
}

static uint64_t counter(unsigned v)
{
	uint64_t c[EC_XDP_MAX];

	counters(c);
	return c[v];
}

/* Run pkt[0..len) and check the action, and that exactly counter
 * `verdict` moved, by one. */
static void expect(size_t len, int action, unsigned verdict)
{
	uint64_t before[EC_XDP_MAX], after[EC_XDP_MAX];
	int r;

	counters(before);
	r = run_on(pkt, len, out, &out_len);
	ck_assert_msg(r >= 0, "test run: %s", strerror(errno));
	counters(after);
	ck_assert_msg(r == action, "action %d, want %d (verdict %u)", r,
		      action, verdict);
	for (unsigned k = 0; k < EC_XDP_MAX; k++)
		ck_assert_msg(after[k] - before[k] == (k == verdict),
			      "counter %u moved by %llu, want verdict %u", k,
			      (unsigned long long)(after[k] - before[k]),
			      verdict);
}

/* expect(), and the frame came out byte for byte as it went in. */
static void expect_untouched(size_t len, int action, unsigned verdict)
{
	expect(len, action, verdict);
	ck_assert_uint_eq(out_len, len);
	ck_assert_msg(memcmp(out, pkt, len) == 0, "verdict %u changed the frame",
		      verdict);
}

/* Records drained from fa_log. */
#define SINK_MAX 1100
struct sink {
	unsigned n;
	size_t size[SINK_MAX];
	struct ec_fa_record rec[SINK_MAX];
};
static struct sink sink;

static int on_record(void *ctx, void *data, size_t size)
{
	struct sink *s = ctx;

	if (s->n < SINK_MAX) {
		s->size[s->n] = size;
		memcpy(&s->rec[s->n], data,
		       size < sizeof(s->rec[0]) ? size : sizeof(s->rec[0]));
	}
	s->n++;
	return 0;
}

/* Consume everything in fa_log into sink; returns the number of records. */
static unsigned drain(void)
{
	struct ring_buffer *rb = ring_buffer__new(
		bpf_map__fd(skel->maps.fa_log), on_record, &sink, NULL);
	int n;

	ck_assert_msg(rb, "ring_buffer__new: %s", strerror(errno));
	n = ring_buffer__consume(rb);
	ring_buffer__free(rb);
	ck_assert_int_ge(n, 0);
	return (unsigned)n;
}

/* Check record i of the sink is exactly the UDP payload of frame f. */
static void assert_record(unsigned i, const uint8_t *f, size_t body_len)
{
	const struct ec_fa_record *r = &sink.rec[i];

	ck_assert_uint_eq(sink.size[i], sizeof(*r));
	ck_assert_uint_eq(r->len, sizeof(struct ec_hdr) + body_len);
	ck_assert(memcmp(r->data, f + L2L4_LEN, r->len) == 0);
}

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

/* Lengths that do not add up, one at a time. */
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
	ck_assert_uint_eq(expected(), F_NEXT);
	ck_assert_uint_eq(drain(), 0);
	ck_assert_uint_eq(counter(EC_XDP_FA_MALFORMED), 4);
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
 * nothing in the log. */
struct closer {
	volatile bool stop;
	__u64 *expected;
};

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

START_TEST(fa_race_lost_cas)
{
	struct closer c = { .expected = &skel->bss->ec_state.expected };
	size_t len = build(pkt, F_LEADER, F_SELF, EC_MSG_PREPARE, F_VIEW,
			   F_NEXT, EC_MAX_ENTRY_BODY);
	uint64_t acked = 0, raced = 0, c_now[EC_XDP_MAX];
	struct timespec t0, t;
	cpu_set_t cpus;
	pthread_t th;

	ck_assert_int_eq(sched_getaffinity(0, sizeof(cpus), &cpus), 0);
	if (CPU_COUNT(&cpus) < 2) {
		fprintf(stderr, "fa_race_lost_cas: skipped, one CPU cannot race\n");
		return;
	}
	ck_assert_int_eq(pthread_create(&th, NULL, close_reopen, &c), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		int r = run_on(pkt, len, out, &out_len);

		ck_assert_int_ge(r, 0);
		counters(c_now);
		if (c_now[EC_XDP_FA_RACE] > raced) {
			ck_assert_int_eq(r, XDP_PASS);
			ck_assert_uint_eq(out_len, len);
			ck_assert(memcmp(out, pkt, len) == 0);
			raced = c_now[EC_XDP_FA_RACE];
		}
		if (r == XDP_TX)
			acked++;
		drain();
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (raced < 10 && t.tv_sec - t0.tv_sec < 2);
	c.stop = true;
	pthread_join(th, NULL);
	ck_assert_msg(raced > 0, "no lost compare-and-swap in 2 s");
	ck_assert_uint_eq(c_now[EC_XDP_FA_ACKED], acked);
	/* one record for every ack, none for anything else */
	ck_assert_uint_eq(sink.n, acked);
	for (unsigned i = 0; i < sink.n && i < SINK_MAX; i++)
		assert_record(i, pkt, EC_MAX_ENTRY_BODY);
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
 * own address. */
START_TEST(invalid_sender)
{
	struct ec_bpf_peer two = peer(2);
	size_t len;

	len = build(pkt, F_LEADER, F_SELF, EC_MSG_PREPARE, F_VIEW, F_NEXT, 10);
	ec_of(pkt)->sender = 5; /* n = 5 */
	expect_untouched(len, XDP_PASS, EC_XDP_PASS_NOT_EC);
	ec_of(pkt)->sender = EC_SENDER_CLIENT;
	expect_untouched(len, XDP_PASS, EC_XDP_PASS_NOT_EC);
	ec_of(pkt)->sender = F_SELF;
	expect_untouched(len, XDP_PASS, EC_XDP_PASS_NOT_EC);
	/* claims the leader, sent from replica 2's IP or port */
	len = build(pkt, F_LEADER, F_SELF, EC_MSG_PREPARE, F_VIEW, F_NEXT, 10);
	ip_of(pkt)->saddr = two.ip;
	fix_ip_csum(pkt);
	expect_untouched(len, XDP_PASS, EC_XDP_PASS_NOT_EC);
	len = build(pkt, F_LEADER, F_SELF, EC_MSG_PREPARE, F_VIEW, F_NEXT, 10);
	udp_of(pkt)->source = two.port;
	expect_untouched(len, XDP_PASS, EC_XDP_PASS_NOT_EC);
	/* from ourselves, to ourselves, even while we are the leader */
	skel->bss->ec_state.leader = F_SELF;
	len = build(pkt, F_SELF, F_SELF, EC_MSG_PREPARE, F_VIEW, F_NEXT, 10);
	expect_untouched(len, XDP_PASS, EC_XDP_PASS_NOT_EC);
	ck_assert_uint_eq(expected(), F_NEXT);
	ck_assert_uint_eq(drain(), 0);
}
END_TEST

/* Types no offload handles, from the leader and from a follower. */
START_TEST(other_types)
{
	size_t len;

	len = build(pkt, F_LEADER, F_SELF, EC_MSG_COMMIT, F_VIEW, F_NEXT, 0);
	expect_untouched(len, XDP_PASS, EC_XDP_PASS_OTHER);
	len = build(pkt, 2, F_SELF, EC_MSG_START_VIEW_CHANGE, F_VIEW, 0, 20);
	expect_untouched(len, XDP_PASS, EC_XDP_PASS_OTHER);
	ck_assert_uint_eq(expected(), F_NEXT);
}
END_TEST

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

static uint64_t slot(uint64_t op)
{
	return __atomic_load_n(&skel->bss->ec_slots[op % EC_QUORUM_SLOTS],
			       __ATOMIC_ACQUIRE);
}

/* The frame went up as it came in, but with EC_F_QUORUM set and a valid
 * checksum. */
static void assert_flagged(size_t len)
{
	ck_assert_uint_eq(out_len, len);
	ck_assert_uint_eq(ec_of(out)->flags, EC_F_FAST_ACK | EC_F_QUORUM);
	ck_assert(udp_csum_ok(out));
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
	assert_flagged(len);
	ck_assert_uint_ne(udp_of(out)->check, 0);
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
	/* not a valid peer: passed as not ours, still without the flag */
	ack(1, L_VIEW, L_OP, false);
	ec_of(pkt)->sender = 7;
	expect_flag_cleared(ACK_LEN, EC_XDP_PASS_NOT_EC);
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
	expect_untouched(len, XDP_PASS, EC_XDP_PASS_NOT_EC);
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

static Suite *xdp_suite(void)
{
	Suite *s = suite_create("bpf_xdp");
	TCase *fa = tcase_create("fastack");
	TCase *cl = tcase_create("classify");
	TCase *q = tcase_create("quorum");

	tcase_add_checked_fixture(fa, setup_follower, teardown);
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

	tcase_add_checked_fixture(cl, setup_follower, teardown);
	tcase_add_test(cl, not_for_us);
	tcase_add_test(cl, not_ec);
	tcase_add_test(cl, invalid_sender);
	tcase_add_test(cl, other_types);
	suite_add_tcase(s, cl);

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
	tcase_add_test(q, q_n3_first_ack_completes);
	tcase_add_test(q, q_concurrent_acks_count_once);
	suite_add_tcase(s, q);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(xdp_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
