/* sim_kernel.c - see sim_kernel.h. */
#include "sim_kernel.h"

#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/quorum.h"
#include "common/read_msg.h"
#include "common/wire.h"

static void must(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "sim_kernel: %s\n", what);
		abort();
	}
}

void sim_kernel_init(struct sim_kernel *k, unsigned self, unsigned n)
{
	memset(k, 0, sizeof(*k));
	k->self = self;
	k->n = n;
}

/* Append a copy of buf[0..len) to the records. */
static void record(struct sim_kernel *k, const uint8_t *buf, size_t len)
{
	struct simk_record *r;

	if (k->n_records == k->cap_records) {
		k->cap_records = k->cap_records ? k->cap_records * 2 : 64;
		k->records = realloc(k->records,
				     k->cap_records * sizeof(*k->records));
		must(k->records != NULL, "no memory");
	}
	r = &k->records[k->n_records++];
	r->buf = malloc(len ? len : 1);
	must(r->buf != NULL, "no memory");
	memcpy(r->buf, buf, len);
	r->len = len;
}

/*
 * The header as the program parses it (bpf/parse.h): magic, version and
 * a known type, nothing more; each offload checks the rest it needs.
 * False for a datagram that is not electrode-c's (it goes up).
 */
static bool read_hdr(const uint8_t *buf, size_t len, struct ec_msg *m)
{
	struct ec_hdr h;

	if (len < sizeof(h))
		return false;
	memcpy(&h, buf, sizeof(h));
	if (be32toh(h.magic) != EC_MAGIC || h.version != EC_VERSION ||
	    h.type == 0 || h.type >= EC_MSG_TYPE_MAX)
		return false;
	m->type = h.type;
	m->flags = h.flags;
	m->sender = h.sender;
	m->view = be32toh(h.view);
	m->body_len = be32toh(h.body_len);
	m->op = be64toh(h.op);
	m->commit = be64toh(h.commit);
	return true;
}

/* The follower's fast ack of PREPARE m, from a member (so from the
 * address of the sender it names). */
static enum simk_verdict fastack(struct sim_kernel *k, const uint8_t *buf,
				 size_t len, const struct ec_msg *m,
				 uint8_t ack[SIMK_ACK_LEN])
{
	struct ec_msg a = { .type = EC_MSG_PREPARE_OK, .flags = EC_F_FAST_ACK };

	if (!k->fastack_on || !k->expected || m->view != k->view ||
	    m->sender != k->leader || m->op != k->expected)
		return SIMK_PASS;
	/* the log stores a PREPARE whole, up to one frame's worth */
	if (m->body_len > EC_MAX_ENTRY_BODY)
		return SIMK_PASS;
	/* the lengths must add up (in a frame: UDP, IP and body_len), and
	 * the commit must not pass the op: user space refuses both */
	if (len != sizeof(struct ec_hdr) + m->body_len || m->commit > m->op)
		return SIMK_PASS;
	record(k, buf, len);
	k->expected++;
	k->fast_acked++;
	k->promised_at = k->now;
	a.sender = (uint8_t)k->self;
	a.view = m->view;
	a.op = m->op;
	ec_hdr_encode(ack, &a, 0);
	return SIMK_ACKED;
}

/* The follower's fast ack of heartbeat (COMMIT) m, from a member: the same
 * gate as a PREPARE's, then what user space would answer. */
static enum simk_verdict heartbeat(struct sim_kernel *k, const uint8_t *buf,
				   size_t len, const struct ec_msg *m,
				   uint8_t ack[SIMK_ACK_LEN])
{
	struct ec_msg a = { .type = EC_MSG_HEARTBEAT_OK,
			    .flags = EC_F_FAST_ACK };
	struct ec_heartbeat hb;

	if (!k->fastack_commit_on || !k->expected || m->view != k->view ||
	    m->sender != k->leader)
		return SIMK_PASS;
	/* exactly one heartbeat, numbered, lengths that add up (in a
	 * frame: UDP, IP and body_len), a commit within the op */
	if (m->body_len != sizeof(hb) ||
	    len != sizeof(struct ec_hdr) + sizeof(hb) || m->commit > m->op)
		return SIMK_PASS;
	memcpy(&hb, buf + sizeof(struct ec_hdr), sizeof(hb));
	if (hb.seq == 0)
		return SIMK_PASS;
	/* stored for its commit number; expected stays */
	record(k, buf, len);
	k->heartbeats_acked++;
	k->promised_at = k->now;
	a.sender = (uint8_t)k->self;
	a.view = m->view;
	a.op = be64toh(hb.seq);
	ec_hdr_encode(ack, &a, 0);
	return SIMK_ACKED;
}

/* An ack that goes up for user space to count: without EC_F_QUORUM,
 * which only the program may set (a sender may have put it there). */
static enum simk_verdict unflagged(uint8_t *buf)
{
	((struct ec_hdr *)buf)->flags &= (uint8_t)~EC_F_QUORUM;
	return SIMK_PASS;
}

/* The leader's count of PREPARE_OK m, in buf, from a member.  Only the
 * ack that completes a quorum goes up, flagged, and a follower's repeated
 * ack of a slot at quorum (it answers a retransmission: the quorum ack
 * may have been lost on its way up). */
