/*
 * batch.h - a batch of client requests: what one log op (one PREPARE, one
 * slot, one quorum) carries.
 *
 * On the wire a batch is an encoded Batch (ec.proto) whose elements are
 * the clients' encoded Requests, byte for byte as they arrived: the leader
 * never re-encodes a request, and the whole Batch is exactly the body of
 * its PREPARE and of its LogEntry.  The BPF programs never parse it; they
 * work per op.
 *
 * A log holds batches as bytes.  Decoding is the state machine's business
 * and happens the same way on every replica: a batch that does not decode
 * (a broken leader; nobody else can put one in a log) executes as nothing,
 * whole, and is counted, so replicas never disagree about it whatever
 * path (fast ack, PREPARE, state transfer) brought it.
 *
 * Pure: no sockets, no clocks.
 */
#ifndef EC_REPLICA_CORE_BATCH_H
#define EC_REPLICA_CORE_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ec.pb-c.h"
#include "ec_wire.h"

/* Default and largest --batch (requests per op; 1 turns batching off). */
#define EC_DEFAULT_BATCH 64
#define EC_MAX_BATCH 256

/* A decoded batch.  malformed: the bytes did not decode (n is then 0). */
struct ec_batch {
	size_t n;
	bool malformed;
	Ec__Request *req[];
};

/* Decode an encoded Batch.  NULL only when out of memory. */
struct ec_batch *ec_batch_decode(const uint8_t *body, size_t len);
void ec_batch_free(struct ec_batch *b);

/*
 * The leader's open batch: requests added one by one, encoded as they
 * come (a Batch is a run of length-delimited fields), until it is closed
 * into bytes for the log.
 */
struct ec_batch_builder {
	size_t n;
	size_t bytes;                    /* of buf used */
	Ec__Request *req[EC_MAX_BATCH];  /* decoded, owned */
	uint8_t buf[EC_MAX_ENTRY_BODY];
};

/* Bytes a request of len bytes adds to an encoded Batch. */
size_t ec_batch_cost(size_t len);

/* Whether a request of len bytes still fits a batch that holds n
 * requests in bytes bytes, with at most max requests and
 * EC_MAX_ENTRY_BODY bytes per batch (so a PREPARE fits one frame); with
 * n and bytes 0, whether it can be batched at all.  The one place this
 * is decided: for the builder (b->n, b->bytes) and for the leader's
 * queue, which counts what the next batch would take before taking it. */
bool ec_batch_fits(size_t n, size_t bytes, size_t len, size_t max);

/* Add a request the caller checked fits: body[0..len) encoded (copied),
 * req the same decoded (the builder takes it). */
void ec_batch_add(struct ec_batch_builder *b, const uint8_t *body,
		  size_t len, Ec__Request *req);

/*
 * Close the batch: *out gets its decoded requests (ownership moves
 * there) and the builder holds none; its encoding stays in
 * b->buf[0..b->bytes) until the next ec_batch_add.  False when out of
 * memory (nothing moved).
 */
bool ec_batch_take(struct ec_batch_builder *b, struct ec_batch **out);

/* Free everything the builder holds. */
void ec_batch_clear(struct ec_batch_builder *b);

#endif /* EC_REPLICA_CORE_BATCH_H */
