/*
 * fuzz_wire.c - libFuzzer harness of the datagram parser (ec_msg_parse),
 * the body decoders (ec_msg_unpack with every body descriptor, and the
 * state machine's batch decoder) and the membership rule
 * (ec_member_check).  The input is one datagram.
 *
 * Besides never crashing, what the parser accepts must be what the
 * header says: body_len + 32 == len, a known type, a sender id within the
 * cluster (or the client id on a REQUEST or READ), no commit past the sender's
 * last op, and a header that encodes back to the very bytes it came from.
 * The membership rule must judge a parsed header as replica/core/membership.h says.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/batch.h"
#include "core/membership.h"
#include "common/read_msg.h"
#include "common/wire.h"

/* Messages clients send, from any address, with sender
 * EC_SENDER_CLIENT: the rule written again, as the oracle. */
static int client_type(unsigned type)
{
	return type == EC_MSG_REQUEST || type == EC_MSG_READ;
}

static const ProtobufCMessageDescriptor *const bodies[] = {
	&ec__request__descriptor,	  &ec__reply__descriptor,
	&ec__kv_op__descriptor,		  &ec__log_entry__descriptor,
	&ec__start_view_change__descriptor, &ec__do_view_change__descriptor,
	&ec__log_chunk__descriptor,	  &ec__get_state__descriptor,
	&ec__recovery__descriptor,	  &ec__batch__descriptor,
	&ec__get_snapshot__descriptor,	  &ec__snapshot__descriptor,
};

#define N_SMALL 3

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_wire: %s\n", what);
		abort();
	}
}

/* Decode the body as desc.  Nothing is re-encoded: the core keeps and
 * forwards the bytes it received, never a decoded body packed again
 * (protobuf-c takes some bodies, such as one with a field number 0, that
 * it refuses once it has packed them itself). */
static void unpack_as(const struct ec_msg *m,
		      const ProtobufCMessageDescriptor *desc)
{
	struct ec_parse_stats st = { { 0 } };
	ProtobufCMessage *pm = ec_msg_unpack(m, desc, &st);

	check((pm == NULL) == (st.count[EC_PARSE_BAD_BODY] == 1),
	      "bad_body counted iff the body does not decode");
	if (pm)
		protobuf_c_message_free_unpacked(pm, NULL);
}

/* A body as a log entry: decoded whole or malformed, never in part. */
static void batch_of(const struct ec_msg *m)
{
	struct ec_batch *b = ec_batch_decode(m->body, m->body_len);

	check(b != NULL, "batch decoder out of memory");
	check(!b->malformed || b->n == 0, "a malformed batch kept requests");
	check(b->malformed || b->n > 0, "an empty batch taken as well-formed");
	ec_batch_free(b);
}

/* The membership rule on m from each member, a stranger and nowhere. */
static void members(const struct ec_msg *m)
{
	struct ec_members mb = { .n = N_SMALL };
	struct ec_addr stranger = { .ip = htonl(0x7f000064), .port = htons(1) };
	struct ec_member_stats st = { { 0 } };

	for (unsigned i = 0; i < N_SMALL; i++)
		mb.addr[i] = (struct ec_addr){ htonl(0x7f000001),
					       htons(7000 + i) };
	for (unsigned i = 0; i < N_SMALL; i++) {
		enum ec_member_verdict v = ec_member_check(&mb, m, &mb.addr[i],
							   &st);

		if (client_type(m->type) || m->sender == i)
			check(v == EC_MEMBER_OK, "a member's own message refused");
		else
			check(v == EC_MEMBER_WRONG_SENDER,
			      "a member speaking for another not caught");
	}
	check(ec_member_check(&mb, m, &stranger, &st) ==
		      (client_type(m->type) ? EC_MEMBER_OK :
						   EC_MEMBER_NOT_MEMBER),
	      "a stranger's message misjudged");
	check(ec_member_check(&mb, m, NULL, &st) ==
		      (client_type(m->type) ? EC_MEMBER_OK :
						   EC_MEMBER_NOT_MEMBER),
	      "a message from nowhere misjudged");
	check(st.count[EC_MEMBER_OK] == 0, "ok counted as a rejection");
}

