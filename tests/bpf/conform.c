/*
 * conform.c - the model beside the program, one frame at a time: see
 * conform.h.  Needs root (loading BPF).
 */
#include <arpa/inet.h>
#include <check.h>
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "conform.h"
#include "offload/switches.h"
#include "core/quorum.h"
#include "common/wire.h"

struct sim_kernel cf_model;
unsigned cf_epoch;
char cf_where[96];
uint64_t cf_rng = 1;

/* Records the program stored during one frame (one at most). */
static struct {
	unsigned n;
	struct ec_fa_record rec[2];
} got;
static struct ring_buffer *rb;
static uint64_t seen[EC_XDP_MAX]; /* the counters after the last frame */

uint32_t cf_rnd(uint32_t n)
{
	cf_rng ^= cf_rng >> 12;
	cf_rng ^= cf_rng << 25;
	cf_rng ^= cf_rng >> 27;
	return n ? (uint32_t)((cf_rng * 0x2545F4914F6CDD1DULL) >> 33) % n : 0;
}

static int on_record(void *ctx, void *data, size_t size)
{
	if (got.n < 2)
		memcpy(&got.rec[got.n], data,
		       size < sizeof(got.rec[0]) ? size : sizeof(got.rec[0]));
	got.n++;
	return 0;
}

/* As counters() does, without an assertion per key: Check writes every
 * passed assertion to a pipe, a system call per key and frame. */
void cf_counters(uint64_t c[EC_XDP_MAX])
{
	int fd = bpf_map__fd(skel->maps.counters);
	int ncpu = libbpf_num_possible_cpus();
	uint64_t vals[ncpu > 0 ? ncpu : 1];

	for (uint32_t k = 0; k < EC_XDP_MAX; k++) {
		if (ncpu <= 0 || bpf_map_lookup_elem(fd, &k, vals) != 0)
			ck_abort_msg("counters: %s", strerror(errno));
		c[k] = 0;
		for (int i = 0; i < ncpu; i++)
			c[k] += vals[i];
	}
}

void cf_load(unsigned n)
{
	skel = open_load(n, n / 2, 0);
	rb = ring_buffer__new(bpf_map__fd(skel->maps.fa_log), on_record,
			      NULL, NULL);
	ck_assert_msg(rb, "ring_buffer__new: %s", strerror(errno));
	sim_kernel_free(&cf_model);
	sim_kernel_init(&cf_model, n / 2, n);
	cf_counters(seen);
}

void cf_unload(void)
{
	ring_buffer__free(rb);
	rb = NULL;
	teardown();
}

/* w with the bit of type on or off. */
static uint32_t with_bit(uint32_t w, bool on, unsigned type)
{
	return on ? w | 1u << type : w & ~(1u << type);
}

/* A switch word with random bits: the program must read only those the
 * model's switches stand for. */
static uint32_t random_word(void)
{
	return cf_rnd(1u << 16) << 16 | cf_rnd(1u << 16);
}

void cf_push(void)
{
	const struct sim_kernel *k = &cf_model;
	struct ec_xdp_state *st = &skel->bss->ec_state;

	memset(st, 0, sizeof(*st));
	st->switches[EC_OFFLOAD_FASTACK] =
		with_bit(with_bit(random_word(), k->fastack_on, EC_MSG_PREPARE),
			 k->fastack_commit_on, EC_MSG_COMMIT);
	st->switches[EC_OFFLOAD_QUORUM] =
		with_bit(random_word(), k->quorum_on, EC_MSG_PREPARE_OK);
	/* the model has no read path (sim_kernel.h): reads off */
	st->switches[EC_OFFLOAD_READ] =
		with_bit(random_word(), false, EC_MSG_READ);
	st->view = k->view;
	st->leader = k->leader;
	st->lead = k->lead;
	st->expected = k->expected ?
			       EC_FA_WORD(k->view, cf_epoch, k->expected) : 0;
	st->commit = k->commit;
	st->quorum = ec_quorum_followers(k->n);
	memcpy(skel->bss->ec_slots, k->slots, sizeof(k->slots));
}

