/* exec.c - see exec.h. */
#include "exec.h"

#include <stdlib.h>

bool ec_exec_valid(const Ec__Request *req)
{
	return req->op && ec_kv_op_valid(req->op) && req->request_id != 0;
}

bool ec_exec_session_expired(const struct ec_client_rec *rec,
			     uint64_t session_op, uint64_t op,
			     uint64_t expiry_ops)
{
	/* a record with nothing executed is the leader's alone: not part of
	 * what every replica decides from */
	return expiry_ops && (!rec || rec->executed_req == 0) &&
	       session_op + expiry_ops < op;
}

/* req's answer res, reflecting op, as an encoded Reply body in *buf
 * (malloc'd, *len bytes).  0, or -1 out of memory. */
static int encode_reply(const Ec__Request *req, const struct ec_kv_result *res,
			uint64_t op, bool lease, uint8_t **buf, size_t *len)
{
	Ec__Reply reply = EC__REPLY__INIT;

	reply.client_id = req->client_id;
	reply.request_id = req->request_id;
	reply.status = res->status;
	reply.found = res->found;
	reply.value.data = (uint8_t *)res->value;
	reply.value.len = res->value_len;
	reply.op = op;
	reply.lease = lease;
	*len = ec__reply__get_packed_size(&reply);
	*buf = malloc(*len ? *len : 1);
	if (!*buf)
		return -1;
	ec__reply__pack(&reply, *buf);
	return 0;
}

/* Cache req's answer, res, of op, in rec.  0, or -1 out of memory. */
static int cache_reply(struct ec_client_rec *rec, const Ec__Request *req,
		       const struct ec_kv_result *res, uint64_t op)
{
	uint8_t *buf;
	size_t len;

	if (encode_reply(req, res, op, false, &buf, &len) < 0)
		return -1;
	ec_ct_set_reply(rec, buf, len);
	return 0;
}

int ec_exec_read(const struct ec_kv *kv, const Ec__Request *req, uint64_t op,
		 uint8_t **buf, size_t *len)
{
	struct ec_kv_result res;

	ec_kv_get(kv, req->op->key.data, req->op->key.len, &res);
	return encode_reply(req, &res, op, true, buf, len);
}

enum ec_exec_outcome ec_exec_request(struct ec_kv *kv,
				     struct ec_client_table *ct,
				     uint64_t expiry_ops,
				     const Ec__Request *req, uint64_t op,
				     const struct ec_client_rec **client)
{
	struct ec_kv_result res;
	struct ec_client_rec *rec = ec_ct_get(ct, req->client_id, false);

	*client = rec;
	if (!ec_exec_valid(req))
		return EC_EXEC_INVALID;
	if (ec_exec_session_expired(rec, req->session_op, op, expiry_ops))
		return EC_EXEC_EXPIRED;
	rec = ec_ct_get(ct, req->client_id, true);
	*client = rec;
	if (!rec)
		return EC_EXEC_NO_MEMORY;
	if (req->request_id <= rec->executed_req)
		return EC_EXEC_DUPLICATE;
	if (ec_kv_apply(kv, req->op, &res) < 0 ||
	    cache_reply(rec, req, &res, op) < 0)
		return EC_EXEC_NO_MEMORY;
	rec->executed_req = req->request_id;
	rec->last_op = op;
	if (rec->prepared_req < rec->executed_req)
		rec->prepared_req = rec->executed_req;
	return EC_EXEC_APPLIED;
}

size_t ec_exec_expire(struct ec_client_table *ct, uint64_t op,
		      uint64_t expiry_ops)
{
	if (!expiry_ops || op % EC_EXPIRY_SCAN != 0 || op <= expiry_ops)
		return 0;
	return ec_ct_expire(ct, op - expiry_ops);
}
