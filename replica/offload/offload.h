/*
 * offload.h - the replica's BPF offloads: loading and attaching the
 * programs, keeping their run-time state in step with the protocol core,
 * draining the fast-ack log, and the switch table.
 *
 * Both programs are attached whenever BPF is enabled, whatever the
 * switches say, so any offload can be turned on or off at run time:
 *   ec_broadcast (TC egress)  clones a "to all" datagram to every peer
 *   ec_xdp (XDP)              follower fast ack; leader wait on quorum
 */
#ifndef EC_REPLICA_OFFLOAD_H
#define EC_REPLICA_OFFLOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "common/config.h"
#include "core/core.h"
#include "switches.h"

struct ec_offload;

/* Counters of the BPF programs, summed over CPUs. */
struct ec_offload_counts {
	uint64_t tc[EC_TC_MAX];
	uint64_t xdp[EC_XDP_MAX];
};

/*
 * Load both programs for replica self of cfg and attach them to its
 * interface (cfg->peers[self].ifname) with the given switches.  Returns
 * NULL after logging the reason.
 */
struct ec_offload *ec_offload_new(const struct ec_config *cfg, unsigned self,
				  const struct ec_switches *sw);

/* Detach and unload.  NULL is fine. */
void ec_offload_free(struct ec_offload *o);

/* Attach the core: drained PREPAREs go to it.  Its opts.quiesce must be
 * ec_offload_quiesce with this offload as argument. */
void ec_offload_set_core(struct ec_offload *o, struct ec_core *core);

/* ec_core_opts.quiesce: close the kernel's fast ack and hand every PREPARE
 * it acknowledged to the core. */
void ec_offload_quiesce(void *offload);

/* Hand the core every PREPARE buffered in the kernel so far. */
void ec_offload_drain(struct ec_offload *o);

/* After the core ran: bring the kernel's view of the replica (view,
 * leader, role, commit, next op to fast-ack) up to date. */
void ec_offload_sync(struct ec_offload *o);

/* About to send out (EC_TO_ALL): returns true if the broadcast program
 * will fan it out, having marked it; the caller then sends it once, to
 * any peer.  A PREPARE from the leader also arms its quorum slot. */
bool ec_offload_prepare_to_all(struct ec_offload *o, struct ec_out *out);

/* Ring buffer file descriptor to poll for drained entries. */
int ec_offload_ring_fd(const struct ec_offload *o);

const struct ec_switches *ec_offload_switches(const struct ec_offload *o);
void ec_offload_set_switches(struct ec_offload *o, const struct ec_switches *sw);
int ec_offload_counts(const struct ec_offload *o, struct ec_offload_counts *c);

#endif /* EC_REPLICA_OFFLOAD_H */
