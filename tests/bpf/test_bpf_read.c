/*
 * test_bpf_read.c - the ec_xdp program as the leader answering READs from
 * the read cache (bpf/read.h), run on crafted frames with
 * BPF_PROG_TEST_RUN: the reply field by field against the cache, for
 * keys and values of every edge length (the frame grown and shrunk), and
 * every verdict that passes a READ up, each leaving it untouched.
 * Needs root.
 *
 * EC_XDP_RD_NO_ROOM is not reached here: a test run gives the frame a
 * page, and a reply is at most RD_REPLY_LEN(EC_READ_VALUE_MAX), 362
 * bytes; only drivers whose frames have no tailroom refuse the growth.
 */
#include <arpa/inet.h>
#include <check.h>
#include <endian.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "common/read_msg.h"
#include "xdp_harness.h"

/* Replica 0 of 5 leads view 5, answering reads in generation 7, with
 * ops up to 20 applied and 19 committed; the cache has 1024 slots. */
#define N 5
#define L_VIEW 5
#define L_GEN 7
#define L_APPLIED 20
#define L_COMMIT 19
#define SLOTS 1024u
#define CLIENT_ID 0x1122334455667788ULL
#define REQUEST_ID 0x0a0b0c0d0e0f1011ULL
#define RACE_DEADLINE_S 30
#define RACE_ANSWERS 100000
#define RACE_PASSES 2000
/* Bytes of the reply in front of the value. */
#define REPLY_HDRS (L2L4_LEN + sizeof(struct ec_hdr) + \
		    sizeof(struct ec_read_reply))

static struct ec_read_slot *cache; /* read_cache, mapped */
static size_t cache_bytes;

/* The client: an address no replica has. */
static struct ec_bpf_peer client(void)
{
	struct ec_bpf_peer c = {
		.ip = htonl(0xc6120163u), /* 198.18.1.99 */
		.port = htons(40001),
		.mac = { 0x02, 0xc1, 0x1e, 0x00, 0x00, 0x63 },
	};
	return c;
}

static void leader_reads(bool ignore_lease)
{
	struct ec_xdp_state *st;
	void *m;

	skel = open_load_read(N, 0, SLOTS, ignore_lease);
	st = &skel->bss->ec_state;
	st->switches[EC_OFFLOAD_READ] = 1u << EC_MSG_READ;
	st->view = L_VIEW;
	st->leader = 0;
	st->lead = 1;
	st->commit = L_COMMIT;
	st->applied_op = L_APPLIED;
	st->lease_until_ns = boot_ns() + 3600ULL * 1000000000u;
	st->read_word = EC_READ_WORD(L_VIEW, L_GEN);
	cache_bytes = SLOTS * sizeof(*cache);
	m = mmap(NULL, cache_bytes, PROT_READ | PROT_WRITE, MAP_SHARED,
		 bpf_map__fd(skel->maps.read_cache), 0);
	ck_assert_msg(m != MAP_FAILED, "mmap read_cache");
	cache = m;
}

static void setup(void) { leader_reads(false); }
static void setup_no_lease(void) { leader_reads(true); }

static void teardown_reads(void)
{
	munmap(cache, cache_bytes);
	cache = NULL;
	teardown();
}

static struct ec_read_slot *slot_of(const uint8_t *key, size_t klen)
{
	return &cache[ec_read_hash(key, (uint32_t)klen) & (SLOTS - 1)];
}

/* Write key's slot as the event loop does: seq odd, fields, seq even. */
static void put(const uint8_t *key, size_t klen, const uint8_t *val,
		size_t vlen, uint8_t flags)
{
	struct ec_read_slot *s = slot_of(key, klen);
	uint32_t seq = s->seq;

	__atomic_store_n(&s->seq, seq + 1, __ATOMIC_RELEASE);
	s->hash = ec_read_hash(key, (uint32_t)klen);
	s->key_len = (uint8_t)klen;
	s->flags = flags;
	s->value_len = (uint16_t)vlen;
	memcpy(s->key, key, klen);
	if (vlen <= EC_READ_VALUE_MAX)
		memcpy(s->value, val, vlen);
	__atomic_store_n(&s->seq, seq + 2, __ATOMIC_RELEASE);
}

/* Key or value bytes: a pattern of n bytes seeded with c. */
static const uint8_t *bytes(size_t n, uint8_t c)
{
	static uint8_t b[2][EC_MAX_VALUE];
	static unsigned k;
	uint8_t *p = b[k++ & 1];

	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(c + i * 13);
	return p;
}

