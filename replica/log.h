/*
 * log.h - the replicated log: slots 1..last, each holding one encoded
 * Request (exactly the body a PREPARE carries) and the view it was
 * prepared in.  Kept whole in memory (no compaction yet).
 */
#ifndef EC_REPLICA_LOG_H
#define EC_REPLICA_LOG_H

#include <stddef.h>
#include <stdint.h>

struct ec_entry {
	uint32_t view;
	uint64_t client_id;
	uint64_t request_id;
	size_t len;
	uint8_t *body;
};

struct ec_log {
	struct ec_entry *slot; /* slot[op - 1] */
	uint64_t last;         /* last op held, 0 when empty */
	uint64_t cap;
};

void ec_log_init(struct ec_log *l);
void ec_log_free(struct ec_log *l);

/* Append at op last+1 (copies body).  Returns the new op or 0 on no memory. */
uint64_t ec_log_append(struct ec_log *l, uint32_t view, const uint8_t *body,
		       size_t len, uint64_t client_id, uint64_t request_id);

/* Entry at op, or NULL when op is 0 or past the end. */
const struct ec_entry *ec_log_at(const struct ec_log *l, uint64_t op);

/* Drop every op above last. */
void ec_log_truncate(struct ec_log *l, uint64_t last);

/* 1 if the entry at op has the same view and body, else 0. */
int ec_log_same(const struct ec_log *l, uint64_t op, uint32_t view,
		const uint8_t *body, size_t len);

#endif /* EC_REPLICA_LOG_H */