struct cf_frame cf_frame_of(uint8_t type, unsigned sender, uint32_t view,
			    uint64_t op)
{
	struct cf_frame fr = {
		.type = type, .sender = (uint8_t)sender, .from = sender,
		.version = EC_VERSION, .magic = EC_MAGIC, .view = view,
		.op = op, .commit = type == EC_MSG_PREPARE ? op - 1 : 0,
		.flags = type == EC_MSG_PREPARE_OK ? EC_F_FAST_ACK : 0,
	};

	if (type == EC_MSG_COMMIT) {
		fr.body = fr.body_len = sizeof(struct ec_heartbeat);
		fr.seq = 1;
	}
	return fr;
}

/* The address frames from `from` come from. */
static struct ec_bpf_peer address_of(unsigned from)
{
	struct ec_bpf_peer p = peer(0);

	if (from < EC_MAX_REPLICAS)
		return peer(from);
	p.ip = htonl(0xc61200c8u); /* 198.18.0.200 */
	p.port = htons(9999);
	p.mac[5] = 0xc8;
	return p;
}

static const char *describe(const struct cf_frame *fr)
{
	static char s[240];

	snprintf(s, sizeof(s),
		 "%s sender %u from %u view %u op %llu commit %llu seq %llu "
		 "body %u body_len %u flags %#x cut %u pad %u magic %#x "
		 "version %u",
		 ec_msg_type_name(fr->type), fr->sender, fr->from, fr->view,
		 (unsigned long long)fr->op, (unsigned long long)fr->commit,
		 (unsigned long long)fr->seq, fr->body, fr->body_len, fr->flags,
		 fr->cut, fr->pad, fr->magic, fr->version);
	return s;
}

/* Write fr into pkt, addressed to the program's replica; returns the
 * frame length. */
static size_t build_frame(const struct cf_frame *fr)
{
	struct hdr_spec s = { .src = address_of(fr->from),
			      .dst = peer(cf_model.self), .ttl = 64,
			      .type = fr->type, .flags = fr->flags,
			      .sender = fr->sender, .view = fr->view,
			      .op = fr->op, .body_len = fr->body };
	size_t len = write_hdrs(pkt, &s);
	struct ec_hdr *h = ec_of(pkt);

	for (size_t i = 0; i < fr->body; i++)
		pkt[ACK_LEN + i] = body_byte(fr->op, i);
	if (fr->type == EC_MSG_COMMIT &&
	    fr->body >= sizeof(struct ec_heartbeat)) {
		struct ec_heartbeat hb = { htobe64(fr->seq) };

		memcpy(pkt + ACK_LEN, &hb, sizeof(hb));
	}
	h->magic = htonl(fr->magic);
	h->version = fr->version;
	h->body_len = htonl(fr->body_len);
	h->commit = htobe64(fr->commit);
	if (fr->cut) {
		len = L2L4_LEN + fr->cut;
		ip_of(pkt)->tot_len =
			htons((uint16_t)(len - sizeof(struct ethhdr)));
		udp_of(pkt)->len = htons((uint16_t)(8 + fr->cut));
		fix_ip_csum(pkt);
	}
	if (fr->csum)
		set_udp_csum(pkt);
	for (uint32_t i = 0; i < fr->pad; i++)
		pkt[len + i] = (uint8_t)(0xa5 ^ i);
	return len + fr->pad;
}

/* The class of a program verdict. */
static enum simk_verdict class_of(unsigned v)
{
	if (ec_xdp_verdict_sends(v))
		return SIMK_ACKED;
	if (ec_xdp_verdict_drops(v))
		return SIMK_DROP;
	return v == EC_XDP_Q_QUORUM || v == EC_XDP_Q_LATE ? SIMK_PASS_QUORUM :
							     SIMK_PASS;
}