/* A READ of key (klen bytes) with min_op from the client to replica 0 in
 * f, with a real UDP checksum when csum.  Returns the frame length. */
static size_t read_frame(uint8_t *f, const uint8_t *key, size_t klen,
			 uint64_t min_op, bool csum)
{
	struct ec_read_msg r = { .client_id = CLIENT_ID,
				 .request_id = REQUEST_ID, .session_op = 3,
				 .min_op = min_op, .key = key, .key_len = klen };
	struct hdr_spec s = { .src = client(), .dst = peer(0), .ttl = 17,
			      .type = EC_MSG_READ, .sender = EC_SENDER_CLIENT,
			      .body_len = (uint32_t)(sizeof(struct ec_read) +
						     klen) };
	size_t len = write_hdrs(f, &s);

	ck_assert_uint_eq(ec_read_encode(f + L2L4_LEN, L_VIEW - 1, &r),
			  len - L2L4_LEN);
	if (csum)
		set_udp_csum(f);
	return len;
}

/* The reply in `out` answers the READ in `pkt` with val (vlen bytes) at
 * op a0: every header field, both checksums, the body. */
static void assert_reply(const uint8_t *val, size_t vlen, uint64_t a0)
{
	const struct iphdr *ip = ip_of(out), *qip = ip_of(pkt);
	const struct udphdr *udp = udp_of(out), *qudp = udp_of(pkt);
	const struct ec_hdr *h = ec_of(out);
	struct ec_read_reply rr;
	struct ec_msg m;
	Ec__Reply *rep;

	ck_assert_uint_eq(out_len, REPLY_HDRS + vlen);
	ck_assert(memcmp(eth_of(out)->h_dest, eth_of(pkt)->h_source, 6) == 0);
	ck_assert(memcmp(eth_of(out)->h_source, eth_of(pkt)->h_dest, 6) == 0);
	ck_assert_uint_eq(eth_of(out)->h_proto, htons(ETH_P_IP));

	ck_assert(ip->version == 4 && ip->ihl == 5);
	ck_assert_uint_eq(ip->tos, qip->tos);
	ck_assert_uint_eq(ntohs(ip->tot_len), out_len - sizeof(struct ethhdr));
	ck_assert_uint_eq(ip->id, qip->id);
	ck_assert_uint_eq(ip->frag_off, qip->frag_off);
	ck_assert_uint_eq(ip->ttl, 64);
	ck_assert_uint_eq(ip->protocol, IPPROTO_UDP);
	ck_assert_uint_eq(ip->saddr, qip->daddr);
	ck_assert_uint_eq(ip->daddr, qip->saddr);
	ck_assert(ip_csum_ok(out));

	ck_assert_uint_eq(udp->source, qudp->dest);
	ck_assert_uint_eq(udp->dest, qudp->source);
	ck_assert_uint_eq(ntohs(udp->len), out_len - sizeof(struct ethhdr) -
						   sizeof(struct iphdr));
	ck_assert_uint_ne(udp->check, 0);
	ck_assert_msg(udp_csum_valid(out), "UDP checksum %#x",
		      ntohs(udp->check));

	ck_assert_uint_eq(ntohl(h->magic), EC_MAGIC);
	ck_assert_uint_eq(h->version, EC_VERSION);
	ck_assert_uint_eq(h->type, EC_MSG_READ_REPLY);
	ck_assert_uint_eq(h->flags, 0);
	ck_assert_uint_eq(h->sender, 0);
	ck_assert_uint_eq(ntohl(h->view), L_VIEW);
	ck_assert_uint_eq(ntohl(h->body_len), sizeof(rr) + vlen);
	ck_assert_uint_eq(be64toh(h->op), a0);
	ck_assert_uint_eq(be64toh(h->commit), L_COMMIT);

	memcpy(&rr, h + 1, sizeof(rr));
	ck_assert_uint_eq(be64toh(rr.client_id), CLIENT_ID);
	ck_assert_uint_eq(be64toh(rr.request_id), REQUEST_ID);
	ck_assert_uint_eq(be64toh(rr.op), a0);
	ck_assert_uint_eq(rr.status, EC__STATUS__ST_OK);
	ck_assert_uint_eq(rr.found, 1);
	ck_assert_uint_eq(ntohs(rr.value_len), vlen);
	ck_assert(memcmp(rr.pad, "\0\0\0\0", 4) == 0);
	ck_assert(memcmp(out + REPLY_HDRS, val, vlen) == 0);

	/* and as the client takes it */
	ck_assert_int_eq(ec_msg_parse(out + L2L4_LEN, out_len - L2L4_LEN, N,
				      &m, NULL),
			 EC_PARSE_OK);
	rep = ec_read_reply_unpack(&m);
	ck_assert_ptr_nonnull(rep);
	ck_assert(rep->client_id == CLIENT_ID &&
		  rep->request_id == REQUEST_ID && rep->op == a0 &&
		  rep->found && rep->value.len == vlen);
	ck_assert(vlen == 0 || memcmp(rep->value.data, val, vlen) == 0);
	ec__reply__free_unpacked(rep, NULL);
}

