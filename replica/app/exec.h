/*
 * exec.h - the state machine's step: one request of a committed op
 * executed on the key-value store (kv.h) and the client table
 * (client_table.h), the same way on every replica.
 *
 * Contract:
 *  - It knows no view, leader or message: whether a request executes
 *    follows from the request, the op executing it and the client table
 *    alone, so every replica decides alike.  Who hears the answer is the
 *    caller's business (in the protocol only the leader replies).
 *  - A request id at or below the client's last executed one is a retry
 *    that reached the log twice: skipped on every replica alike, which is
 *    what makes retries exactly-once.
 *  - A request that is no valid op (only a broken leader logs one), or
 *    one of a client the table does not know whose session began too long
 *    ago (client_table.h, expiry), is not executed and changes nothing.
 *  - An executed request's encoded Reply body is cached in its client's
 *    record (reply, reply_len): the answer to it and to its retries.  It
 *    says which op executed it (Reply.op).
 *
 * Pure: no sockets, no clocks.
 */
#ifndef EC_REPLICA_APP_EXEC_H
#define EC_REPLICA_APP_EXEC_H

#include <stdbool.h>
#include <stdint.h>

#include "client_table.h"
#include "ec.pb-c.h"
#include "kv.h"

/* What executing one request did. */
enum ec_exec_outcome {
	EC_EXEC_APPLIED,   /* executed: the record's cached reply answers it */
	EC_EXEC_DUPLICATE, /* executed before: skipped, nothing to answer */
	EC_EXEC_INVALID,   /* no valid op: not executed (BAD_REQUEST) */
	EC_EXEC_EXPIRED,   /* of an expired session: not executed
			    * (SESSION_EXPIRED) */
	EC_EXEC_NO_MEMORY, /* out of memory, the state possibly changed part
			    * way: the replica must not go on */
};

/* Whether req is something the state machine can execute: a well-formed
 * op and a request id (0 is a hello's). */
bool ec_exec_valid(const Ec__Request *req);

/* Whether a request of a client with record rec (NULL: none) and
 * Request.session_op, executed as op, belongs to an expired session when
 * clients are forgotten after expiry_ops ops (0: never). */
bool ec_exec_session_expired(const struct ec_client_rec *rec,
			     uint64_t session_op, uint64_t op,
			     uint64_t expiry_ops);

/* Execute req, of committed op, on kv and ct (clients expire after
 * expiry_ops ops, 0: never).  *client is the client's record afterwards,
 * NULL if it has none (its address, when known, is where an answer
 * goes). */
enum ec_exec_outcome ec_exec_request(struct ec_kv *kv,
				     struct ec_client_table *ct,
				     uint64_t expiry_ops,
				     const Ec__Request *req, uint64_t op,
				     const struct ec_client_rec **client);

/* Answer req, a valid GET, from kv as it stands after executing op
 * (Reply.op = op, Reply.lease set), changing and caching nothing: a read
 * the leader answers under its lease (core/lease.h).  The encoded Reply
 * body is in *buf (malloc'd, *len bytes).  0, or -1 out of memory. */
int ec_exec_read(const struct ec_kv *kv, const Ec__Request *req, uint64_t op,
		 uint8_t **buf, size_t *len);

/* After executing op: forget the clients that expired by then (every
 * EC_EXPIRY_SCAN ops, the same ops on every replica).  Returns how
 * many. */
size_t ec_exec_expire(struct ec_client_table *ct, uint64_t op,
		      uint64_t expiry_ops);

#endif /* EC_REPLICA_APP_EXEC_H */
