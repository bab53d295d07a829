/*
 * membership.h - who may say what: the one rule user space applies to
 * every datagram before the protocol core acts on it.
 *
 * The configured replicas, on their configured addresses, are trusted;
 * nothing else is.  A replica message (every type but REQUEST) is taken
 * only from the IP address and UDP port of the replica its header names;
 * any address may send a REQUEST (clients are not configured; a REQUEST
 * carries no authority, it only asks the leader to order it).  The XDP
 * program applies the same rule to frames (bpf/ec_xdp.bpf.c, from_peer).
 *
 * Pure: no sockets.  The core calls it (ec_core_receive), so the daemon
 * and the simulated network of the unit tests go through the same check.
 */
#ifndef EC_REPLICA_CORE_MEMBERSHIP_H
#define EC_REPLICA_CORE_MEMBERSHIP_H

#include <stdbool.h>
#include <stdint.h>

#include "common/config.h"
#include "common/wire.h"

/* The configured replicas' addresses, indexed by replica id. */
struct ec_members {
	unsigned n;
	struct ec_addr addr[EC_MAX_REPLICAS];
};

enum ec_member_verdict {
	EC_MEMBER_OK = 0,
	EC_MEMBER_NOT_MEMBER,     /* a replica message from an address that
				   * is no replica's (or from nowhere known) */
	EC_MEMBER_WRONG_SENDER,   /* from replica j's address, naming i */
	EC_MEMBER_MAX,
};

/* Counters of rejections, indexed by enum ec_member_verdict. */
struct ec_member_stats {
	uint64_t count[EC_MEMBER_MAX];
};

/*
 * May the datagram whose header is m, received from `from` (NULL: unknown
 * source), reach the core?  Counts a rejection in stats when not NULL.
 */
enum ec_member_verdict ec_member_check(const struct ec_members *mb,
				       const struct ec_msg *m,
				       const struct ec_addr *from,
				       struct ec_member_stats *stats);

/* The replicas' addresses in cfg, for the check. */
void ec_members_from_config(const struct ec_config *cfg, struct ec_members *mb);

/* Name of a verdict ("not_member"), for counters. */
const char *ec_member_verdict_name(enum ec_member_verdict v);

#endif /* EC_REPLICA_CORE_MEMBERSHIP_H */