/* Every key length 1..EC_MAX_KEY at its edges against every value length
 * 0..EC_READ_VALUE_MAX at its edges, so that the frame grows, stays
 * (value = key + 8 bytes) and shrinks; with and without a UDP checksum
 * coming in, and link padding. */
START_TEST(rd_answers)
{
	static const size_t klens[] = { 1, 2, 7, 33, EC_MAX_KEY };
	static const size_t vlens[] = { 0, 1, 3, 9, 10, 47, 72, 255,
					EC_READ_VALUE_MAX };

	for (unsigned i = 0; i < sizeof(klens) / sizeof(klens[0]); i++) {
		for (unsigned j = 0; j < sizeof(vlens) / sizeof(vlens[0]); j++) {
			const uint8_t *key = bytes(klens[i], (uint8_t)(i + j));
			const uint8_t *val = bytes(vlens[j], (uint8_t)(j * 3));
			size_t len = read_frame(pkt, key, klens[i], L_APPLIED,
						(i + j) & 1);

			put(key, klens[i], val, vlens[j], 0);
			if (j & 1) { /* link padding goes with the reply */
				memset(pkt + len, 0x5a, 20);
				len += 20;
			}
			expect(len, XDP_TX, EC_XDP_RD_ANSWERED);
			assert_reply(val, vlens[j], L_APPLIED);
			memset(slot_of(key, klens[i]), 0, sizeof(*cache));
		}
	}
}
END_TEST

/* A READ with its min_op: answered up to applied_op, which the answer
 * reports, and no further. */
START_TEST(rd_behind)
{
	const uint8_t *key = (const uint8_t *)"k";
	size_t len;

	put(key, 1, (const uint8_t *)"v1", 2, 0);
	len = read_frame(pkt, key, 1, 0, true);
	expect(len, XDP_TX, EC_XDP_RD_ANSWERED);
	assert_reply((const uint8_t *)"v1", 2, L_APPLIED);
	len = read_frame(pkt, key, 1, L_APPLIED + 1, true);
	expect_untouched(len, XDP_PASS, EC_XDP_RD_BEHIND);
	skel->bss->ec_state.applied_op = L_APPLIED + 1;
	expect(len, XDP_TX, EC_XDP_RD_ANSWERED);
	assert_reply((const uint8_t *)"v1", 2, L_APPLIED + 1);
	len = read_frame(pkt, key, 1, UINT64_MAX, false);
	expect_untouched(len, XDP_PASS, EC_XDP_RD_BEHIND);
}
END_TEST

START_TEST(rd_switch_off)
{
	size_t len = read_frame(pkt, (const uint8_t *)"k", 1, 0, false);

	put((const uint8_t *)"k", 1, (const uint8_t *)"v", 1, 0);
	skel->bss->ec_state.switches[EC_OFFLOAD_READ] = ~(1u << EC_MSG_READ);
	for (unsigned k = 0; k < EC_OFFLOAD_READ; k++)
		skel->bss->ec_state.switches[k] = ~0u;
	expect_untouched(len, XDP_PASS, EC_XDP_RD_OFF);
	/* off goes before the frame is looked at */
	ec_of(pkt)->sender = 1;
	expect_untouched(len, XDP_PASS, EC_XDP_RD_OFF);
}
END_TEST

/* read_word 0: not a leader answering reads (another role, or the lease
 * or the view left). */
START_TEST(rd_closed)
{
	size_t len = read_frame(pkt, (const uint8_t *)"k", 1, 0, false);

	put((const uint8_t *)"k", 1, (const uint8_t *)"v", 1, 0);
	skel->bss->ec_state.read_word = 0;
	expect_untouched(len, XDP_PASS, EC_XDP_RD_CLOSED);
}
END_TEST

