/*
 * test_bpf_fuzz.c - random and mutated frames through both BPF programs:
 * the XDP program as a follower with fast ack on, as a leader waiting
 * on quorum and as a leader answering READs from a filled read cache
 * (random read state per frame), and the TC broadcast program.  Frames start as the valid
 * ones the harnesses build, then get bytes flipped, header fields set,
 * cut short, extended, or are random altogether.
 *
 * Each run must end in exactly one verdict, counted once, whose action the
 * program returned, and do no more than that verdict says: a frame that
 * goes up leaves every map and global as it found them (the .bss with
 * ec_state, the quorum slots and the promise stamps, the fast-ack ring)
 * and the frame itself untouched but for EC_F_QUORUM, which only the
 * leader's program may set or clear.  A fast ack of a PREPARE moves
 * expected by one and stores exactly the PREPARE; one of a heartbeat
 * leaves expected, stores exactly the COMMIT and answers its seq; each
 * stamps one promise slot with a time within the run.  A READ answered
 * is a well-formed READ_REPLY of a key the cache holds, with its value,
 * under a state that allows it; no run writes the cache.  An ack counted
 * towards a quorum adds exactly its sender's bit to its slot.  The state
 * is put back after every run, so the valid frames stay valid.
 *
 * EC_FUZZ_ITERS (default 40000) frames per XDP role, a quarter of that
 * for TC (each broadcast sends four clones), from the seed
 * EC_FUZZ_SEED (default 1); a failure names the seed and the frame's
 * number, which replays it.  Needs root.
 */
#include <arpa/inet.h>
#include <check.h>
#include <endian.h>
#include <errno.h>
#include <linux/pkt_cls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common/read_msg.h"
#include "offload/switches.h"
#include "tc_harness.h"
#include "xdp_harness.h"

#define DEFAULT_ITERS 40000
/* The follower's and the leader's state, as in the fast-ack and quorum
 * tests: replica 1 of 5 following 0 in view 3, expecting op 10; replica
 * 0 of 5 leading view 5 with commit 19, quorum 2. */
#define F_SELF 1
#define F_VIEW 3
#define F_NEXT 10
#define L_VIEW 5
#define L_COMMIT 19
#define L_OP 20
#define N 5
/* Offsets in a frame of the fields that may change on the way up. */
#define FLAGS_OFF (L2L4_LEN + offsetof(struct ec_hdr, flags))
#define UDP_CSUM_OFF (L2L4_LEN - 2)

static uint64_t rng, seed;
static unsigned iter;

/* xorshift64*: the same frames for the same seed. */
static uint32_t rnd(uint32_t n)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return n ? (uint32_t)((rng * 0x2545F4914F6CDD1DULL) >> 33) % n : 0;
}

static uint64_t env_num(const char *name, uint64_t dflt)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : dflt;
}

static unsigned iterations(void)
{
	seed = env_num("EC_FUZZ_SEED", 1);
	rng = seed ? seed : 1;
	return (unsigned)env_num("EC_FUZZ_ITERS", DEFAULT_ITERS);
}

