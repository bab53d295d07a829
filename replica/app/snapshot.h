/*
 * snapshot.h - the application state at an executed op as one byte
 * string: what a checkpoint keeps and what snapshot state transfer moves.
 *
 * Contract:
 *  - The state is the key-value store with its bounds, and the client
 *    table (only the part every replica has alike: per client, the
 *    newest executed request and its cached reply; the leader's own
 *    bookkeeping, what it prepared and where clients sent from, is not
 *    replicated state).  The bounds are carried because every replica
 *    must decide STORE_FULL alike (kv.h): the core refuses to install a
 *    snapshot whose bounds differ from its own (core/checkpoint.c).
 *  - Serialization is deterministic: keys sorted by their bytes, clients
 *    by id, fixed-width little-endian numbers.  Two replicas that executed
 *    the same ops produce the same bytes, and so the same digest.
 *  - The digest is 64-bit FNV-1a over all the bytes.  It detects
 *    corruption and mix-ups (a chunk of another checkpoint), not an
 *    adversary: members are trusted (README, threat model).
 *  - Restoring builds a new store and client table and hands them over
 *    only when the whole buffer decoded and checked; on failure nothing
 *    is allocated and the caller's state is untouched.
 *
 * Pure: no sockets, no clocks.
 */
#ifndef EC_REPLICA_APP_SNAPSHOT_H
#define EC_REPLICA_APP_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "client_table.h"
#include "kv.h"

/* Largest snapshot accepted from a peer (a bound on what one transfer
 * may make us allocate). */
#define EC_MAX_SNAPSHOT_BYTES (1ULL << 32)

struct ec_snapshot {
	uint64_t op;     /* last op applied to the state; 0: no snapshot */
	uint32_t view;   /* view entry op was prepared in */
	uint64_t digest; /* ec_snapshot_digest of buf */
	uint8_t *buf;    /* malloc'd, len bytes */
	size_t len;
};

/* 64-bit FNV-1a of buf[0..len). */
uint64_t ec_snapshot_digest(const uint8_t *buf, size_t len);

/* Serialize kv and ct as the state after op (prepared in view) into
 * *out (which must hold no buffer).  0, or -1 when out of memory. */
int ec_snapshot_take(const struct ec_kv *kv, const struct ec_client_table *ct,
		     uint64_t op, uint32_t view, struct ec_snapshot *out);

/*
 * Decode buf[0..len) into a new store (with the snapshot's bounds) and
 * client table.  On success
 * returns 0 and sets *kv, *ct (the caller owns them), *op and *view (what
 * the bytes say they are); -1 if the bytes are not a well-formed snapshot
 * (or out of memory), with nothing allocated.
 */
int ec_snapshot_restore(const uint8_t *buf, size_t len, struct ec_kv **kv,
			struct ec_client_table **ct, uint64_t *op,
			uint32_t *view);

/* Free s's buffer and zero it. */
void ec_snapshot_clear(struct ec_snapshot *s);

#endif /* EC_REPLICA_APP_SNAPSHOT_H */
