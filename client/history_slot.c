/* history_slot.c - see history_slot.h. */
#include "history_slot.h"

#include <stdio.h>
#include <string.h>

void ec_hslot_init(struct ec_hslot *h, unsigned slot, unsigned slots,
		   uint32_t run, unsigned keys)
{
	memset(h, 0, sizeof(*h));
	h->process = slot;
	h->slots = slots;
	h->run = run;
	h->keys = keys;
}

/* Remember that h's key holds value (present false: the key is absent),
 * as far as h knows.  A value too long to be one (not from a replica that
 * follows the protocol) leaves h knowing nothing. */
static void see(struct ec_hslot *h, bool present, const uint8_t *value,
		size_t len)
{
	h->seen = len <= sizeof(h->seen_value);
	h->seen_key = h->key_index;
	h->seen_present = present;
	h->seen_len = present && h->seen ? len : 0;
	if (h->seen_len)
		memcpy(h->seen_value, value, len);
}

const Ec__KvOp *ec_hslot_next(struct ec_hslot *h, Ec__OpKind kind,
			      uint64_t r)
{
	Ec__KvOp *op = &h->op;
	unsigned k = (unsigned)(r % h->keys);
	int len;

	ec__kv_op__init(op);
	op->kind = kind;
	if (kind == EC__OP_KIND__OP_CAS) {
		if (h->seen)
			k = h->seen_key;
		if (h->seen && h->seen_present) {
			memcpy(h->expected, h->seen_value, h->seen_len);
			op->expected.data = h->expected;
			op->expected.len = h->seen_len;
		} else {
			op->expect_absent = true;
		}
	}
	if (kind == EC__OP_KIND__OP_PUT || kind == EC__OP_KIND__OP_CAS) {
		len = snprintf(h->value, sizeof(h->value), "p%llu-%llu",
			       (unsigned long long)h->process,
			       (unsigned long long)++h->writes);
		op->value.data = (uint8_t *)h->value;
		op->value.len = (size_t)len;
	}
	h->key_index = k;
	len = snprintf(h->key, sizeof(h->key), "h%08x-%u", h->run, k);
	op->key.data = (uint8_t *)h->key;
	op->key.len = (size_t)len;
	return op;
}

enum ec_history_type ec_hslot_done(struct ec_hslot *h,
				   const struct ec_session_result *res)
{
	Ec__OpKind kind = h->op.kind;

	switch (res->status) {
	case EC__STATUS__ST_OK:
		if (kind == EC__OP_KIND__OP_GET)
			see(h, true, res->value, res->value_len);
		else if (kind == EC__OP_KIND__OP_DELETE)
			see(h, false, NULL, 0);
		else
			see(h, true, h->op.value.data, h->op.value.len);
		return EC_HISTORY_OK;
	case EC__STATUS__ST_NOT_FOUND:
		if (kind != EC__OP_KIND__OP_GET && kind != EC__OP_KIND__OP_DELETE)
			return EC_HISTORY_INFO;
		see(h, false, NULL, 0);
		return EC_HISTORY_OK;
	case EC__STATUS__ST_CAS_FAILED:
		if (kind != EC__OP_KIND__OP_CAS)
			return EC_HISTORY_INFO;
		/* The reply carries the current value: the next cas can
		 * expect it. */
		see(h, res->found, res->value, res->value_len);
		return EC_HISTORY_FAIL;
	case EC__STATUS__ST_BAD_REQUEST:
	case EC__STATUS__ST_STORE_FULL: /* executed, changed nothing */
		return EC_HISTORY_FAIL;
	default:
		return EC_HISTORY_INFO;
	}
}

int ec_hslot_retire(struct ec_hslot *h, struct ec_session *s,
		    uint64_t id_base)
{
	if (ec_session_renew(s, id_base + h->process + h->slots) < 0)
		return -1;
	h->process += h->slots;
	h->writes = 0;
	return 0;
}
