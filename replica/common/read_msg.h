/*
 * read_msg.h - the fixed-layout READ and READ_REPLY (proto/ec_wire.h) in
 * user space: built by the clients, taken apart by the replica (which
 * takes a READ as the GET Request it stands for) and by the clients
 * (which take a READ_REPLY as the Reply it stands for).  The leader's XDP
 * program builds READ_REPLYs itself (bpf/read.h).
 */
#ifndef EC_REPLICA_COMMON_READ_MSG_H
#define EC_REPLICA_COMMON_READ_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "common/wire.h"

/* A READ's fields, host order; key points into the datagram. */
struct ec_read_msg {
	uint64_t client_id;
	uint64_t request_id;
	uint64_t session_op;
	uint64_t min_op;
	const uint8_t *key;
	size_t key_len;
};

/* Largest READ datagram. */
#define EC_READ_MAX_DGRAM \
	(sizeof(struct ec_hdr) + sizeof(struct ec_read) + EC_MAX_KEY)

/* Encode r as a READ with header view into buf (at least
 * EC_READ_MAX_DGRAM bytes).  Returns the length, 0 if the key length is
 * not 1..EC_MAX_KEY. */
size_t ec_read_encode(void *buf, uint32_t view, const struct ec_read_msg *r);

/* Take apart the body of m, a parsed READ.  0, or -1 if it is not one
 * READ body (lengths, key length, padding). */
int ec_read_decode(const struct ec_msg *m, struct ec_read_msg *r);

/* The GET Request a READ stands for, pointing into r and *storage. */
void ec_read_as_request(const struct ec_read_msg *r, Ec__Request *req,
			Ec__KvOp *storage);

/* Unpack the body of m, a parsed READ_REPLY, as the Reply it stands for
 * (Reply.lease set); free it with ec__reply__free_unpacked.  NULL if it
 * is not one READ_REPLY body, or out of memory. */
Ec__Reply *ec_read_reply_unpack(const struct ec_msg *m);

#endif /* EC_REPLICA_COMMON_READ_MSG_H */