/* Fail naming the seed and frame that replay the failure. */
#define fz_assert(cond, fmt, ...)                                          \
	ck_assert_msg(cond, "seed %llu frame %u: " fmt,                     \
		      (unsigned long long)seed, iter, ##__VA_ARGS__)

/* The header fields a mutation may set: offset and size in the frame. */
static const struct { uint8_t off, size; } fields[] = {
	{ 12, 2 }, { 14, 1 }, { 16, 2 }, { 20, 2 }, { 23, 1 }, { 26, 4 },
	{ 30, 4 }, { 34, 2 }, { 36, 2 }, { 38, 2 }, { 40, 2 }, { 42, 4 },
	{ 46, 1 }, { 47, 1 }, { 48, 1 }, { 49, 1 }, { 50, 4 }, { 54, 4 },
	{ 58, 8 }, { 66, 8 },
};

/* Set one header field to a value near the edges, or any value. */
static void set_field(uint8_t *f, size_t len)
{
	unsigned k = rnd(sizeof(fields) / sizeof(fields[0]));
	unsigned off = fields[k].off, size = fields[k].size;
	uint8_t v[8];

	if (off + size > len)
		return;
	switch (rnd(4)) {
	case 0: /* small: ids, types, ops near the state's */
		memset(v, 0, size);
		v[size - 1] = (uint8_t)rnd(24);
		break;
	case 1:
		memset(v, 0xff, size);
		break;
	case 2: /* one off the value it had */
		memcpy(v, f + off, size);
		v[size - 1] += rnd(2) ? 1 : 0xff;
		break;
	default:
		for (unsigned i = 0; i < size; i++)
			v[i] = (uint8_t)rnd(256);
	}
	memcpy(f + off, v, size);
}

/* Mutate frame f of len bytes in a buffer of cap; returns its new
 * length.  One frame in eight goes through as built. */
static size_t mutate(uint8_t *f, size_t len, size_t cap)
{
	unsigned n;

	switch (rnd(8)) {
	case 0:
		return len;
	case 1: /* flip bytes anywhere */
		for (n = 1 + rnd(8); n; n--)
			f[rnd((uint32_t)len)] ^= (uint8_t)(1 + rnd(255));
		return len;
	case 2: /* flip bits in the headers */
		for (n = 1 + rnd(4); n; n--)
			f[rnd(ACK_LEN)] ^= (uint8_t)(1u << rnd(8));
		return len;
	case 3:
		return rnd((uint32_t)len + 1);
	case 4: /* extend with random bytes */
		for (n = rnd(64); n && len < cap; n--)
			f[len++] = (uint8_t)rnd(256);
		return len;
	case 5:
		set_field(f, len);
		return len;
	case 6: /* random altogether */
		len = rnd((uint32_t)cap + 1);
		for (size_t i = 0; i < len; i++)
			f[i] = (uint8_t)rnd(256);
		return len;
	default:
		set_field(f, len);
		f[rnd((uint32_t)len)] ^= (uint8_t)(1 + rnd(255));
		return len;
	}
}

/* ---- XDP ---- */

/* The fast-ack ring, read after every run. */
static struct ring_buffer *ring;
static unsigned n_records;
static struct ec_fa_record record;

static int on_record(void *ctx, void *data, size_t size)
{
	(void)ctx;
	if (n_records++ == 0)
		memcpy(&record, data,
		       size < sizeof(record) ? size : sizeof(record));
	return 0;
}

static void open_ring(void)
{
	ring = ring_buffer__new(bpf_map__fd(skel->maps.fa_log), on_record,
				NULL, NULL);
	ck_assert_msg(ring, "ring_buffer__new: %s", strerror(errno));
}

static void xdp_teardown(void)
{
	ring_buffer__free(ring);
	ring = NULL;
	teardown();
}

static void setup_follower(void)
{
	struct ec_xdp_state *st;

	skel = open_load(N, F_SELF, 0);
	st = &skel->bss->ec_state;
	st->switches[EC_OFFLOAD_FASTACK] =
		1u << EC_MSG_PREPARE | 1u << EC_MSG_COMMIT;
	st->view = F_VIEW;
	st->leader = 0;
	st->expected = EC_FA_WORD(F_VIEW, 1, F_NEXT);
	open_ring();
}

static void setup_leader(void)
{
	struct ec_xdp_state *st;
	__u64 *slots;

	skel = open_load(N, 0, 0);
	st = &skel->bss->ec_state;
	st->switches[EC_OFFLOAD_QUORUM] = 1u << EC_MSG_PREPARE_OK;
	st->view = L_VIEW;
	st->leader = 0;
	st->lead = 1;
	st->commit = L_COMMIT;
	st->quorum = (N - 1) / 2;
	/* a slot without acks, one with an ack, one at quorum */
	slots = skel->bss->ec_slots;
	slots[L_OP % EC_QUORUM_SLOTS] = EC_SLOT_TAG(L_OP, L_VIEW);
	slots[(L_OP + 1) % EC_QUORUM_SLOTS] = EC_SLOT_TAG(L_OP + 1, L_VIEW) | 2;
	slots[(L_OP + 2) % EC_QUORUM_SLOTS] = EC_SLOT_TAG(L_OP + 2, L_VIEW) | 6;
	open_ring();
}

/* Print how many frames got each verdict: what the frames reached. */
static void summary(const char *what, const uint64_t *c, unsigned n,
		    const char *(*name)(unsigned))
{
	fprintf(stderr, "%s: %u frames, seed %llu:", what, iter,
		(unsigned long long)seed);
	for (unsigned v = 0; v < n; v++)
		if (c[v])
			fprintf(stderr, " %s %llu", name(v),
				(unsigned long long)c[v]);
	fputc('\n', stderr);
}

/* The verdict of the run: the one counter that moved, by one. */
static unsigned moved(const uint64_t *before, const uint64_t *after,
		      unsigned n)
{
	unsigned v = n;

	for (unsigned k = 0; k < n; k++) {
		if (after[k] == before[k])
			continue;
		fz_assert(after[k] - before[k] == 1 && v == n,
			  "counter %u moved by %llu (verdict %u already)", k,
			  (unsigned long long)(after[k] - before[k]), v);
		v = k;
	}
	fz_assert(v < n, "no verdict counted");
	return v;
}

/* Whether frame f of len bytes holds a UDP datagram whose checksum is
 * present and verifies. */
static bool udp_csum_checks(const uint8_t *f, size_t len)
{
	size_t ulen;

	if (len < L2L4_LEN || udp_of(f)->check == 0)
		return false;
	ulen = ntohs(udp_of(f)->len);
	return ulen >= sizeof(struct udphdr) &&
	       ulen <= len - sizeof(struct ethhdr) - sizeof(struct iphdr) &&
	       udp_csum_valid(f);
}

/* The frame went up as it came, but for EC_F_QUORUM: set when `set`,
 * cleared when `clear` (either when `clear` < 0), and a UDP checksum that
 * followed the flags. */
static void assert_up(const uint8_t *in, size_t len, bool set, int clear)
{
	static uint8_t o[BUF_SIZE];
	uint8_t f;

	fz_assert(out_len == len, "length %zu went up as %zu", len, out_len);
	if (len <= FLAGS_OFF) {
		fz_assert(memcmp(out, in, len) == 0, "short frame changed");
		return;
	}
	f = in[FLAGS_OFF];
	if (set)
		fz_assert(out[FLAGS_OFF] == (f | EC_F_QUORUM), "flag not set");
	else if (clear > 0)
		fz_assert(out[FLAGS_OFF] == (f & ~EC_F_QUORUM),
			  "flag not cleared");
	else if (clear == 0)
		fz_assert(out[FLAGS_OFF] == f, "flags changed");
	else
		fz_assert(out[FLAGS_OFF] == f ||
				  out[FLAGS_OFF] == (f & ~EC_F_QUORUM),
			  "flags changed beyond the quorum flag");
	if (udp_csum_checks(in, len))
		fz_assert(udp_csum_checks(out, len), "checksum broken");
	memcpy(o, out, len);
	o[FLAGS_OFF] = f;
	if (o[FLAGS_OFF] == out[FLAGS_OFF] || len < L2L4_LEN) {
		fz_assert(memcmp(o, in, len) == 0, "frame changed");
		return;
	}
	memcpy(o + UDP_CSUM_OFF, in + UDP_CSUM_OFF, 2);
	fz_assert(memcmp(o, in, len) == 0, "frame changed beyond the flag");
}

/* An acknowledgement sent: exactly one promise slot stamped, with a time
 * within [t0, t1], the run's; put back. */
static void assert_stamped(const struct ec_xdp__bss *was, uint64_t t0,
			   uint64_t t1)
{
	__u64 *now = skel->bss->ec_promise_ns;
	unsigned written = 0;

	for (unsigned c = 0; c < EC_PROMISE_CPUS; c++) {
		if (now[c] == was->ec_promise_ns[c])
			continue;
		written++;
		fz_assert(now[c] >= t0 && now[c] <= t1,
			  "stamp %llu outside the run [%llu, %llu]",
			  (unsigned long long)now[c], (unsigned long long)t0,
			  (unsigned long long)t1);
		now[c] = was->ec_promise_ns[c];
	}
	fz_assert(written == 1, "an ack stamped %u slots", written);
}

/* A fast ack: the record is the datagram acked, the frame our ack of
 * type for it, with header op `op` (network order). */
static void assert_ack_of(const uint8_t *in, uint8_t type, __be64 op)
{
	const struct ec_hdr *h = ec_of(in);
	size_t stored = sizeof(*h) + ntohl(h->body_len);
	const struct ec_hdr *a = ec_of(out);

	fz_assert(n_records == 1, "%u records for a fast ack", n_records);
	fz_assert(record.len == stored &&
			  memcmp(record.data, in + L2L4_LEN, stored) == 0,
		  "the record is not the datagram acked");
	fz_assert(out_len == ACK_LEN && a->type == type &&
			  a->flags == EC_F_FAST_ACK && a->op == op &&
			  a->view == h->view && a->sender == F_SELF &&
			  a->body_len == 0 && a->commit == 0 &&
			  ip_csum_ok(out) && udp_of(out)->check == 0 &&
			  ntohs(udp_of(out)->len) == ACK_LEN - 14 - 20 &&
			  ip_of(out)->daddr == ip_of(in)->saddr &&
			  udp_of(out)->dest == udp_of(in)->source,
		  "not our %s for the datagram", type == EC_MSG_PREPARE_OK ?
							"PREPARE_OK" :
							"HEARTBEAT_OK");
}

/* A fast ack of a PREPARE: expected moved by one; its PREPARE_OK. */
static void assert_fast_ack(const uint8_t *in, const struct ec_xdp__bss *was)
{
	fz_assert(ec_of(in)->type == EC_MSG_PREPARE, "acked type %u",
		  ec_of(in)->type);
	fz_assert(skel->bss->ec_state.expected == was->ec_state.expected + 1,
		  "expected did not move by one");
	assert_ack_of(in, EC_MSG_PREPARE_OK, ec_of(in)->op);
	skel->bss->ec_state.expected = was->ec_state.expected;
}

/* A fast ack of a heartbeat: one body of a seq, expected where it was;
 * the HEARTBEAT_OK of that seq. */
static void assert_heartbeat_ack(const uint8_t *in)
{
	const struct ec_hdr *h = ec_of(in);
	struct ec_heartbeat hb;

	fz_assert(h->type == EC_MSG_COMMIT && ntohl(h->body_len) == sizeof(hb),
		  "acked a heartbeat of type %u, body %u", h->type,
		  ntohl(h->body_len));
	memcpy(&hb, in + ACK_LEN, sizeof(hb));
	fz_assert(hb.seq != 0, "acked heartbeat 0");
	assert_ack_of(in, EC_MSG_HEARTBEAT_OK, hb.seq);
}

/* An ack counted towards a quorum: its sender's bit added to its slot. */
static void assert_counted(const uint8_t *in, const struct ec_xdp__bss *was)
{
	const struct ec_hdr *h = ec_of(in);
	unsigned k = be64toh(h->op) % EC_QUORUM_SLOTS;

	fz_assert(h->sender < N, "sender %u counted", h->sender);
	fz_assert(skel->bss->ec_slots[k] ==
			  (was->ec_slots[k] | 1u << h->sender),
		  "slot %u: %llx from %llx, sender %u", k,
		  (unsigned long long)skel->bss->ec_slots[k],
		  (unsigned long long)was->ec_slots[k], h->sender);
	skel->bss->ec_slots[k] = was->ec_slots[k];
}

/* The leader's read cache (xdp_reads), mapped, and what it held before
 * the run: no run may write it. */
#define RD_SLOTS 64u
static struct ec_read_slot *cache;
static struct ec_read_slot cache_was[RD_SLOTS];

/* A READ answered: in was a READ from a client, of a key in the cache,
 * with its lengths right, while the state let it be answered; the frame
 * is its READ_REPLY with the slot's value at the op the state had. */
static void assert_read_reply(const uint8_t *in, const struct ec_xdp__bss *was)
{
	const struct ec_xdp_state *st = &was->ec_state;
	const struct ec_hdr *q = ec_of(in), *h = ec_of(out);
	const struct ec_read *r = (const void *)(q + 1);
	const struct ec_read_reply *rr = (const void *)(h + 1);
	const struct ec_read_slot *sl;
	uint32_t hash, vlen;
	struct ec_msg m;
	Ec__Reply *rep;

	fz_assert(cache && q->type == EC_MSG_READ &&
			  q->sender == EC_SENDER_CLIENT && r->key_len >= 1 &&
			  r->key_len <= EC_MAX_KEY &&
			  ntohl(q->body_len) == sizeof(*r) + r->key_len &&
			  ntohs(udp_of(in)->len) == 8 + 32 + ntohl(q->body_len) &&
			  ntohs(ip_of(in)->tot_len) ==
				  20 + ntohs(udp_of(in)->len),
		  "answered a frame that is no READ");
	fz_assert(st->read_word != 0 && st->lease_until_ns > boot_ns() &&
			  (st->switches[EC_OFFLOAD_READ] & 1u << EC_MSG_READ) &&
			  st->applied_op >= be64toh(r->min_op),
		  "answered a READ the state refuses");
	hash = ec_read_hash(r->key, r->key_len);
	sl = &cache_was[hash & (RD_SLOTS - 1)];
	vlen = sl->value_len;
	fz_assert(!(sl->seq & 1) && !(sl->flags & EC_RS_TOO_LARGE) &&
			  vlen <= EC_READ_VALUE_MAX && sl->hash == hash &&
			  sl->key_len == r->key_len &&
			  memcmp(sl->key, r->key, r->key_len) == 0,
		  "answered a key the cache does not hold");
	fz_assert(out_len == L2L4_LEN + 64 + vlen && ip_csum_ok(out) &&
			  udp_csum_checks(out, out_len) &&
			  ip_of(out)->ttl == 64 &&
			  ntohs(ip_of(out)->tot_len) == out_len - 14 &&
			  ntohs(udp_of(out)->len) == out_len - 34 &&
			  ip_of(out)->daddr == ip_of(in)->saddr &&
			  ip_of(out)->saddr == ip_of(in)->daddr &&
			  udp_of(out)->dest == udp_of(in)->source &&
			  udp_of(out)->source == udp_of(in)->dest &&
			  memcmp(eth_of(out)->h_dest, eth_of(in)->h_source, 6) ==
				  0 &&
			  memcmp(eth_of(out)->h_source, eth_of(in)->h_dest, 6) ==
				  0,
		  "the reply's addresses, lengths or checksums are wrong");
	fz_assert(h->type == EC_MSG_READ_REPLY && h->flags == 0 &&
			  h->sender == 0 &&
			  ntohl(h->view) == (uint32_t)(st->read_word >> 32) &&
			  be64toh(h->op) == st->applied_op &&
			  be64toh(h->commit) == st->commit &&
			  rr->client_id == r->client_id &&
			  rr->request_id == r->request_id && rr->op == h->op &&
			  memcmp(out + L2L4_LEN + 64, sl->value, vlen) == 0,
		  "the reply's header or body is wrong");
	fz_assert(ec_msg_parse(out + L2L4_LEN, out_len - L2L4_LEN, N, &m,
			       NULL) == EC_PARSE_OK &&
			  (rep = ec_read_reply_unpack(&m)) != NULL,
		  "the client refuses the reply");
	ec__reply__free_unpacked(rep, NULL);
}

/* Run the XDP program on pkt[0..len) and check all of the above. */
static void xdp_check(size_t len)
{
	static struct ec_xdp__bss was;
	static uint8_t in[BUF_SIZE];
	uint64_t before[EC_XDP_MAX], after[EC_XDP_MAX], t0, t1;
	unsigned v;
	int r;

	memcpy(&was, skel->bss, sizeof(was));
	if (cache)
		memcpy(cache_was, cache, sizeof(cache_was));
	memcpy(in, pkt, len);
	counters(before);
	t0 = boot_ns();
	r = run_on(pkt, len, out, &out_len);
	t1 = boot_ns();
	counters(after);
	n_records = 0;
	fz_assert(ring_buffer__consume(ring) >= 0, "ring");
	if (len < ETH_HLEN) {
		/* the kernel runs no program on less than an Ethernet header */
		fz_assert(r < 0 && errno == EINVAL, "short frame ran: %d", r);
		fz_assert(memcmp(before, after, sizeof(before)) == 0,
			  "counted a frame that did not run");
		v = EC_XDP_MAX;
	} else {
		fz_assert(r >= 0, "test run: %s", strerror(errno));
		v = moved(before, after, EC_XDP_MAX);
		fz_assert(r == (ec_xdp_verdict_sends(v)   ? XDP_TX :
				ec_xdp_verdict_drops(v) ? XDP_DROP :
							  XDP_PASS),
			  "action %d for verdict %u", r, v);
	}
	if (v == EC_XDP_FA_ACKED)
		assert_fast_ack(in, &was);
	else if (v == EC_XDP_HB_ACKED)
		assert_heartbeat_ack(in);
	else
		fz_assert(n_records == 0, "verdict %u stored %u records", v,
			  n_records);
	if (v < EC_XDP_MAX && promises(v))
		assert_stamped(&was, t0, t1);
	if (v == EC_XDP_RD_ANSWERED)
		assert_read_reply(in, &was);
	if (cache)
		fz_assert(memcmp(cache, cache_was, sizeof(cache_was)) == 0,
			  "verdict %u changed the read cache", v);
	if (v == EC_XDP_Q_PENDING || v == EC_XDP_Q_QUORUM ||
	    v == EC_XDP_Q_EXTRA)
		assert_counted(in, &was);
	fz_assert(memcmp(skel->bss, &was, sizeof(was)) == 0,
		  "verdict %u changed the state beyond its own effect", v);
	if (v == EC_XDP_MAX || ec_xdp_verdict_sends(v) ||
	    ec_xdp_verdict_drops(v))
		return;
	if (v == EC_XDP_Q_QUORUM || v == EC_XDP_Q_LATE)
		assert_up(in, len, true, 0);
	else if (v >= EC_XDP_Q_QUORUM && v <= EC_XDP_Q_EXTRA)
		assert_up(in, len, false, 1);
	else if (v == EC_XDP_PASS_NOT_EC)
		assert_up(in, len, false, -1);
	else
		assert_up(in, len, false, 0);
}

static void xdp_summary(const char *what)
{
	uint64_t c[EC_XDP_MAX];

	counters(c);
	summary(what, c, EC_XDP_MAX, ec_xdp_verdict_name);
}

START_TEST(xdp_follower_frames)
{
	static const uint8_t types[] = { EC_MSG_PREPARE, EC_MSG_PREPARE,
					 EC_MSG_PREPARE_OK, EC_MSG_COMMIT,
					 EC_MSG_COMMIT, EC_MSG_START_VIEW };
	unsigned n = iterations();

	for (iter = 0; iter < n; iter++) {
		uint8_t type = types[rnd(sizeof(types))];
		uint32_t body = rnd(4) ? rnd(EC_MAX_ENTRY_BODY + 1) :
					 rnd(BUF_SIZE - FRAME_OFF - ACK_LEN + 1);
		size_t len;

		/* most heartbeats carry one, numbered 0 (none) to 2 */
		if (type == EC_MSG_COMMIT && rnd(4))
			body = sizeof(struct ec_heartbeat);
		len = build(pkt, rnd(4) ? 0 : rnd(N + 1), F_SELF, type,
			    rnd(4) ? F_VIEW : F_VIEW + rnd(3) - 1,
			    rnd(4) ? F_NEXT : F_NEXT + rnd(3) - 1, body);
		if (type == EC_MSG_COMMIT &&
		    body == sizeof(struct ec_heartbeat)) {
			struct ec_heartbeat hb = { htobe64(rnd(3)) };

			memcpy(pkt + ACK_LEN, &hb, sizeof(hb));
		}
		if (rnd(2))
			set_udp_csum(pkt);
		xdp_check(mutate(pkt, len, BUF_SIZE - FRAME_OFF));
	}
	xdp_summary("xdp follower");
}
END_TEST

START_TEST(xdp_leader_frames)
{
	static const uint8_t flags[] = { 0, EC_F_FAST_ACK, EC_F_QUORUM,
					 EC_F_FAST_ACK | EC_F_QUORUM };
	unsigned n = iterations();

	for (iter = 0; iter < n; iter++) {
		static const uint8_t types[] = { EC_MSG_PREPARE,
						 EC_MSG_HEARTBEAT_OK,
						 EC_MSG_COMMIT };
		size_t len = build(pkt, rnd(8) ? 1 + rnd(N - 1) : rnd(N + 2), 0,
				   rnd(8) ? EC_MSG_PREPARE_OK : types[rnd(3)],
				   L_VIEW + (rnd(8) ? 0 : rnd(3) - 1),
				   L_COMMIT + rnd(5), 0);

		ec_of(pkt)->flags = flags[rnd(4)];
		if (rnd(2))
			set_udp_csum(pkt);
		xdp_check(mutate(pkt, len, BUF_SIZE - FRAME_OFF));
	}
	xdp_summary("xdp leader");
}
END_TEST

/* The leader of view L_VIEW answering reads, its cache filled with keys
 * of every length and values of every length, some too large, some
 * slots being written; keys[] what was put (collisions lost some). */
#define RD_KEYS 48
static struct { uint8_t k[EC_MAX_KEY]; uint8_t len; } keys[RD_KEYS];

static void setup_reads(void)
{
	void *m;

	skel = open_load_read(N, 0, RD_SLOTS, false);
	skel->bss->ec_state.view = L_VIEW;
	skel->bss->ec_state.lead = 1;
	skel->bss->ec_state.commit = L_COMMIT;
	m = mmap(NULL, sizeof(cache_was), PROT_READ | PROT_WRITE, MAP_SHARED,
		 bpf_map__fd(skel->maps.read_cache), 0);
	ck_assert_msg(m != MAP_FAILED, "mmap read_cache");
	cache = m;
	rng = 7;
	for (unsigned i = 0; i < RD_KEYS; i++) {
		uint8_t len = (uint8_t)(i < 2 ? 1 + i * 63 : 1 + rnd(EC_MAX_KEY));
		struct ec_read_slot *sl;
		uint32_t h;

		keys[i].len = len;
		for (unsigned j = 0; j < len; j++)
			keys[i].k[j] = (uint8_t)rnd(256);
		h = ec_read_hash(keys[i].k, len);
		sl = &cache[h & (RD_SLOTS - 1)];
		sl->seq = rnd(8) ? 2 * rnd(100) : 1 + 2 * rnd(100);
		sl->hash = h;
		sl->key_len = len;
		memcpy(sl->key, keys[i].k, len);
		sl->flags = rnd(10) ? 0 : EC_RS_TOO_LARGE;
		sl->value_len = (uint16_t)(sl->flags ? EC_READ_VALUE_MAX + 1 +
							       rnd(200) :
						       rnd(EC_READ_VALUE_MAX + 1));
		for (unsigned j = 0; j < EC_READ_VALUE_MAX; j++)
			sl->value[j] = (uint8_t)rnd(256);
	}
	open_ring();
}

static void teardown_reads(void)
{
	munmap(cache, sizeof(cache_was));
	cache = NULL;
	xdp_teardown();
}

/* A random read state: reads open mostly, the lease running mostly,
 * applied_op near the frames' min_op. */
static void read_state(void)
{
	struct ec_xdp_state *st = &skel->bss->ec_state;
	uint64_t now = boot_ns();

	st->switches[EC_OFFLOAD_READ] = rnd(16) ? 1u << EC_MSG_READ :
						  rnd(1u << 30) << 1 & ~(1u << EC_MSG_READ);
	st->read_word = rnd(8) ? EC_READ_WORD(L_VIEW + rnd(2), 1 + rnd(3)) : 0;
	st->lease_until_ns = rnd(8) ? now + 3600000000000ULL :
			     rnd(2)  ? 0 :
				       now - 1;
	st->applied_op = L_OP + rnd(3);
}

/* A READ of a cached key (mostly) or any key, from a client (mostly) at
 * a random address, to replica 0; its length. */
static size_t read_frame(void)
{
	static uint8_t key[EC_MAX_KEY];
	struct ec_read_msg r = { .client_id = rnd(1u << 31),
				 .request_id = rnd(1u << 31),
				 .session_op = rnd(4),
				 .min_op = rnd(4) ? L_OP + rnd(4) - 1 : 0 };
	struct hdr_spec s = { .src = peer(rnd(N + 4)), .dst = peer(0),
			      .ttl = 9, .type = EC_MSG_READ,
			      .sender = EC_SENDER_CLIENT };
	size_t len;

	if (rnd(4)) {
		unsigned i = rnd(RD_KEYS);

		r.key = keys[i].k;
		r.key_len = keys[i].len;
	} else {
		r.key_len = 1 + rnd(EC_MAX_KEY);
		for (size_t j = 0; j < r.key_len; j++)
			key[j] = (uint8_t)rnd(256);
		r.key = key;
	}
	s.src.ip ^= htonl(rnd(3) << 8); /* mostly no replica's */
	s.body_len = (uint32_t)(sizeof(struct ec_read) + r.key_len);
	len = write_hdrs(pkt, &s);
	ec_read_encode(pkt + L2L4_LEN, L_VIEW, &r);
	if (rnd(16) == 0)
		ec_of(pkt)->sender = (uint8_t)rnd(N + 1);
	if (rnd(2))
		set_udp_csum(pkt);
	return len;
}

START_TEST(xdp_read_frames)
{
	unsigned n = iterations();

	for (iter = 0; iter < n; iter++) {
		size_t len;

		read_state();
		len = read_frame();
		if (rnd(8) == 0) /* the READ's own fields: key_len, min_op */
			pkt[rnd(2) ? L2L4_LEN + 64 : L2L4_LEN + 56 + rnd(8)] =
				(uint8_t)rnd(256);
		xdp_check(mutate(pkt, len, BUF_SIZE - FRAME_OFF));
	}
	xdp_summary("xdp reads");
}
END_TEST

/* ---- TC ---- */

static struct ec_broadcast *tc_skel;

static void setup_tc(void)
{
	net_setup();
	tc_skel = load_prog(N, 0);
}

static void teardown_tc(void)
{
	ec_broadcast__destroy(tc_skel);
	tc_skel = NULL;
	net_teardown();
}

/* Whether a test run of an skb program refuses frame f of len bytes:
 * the kernel wants an Ethernet header, and the network header of the
 * IPv4 or IPv6 frames it prepares the skb of. */
static bool refused(const __u8 *f, size_t len)
{
	__u16 proto;

	if (len < ETH_HLEN)
		return true;
	proto = ntohs(eth_of(f)->h_proto);
	return (proto == ETH_P_IP && len < ETH_HLEN + 20) ||
	       (proto == ETH_P_IPV6 && len < ETH_HLEN + 40);
}

/* tc_harness.c's run(), but a run the kernel refuses is an answer (see
 * refused()).  Returns the action or -1 (errno set). */
static int tc_run(const __u8 *f, size_t len, __u32 mark, __u8 *o,
		  __u32 *out_len)
{
	struct __sk_buff ctx = { .ifindex = tx_ifindex, .mark = mark };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f,
		    .data_size_in = (__u32)len, .data_out = o,
		    .data_size_out = FRAME_MAX, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);

	if (bpf_prog_test_run_opts(bpf_program__fd(tc_skel->progs.ec_broadcast),
				   &opts) < 0)
		return -1;
	*out_len = opts.data_size_out;
	return (int)opts.retval;
}

