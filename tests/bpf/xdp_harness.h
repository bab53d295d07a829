/*
 * xdp_harness.h - running the ec_xdp program (bpf/ec_xdp.bpf.c) on crafted
 * frames with BPF_PROG_TEST_RUN: replica addresses and frames, skeleton
 * open/load, program runs checked against the per-verdict counters, and
 * the fast-ack log drained into a sink.  Shared by the test_bpf_*.c of
 * the XDP program.
 */
#ifndef XDP_HARNESS_H
#define XDP_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "harness_common.h"
/* After ec_offload.h (from harness_common.h): the skeleton uses its types. */
#include "ec_xdp.skel.h"

/* A frame of headers only: a PREPARE_OK, a fast ack. */
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

/* The loaded program (the fixtures set it), the frame fed to it by
 * expect() and what came out. */
extern struct ec_xdp *skel;
extern uint8_t *const pkt;
extern uint8_t *const out;
extern size_t out_len;

struct ec_bpf_peer peer(unsigned i);
uint8_t body_byte(uint64_t op, size_t i);
size_t build(uint8_t *f, unsigned from, unsigned to, uint8_t type,
	     uint32_t view, uint64_t op, uint32_t body_len);

unsigned possible_cpus(void);
struct ec_xdp *open_load(unsigned n, unsigned self, unsigned ring_bytes);
struct ec_xdp *open_load_cpus(unsigned n, unsigned self, unsigned ring_bytes,
			      unsigned promise_cpus);
struct ec_xdp *open_load_read(unsigned n, unsigned self, unsigned slots,
			      bool ignore_lease);
void teardown(void);

int run_on(uint8_t *in, size_t len, uint8_t *o, size_t *olen);
void counters(uint64_t c[EC_XDP_MAX]);
uint64_t counter(unsigned v);
bool promises(unsigned v);
void expect(size_t len, int action, unsigned verdict);
void expect_untouched(size_t len, int action, unsigned verdict);

/* Whether this process may run on cpus CPUs at once (else a loud skip
 * of test, a failure under EC_TEST_STRICT=1). */
bool have_cpus(int cpus, const char *test);

/* CLOCK_BOOTTIME in nanoseconds: bpf_ktime_get_boot_ns's clock. */
uint64_t boot_ns(void);
/* The promise stamp expect() saw the run write (0: none). */
extern uint64_t last_stamp;

/* Records drained from fa_log. */
#define SINK_MAX 1100
struct sink {
	unsigned n;
	size_t size[SINK_MAX];
	struct ec_fa_record rec[SINK_MAX];
};
extern struct sink sink;

unsigned drain(void);
void assert_record(unsigned i, const uint8_t *f, size_t body_len);

#endif
