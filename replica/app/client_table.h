/*
 * client_table.h - per-client de-duplication state.
 *
 * Every replica updates it when it executes an op, so after a view change
 * the new leader still answers a retried request from the cache instead of
 * executing it twice.  The leader also remembers the newest request it has
 * put in the log (so a retry of an in-flight request is not prepared again)
 * and where to send the reply.
 *
 * Expiry (bounded table).  A client unseen for the last N executed ops
 * (opts.client_expiry_ops) is forgotten, decided at execution from the log
 * alone: every EC_EXPIRY_SCAN ops, every replica drops the clients whose
 * last executed request is more than N ops old.  A forgotten client must
 * never have a request executed twice, so an unknown client id is taken
 * as a new session only if its request says the session began recently:
 * Request.session_op, a commit number the client heard before its first
 * request, must be within N ops of the op executing it.  Otherwise the
 * request is answered ST_SESSION_EXPIRED and not executed; the client
 * starts a new session with a new id.  A session that began within the
 * last N ops and has executed anything is still in the table (it was seen
 * within N ops), so an unknown id with a recent session_op really is new.
 */
#ifndef EC_REPLICA_APP_CLIENT_TABLE_H
#define EC_REPLICA_APP_CLIENT_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/wire.h"

/* Ops between expiry scans: the same ops on every replica. */
#define EC_EXPIRY_SCAN 4096

struct ec_client_rec {
	uint64_t client_id;
	uint64_t executed_req; /* newest request executed (0: none) */
	uint64_t last_op;      /* op that executed it; for a record only the
				* leader has (nothing executed yet), its
				* commit number when the record was made */
	uint64_t prepared_req; /* leader: newest request in the log */
	uint8_t *reply;        /* encoded Reply body for executed_req */
	size_t reply_len;
	struct ec_addr addr;   /* leader: where the client sent from */
	bool has_addr;
};

struct ec_client_table;

struct ec_client_table *ec_ct_new(void);
void ec_ct_free(struct ec_client_table *t);

/* Record of client_id, or NULL if absent.  With create, absent records are
 * added (NULL only when out of memory). */
struct ec_client_rec *ec_ct_get(struct ec_client_table *t, uint64_t client_id,
				bool create);

/* Replace rec's cached reply with buf (malloc'd), which rec now owns. */
void ec_ct_set_reply(struct ec_client_rec *rec, uint8_t *buf, size_t len);

/* Drop every record whose last_op is below horizon; returns how many. */
size_t ec_ct_expire(struct ec_client_table *t, uint64_t horizon);

/* Number of records. */
size_t ec_ct_count(const struct ec_client_table *t);

/* Forget every prepared_req (the log's uncommitted part was replaced). */
void ec_ct_reset_prepared(struct ec_client_table *t);

/* Call fn for every record (in no particular order). */
typedef void ec_ct_visit_fn(const struct ec_client_rec *rec, void *arg);
void ec_ct_foreach(const struct ec_client_table *t, ec_ct_visit_fn *fn,
		   void *arg);

#endif /* EC_REPLICA_APP_CLIENT_TABLE_H */