/* The fixed-layout READ and READ_REPLY (common/read_msg.h): whatever
 * the body, a READ taken is one key of 1..EC_MAX_KEY bytes that fills
 * the body, and re-encodes to the same datagram; a READ_REPLY taken
 * holds the body's value. */
static void fixed_bodies(const struct ec_msg *m)
{
	struct ec_msg as_read = *m, as_reply = *m;
	uint8_t buf[EC_READ_MAX_DGRAM];
	struct ec_read_msg rd;
	Ec__Reply *rep;

	as_read.type = EC_MSG_READ;
	if (ec_read_decode(&as_read, &rd) == 0) {
		check(rd.key_len >= 1 && rd.key_len <= EC_MAX_KEY &&
			      rd.key == m->body + sizeof(struct ec_read) &&
			      m->body_len == sizeof(struct ec_read) + rd.key_len,
		      "a READ body taken that is not one key");
		check(ec_read_encode(buf, m->view, &rd) ==
				      sizeof(struct ec_hdr) + m->body_len &&
			      memcmp(buf + sizeof(struct ec_hdr), m->body,
				     m->body_len) == 0,
		      "a READ body does not round-trip");
	}
	as_reply.type = EC_MSG_READ_REPLY;
	rep = ec_read_reply_unpack(&as_reply);
	if (rep) {
		check(m->body_len == sizeof(struct ec_read_reply) + rep->value.len &&
			      (rep->value.len == 0 ||
			       memcmp(rep->value.data,
				      m->body + sizeof(struct ec_read_reply),
				      rep->value.len) == 0),
		      "a READ_REPLY's value is not its body's");
		ec__reply__free_unpacked(rep, NULL);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ec_parse_stats st = { { 0 } };
	enum ec_parse_result r, r_small;
	struct ec_msg m, m_small;
	uint8_t hdr[sizeof(struct ec_hdr)];
	uint64_t counted = 0;

	r = ec_msg_parse(data, size, EC_MAX_REPLICAS, &m, &st);
	for (unsigned k = 0; k < EC_PARSE_MAX; k++)
		counted += st.count[k];
	check((unsigned)r < EC_PARSE_MAX && counted == 1 && st.count[r] == 1,
	      "one result, counted once");
	/* a smaller cluster refuses more senders, and nothing else: the
	 * checks after the sender's (the range) may not be reached */
	r_small = ec_msg_parse(data, size, N_SMALL, &m_small, NULL);
	check(r_small == r ||
		      (r_small == EC_PARSE_BAD_SENDER &&
		       (r == EC_PARSE_OK || r == EC_PARSE_BAD_RANGE)),
	      "cluster size changed more than the sender check");
	if (r != EC_PARSE_OK)
		return 0;
	check(m.body_len + sizeof(struct ec_hdr) == size, "body_len + 32 == len");
	check(m.body == data + sizeof(struct ec_hdr), "body follows the header");
	check(size <= EC_MAX_MSG, "oversized accepted");
	check(m.type > 0 && m.type < EC_MSG_TYPE_MAX, "unknown type accepted");
	check(client_type(m.type) ? m.sender == EC_SENDER_CLIENT :
					 m.sender < EC_MAX_REPLICAS,
	      "sender outside the cluster accepted");
	check(client_type(m.type) || m.type == EC_MSG_REPLY ||
		      m.type == EC_MSG_RECOVERY ||
		      m.type == EC_MSG_HEARTBEAT_OK ||
		      m.type == EC_MSG_READ_REPLY || m.commit <= m.op,
	      "a commit past the sender's last op accepted");
	ec_hdr_encode(hdr, &m, m.body_len);
	check(memcmp(hdr, data, sizeof(hdr)) == 0, "header does not round-trip");
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
		unpack_as(&m, bodies[i]);
	batch_of(&m);
	fixed_bodies(&m);
	if (r_small == EC_PARSE_OK)
		members(&m_small);
	return 0;
}
