/*
 * offload.h - the replica's BPF offloads: loading and attaching the
 * programs, keeping their run-time state in step with the protocol core,
 * reading the fast-ack log, and the switch table.  The offload never
 * calls the core: the glue hands it the core's state after each turn
 * (ec_offload_sync) and hands the core what the kernel acknowledged
 * (ec_offload_acked, and the core's quiesce hook).
 *
 * Both programs are attached whenever BPF is enabled, whatever the
 * switches say, so any offload can be turned on or off at run time:
 *   ec_broadcast (TC egress)  clones a "to all" datagram to every peer
 *   ec_xdp (XDP)              follower fast ack (PREPAREs, heartbeats);
 *                             leader wait on quorum; leader reads
 *                             (READs answered from the read cache,
 *                             read_cache.h, kept on every replica)
 */
#ifndef EC_REPLICA_OFFLOAD_H
#define EC_REPLICA_OFFLOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "common/config.h"
#include "core/core.h"
#include "read_cache.h"
#include "switches.h"

struct ec_offload;

/* Counters of the BPF programs, summed over CPUs. */
struct ec_offload_counts {
	uint64_t tc[EC_TC_MAX];
	uint64_t xdp[EC_XDP_MAX];
};

/* What the programs are loaded with besides the topology. */
struct ec_offload_params {
	struct ec_switches sw;     /* switched on at start */
	uint32_t read_cache_slots; /* a power of two, up to EC_READ_MAX_SLOTS */
	bool test_ignore_lease;    /* TEST ONLY: XDP answers reads whatever
				    * the lease says (--test-xdp-ignore-lease) */
};

/*
 * Load both programs for replica self of cfg and attach them to its
 * interface (cfg->peers[self].ifname).  Returns NULL after logging the
 * reason.
 */
struct ec_offload *ec_offload_new(const struct ec_config *cfg, unsigned self,
				  const struct ec_offload_params *p);

/* The read cache's writer, for ec_core_opts.store_observer, and the
 * cache (its counters). */
struct ec_kv_observer ec_offload_store_observer(struct ec_offload *o);
const struct ec_read_cache *ec_offload_read_cache(const struct ec_offload *o);

/* Detach and unload.  NULL is fine. */
void ec_offload_free(struct ec_offload *o);

/*
 * ec_core_opts.quiesce, with this offload as argument: close the
 * kernel's fast ack and hand back every PREPARE (and heartbeat) it
 * acknowledged that ec_offload_acked has not, waiting (up to 200 ms) for
 * those above last_op that are not yet in the ring, and when it last
 * acknowledged anything (its newest promise stamp).  The datagrams are
 * the offload's until its next call.
 */
void ec_offload_quiesce(void *offload, uint64_t last_op,
			struct ec_quiesced *q);

/* Every PREPARE (in op order) and heartbeat the kernel acknowledged
 * since the last call, for ec_core_absorb: *out is the offload's until
 * its next call. */
size_t ec_offload_acked(struct ec_offload *o, const struct ec_dgram **out);

/* Whether the kernel counts PREPARE_OKs (the quorum switch): only then
 * does EC_F_QUORUM stand for a quorum (ec_core_trust_quorum_flag). */
bool ec_offload_counts_quorum(const struct ec_offload *o);

/* After the core ran: bring the kernel's view of the replica (view,
 * leader, role, commit, next op to fast-ack) in line with the core's
 * state s.  Switches changed later are applied with the state last
 * given. */
void ec_offload_sync(struct ec_offload *o, const struct ec_core_state *s);

/* About to send out (EC_TO_ALL): returns true if the broadcast program
 * will fan it out, having marked it; the caller then sends it once, to
 * any peer.  A PREPARE from the leader also arms its quorum slot. */
bool ec_offload_prepare_to_all(struct ec_offload *o, struct ec_out *out);

/* Ring buffer file descriptor to poll: readable when the kernel stored
 * PREPAREs for ec_offload_acked. */
int ec_offload_ring_fd(const struct ec_offload *o);

const struct ec_switches *ec_offload_switches(const struct ec_offload *o);
void ec_offload_set_switches(struct ec_offload *o, const struct ec_switches *sw);
int ec_offload_counts(const struct ec_offload *o, struct ec_offload_counts *c);

#endif /* EC_REPLICA_OFFLOAD_H */