START_TEST(rd_lease_over)
{
	size_t len = read_frame(pkt, (const uint8_t *)"k", 1, 0, false);

	put((const uint8_t *)"k", 1, (const uint8_t *)"v", 1, 0);
	skel->bss->ec_state.lease_until_ns = boot_ns() - 1;
	expect_untouched(len, XDP_PASS, EC_XDP_RD_LEASE);
	skel->bss->ec_state.lease_until_ns = 0;
	expect_untouched(len, XDP_PASS, EC_XDP_RD_LEASE);
}
END_TEST

/* The test-only override (the cluster test's negative control): the
 * same reads answered after the lease. */
START_TEST(rd_lease_ignored)
{
	size_t len = read_frame(pkt, (const uint8_t *)"k", 1, 0, false);

	put((const uint8_t *)"k", 1, (const uint8_t *)"v", 1, 0);
	skel->bss->ec_state.lease_until_ns = 0;
	expect(len, XDP_TX, EC_XDP_RD_ANSWERED);
	assert_reply((const uint8_t *)"v", 1, L_APPLIED);
	/* but nothing else */
	len = read_frame(pkt, (const uint8_t *)"k", 1, 0, false);
	skel->bss->ec_state.read_word = 0;
	expect_untouched(len, XDP_PASS, EC_XDP_RD_CLOSED);
}
END_TEST

START_TEST(rd_slot_busy)
{
	const uint8_t *key = (const uint8_t *)"busy";
	size_t len = read_frame(pkt, key, 4, 0, true);

	put(key, 4, (const uint8_t *)"v", 1, 0);
	slot_of(key, 4)->seq++;
	expect_untouched(len, XDP_PASS, EC_XDP_RD_BUSY);
	slot_of(key, 4)->seq++;
	expect(len, XDP_TX, EC_XDP_RD_ANSWERED);
}
END_TEST

/* A key not cached: an empty slot, or another key in its slot (another
 * hash with the same index, or a slot that agrees on all but the key
 * length or bytes). */
START_TEST(rd_miss)
{
	const uint8_t *key = (const uint8_t *)"key0";
	char other[16];
	struct ec_read_slot *s = slot_of(key, 4);
	size_t len = read_frame(pkt, key, 4, 0, false);
	unsigned i;

	expect_untouched(len, XDP_PASS, EC_XDP_RD_MISS);
	for (i = 0;; i++) {
		snprintf(other, sizeof(other), "other%u", i);
		if (slot_of((const uint8_t *)other, strlen(other)) == s)
			break;
	}
	put((const uint8_t *)other, strlen(other), (const uint8_t *)"v", 1, 0);
	expect_untouched(len, XDP_PASS, EC_XDP_RD_MISS);

	put(key, 4, (const uint8_t *)"v", 1, 0);
	s->key[3] ^= 1; /* same hash and length, other bytes */
	expect_untouched(len, XDP_PASS, EC_XDP_RD_MISS);
	s->key[3] ^= 1;
	s->key_len = 3;
	expect_untouched(len, XDP_PASS, EC_XDP_RD_MISS);
	s->key_len = 4;
	s->hash ^= 1u << 31;
	expect_untouched(len, XDP_PASS, EC_XDP_RD_MISS);
	s->hash ^= 1u << 31;
	expect(len, XDP_TX, EC_XDP_RD_ANSWERED);
}
END_TEST

/* The key is in its slot, but its value is not (too long), or the slot
 * claims a length the cache cannot hold. */
START_TEST(rd_too_large)
{
	const uint8_t *key = (const uint8_t *)"big";
	size_t len = read_frame(pkt, key, 3, 0, false);

	put(key, 3, NULL, EC_READ_VALUE_MAX + 1, EC_RS_TOO_LARGE);
	expect_untouched(len, XDP_PASS, EC_XDP_RD_TOO_LARGE);
	put(key, 3, bytes(10, 1), 10, EC_RS_TOO_LARGE);
	expect_untouched(len, XDP_PASS, EC_XDP_RD_TOO_LARGE);
	put(key, 3, NULL, EC_READ_VALUE_MAX + 1, 0);
	expect_untouched(len, XDP_PASS, EC_XDP_RD_TOO_LARGE);
}
END_TEST

