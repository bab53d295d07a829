/*
 * conform.h - the unit tests' model of the XDP program (tests/unit/
 * sim_kernel.c, which the sim runs for every replica) beside the program
 * (bpf/ec_xdp.bpf.c, run with BPF_PROG_TEST_RUN): the same state given to
 * both, the same frame fed to both, the outcomes compared.  Used by
 * test_bpf_conformance.c (hand-picked cases, the quorum threshold for
 * every n) and test_bpf_conformance_random.c (seeded sequences).
 *
 * cf_step() requires, for each frame, the same verdict class (acked,
 * dropped, passed, passed with EC_F_QUORUM), the same bytes (the
 * follower's ack, a PREPARE_OK or a HEARTBEAT_OK; the datagram passed up,
 * its flag set or cleared), the same expected op, the same fast-ack
 * records, the same quorum slots, a promise stamped by both or by
 * neither, and nothing else of ec_state changed.  Otherwise the unit
 * tests would test the replica against a kernel that does not exist.
 *
 * How the model's abstractions (sim_kernel.h) are mapped:
 *   - the model sees the UDP payload and the id of the replica whose
 *     address sent it: every frame here is addressed to the program's
 *     replica, comes from peer(from) or from an address no replica has
 *     (CF_NOBODY), and has IP and UDP lengths that agree with its
 *     payload.  What the program checks below that (MACs, IP, ports,
 *     lengths, checksums) is left to test_bpf_fastack.c and
 *     test_bpf_quorum.c; here the headers in front of the payload must
 *     only come back as they went (passed, but for the UDP checksum) or
 *     turned around to `from` (acked);
 *   - the model's expected op is given to the program as
 *     EC_FA_WORD(view, cf_epoch, op), the word user space stores; after a
 *     frame the word's op must be the model's, its view tag and epoch
 *     unchanged;
 *   - the ring is drained after every frame, so it is never full
 *     (EC_XDP_FA_FULL), and nothing runs concurrently (EC_XDP_FA_RACE):
 *     the model has neither;
 *   - ec_state.quorum is given as ec_quorum_followers(n), as
 *     replica/offload/offload.c does; the model derives it from n;
 *   - the switch words get random bits besides the ones the model's
 *     switches stand for, which the program must ignore;
 *   - the model's clock (now) is CLOCK_BOOTTIME in nanoseconds read just
 *     before the program runs: when both acknowledge, the model's stamp
 *     is that reading and the program's, in the slot of the CPU it ran
 *     on, must lie between it and a reading just after; the program has
 *     a slot for every CPU (EC_XDP_*_NO_CPU is test_bpf_fastack.c's).
 */
#ifndef CONFORM_H
#define CONFORM_H

#include <stdbool.h>
#include <stdint.h>

#include "xdp_harness.h"
#include "../unit/sim_kernel.h"

/* `from` for an address that belongs to no replica. */
#define CF_NOBODY EC_MAX_REPLICAS

/* A frame, as the tests describe it. */
struct cf_frame {
	uint8_t type, flags, sender, version;
	unsigned from;      /* whose address: a replica id, or CF_NOBODY */
	uint32_t magic, view;
	uint64_t op, commit;
	uint64_t seq;       /* a COMMIT's heartbeat number: the first 8
			     * body bytes, when it carries as many */
	uint32_t body;      /* body bytes carried */
	uint32_t body_len;  /* what the header says */
	uint32_t cut;       /* nonzero: the payload is only this long */
	uint32_t pad;       /* link padding behind the IP datagram */
	bool csum;          /* a real UDP checksum */
};

/* The model beside the loaded program; the epoch of the expected word;
 * what a failure names first (set it per case or frame). */
extern struct sim_kernel cf_model;
extern unsigned cf_epoch;
extern char cf_where[96];

/* xorshift64* on cf_rng: the same frames for the same seed. */
extern uint64_t cf_rng;
uint32_t cf_rnd(uint32_t n);

/* Load the program as replica n / 2 of n, the model beside it
 * (switches off, closed, not leading); unload it. */
void cf_load(unsigned n);
void cf_unload(void);

/* Give the program the model's state. */
void cf_push(void);

/* A well-formed frame of type from sender's own address: commit op - 1
 * for a PREPARE (no body), a heartbeat (seq 1) for a COMMIT, flags
 * EC_F_FAST_ACK for a PREPARE_OK. */
struct cf_frame cf_frame_of(uint8_t type, unsigned sender, uint32_t view,
			    uint64_t op);

/* Feed fr to the model and to the program, require the same outcome;
 * returns the program's verdict (enum ec_xdp_verdict). */
unsigned cf_step(const struct cf_frame *fr);

/* cf_step(), and require the program verdict the case is about. */
void cf_expect(const struct cf_frame *fr, unsigned want);

/* The program's per-verdict counters, summed over CPUs. */
void cf_counters(uint64_t c[EC_XDP_MAX]);

#endif
