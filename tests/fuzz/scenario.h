/*
 * scenario.h - the clusters fuzz_core feeds forged datagrams to, and the
 * input format it reads them in; shared with make_seeds, which writes
 * seed inputs from the traffic of the same clusters.
 *
 * Every scenario is three replicas in the simulated network (tests/unit/
 * sim.c) with a few ops committed, built the same way for every input
 * (fixed seeds), so that an input replays exactly.
 */
#ifndef EC_FUZZ_SCENARIO_H
#define EC_FUZZ_SCENARIO_H

#include <stddef.h>
#include <stdint.h>

#include "sim.h"

#define FZ_N 3
/* The client a datagram from "a client address" comes from. */
#define FZ_CLIENT 7

enum fz_scenario {
	FZ_NORMAL,      /* all normal in view 0: leader 0, followers 1, 2 */
	FZ_VIEW_CHANGE, /* replica 1 has just started a view change to view 1 */
	FZ_RECOVERING,  /* replica 2 restarted with nothing, recovering */
	FZ_OFFLOAD,     /* all normal, fast ack, wait-on-quorum and reads
			 * modelled (sim_new_reads, --reads lease) */
	FZ_SCENARIOS,
};

/* The cluster of scenario `which`, ready for input. */
struct sim *fz_scenario(enum fz_scenario which);

/*
 * Input format of fuzz_core: one byte choosing the scenario (modulo
 * FZ_SCENARIOS), then records of
 *   source (1 byte, modulo FZ_N + 1: replica i's address, or FZ_N for
 *           client FZ_CLIENT's),
 *   destination replica (1 byte, modulo FZ_N),
 *   datagram length (2 bytes, big-endian; cut to what is left),
 *   the datagram.
 * At most FZ_MAX_RECORDS records are read.
 */
#define FZ_REC_HDR 4
#define FZ_MAX_RECORDS 16

/* The sim endpoint of source byte b. */
static inline unsigned fz_source(uint8_t b)
{
	unsigned i = b % (FZ_N + 1);

	return i < FZ_N ? i : SIM_CLIENT + FZ_CLIENT;
}

#endif /* EC_FUZZ_SCENARIO_H */
