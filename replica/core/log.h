/*
 * log.h - the replicated log: slots base+1..last, each holding one encoded
 * Batch of requests (exactly the body a PREPARE carries, batch.h) and the
 * view it was prepared in.
 *
 * Ops at or below base were executed and then compacted away: the
 * application state of a checkpoint (app/snapshot.h) stands for them, and
 * ec_log_at() returns NULL for them.  The core moves base forward only
 * below its commit number (a checkpoint's op), so every entry a replica
 * may still have to send as uncommitted, or execute, is held.
 *
 * An entry may also keep its batch decoded, from when it was appended (the
 * leader built it from requests it had decoded) or first read, until it is
 * executed: every request is then decoded once on its way through a
 * replica.
 */
#ifndef EC_REPLICA_CORE_LOG_H
#define EC_REPLICA_CORE_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "batch.h"

struct ec_entry {
	uint32_t view;
	size_t len;
	uint8_t *body;
	struct ec_batch *batch; /* body decoded, or NULL: not yet, or released */
};

struct ec_log {
	struct ec_entry *slot; /* slot[op - base - 1] */
	uint64_t base;         /* ops up to here are compacted away */
	uint64_t last;         /* last op, base when no entry is held */
	uint64_t cap;
};

void ec_log_init(struct ec_log *l);
void ec_log_free(struct ec_log *l);

/* Append at op last+1 (copies body).  batch, when not NULL, is body
 * already decoded: the log takes it, also on failure.  Returns the new op
 * or 0 on no memory. */
uint64_t ec_log_append(struct ec_log *l, uint32_t view, const uint8_t *body,
		       size_t len, struct ec_batch *batch);

/* Entry at op, or NULL when op is at or below base, or past the end. */
const struct ec_entry *ec_log_at(const struct ec_log *l, uint64_t op);

/* The batch at op, decoding it now unless it is already, and keeping it
 * until ec_log_release or truncation (a batch that does not decode comes
 * back marked malformed).  NULL when op is out of range or out of
 * memory. */
const struct ec_batch *ec_log_batch(struct ec_log *l, uint64_t op);

/* Free the decoded batch kept at op, if any (the entry was executed:
 * only its bytes are read from now on). */
void ec_log_release(struct ec_log *l, uint64_t op);

/* Drop every op above last (never below base: those are gone already). */
void ec_log_truncate(struct ec_log *l, uint64_t last);

/* Free every entry at or below upto (clamped to last) and make it the
 * base.  Nothing happens when upto is not above base. */
void ec_log_compact(struct ec_log *l, uint64_t upto);

/* Drop every entry and start over empty at base (last = base): the state
 * of a snapshot at op base replaces the log. */
void ec_log_reset(struct ec_log *l, uint64_t base);

/* Entries held: last - base. */
static inline uint64_t ec_log_held(const struct ec_log *l)
{
	return l->last - l->base;
}

/* 1 if the entry at op is held and has the same view and body, else 0. */
int ec_log_same(const struct ec_log *l, uint64_t op, uint32_t view,
		const uint8_t *body, size_t len);

#endif /* EC_REPLICA_CORE_LOG_H */
