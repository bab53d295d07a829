/*
 * xdp_harness.c - frames, loading, runs, counters and the fast-ack log
 * for the ec_xdp program tests.  Needs root (loading BPF); no device is
 * used.
 */
#define _GNU_SOURCE /* CPU_COUNT */
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xdp_harness.h"

struct ec_xdp *skel;
static struct fbuf in_buf, out_buf;
uint8_t *const pkt = FRAME(&in_buf);
uint8_t *const out = FRAME(&out_buf);
size_t out_len;
struct sink sink;
uint64_t last_stamp;

/* Replica i's address in the tests: distinct IPs, MACs and ports. */
struct ec_bpf_peer peer(unsigned i)
{
	struct ec_bpf_peer p = {
		.ip = htonl(0xc6120000u | (10 + i)), /* 198.18.0.10+i */
		.port = htons(7000 + i),
		.mac = { 0x02, 0xec, 0x00, 0x00, 0x00, (uint8_t)(0x10 + i) },
	};
	return p;
}

/* The body byte at i of op's PREPARE. */
uint8_t body_byte(uint64_t op, size_t i)
{
	return (uint8_t)(i * 7 + op);
}

/*
 * Write into f a frame from replica `from` to replica `to` (addresses
 * from peer()), header sender = from, commit = op - 1, UDP checksum 0 and
 * body_len bytes of body.  Returns the frame length.
 */
size_t build(uint8_t *f, unsigned from, unsigned to, uint8_t type,
	     uint32_t view, uint64_t op, uint32_t body_len)
{
	struct hdr_spec s = { .src = peer(from), .dst = peer(to),
			      .ttl = 17, .type = type, .sender = (uint8_t)from,
			      .view = view, .op = op, .body_len = body_len };
	size_t len = write_hdrs(f, &s);

	for (size_t i = 0; i < body_len; i++)
		f[ACK_LEN + i] = body_byte(op, i);
	return len;
}

/* The possible CPUs, as many as have promise slots: what the replica's
 * loader gives the program (replica/offload/offload.c). */
unsigned possible_cpus(void)
{
	int ncpu = libbpf_num_possible_cpus();

	ck_assert_int_gt(ncpu, 0);
	return ncpu < EC_PROMISE_CPUS ? (unsigned)ncpu : EC_PROMISE_CPUS;
}

/* Open the program as replica self of n, with promise slots for CPUs
 * below promise_cpus.  The peer table holds an address for every id,
 * past n too, so that a frame from an id outside the cluster shows. */
static struct ec_xdp *open_as(unsigned n, unsigned self, unsigned promise_cpus)
{
	struct ec_xdp *s = ec_xdp__open();

	ck_assert_msg(s, "ec_xdp__open: %s", strerror(errno));
	for (unsigned i = 0; i < EC_MAX_REPLICAS; i++)
		s->rodata->ec_peers[i] = peer(i);
	s->rodata->ec_self = self;
	s->rodata->ec_n = n;
	s->rodata->ec_promise_cpus = promise_cpus;
	return s;
}

static struct ec_xdp *load(struct ec_xdp *s)
{
	ck_assert_msg(ec_xdp__load(s) == 0,
		      "ec_xdp__load failed (root? verifier log above)");
	return s;
}

/* Open and load the program as replica self of n; ring_bytes 0 keeps
 * the program's ring size (another size leaves its wake-up threshold
 * behind, which drain() does not rely on); promise slots for CPUs below
 * promise_cpus; the read cache of one slot the program is built with. */
struct ec_xdp *open_load_cpus(unsigned n, unsigned self, unsigned ring_bytes,
			      unsigned promise_cpus)
{
	struct ec_xdp *s = open_as(n, self, promise_cpus);

	if (ring_bytes)
		ck_assert_int_eq(bpf_map__set_max_entries(s->maps.fa_log,
							  ring_bytes), 0);
	return load(s);
}

/* Open and load the program as replica self of n, with a read cache of
 * `slots` (a power of two) and the test-only lease override, as the
 * replica's loader sizes the cache. */
struct ec_xdp *open_load_read(unsigned n, unsigned self, unsigned slots,
			      bool ignore_lease)
{
	struct ec_xdp *s = open_as(n, self, possible_cpus());

	ck_assert_int_eq(bpf_map__set_max_entries(s->maps.read_cache, slots),
			 0);
	s->rodata->ec_read_mask = slots - 1;
	s->rodata->ec_test_ignore_lease = ignore_lease;
	return load(s);
}

/* open_load_cpus() with a slot for every possible CPU, as the replica. */
struct ec_xdp *open_load(unsigned n, unsigned self, unsigned ring_bytes)
{
	return open_load_cpus(n, self, ring_bytes, possible_cpus());
}

