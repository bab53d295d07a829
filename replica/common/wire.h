/*
 * wire.h - encode and validate electrode-c datagrams in user space.
 *
 * A datagram is struct ec_hdr (proto/ec_wire.h) plus a protobuf-c body.
 * ec_msg_parse() checks the header and hands back a host-order view of it;
 * every rejection has a named reason so it can be counted and shown.
 */
#ifndef EC_REPLICA_COMMON_WIRE_H
#define EC_REPLICA_COMMON_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ec_wire.h"
#include "ec.pb-c.h"

/* The leader of view in a cluster of n replicas: the one place this rule
 * is written (VR's round robin). */
static inline unsigned ec_view_leader(uint32_t view, unsigned n)
{
	return view % n;
}

/* Whether messages of type come from clients (sender EC_SENDER_CLIENT,
 * from any address) rather than from a replica. */
static inline bool ec_msg_from_client(unsigned type)
{
	return type == EC_MSG_REQUEST || type == EC_MSG_READ;
}

/* A UDP address (both fields in network byte order): a replica's or a
 * client's. */
struct ec_addr {
	uint32_t ip;
	uint16_t port;
};

/* Whether a is a usable replica address (nonzero IP and port). */
static inline bool ec_addr_valid(const struct ec_addr *a)
{
	return a->ip != 0 && a->port != 0;
}

enum ec_parse_result {
	EC_PARSE_OK = 0,
	EC_PARSE_TRUNCATED,    /* shorter than the header or than body_len says */
	EC_PARSE_OVERSIZED,    /* longer than EC_MAX_MSG or than body_len says */
	EC_PARSE_BAD_MAGIC,
	EC_PARSE_BAD_VERSION,
	EC_PARSE_UNKNOWN_TYPE,
	EC_PARSE_BAD_SENDER,   /* replica message from an id outside the cluster */
	EC_PARSE_BAD_BODY,     /* protobuf-c could not unpack the body */
	EC_PARSE_BAD_RANGE,    /* numbers that cannot be true: a commit past
				* the sender's last op, entries that do not
				* line up with the header */
	EC_PARSE_MAX,
};

/* Counters of parse results, indexed by enum ec_parse_result. */
struct ec_parse_stats {
	uint64_t count[EC_PARSE_MAX];
};

/* Host-order copy of a header plus a pointer to the undecoded body. */
struct ec_msg {
	uint8_t type;
	uint8_t flags;
	uint8_t sender;
	uint32_t view;
	uint64_t op;
	uint64_t commit;
	const uint8_t *body;
	size_t body_len;
};

/* Name of a parse result, for logs and counters. */
const char *ec_parse_result_name(enum ec_parse_result r);

/* Name of a message type ("PREPARE"), or "?" if unknown. */
const char *ec_msg_type_name(unsigned type);

/*
 * Validate the datagram buf[0..len) and fill *m.  Replica messages must come
 * from a sender id below n_replicas; client messages from EC_SENDER_CLIENT.
 * The body is not unpacked.  If stats is not NULL the result is counted.
 * Returns EC_PARSE_OK or the reason for rejection.
 */
enum ec_parse_result ec_msg_parse(const void *buf, size_t len,
				  unsigned n_replicas, struct ec_msg *m,
				  struct ec_parse_stats *stats);

/*
 * Unpack m's body with the given descriptor.  Returns the message (free it
 * with protobuf_c_message_free_unpacked) or NULL, counting
 * EC_PARSE_BAD_BODY in stats when not NULL.
 */
ProtobufCMessage *ec_msg_unpack(const struct ec_msg *m,
				const ProtobufCMessageDescriptor *desc,
				struct ec_parse_stats *stats);

/*
 * Encode header fields from m (its body/body_len are ignored) and the
 * optional protobuf body into buf.  Returns the datagram length, or 0 if
 * it would exceed cap or EC_MAX_MSG.
 */
size_t ec_msg_encode(void *buf, size_t cap, const struct ec_msg *m,
		     const ProtobufCMessage *body);

/*
 * Encode only the header: fields from m (its body/body_len are ignored)
 * and a body of body_len bytes, into the first sizeof(struct ec_hdr)
 * bytes of buf.  For callers that size or already hold the body
 * themselves; the caller keeps the datagram within EC_MAX_MSG.
 */
void ec_hdr_encode(void *buf, const struct ec_msg *m, size_t body_len);

/*
 * Protobuf's base-128 varint, for bodies assembled from pieces rather
 * than packed by protobuf-c: a batch of requests (core/batch.c) and a
 * request with session_op after its body (client/session.c).
 * ec_varint_len: the bytes v takes, 1 to 10.  ec_varint_put: write v at
 * p, which has room for them; returns how many it wrote.
 */
size_t ec_varint_len(uint64_t v);
size_t ec_varint_put(uint8_t *p, uint64_t v);

#endif /* EC_REPLICA_COMMON_WIRE_H */
