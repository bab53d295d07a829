/* wire.c - see wire.h. */
#include "wire.h"

#include <endian.h>
#include <stdbool.h>
#include <string.h>

static const char *const parse_names[EC_PARSE_MAX] = {
	[EC_PARSE_OK] = "ok",
	[EC_PARSE_TRUNCATED] = "truncated",
	[EC_PARSE_OVERSIZED] = "oversized",
	[EC_PARSE_BAD_MAGIC] = "bad_magic",
	[EC_PARSE_BAD_VERSION] = "bad_version",
	[EC_PARSE_UNKNOWN_TYPE] = "unknown_type",
	[EC_PARSE_BAD_SENDER] = "bad_sender",
	[EC_PARSE_BAD_BODY] = "bad_body",
	[EC_PARSE_BAD_RANGE] = "bad_range",
};

static const char *const type_names[EC_MSG_TYPE_MAX] = {
	[EC_MSG_REQUEST] = "REQUEST",
	[EC_MSG_REPLY] = "REPLY",
	[EC_MSG_PREPARE] = "PREPARE",
	[EC_MSG_PREPARE_OK] = "PREPARE_OK",
	[EC_MSG_COMMIT] = "COMMIT",
	[EC_MSG_START_VIEW_CHANGE] = "START_VIEW_CHANGE",
	[EC_MSG_DO_VIEW_CHANGE] = "DO_VIEW_CHANGE",
	[EC_MSG_START_VIEW] = "START_VIEW",
	[EC_MSG_GET_STATE] = "GET_STATE",
	[EC_MSG_NEW_STATE] = "NEW_STATE",
	[EC_MSG_RECOVERY] = "RECOVERY",
	[EC_MSG_RECOVERY_RESPONSE] = "RECOVERY_RESPONSE",
	[EC_MSG_GET_SNAPSHOT] = "GET_SNAPSHOT",
	[EC_MSG_SNAPSHOT] = "SNAPSHOT",
	[EC_MSG_HEARTBEAT_OK] = "HEARTBEAT_OK",
	[EC_MSG_READ] = "READ",
	[EC_MSG_READ_REPLY] = "READ_REPLY",
};

const char *ec_parse_result_name(enum ec_parse_result r)
{
	return (unsigned)r < EC_PARSE_MAX ? parse_names[r] : "?";
}

const char *ec_msg_type_name(unsigned type)
{
	if (type < EC_MSG_TYPE_MAX && type_names[type])
		return type_names[type];
	return "?";
}

/*
 * Whether a replica message's header op is the sender's last op (or, for
 * GET_STATE, an op above its commit number): then its commit number, which
 * never passes the sender's log, cannot exceed op.  RECOVERY (op 0) is
 * sent by a replica that may hold committed entries already; REQUEST and
 * REPLY carry no op, HEARTBEAT_OK a heartbeat number, READ nothing and
 * READ_REPLY the op its answer reflects (possibly below the commit).
 */
static bool commit_within_op(unsigned type)
{
	return type != EC_MSG_REQUEST && type != EC_MSG_REPLY &&
	       type != EC_MSG_RECOVERY && type != EC_MSG_HEARTBEAT_OK &&
	       type != EC_MSG_READ && type != EC_MSG_READ_REPLY;
}

static enum ec_parse_result parse(const uint8_t *buf, size_t len,
				  unsigned n_replicas, struct ec_msg *m)
{
	struct ec_hdr h;
	uint32_t body_len;

	if (len > EC_MAX_MSG)
		return EC_PARSE_OVERSIZED;
	if (len < sizeof(h))
		return EC_PARSE_TRUNCATED;
	memcpy(&h, buf, sizeof(h));
	if (be32toh(h.magic) != EC_MAGIC)
		return EC_PARSE_BAD_MAGIC;
	if (h.version != EC_VERSION)
		return EC_PARSE_BAD_VERSION;
	if (h.type == 0 || h.type >= EC_MSG_TYPE_MAX)
		return EC_PARSE_UNKNOWN_TYPE;
	body_len = be32toh(h.body_len);
	if (body_len > len - sizeof(h))
		return EC_PARSE_TRUNCATED;
	if (body_len < len - sizeof(h))
		return EC_PARSE_OVERSIZED;
	if (ec_msg_from_client(h.type)) {
		if (h.sender != EC_SENDER_CLIENT)
			return EC_PARSE_BAD_SENDER;
	} else if (h.sender >= n_replicas) {
		return EC_PARSE_BAD_SENDER;
	}
	if (commit_within_op(h.type) && be64toh(h.commit) > be64toh(h.op))
		return EC_PARSE_BAD_RANGE;
	m->type = h.type;
	m->flags = h.flags;
	m->sender = h.sender;
	m->view = be32toh(h.view);
	m->op = be64toh(h.op);
	m->commit = be64toh(h.commit);
	m->body = buf + sizeof(h);
	m->body_len = body_len;
	return EC_PARSE_OK;
}

enum ec_parse_result ec_msg_parse(const void *buf, size_t len,
				  unsigned n_replicas, struct ec_msg *m,
				  struct ec_parse_stats *stats)
{
	enum ec_parse_result r = parse(buf, len, n_replicas, m);

	if (stats)
		stats->count[r]++;
	return r;
}

ProtobufCMessage *ec_msg_unpack(const struct ec_msg *m,
				const ProtobufCMessageDescriptor *desc,
				struct ec_parse_stats *stats)
{
	ProtobufCMessage *pm;

	pm = protobuf_c_message_unpack(desc, NULL, m->body_len, m->body);
	if (!pm && stats)
		stats->count[EC_PARSE_BAD_BODY]++;
	return pm;
}

void ec_hdr_encode(void *buf, const struct ec_msg *m, size_t body_len)
{
	struct ec_hdr h;

	memset(&h, 0, sizeof(h));
	h.magic = htobe32(EC_MAGIC);
	h.version = EC_VERSION;
	h.type = m->type;
	h.flags = m->flags;
	h.sender = m->sender;
	h.view = htobe32(m->view);
	h.body_len = htobe32((uint32_t)body_len);
	h.op = htobe64(m->op);
	h.commit = htobe64(m->commit);
	memcpy(buf, &h, sizeof(h));
}

size_t ec_msg_encode(void *buf, size_t cap, const struct ec_msg *m,
		     const ProtobufCMessage *body)
{
	size_t body_len = body ? protobuf_c_message_get_packed_size(body) : 0;
	size_t len = sizeof(struct ec_hdr) + body_len;

	if (len > cap || len > EC_MAX_MSG)
		return 0;
	ec_hdr_encode(buf, m, body_len);
	if (body)
		protobuf_c_message_pack(body,
					(uint8_t *)buf + sizeof(struct ec_hdr));
	return len;
}

size_t ec_varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

size_t ec_varint_put(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}