uint64_t boot_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Whether this process may run on cpus CPUs at once; if not, a skip
 * for `test`, loud, which CI (EC_TEST_STRICT=1) counts as a failure, as
 * the cluster tests do: a pass would claim what never ran. */
bool have_cpus(int cpus, const char *test)
{
	cpu_set_t set;
	const char *strict = getenv("EC_TEST_STRICT");

	ck_assert_int_eq(sched_getaffinity(0, sizeof(set), &set), 0);
	if (CPU_COUNT(&set) >= cpus)
		return true;
	ck_assert_msg(!strict || strcmp(strict, "1") != 0,
		      "%s needs %d CPUs, has %d (EC_TEST_STRICT=1)", test,
		      cpus, CPU_COUNT(&set));
	fprintf(stderr, "SKIP %s: needs %d CPUs, has %d\n", test, cpus,
		CPU_COUNT(&set));
	return false;
}

/* Checked fixture teardown: unload the program. */
void teardown(void)
{
	ec_xdp__destroy(skel);
	skel = NULL;
}

/* Run the program once on in[0..len); out receives the result.  Returns
 * the XDP action, or -1 if the run itself failed (safe in threads). */
int run_on(uint8_t *in, size_t len, uint8_t *o, size_t *olen)
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
void counters(uint64_t c[EC_XDP_MAX])
{
	percpu_sums(bpf_map__fd(skel->maps.counters), EC_XDP_MAX, c);
}

/* Counter v summed over CPUs. */
uint64_t counter(unsigned v)
{
	uint64_t c[EC_XDP_MAX];

	counters(c);
	return c[v];
}

/* Whether verdict v acknowledges our leader, a promise (ec_offload.h):
 * a read's answer sends, but promises nothing. */
bool promises(unsigned v)
{
	return v == EC_XDP_FA_ACKED || v == EC_XDP_HB_ACKED;
}

/* Run pkt[0..len) and check the action, that exactly counter `verdict`
 * moved, by one, and the promise stamps: an acknowledgement sent wrote
 * one slot (that of the CPU it ran on), with a CLOCK_BOOTTIME reading
 * taken between ours before and after the run (last_stamp); nothing else
 * wrote any. */
void expect(size_t len, int action, unsigned verdict)
{
	static __u64 was[EC_PROMISE_CPUS];
	const __u64 *now = skel->bss->ec_promise_ns;
	uint64_t before[EC_XDP_MAX], after[EC_XDP_MAX], t0, t1;
	unsigned written = 0;
	int r;

	counters(before);
	memcpy(was, now, sizeof(was));
	t0 = boot_ns();
	r = run_on(pkt, len, out, &out_len);
	t1 = boot_ns();
	ck_assert_msg(r >= 0, "test run: %s", strerror(errno));
	counters(after);
	ck_assert_msg(r == action, "action %d, want %d (verdict %u)", r,
		      action, verdict);
	for (unsigned k = 0; k < EC_XDP_MAX; k++)
		ck_assert_msg(after[k] - before[k] == (k == verdict),
			      "counter %u moved by %llu, want verdict %u", k,
			      (unsigned long long)(after[k] - before[k]),
			      verdict);
	last_stamp = 0;
	for (unsigned c = 0; c < EC_PROMISE_CPUS; c++) {
		if (now[c] == was[c])
			continue;
		written++;
		last_stamp = now[c];
	}
	if (!promises(verdict)) {
		ck_assert_msg(written == 0, "verdict %u stamped %u slots",
			      verdict, written);
		return;
	}
	ck_assert_msg(written == 1, "an ack stamped %u slots", written);
	ck_assert_msg(last_stamp >= t0 && last_stamp <= t1,
		      "stamp %llu outside [%llu, %llu]",
		      (unsigned long long)last_stamp, (unsigned long long)t0,
		      (unsigned long long)t1);
}

/* expect(), and the frame came out byte for byte as it went in. */
void expect_untouched(size_t len, int action, unsigned verdict)
{
	expect(len, action, verdict);
	ck_assert_uint_eq(out_len, len);
	ck_assert_msg(memcmp(out, pkt, len) == 0, "verdict %u changed the frame",
		      verdict);
}

/* Ring buffer callback: copy one record into the sink ctx (counting,
 * not storing, those past SINK_MAX). */
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
unsigned drain(void)
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
void assert_record(unsigned i, const uint8_t *f, size_t body_len)
{
	const struct ec_fa_record *r = &sink.rec[i];

	ck_assert_uint_eq(sink.size[i], sizeof(*r));
	ck_assert_uint_eq(r->len, sizeof(struct ec_hdr) + body_len);
	ck_assert(memcmp(r->data, f + L2L4_LEN, r->len) == 0);
}