/* Frames user space would not take as one READ, each passed up. */
START_TEST(rd_malformed)
{
	const uint8_t *key = (const uint8_t *)"mal";
	struct ec_read *r = (struct ec_read *)(ec_of(pkt) + 1);
	size_t len;

	put(key, 3, (const uint8_t *)"v", 1, 0);
	len = read_frame(pkt, key, 3, 0, false);
	ec_of(pkt)->sender = 0; /* not a client */
	expect_untouched(len, XDP_PASS, EC_XDP_RD_MALFORMED);

	len = read_frame(pkt, key, 3, 0, false);
	r->key_len = 0;
	expect_untouched(len, XDP_PASS, EC_XDP_RD_MALFORMED);
	r->key_len = 2; /* body_len says 3 */
	expect_untouched(len, XDP_PASS, EC_XDP_RD_MALFORMED);
	r->key_len = 4;
	expect_untouched(len, XDP_PASS, EC_XDP_RD_MALFORMED);

	/* a key of EC_MAX_KEY + 1, its lengths all agreeing */
	len = read_frame(pkt, bytes(EC_MAX_KEY, 1), EC_MAX_KEY, 0, false);
	r->key_len = EC_MAX_KEY + 1;
	ec_of(pkt)->body_len = htonl(sizeof(*r) + EC_MAX_KEY + 1);
	ip_of(pkt)->tot_len = htons(ntohs(ip_of(pkt)->tot_len) + 1);
	udp_of(pkt)->len = htons(ntohs(udp_of(pkt)->len) + 1);
	fix_ip_csum(pkt);
	pkt[len] = 0;
	expect_untouched(len + 1, XDP_PASS, EC_XDP_RD_MALFORMED);

	len = read_frame(pkt, key, 3, 0, false);
	r->pad[6] = 1;
	expect_untouched(len, XDP_PASS, EC_XDP_RD_MALFORMED);

	/* lengths: UDP, IP, the frame short of the datagram, a body
	 * shorter than struct ec_read */
	len = read_frame(pkt, key, 3, 0, false);
	udp_of(pkt)->len = htons(ntohs(udp_of(pkt)->len) - 1);
	expect_untouched(len, XDP_PASS, EC_XDP_RD_MALFORMED);
	len = read_frame(pkt, key, 3, 0, false);
	ip_of(pkt)->tot_len = htons(ntohs(ip_of(pkt)->tot_len) + 1);
	fix_ip_csum(pkt);
	expect_untouched(len, XDP_PASS, EC_XDP_RD_MALFORMED);
	len = read_frame(pkt, key, 3, 0, false);
	expect_untouched(len - 1, XDP_PASS, EC_XDP_RD_MALFORMED);
	len = read_frame(pkt, key, 3, 0, false);
	ec_of(pkt)->body_len = htonl(10);
	expect_untouched(L2L4_LEN + sizeof(struct ec_hdr) + 10, XDP_PASS,
			 EC_XDP_RD_MALFORMED);

	len = read_frame(pkt, key, 3, 0, false);
	expect(len, XDP_TX, EC_XDP_RD_ANSWERED);
}
END_TEST

/* Another thread flips between two values of a slot, of two lengths, as
 * the event loop writes them; or between two generations of read_word.
 * Every run gets either a whole value answered or a pass verdict (`v`),
 * leaving the frame untouched; until RACE_ANSWERS answers (enough for a
 * torn value to show, should the seqlock let one through) and a few
 * passes, or the deadline. */
struct flipper {
	volatile bool stop;
	bool word; /* flip read_word, not the slot */
	const uint8_t *key;
	uint8_t a[EC_READ_VALUE_MAX], b[EC_READ_VALUE_MAX];
};

#define FLIP_A_LEN 100
#define FLIP_B_LEN EC_READ_VALUE_MAX
#define FLIP_SPIN 40

static void *flip(void *arg)
{
	struct flipper *f = arg;
	__u64 *w = &skel->bss->ec_state.read_word;

	for (unsigned g = L_GEN + 1; !f->stop; g++) {
		if (f->word)
			__atomic_store_n(w, EC_READ_WORD(L_VIEW, g),
					 __ATOMIC_SEQ_CST);
		else
			put(f->key, 4, g & 1 ? f->a : f->b,
			    g & 1 ? FLIP_A_LEN : FLIP_B_LEN, 0);
		/* a while even, as between two ops: reads that begin
		 * now may see the next write start during their copy */
		for (volatile unsigned i = 0; i < FLIP_SPIN; i++)
			;
	}
	return NULL;
}

/* The reply to the READ in pkt with val (vlen bytes) into want, checked;
 * its length. */
