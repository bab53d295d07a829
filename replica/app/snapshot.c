/*
 * snapshot.c - see snapshot.h.
 *
 * Layout (all numbers little-endian):
 *   "ECSNAP\0\2"  u64 op  u32 view  u32 zero
 *   u64 max_keys  u64 max_bytes   (the store's bounds, kv.h)
 *   u64 n_keys,    then per key in ascending byte order:
 *                  u32 key_len  u32 value_len  key  value
 *   u64 n_clients, then per client in ascending id order:
 *                  u64 id  u64 executed_req  u64 last_op  u32 reply_len
 *                  reply
 * and nothing after.  The order is checked on restore (strictly
 * ascending), so one state has exactly one encoding.
 */
#include "snapshot.h"

#include <endian.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Version 2 added the store's bounds and each client's last op: a
 * version-1 snapshot does not decode. */
static const uint8_t magic[8] = { 'E', 'C', 'S', 'N', 'A', 'P', 0, 2 };
#define HDR_LEN 40
/* A cached Reply: ids, status, a value of EC_MAX_VALUE, flags. */
#define MAX_REPLY (EC_MAX_VALUE + 64)

uint64_t ec_snapshot_digest(const uint8_t *buf, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= buf[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

void ec_snapshot_clear(struct ec_snapshot *s)
{
	free(s->buf);
	memset(s, 0, sizeof(*s));
}

/* ---- taking ---- */

/* The clients a snapshot carries, gathered to be sorted. */
struct collect {
	const struct ec_client_rec **ct;
	size_t n, cap;
	size_t bytes;
	bool oom;
};

static int cmp_ct(const void *a, const void *b)
{
	const struct ec_client_rec *x = *(const struct ec_client_rec *const *)a;
	const struct ec_client_rec *y = *(const struct ec_client_rec *const *)b;

	return x->client_id < y->client_id ? -1 : x->client_id > y->client_id;
}

/* Only what every replica has alike: a client with an executed request. */
static void add_ct(const struct ec_client_rec *rec, void *arg)
{
	struct collect *c = arg;

	if (rec->executed_req == 0)
		return;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		const struct ec_client_rec **v = realloc(c->ct, cap * sizeof(*v));

		if (!v) {
			c->oom = true;
			return;
		}
		c->ct = v;
		c->cap = cap;
	}
	c->ct[c->n++] = rec;
	c->bytes += 28 + rec->reply_len;
}

static uint8_t *put64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, 8);
	return p + 8;
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
	return p + 4;
}

static uint8_t *put_bytes(uint8_t *p, const uint8_t *b, size_t len)
{
	if (len)
		memcpy(p, b, len);
	return p + len;
}

/* ec_kv_foreach_sorted callback: write one key and its value at *arg (a
 * uint8_t **), moving it on. */
static void put_key(const uint8_t *key, size_t key_len, const uint8_t *value,
		    size_t value_len, void *arg)
{
	uint8_t **p = arg;

	*p = put32(*p, (uint32_t)key_len);
	*p = put32(*p, (uint32_t)value_len);
	*p = put_bytes(*p, key, key_len);
	*p = put_bytes(*p, value, value_len);
}

int ec_snapshot_take(const struct ec_kv *kv, const struct ec_client_table *ct,
		     uint64_t op, uint32_t view, struct ec_snapshot *out)
{
	struct collect c = { 0 };
	struct ec_kv_limits lim = ec_kv_limits(kv);
	uint8_t *buf = NULL, *p;
	size_t len;
	int rc = -1;

	ec_ct_foreach(ct, add_ct, &c);
	if (c.oom)
		goto out;
	/* an empty list is NULL, which qsort may not be given */
	if (c.n)
		qsort(c.ct, c.n, sizeof(*c.ct), cmp_ct);
	/* each key: two lengths, its bytes and its value's */
	len = HDR_LEN + 8 + 8 * ec_kv_count(kv) + ec_kv_bytes(kv) +
	      8 + c.bytes;
	buf = malloc(len);
	if (!buf)
		goto out;
	p = put_bytes(buf, magic, sizeof(magic));
	p = put64(p, op);
	p = put32(p, view);
	p = put32(p, 0);
	p = put64(p, lim.max_keys);
	p = put64(p, lim.max_bytes);
	p = put64(p, ec_kv_count(kv));
	if (ec_kv_foreach_sorted(kv, put_key, &p) < 0)
		goto out;
	p = put64(p, c.n);
	for (size_t i = 0; i < c.n; i++) {
		p = put64(p, c.ct[i]->client_id);
		p = put64(p, c.ct[i]->executed_req);
		p = put64(p, c.ct[i]->last_op);
		p = put32(p, (uint32_t)c.ct[i]->reply_len);
		p = put_bytes(p, c.ct[i]->reply, c.ct[i]->reply_len);
	}
	out->op = op;
	out->view = view;
	out->buf = buf;
	out->len = len;
	out->digest = ec_snapshot_digest(buf, len);
	buf = NULL;
	rc = 0;
out:
	free(buf);
	free(c.ct);
	return rc;
}

