/*
 * switches.h - the table of offload switches, one per (offload,
 * message type), its text form, and the names of the offloads' verdicts.
 *
 * A switch table is one word per offload (enum ec_offload_kind) with bit
 * (1 << message type) set where the offload is on.  Text form, for
 * --offload and the control command: a comma-separated list of items,
 * each "all", "none", an offload name ("broadcast", "fastack", "quorum",
 * "read":
 * every message type it handles) or "offload.type" ("broadcast.commit").
 */
#ifndef EC_REPLICA_OFFLOAD_SWITCHES_H
#define EC_REPLICA_OFFLOAD_SWITCHES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ec_offload.h"

struct ec_switches {
	uint32_t on[EC_OFFLOAD_MAX];
};

/*
 * Turn on (on = true) or off every switch the spec names in *sw.  "none"
 * turns everything off whatever on says.  Returns 0, or -1 with a message
 * naming the bad item in err.
 */
int ec_switches_apply(struct ec_switches *sw, const char *spec, bool on,
		      char *err, size_t errlen);

/* Whether offload kind is on for message type. */
static inline bool ec_switch_on(const struct ec_switches *sw, unsigned kind,
				unsigned type)
{
	return kind < EC_OFFLOAD_MAX && type < 32 &&
	       (sw->on[kind] & (1u << type));
}

/* Call fn for every switch that exists, e.g. ("broadcast.prepare", on). */
typedef void ec_switch_visit_fn(const char *name, bool on, void *arg);
void ec_switches_foreach(const struct ec_switches *sw, ec_switch_visit_fn *fn,
			 void *arg);

/* Names of the BPF programs' verdicts (enum ec_tc_verdict, enum
 * ec_xdp_verdict), as the control command shows them; "?" if unknown. */
const char *ec_tc_verdict_name(unsigned v);
const char *ec_xdp_verdict_name(unsigned v);

#endif /* EC_REPLICA_OFFLOAD_SWITCHES_H */