static size_t reply_of(const uint8_t *val, size_t vlen, size_t len,
		       uint8_t *want)
{
	put((const uint8_t *)"flip", 4, val, vlen, 0);
	expect(len, XDP_TX, EC_XDP_RD_ANSWERED);
	assert_reply(val, vlen, L_APPLIED);
	memcpy(want, out, out_len);
	return out_len;
}

/* Not ck_assert in the loop: Check writes every passed assertion to a
 * pipe, a system call each. */
static void race(bool word, unsigned v)
{
	static struct flipper f;
	static uint8_t want[2][BUF_SIZE];
	uint64_t answered = 0, passed = 0, before[EC_XDP_MAX], after[EC_XDP_MAX];
	size_t len, want_len[2];
	unsigned nwant = word ? 1 : 2;
	struct timespec t0, t;
	pthread_t th;

	f.stop = false;
	f.word = word;
	f.key = (const uint8_t *)"flip";
	memset(f.a, 0xaa, sizeof(f.a));
	memset(f.b, 0xbb, sizeof(f.b));
	len = read_frame(pkt, f.key, 4, 0, true);
	want_len[1] = reply_of(f.b, FLIP_B_LEN, len, want[1]);
	want_len[0] = reply_of(f.a, FLIP_A_LEN, len, want[0]);
	counters(before);
	ck_assert_int_eq(pthread_create(&th, NULL, flip, &f), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		int r = run_on(pkt, len, out, &out_len);
		bool ok = false;

		if (r == XDP_TX) {
			answered++;
			for (unsigned i = 0; i < nwant; i++)
				ok |= out_len == want_len[i] &&
				      memcmp(out, want[i], out_len) == 0;
		} else if (r == XDP_PASS) {
			passed++;
			ok = out_len == len && memcmp(out, pkt, len) == 0;
		}
		if (!ok) {
			f.stop = true;
			pthread_join(th, NULL);
			ck_abort_msg("run %llu: action %d, %zu bytes: not a "
				     "whole answer, nor the READ untouched",
				     (unsigned long long)(answered + passed),
				     r, out_len);
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((passed < RACE_PASSES || answered < RACE_ANSWERS) &&
		 t.tv_sec - t0.tv_sec < RACE_DEADLINE_S);
	f.stop = true;
	pthread_join(th, NULL);
	ck_assert_msg(passed >= RACE_PASSES && answered >= RACE_ANSWERS,
		      "%llu answered, %llu passed in %d s",
		      (unsigned long long)answered,
		      (unsigned long long)passed, RACE_DEADLINE_S);
	/* and every pass was for v */
	counters(after);
	for (unsigned k = 0; k < EC_XDP_MAX; k++)
		ck_assert_uint_eq(after[k] - before[k],
				  k == EC_XDP_RD_ANSWERED ? answered :
				  k == v		  ? passed :
							    0);
}

/* The slot written during the copy: never a torn value. */
START_TEST(rd_race_slot)
{
	if (have_cpus(2, "rd_race_slot"))
		race(false, EC_XDP_RD_BUSY);
}
END_TEST

/* read_word moved during the read (user space closed and reopened). */
START_TEST(rd_race_word)
{
	if (have_cpus(2, "rd_race_word"))
		race(true, EC_XDP_RD_RACE);
}
END_TEST

static Suite *read_suite(void)
{
	Suite *s = suite_create("bpf_read");
	TCase *t = tcase_create("read");
	TCase *nl = tcase_create("ignore_lease");

	tcase_add_checked_fixture(t, setup, teardown_reads);
	tcase_set_timeout(t, 2 * RACE_DEADLINE_S + 10);
	tcase_add_test(t, rd_answers);
	tcase_add_test(t, rd_behind);
	tcase_add_test(t, rd_switch_off);
	tcase_add_test(t, rd_closed);
	tcase_add_test(t, rd_lease_over);
	tcase_add_test(t, rd_slot_busy);
	tcase_add_test(t, rd_miss);
	tcase_add_test(t, rd_too_large);
	tcase_add_test(t, rd_malformed);
	tcase_add_test(t, rd_race_slot);
	tcase_add_test(t, rd_race_word);
	suite_add_tcase(s, t);

	tcase_add_checked_fixture(nl, setup_no_lease, teardown_reads);
	tcase_add_test(nl, rd_lease_ignored);
	suite_add_tcase(s, nl);
	return s;
}

int main(void)
{
	return run_suite(read_suite());
}