START_TEST(tc_frames)
{
	static __u8 f[FRAME_MAX], o[FRAME_MAX];
	uint64_t after[EC_TC_MAX];
	unsigned n = iterations() / 4; /* every broadcast sends four clones */

	for (iter = 0; iter < n; iter++) {
		struct frame_spec s = {
			.from = rnd(8) ? 0 : rnd(N + 1), .to = 1 + rnd(N - 1),
			.flags = rnd(4) ? EC_F_TO_ALL : (__u8)rnd(8),
			.udp_csum = rnd(2), .body_len = rnd(EC_MAX_ENTRY_BODY + 1),
		};
		__u32 mark = rnd(8) ? 0 : EC_CLONE_MARK, out_len;
		uint64_t before[EC_TC_MAX];
		size_t len = mutate(f, build_frame(f, &s), FRAME_MAX);
		unsigned v;
		int r;

		percpu_sums(bpf_map__fd(tc_skel->maps.counters), EC_TC_MAX,
			    before);
		r = tc_run(f, len, mark, o, &out_len);
		percpu_sums(bpf_map__fd(tc_skel->maps.counters), EC_TC_MAX,
			    after);
		if (r < 0) {
			fz_assert(refused(f, len) && errno == EINVAL,
				  "test run of %zu bytes: %s", len,
				  strerror(errno));
			fz_assert(memcmp(before, after, sizeof(before)) == 0,
				  "counted a frame that did not run");
			continue;
		}
		if (r == TC_ACT_SHOT) {
			fz_assert(after[EC_TC_BROADCAST] ==
					  before[EC_TC_BROADCAST] + 1 &&
				  after[EC_TC_CLONED] - before[EC_TC_CLONED] +
						  after[EC_TC_CLONE_FAILED] -
						  before[EC_TC_CLONE_FAILED] ==
					  N - 1,
				  "a broadcast is not one copy per peer");
			for (v = EC_TC_PASS_NOT_EC; v <= EC_TC_PASS_CLONE; v++)
				fz_assert(after[v] == before[v],
					  "a broadcast counted as passed");
			continue;
		}
		fz_assert(r == TC_ACT_OK, "action %d", r);
		v = moved(before, after, EC_TC_MAX);
		fz_assert(v >= EC_TC_PASS_NOT_EC && v <= EC_TC_PASS_CLONE,
			  "verdict %u for a frame passed", v);
		fz_assert((mark == EC_CLONE_MARK) == (v == EC_TC_PASS_CLONE),
			  "verdict %u with mark %x", v, mark);
		fz_assert(out_len == len && memcmp(o, f, len) == 0,
			  "a frame passed changed");
	}
	percpu_sums(bpf_map__fd(tc_skel->maps.counters), EC_TC_MAX, after);
	summary("tc", after, EC_TC_MAX, ec_tc_verdict_name);
}
END_TEST

static Suite *fuzz_suite(void)
{
	Suite *s = suite_create("bpf_fuzz");
	TCase *x = tcase_create("xdp");
	TCase *t = tcase_create("tc");

	tcase_set_timeout(x, 120);
	tcase_add_checked_fixture(x, setup_follower, xdp_teardown);
	tcase_add_test(x, xdp_follower_frames);
	suite_add_tcase(s, x);
	x = tcase_create("xdp_leader");
	tcase_set_timeout(x, 120);
	tcase_add_checked_fixture(x, setup_leader, xdp_teardown);
	tcase_add_test(x, xdp_leader_frames);
	suite_add_tcase(s, x);
	x = tcase_create("xdp_reads");
	tcase_set_timeout(x, 120);
	tcase_add_checked_fixture(x, setup_reads, teardown_reads);
	tcase_add_test(x, xdp_read_frames);
	suite_add_tcase(s, x);
	tcase_set_timeout(t, 120);
	tcase_add_checked_fixture(t, setup_tc, teardown_tc);
	tcase_add_test(t, tc_frames);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return run_suite(fuzz_suite());
}
