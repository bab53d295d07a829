/*
 * sim_kernel.h - the unit tests' model of one replica's XDP program
 * (bpf/ec_xdp.bpf.c): the follower's fast ack, which stores a PREPARE in
 * an in-kernel log and answers it with a PREPARE_OK, or a heartbeat
 * (COMMIT) with a HEARTBEAT_OK, stamping when it did; and the leader's
 * wait on quorum, which counts PREPARE_OKs in per-slot bitsets.
 *
 * The model takes one datagram at a time: state in, datagram in, verdict
 * and state changes out.  The sim (sim.c) runs it for every replica on
 * what the network delivers; the BPF conformance tests (tests/bpf/
 * conform.c) run it beside the real program on the same frames and
 * require the same verdicts and state changes, so the two cannot drift.
 * Change the program and this together.
 *
 * What it leaves out of the program, on purpose:
 *   - frames: it sees the UDP payload and the replica whose configured
 *     address it came from, never MACs, IP or UDP headers (the sim only
 *     delivers a datagram to its addressee, from its sender's address);
 *   - the ring buffer is a list without a size: never full;
 *   - ec_state.expected is the op alone: the program's word also carries
 *     the view's low byte and an epoch, which only guard against user
 *     space closing the window while a run is under way (no concurrency
 *     here);
 *   - the quorum threshold is ec_quorum_followers(n), which user space
 *     stores in ec_state.quorum;
 *   - a switch is one bool: the program's word has a bit per message
 *     type, of which it reads only its own;
 *   - reads: the read offload (bpf/read.h) is off, every READ goes up
 *     (tests/bpf/test_bpf_read.c tests it against the read cache);
 *   - CPUs: one promise stamp, the newest, where the program keeps one
 *     per CPU (user space takes the newest); every CPU has its slot here
 *     (never EC_XDP_FA_NO_CPU nor EC_XDP_HB_NO_CPU).
 */
#ifndef EC_TEST_SIM_KERNEL_H
#define EC_TEST_SIM_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ec_offload.h"

/* What the program does with a datagram. */
enum simk_verdict {
	SIMK_PASS,        /* up to user space (XDP_PASS) */
	SIMK_PASS_QUORUM, /* up to user space flagged EC_F_QUORUM (XDP_PASS) */
	SIMK_DROP,        /* dropped in the driver (XDP_DROP) */
	SIMK_ACKED,       /* stored in the log; the ack goes back (XDP_TX) */
};

/* One PREPARE or COMMIT the model acknowledged: the datagram, header and
 * body. */
struct simk_record {
	uint8_t *buf;
	size_t len;
};

/* The length of the ack the model writes for SIMK_ACKED (a PREPARE_OK or
 * a HEARTBEAT_OK): a header. */
#define SIMK_ACK_LEN sizeof(struct ec_hdr)

struct sim_kernel {
	/* Set at load: the program's ec_self and ec_n. */
	unsigned self, n;
	/* The fast-ack switch for PREPARE, the fast-ack switch for COMMIT,
	 * the quorum switch for PREPARE_OK. */
	bool fastack_on, fastack_commit_on, quorum_on;
	/* The time of the next frame, as the program's
	 * bpf_ktime_get_boot_ns() would read it, in the caller's unit (the
	 * sim's microseconds; the conformance tests' nanoseconds). */
	uint64_t now;
	/* When the model last acknowledged (now at the ack; 0: never): the
	 * newest of the program's ec_promise_ns. */
	uint64_t promised_at;
	/* ec_state */
	uint32_t view, leader;
	bool lead;
	uint64_t expected;          /* next op to fast-ack; 0: closed */
	uint64_t commit;
	/* ec_slots, in the program's layout (proto/ec_offload.h): slot
	 * op % EC_QUORUM_SLOTS holds EC_SLOT_TAG(op, view) | follower bits */
	uint64_t slots[EC_QUORUM_SLOTS];
	/* fa_log: acked, not yet drained, in op order */
	struct simk_record *records;
	size_t n_records, cap_records;
	/* what the sim's tests read */
	uint64_t fast_acked, heartbeats_acked, quorum_dropped;
	/* The sim's, for its callbacks; the model never reads it. */
	void *owner;
};

/* A model of replica `self` of n, fast ack closed, not leading. */
void sim_kernel_init(struct sim_kernel *k, unsigned self, unsigned n);

/*
 * The program on one datagram buf[0..len) sent from the configured
 * address of replica `from` (any id >= EC_MAX_REPLICAS: from an address
 * no replica has), at k->now.  May change the state and buf (the
 * EC_F_QUORUM flag); for SIMK_ACKED appends a record, stamps the promise
 * and writes the PREPARE_OK or HEARTBEAT_OK, SIMK_ACK_LEN bytes, into
 * ack, to be sent back to `from`.
 */
enum simk_verdict sim_kernel_frame(struct sim_kernel *k, unsigned from,
				   uint8_t *buf, size_t len,
				   uint8_t ack[SIMK_ACK_LEN]);

/* What user space does when it sends PREPARE op of view as the leader
 * (replica/offload/offload.c): tag op's slot, no acks yet. */
void sim_kernel_tag(struct sim_kernel *k, uint64_t op, uint32_t view);

/* Forget the records (drained). */
void sim_kernel_clear_records(struct sim_kernel *k);

/* The program is detached (its replica crashed): records and stamps
 * gone, fast ack closed, not leading. */
void sim_kernel_reset(struct sim_kernel *k);

/* sim_kernel_reset, and free the record list. */
void sim_kernel_free(struct sim_kernel *k);

#endif /* EC_TEST_SIM_KERNEL_H */