static const char *const class_names[] = {
	[SIMK_PASS] = "pass", [SIMK_PASS_QUORUM] = "pass flagged",
	[SIMK_DROP] = "drop", [SIMK_ACKED] = "ack",
};

/* Fail naming the case, the frame and the program's verdict.  Not
 * ck_assert (see cf_counters): this one runs per slot and frame. */
#define conform(cond, fmt, ...)                                          \
	do {                                                             \
		if (!(cond))                                             \
			ck_abort_msg("%s: %s: program %s: " fmt,         \
				     cf_where, describe(fr),             \
				     ec_xdp_verdict_name(v), ##__VA_ARGS__); \
	} while (0)

/* The program verdict of the last run: the one counter that moved. */
static unsigned last_verdict(void)
{
	uint64_t c[EC_XDP_MAX];
	unsigned v = EC_XDP_MAX, moved = 0;

	cf_counters(c);
	for (unsigned k = 0; k < EC_XDP_MAX; k++) {
		if (c[k] != seen[k]) {
			v = k;
			moved += (unsigned)(c[k] - seen[k]);
		}
		seen[k] = c[k];
	}
	if (moved != 1)
		ck_abort_msg("%s: %u counters moved", cf_where, moved);
	return v;
}

/* The frames' bytes: the ack, or what went up. */
static void compare_bytes(const struct cf_frame *fr, unsigned v,
			  enum simk_verdict mv, size_t len, size_t dlen,
			  const uint8_t *dgram, const uint8_t *ack)
{
	if (mv == SIMK_ACKED) {
		/* the model sends its ack back to `from` */
		struct ec_bpf_peer to = address_of(fr->from);

		conform(out_len == ACK_LEN, "ack of %zu bytes", out_len);
		conform(ip_of(out)->daddr == to.ip &&
				udp_of(out)->dest == to.port,
			"ack not sent back to %u", fr->from);
		conform(memcmp(ec_of(out), ack, SIMK_ACK_LEN) == 0,
			"ack headers differ");
	} else if (mv != SIMK_DROP) {
		/* up as it came, but for the flag and the UDP checksum that
		 * follows it (the model has no checksum) */
		conform(out_len == len, "passed %zu of %zu bytes", out_len,
			len);
		conform(memcmp(out, pkt, L2L4_LEN - 2) == 0 &&
				memcmp(out + L2L4_LEN + dlen,
				       pkt + L2L4_LEN + dlen,
				       len - L2L4_LEN - dlen) == 0,
			"headers or padding changed");
		conform(memcmp(out + L2L4_LEN, dgram, dlen) == 0,
			"passed datagram differs: flags %#x, model %#x",
			ec_of(out)->flags,
			dlen > 6 ? dgram[offsetof(struct ec_hdr, flags)] : 0);
	}
}

/* The promise stamps after the frame, against the stamps before (was),
 * the model's before (promised0) and the readings around the run. */
static void compare_stamps(const struct cf_frame *fr, unsigned v,
			   const __u64 *was, uint64_t promised0, uint64_t t0,
			   uint64_t t1)
{
	const __u64 *now = skel->bss->ec_promise_ns;
	unsigned written = 0;
	uint64_t stamp = 0;

	for (unsigned c = 0; c < EC_PROMISE_CPUS; c++) {
		if (now[c] == was[c])
			continue;
		written++;
		stamp = now[c];
	}
	if (cf_model.promised_at == promised0) {
		conform(written == 0, "%u promise slots stamped, model none",
			written);
		return;
	}
	conform(cf_model.promised_at == t0, "model stamped %llu, not its now",
		(unsigned long long)cf_model.promised_at);
	conform(written == 1 && stamp >= t0 && stamp <= t1,
		"%u promise slots stamped (%llu), model one at %llu", written,
		(unsigned long long)stamp, (unsigned long long)t0);
}

/* The state after the frame: expected, the rest of ec_state, the slots
 * and the records (rec0 is the model's record count before it). */
static void compare_state(const struct cf_frame *fr, unsigned v,
			  const struct ec_xdp_state *before, size_t rec0)
{
	const struct sim_kernel *k = &cf_model;
	struct ec_xdp_state after = skel->bss->ec_state;

	if (k->expected == 0) {
		conform(after.expected == 0, "expected %#llx, model closed",
			(unsigned long long)after.expected);
	} else {
		conform(EC_FA_OP(after.expected) == k->expected &&
				(after.expected & ~EC_FA_OP_MASK) ==
					(before->expected & ~EC_FA_OP_MASK),
			"expected %#llx, model op %llu",
			(unsigned long long)after.expected,
			(unsigned long long)k->expected);
	}
	after.expected = before->expected;
	conform(memcmp(&after, before, sizeof(after)) == 0,
		"ec_state changed beyond expected");
	for (unsigned i = 0; i < EC_QUORUM_SLOTS; i++)
		conform(skel->bss->ec_slots[i] == k->slots[i],
			"slot %u %#llx, model %#llx", i,
			(unsigned long long)skel->bss->ec_slots[i],
			(unsigned long long)k->slots[i]);

	got.n = 0;
	if (ring_buffer__consume(rb) < 0)
		ck_abort_msg("ring_buffer__consume: %s", strerror(errno));
	conform(got.n == k->n_records - rec0, "%u records, model %zu", got.n,
		k->n_records - rec0);
	for (unsigned i = 0; i < got.n; i++) {
		const struct simk_record *m = &k->records[rec0 + i];

		conform(got.rec[i].len == m->len &&
				memcmp(got.rec[i].data, m->buf, m->len) == 0,
			"record %u differs (%u bytes, model %zu)", i,
			got.rec[i].len, m->len);
	}
	sim_kernel_clear_records(&cf_model);
}

unsigned cf_step(const struct cf_frame *fr)
{
	static const int action[] = { [SIMK_PASS] = XDP_PASS,
				      [SIMK_PASS_QUORUM] = XDP_PASS,
				      [SIMK_DROP] = XDP_DROP,
				      [SIMK_ACKED] = XDP_TX };
	size_t len = build_frame(fr), dlen = ntohs(udp_of(pkt)->len) - 8;
	uint8_t dgram[BUF_SIZE], ack[SIMK_ACK_LEN];
	struct ec_xdp_state before = skel->bss->ec_state;
	static __u64 stamps[EC_PROMISE_CPUS];
	uint64_t promised0 = cf_model.promised_at, t1;
	size_t rec0 = cf_model.n_records;
	enum simk_verdict mv;
	unsigned v;
	int r;

	memcpy(stamps, skel->bss->ec_promise_ns, sizeof(stamps));
	/* the model gets the UDP payload, without padding, at the time the
	 * program's run begins */
	memcpy(dgram, pkt + L2L4_LEN, dlen);
	cf_model.now = boot_ns();
	mv = sim_kernel_frame(&cf_model, fr->from, dgram, dlen, ack);
	r = run_on(pkt, len, out, &out_len);
	t1 = boot_ns();
	if (r < 0)
		ck_abort_msg("test run: %s", strerror(errno));
	v = last_verdict();
	conform(r == action[class_of(v)], "action %d", r);
	conform(mv == class_of(v), "model %s", class_names[mv]);
	compare_bytes(fr, v, mv, len, dlen, dgram, ack);
	compare_state(fr, v, &before, rec0);
	compare_stamps(fr, v, stamps, promised0, cf_model.now, t1);
	return v;
}

void cf_expect(const struct cf_frame *fr, unsigned want)
{
	unsigned v = cf_step(fr);

	conform(v == want, "the case wants %s", ec_xdp_verdict_name(want));
}