static enum simk_verdict quorum(struct sim_kernel *k, uint8_t *buf,
				const struct ec_msg *m)
{
	uint64_t *slot = &k->slots[m->op % EC_QUORUM_SLOTS];
	unsigned need = ec_quorum_followers(k->n), bit = 1u << m->sender;
	unsigned bits = EC_SLOT_BITS(*slot);
	bool had_quorum = (unsigned)__builtin_popcount(bits) >= need;

	if (!k->quorum_on || !k->lead || m->view != k->view)
		return unflagged(buf);
	if (m->op <= k->commit)
		goto drop;
	/* the slot holds another op, or this op of another view */
	if (!EC_SLOT_MATCHES(*slot, m->op, m->view))
		return unflagged(buf);
	if (bits & bit) {
		if (!had_quorum)
			goto drop;
	} else {
		*slot |= bit;
		bits |= bit;
		if (had_quorum || (unsigned)__builtin_popcount(bits) < need)
			goto drop;
	}
	((struct ec_hdr *)buf)->flags |= EC_F_QUORUM;
	return SIMK_PASS_QUORUM;
drop:
	k->quorum_dropped++;
	return SIMK_DROP;
}

enum simk_verdict sim_kernel_frame(struct sim_kernel *k, unsigned from,
				   uint8_t *buf, size_t len,
				   uint8_t ack[SIMK_ACK_LEN])
{
	struct ec_msg m;

	/* a REQUEST or a READ may come from anyone; this entry point has
	 * no read path (sim_kernel_read is the model's) */
	if (!read_hdr(buf, len, &m) || m.type == EC_MSG_REQUEST ||
	    m.type == EC_MSG_READ)
		return SIMK_PASS;
	/* the membership rule (replica/core/membership.h; from_peer in the
	 * program): another replica of the configuration, from its own
	 * address, or dropped */
	if (m.sender >= k->n || m.sender == k->self || from != m.sender)
		return SIMK_DROP;
	if (m.type == EC_MSG_PREPARE)
		return fastack(k, buf, len, &m, ack);
	if (m.type == EC_MSG_COMMIT)
		return heartbeat(k, buf, len, &m, ack);
	/* counted whatever its commit and body: the program does not
	 * look at them */
	if (m.type == EC_MSG_PREPARE_OK)
		return quorum(k, buf, &m);
	return SIMK_PASS;
}

void sim_kernel_tag(struct sim_kernel *k, uint64_t op, uint32_t view)
{
	k->slots[op % EC_QUORUM_SLOTS] = EC_SLOT_TAG(op, view);
}

void sim_kernel_clear_records(struct sim_kernel *k)
{
	for (size_t r = 0; r < k->n_records; r++)
		free(k->records[r].buf);
	k->n_records = 0;
}

void sim_kernel_reset(struct sim_kernel *k)
{
	sim_kernel_clear_records(k);
	k->expected = 0;
	k->lead = false;
	k->promised_at = 0;
	k->rstate.read_word = 0;
}

void sim_kernel_free(struct sim_kernel *k)
{
	sim_kernel_reset(k);
	free(k->records);
	k->records = NULL;
	k->cap_records = 0;
	free(k->read_slots);
	k->read_slots = NULL;
}

void sim_kernel_read_cache(struct sim_kernel *k, uint32_t nslots)
{
	free(k->read_slots);
	k->read_slots = calloc(nslots, sizeof(*k->read_slots));
	must(k->read_slots &&
		     ec_read_cache_init(&k->cache, k->read_slots, nslots,
					 &k->rstate) == 0,
	     "read cache");
}

enum simk_verdict sim_kernel_read(struct sim_kernel *k, const uint8_t *buf,
				  size_t len,
				  uint8_t reply[SIMK_READ_REPLY_MAX],
				  size_t *reply_len)
{
	const struct ec_read_slot *slot;
	struct ec_read_reply body;
	struct ec_read_msg r;
	struct ec_msg m;
	uint64_t w0, a0;
	uint32_t hash;

	if (!k->read_on || !k->read_slots || !read_hdr(buf, len, &m) ||
	    m.type != EC_MSG_READ || m.sender != EC_SENDER_CLIENT)
		return SIMK_PASS;
	m.body = buf + sizeof(struct ec_hdr);
	m.body_len = len - sizeof(struct ec_hdr);
	if (ec_read_decode(&m, &r) < 0)
		return SIMK_PASS;
	w0 = k->rstate.read_word;
	a0 = k->rstate.applied_op;
	if (!w0)
		return SIMK_PASS;
	hash = ec_read_hash(r.key, (uint32_t)r.key_len);
	slot = &k->read_slots[hash & k->cache.mask];
	if (slot->seq & 1 || slot->key_len != r.key_len || slot->hash != hash ||
	    memcmp(slot->key, r.key, r.key_len) != 0 ||
	    slot->flags & EC_RS_TOO_LARGE)
		return SIMK_PASS;
	if (!k->read_ignore_lease && k->now >= k->rstate.lease_until_ns)
		return SIMK_PASS;
	if (a0 < r.min_op)
		return SIMK_PASS;
	m = (struct ec_msg){
		.type = EC_MSG_READ_REPLY,
		.sender = (uint8_t)k->self,
		.view = (uint32_t)(w0 >> 32),
		.op = a0,
		.commit = k->rstate.commit,
	};
	memset(&body, 0, sizeof(body));
	body.client_id = htobe64(r.client_id);
	body.request_id = htobe64(r.request_id);
	body.op = htobe64(a0);
	body.status = EC__STATUS__ST_OK;
	body.found = 1;
	body.value_len = htobe16(slot->value_len);
	ec_hdr_encode(reply, &m, sizeof(body) + slot->value_len);
	memcpy(reply + sizeof(struct ec_hdr), &body, sizeof(body));
	memcpy(reply + sizeof(struct ec_hdr) + sizeof(body), slot->value,
	       slot->value_len);
	*reply_len = sizeof(struct ec_hdr) + sizeof(body) + slot->value_len;
	k->reads_answered++;
	return SIMK_ANSWERED;
}
