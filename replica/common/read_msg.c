#include "common/read_msg.h"

#include <endian.h>
#include <stdlib.h>
#include <string.h>

size_t ec_read_encode(void *buf, uint32_t view, const struct ec_read_msg *r)
{
	struct ec_msg m = {
		.type = EC_MSG_READ,
		.sender = EC_SENDER_CLIENT,
		.view = view,
	};
	struct ec_read body = {
		.client_id = htobe64(r->client_id),
		.request_id = htobe64(r->request_id),
		.session_op = htobe64(r->session_op),
		.min_op = htobe64(r->min_op),
		.key_len = (uint8_t)r->key_len,
	};
	uint8_t *p = buf;

	if (r->key_len == 0 || r->key_len > EC_MAX_KEY)
		return 0;
	ec_hdr_encode(p, &m, sizeof(body) + r->key_len);
	memcpy(p + sizeof(struct ec_hdr), &body, sizeof(body));
	memcpy(p + sizeof(struct ec_hdr) + sizeof(body), r->key, r->key_len);
	return sizeof(struct ec_hdr) + sizeof(body) + r->key_len;
}

int ec_read_decode(const struct ec_msg *m, struct ec_read_msg *r)
{
	struct ec_read body;
	static const uint8_t zero[sizeof(body.pad)];

	if (m->type != EC_MSG_READ || m->body_len < sizeof(body))
		return -1;
	memcpy(&body, m->body, sizeof(body));
	if (body.key_len == 0 || body.key_len > EC_MAX_KEY ||
	    m->body_len != sizeof(body) + body.key_len ||
	    memcmp(body.pad, zero, sizeof(zero)) != 0)
		return -1;
	r->client_id = be64toh(body.client_id);
	r->request_id = be64toh(body.request_id);
	r->session_op = be64toh(body.session_op);
	r->min_op = be64toh(body.min_op);
	r->key = m->body + sizeof(body);
	r->key_len = body.key_len;
	return 0;
}

void ec_read_as_request(const struct ec_read_msg *r, Ec__Request *req,
			Ec__KvOp *storage)
{
	ec__request__init(req);
	ec__kv_op__init(storage);
	storage->kind = EC__OP_KIND__OP_GET;
	storage->key.data = (uint8_t *)r->key;
	storage->key.len = r->key_len;
	req->client_id = r->client_id;
	req->request_id = r->request_id;
	req->session_op = r->session_op;
	req->min_op = r->min_op;
	req->op = storage;
}

Ec__Reply *ec_read_reply_unpack(const struct ec_msg *m)
{
	struct ec_read_reply body;
	static const uint8_t zero[sizeof(body.pad)];
	Ec__Reply *rep;
	size_t vlen;

	if (m->type != EC_MSG_READ_REPLY || m->body_len < sizeof(body))
		return NULL;
	memcpy(&body, m->body, sizeof(body));
	vlen = be16toh(body.value_len);
	if (m->body_len != sizeof(body) + vlen || vlen > EC_MAX_VALUE ||
	    body.status != EC__STATUS__ST_OK || body.found != 1 ||
	    memcmp(body.pad, zero, sizeof(zero)) != 0)
		return NULL;
	/* Allocated as protobuf-c's unpack would, so that
	 * ec__reply__free_unpacked frees it: the Reply and its value's
	 * bytes each with the default allocator. */
	rep = malloc(sizeof(*rep));
	if (!rep)
		return NULL;
	ec__reply__init(rep);
	if (vlen) {
		rep->value.data = malloc(vlen);
		if (!rep->value.data) {
			free(rep);
			return NULL;
		}
		memcpy(rep->value.data, m->body + sizeof(body), vlen);
		rep->value.len = vlen;
	}
	rep->client_id = be64toh(body.client_id);
	rep->request_id = be64toh(body.request_id);
	rep->status = EC__STATUS__ST_OK;
	rep->found = true;
	rep->op = be64toh(body.op);
	rep->lease = true;
	return rep;
}