/* ---- restoring ---- */

struct reader {
	const uint8_t *p, *end;
};

static bool get64(struct reader *r, uint64_t *v)
{
	if (r->end - r->p < 8)
		return false;
	memcpy(v, r->p, 8);
	*v = le64toh(*v);
	r->p += 8;
	return true;
}

static bool get32(struct reader *r, uint32_t *v)
{
	if (r->end - r->p < 4)
		return false;
	memcpy(v, r->p, 4);
	*v = le32toh(*v);
	r->p += 4;
	return true;
}

static bool get_bytes(struct reader *r, size_t len, const uint8_t **b)
{
	if ((size_t)(r->end - r->p) < len)
		return false;
	*b = r->p;
	r->p += len;
	return true;
}

/* Read the keys into kv: each well formed and strictly above the last. */
static bool read_keys(struct reader *r, struct ec_kv *kv)
{
	const uint8_t *prev = NULL;
	size_t prev_len = 0;
	uint64_t n;

	if (!get64(r, &n))
		return false;
	for (uint64_t i = 0; i < n; i++) {
		Ec__KvOp op = EC__KV_OP__INIT;
		struct ec_kv_result res;
		uint32_t kl, vl;
		const uint8_t *key, *value;

		if (!get32(r, &kl) || !get32(r, &vl) || kl == 0 ||
		    kl > EC_MAX_KEY || vl > EC_MAX_VALUE ||
		    !get_bytes(r, kl, &key) || !get_bytes(r, vl, &value))
			return false;
		if (prev && ec_kv_key_cmp(prev, prev_len, key, kl) >= 0)
			return false;
		prev = key;
		prev_len = kl;
		op.kind = EC__OP_KIND__OP_PUT;
		op.key.data = (uint8_t *)key;
		op.key.len = kl;
		op.value.data = (uint8_t *)value;
		op.value.len = vl;
		if (ec_kv_apply(kv, &op, &res) < 0 ||
		    res.status != EC__STATUS__ST_OK)
			return false;
	}
	return true;
}

/* Read the client records into ct: ids strictly ascending. */
static bool read_clients(struct reader *r, struct ec_client_table *ct)
{
	uint64_t n, prev = 0;

	if (!get64(r, &n))
		return false;
	for (uint64_t i = 0; i < n; i++) {
		struct ec_client_rec *rec;
		uint64_t id, executed, last_op;
		uint32_t len;
		const uint8_t *reply;
		uint8_t *copy;

		if (!get64(r, &id) || !get64(r, &executed) ||
		    !get64(r, &last_op) ||
		    !get32(r, &len) || executed == 0 || len > MAX_REPLY ||
		    (i > 0 && id <= prev) || !get_bytes(r, len, &reply))
			return false;
		prev = id;
		rec = ec_ct_get(ct, id, true);
		copy = malloc(len ? len : 1);
		if (!rec || !copy) {
			free(copy);
			return false;
		}
		if (len)
			memcpy(copy, reply, len);
		ec_ct_set_reply(rec, copy, len);
		rec->executed_req = executed;
		rec->prepared_req = executed;
		rec->last_op = last_op;
	}
	return true;
}

int ec_snapshot_restore(const uint8_t *buf, size_t len, struct ec_kv **kvp,
			struct ec_client_table **ctp, uint64_t *op,
			uint32_t *view)
{
	struct reader r = { buf, buf + len };
	struct ec_kv *kv = ec_kv_new();
	struct ec_client_table *ct = ec_ct_new();
	struct ec_kv_limits lim;
	const uint8_t *m;
	uint32_t zero;

	/* the keys go in unbounded (the sender's store held them), the
	 * bounds are set after */
	if (!kv || !ct || !get_bytes(&r, sizeof(magic), &m) ||
	    memcmp(m, magic, sizeof(magic)) != 0 || !get64(&r, op) ||
	    !get32(&r, view) || !get32(&r, &zero) || zero != 0 ||
	    !get64(&r, &lim.max_keys) || !get64(&r, &lim.max_bytes) ||
	    !read_keys(&r, kv) || !read_clients(&r, ct) || r.p != r.end) {
		ec_kv_free(kv);
		ec_ct_free(ct);
		return -1;
	}
	ec_kv_set_limits(kv, &lim);
	*kvp = kv;
	*ctp = ct;
	return 0;
}
