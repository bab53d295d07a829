/*
 * kv.c - see kv.h.
 *
 * A chained hash table.  Each entry is one allocation holding the key and
 * the value, so an overwrite allocates the new entry before touching the
 * table and a failed allocation leaves the store as it was.  The digest is
 * the sum (mod 2^64) of a per-entry hash kept up to date on every change,
 * so reading it costs nothing and insertion order cannot matter.  The
 * byte count is kept the same way, so the bound check costs nothing.
 */
#include "kv.h"

#include <endian.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define KV_MIN_BUCKETS 64

struct kv_entry {
	struct kv_entry *next;
	uint64_t key_hash;   /* bucket placement */
	uint64_t pair_hash;  /* this entry's share of the digest */
	size_t key_len;
	size_t value_len;
	uint8_t data[];      /* key bytes, then value bytes */
};

struct ec_kv {
	struct kv_entry **buckets;
	size_t nbuckets;     /* a power of two */
	size_t count;
	uint64_t bytes;      /* sum of key_len + value_len */
	uint64_t digest;
	struct ec_kv_limits limits;
	struct ec_kv_observer obs; /* changed NULL: nobody */
};

/* A 64-bit finaliser: every input bit affects every output bit. */
static uint64_t mix64(uint64_t x)
{
	x ^= x >> 31;
	x *= 0x9e3779b97f4a7c15ULL;
	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 32;
	return x;
}

/*
 * Hash len bytes at p, starting from seed.  The length is folded in first,
 * so byte strings that are prefixes of each other hash apart.  Words are
 * read little-endian so every replica computes the same digest whatever
 * its byte order.
 */
static uint64_t hash_bytes(const uint8_t *p, size_t len, uint64_t seed)
{
	uint64_t h = mix64(seed ^ ((uint64_t)len * 0xc2b2ae3d27d4eb4fULL));
	uint64_t w;

	while (len >= 8) {
		memcpy(&w, p, 8);
		h = mix64(h + le64toh(w)) + 0x94d049bb133111ebULL;
		p += 8;
		len -= 8;
	}
	if (len) {
		w = 0;
		memcpy(&w, p, len);
		h = mix64(h + le64toh(w)) + 0x94d049bb133111ebULL;
	}
	return mix64(h);
}

static uint64_t key_hash(const uint8_t *key, size_t key_len)
{
	return hash_bytes(key, key_len, 0x6b7665635f6b6579ULL);
}

/* Hash of a (key, value) pair: the value is hashed from a seed derived
 * from the key hash, and both lengths are framed, so ("ab","c") and
 * ("a","bc") differ. */
static uint64_t pair_hash(uint64_t khash, const uint8_t *value,
			  size_t value_len)
{
	return hash_bytes(value, value_len, mix64(khash ^ 0x76616c7565ULL));
}

struct ec_kv *ec_kv_new(void)
{
	struct ec_kv *kv = calloc(1, sizeof(*kv));

	if (!kv)
		return NULL;
	kv->buckets = calloc(KV_MIN_BUCKETS, sizeof(*kv->buckets));
	if (!kv->buckets) {
		free(kv);
		return NULL;
	}
	kv->nbuckets = KV_MIN_BUCKETS;
	return kv;
}

void ec_kv_free(struct ec_kv *kv)
{
	if (!kv)
		return;
	for (size_t i = 0; i < kv->nbuckets; i++) {
		struct kv_entry *e = kv->buckets[i], *next;

		for (; e; e = next) {
			next = e->next;
			free(e);
		}
	}
	free(kv->buckets);
	free(kv);
}

void ec_kv_set_limits(struct ec_kv *kv, const struct ec_kv_limits *l)
{
	kv->limits = *l;
}

struct ec_kv_limits ec_kv_limits(const struct ec_kv *kv)
{
	return kv->limits;
}

int ec_kv_op_valid(const Ec__KvOp *op)
{
	if (!op)
		return 0;
	switch (op->kind) {
	case EC__OP_KIND__OP_GET:
	case EC__OP_KIND__OP_PUT:
	case EC__OP_KIND__OP_DELETE:
	case EC__OP_KIND__OP_CAS:
		break;
	default:
		return 0;
	}
	return op->key.len >= 1 && op->key.len <= EC_MAX_KEY &&
	       op->value.len <= EC_MAX_VALUE && op->expected.len <= EC_MAX_VALUE;
}

static inline const uint8_t *entry_value(const struct kv_entry *e)
{
	return e->data + e->key_len;
}

/* Slot that points at the entry for key (or at the NULL ending its chain). */
static struct kv_entry **find_slot(const struct ec_kv *kv, uint64_t h,
				   const uint8_t *key, size_t key_len)
{
	struct kv_entry **pp = &kv->buckets[h & (kv->nbuckets - 1)];

	for (; *pp; pp = &(*pp)->next) {
		struct kv_entry *e = *pp;

		if (e->key_hash == h && e->key_len == key_len &&
		    memcmp(e->data, key, key_len) == 0)
			break;
	}
	return pp;
}

/* Double the bucket array.  On allocation failure the table keeps its size:
 * chains just get longer, nothing is lost. */
static void grow(struct ec_kv *kv)
{
	size_t n = kv->nbuckets * 2;
	struct kv_entry **b = calloc(n, sizeof(*b));

	if (!b)
		return;
	for (size_t i = 0; i < kv->nbuckets; i++) {
		struct kv_entry *e = kv->buckets[i], *next;

		for (; e; e = next) {
			next = e->next;
			e->next = b[e->key_hash & (n - 1)];
			b[e->key_hash & (n - 1)] = e;
		}
	}
	free(kv->buckets);
	kv->buckets = b;
	kv->nbuckets = n;
}

/*
 * Set key to value, replacing the entry *slot points at (or appending at
 * *slot when it is NULL).  Returns 0, or -1 with the store unchanged.
 */
static int put(struct ec_kv *kv, struct kv_entry **slot, uint64_t h,
	       const ProtobufCBinaryData *key, const ProtobufCBinaryData *value)
{
	struct kv_entry *old = *slot;
	struct kv_entry *e = malloc(sizeof(*e) + key->len + value->len);

	if (!e)
		return -1;
	e->key_hash = h;
	e->key_len = key->len;
	e->value_len = value->len;
	memcpy(e->data, key->data, key->len);
	if (value->len)
		memcpy(e->data + key->len, value->data, value->len);
	e->pair_hash = pair_hash(h, value->data, value->len);
	kv->digest += e->pair_hash;
	kv->bytes += key->len + value->len;
	if (old) {
		e->next = old->next;
		kv->digest -= old->pair_hash;
		kv->bytes -= old->key_len + old->value_len;
		free(old);
		*slot = e;
		return 0;
	}
	e->next = NULL;
	*slot = e;
	kv->count++;
	if (kv->count > kv->nbuckets)
		grow(kv);
	return 0;
}

static void del(struct ec_kv *kv, struct kv_entry **slot)
{
	struct kv_entry *e = *slot;

	*slot = e->next;
	kv->digest -= e->pair_hash;
	kv->bytes -= e->key_len + e->value_len;
	kv->count--;
	free(e);
}

/*
 * Whether setting key to value, replacing entry old (NULL: a new key),
 * stays within the bounds.  Shrinking or keeping a value's size is always
 * allowed, even in a store already past a bound (limits lowered by hand,
 * see ec_kv_set_limits): nothing may grow then, but everything may shrink.
 */
static bool fits(const struct ec_kv *kv, const struct kv_entry *old,
		 size_t key_len, size_t value_len)
{
	uint64_t count = kv->count, bytes = kv->bytes;

	if (old && value_len <= old->value_len)
		return true;
	if (old)
		bytes -= old->key_len + old->value_len;
	else
		count++;
	bytes += key_len + value_len;
	return (!kv->limits.max_keys || count <= kv->limits.max_keys) &&
	       (!kv->limits.max_bytes || bytes <= kv->limits.max_bytes);
}

/* Set key to value unless a bound forbids it (then ST_STORE_FULL and
 * nothing changes).  Returns put's result. */
static int bounded_put(struct ec_kv *kv, struct kv_entry **slot, uint64_t h,
		       const Ec__KvOp *op, struct ec_kv_result *res)
{
	if (!fits(kv, *slot, op->key.len, op->value.len)) {
		res->status = EC__STATUS__ST_STORE_FULL;
		return 0;
	}
	if (put(kv, slot, h, &op->key, &op->value) < 0)
		return -1;
	if (kv->obs.changed)
		kv->obs.changed(kv->obs.arg, op->key.data, op->key.len,
				op->value.data, op->value.len, true);
	return 0;
}

static void tell_one(const uint8_t *key, size_t key_len, const uint8_t *value,
		     size_t value_len, void *arg)
{
	const struct ec_kv_observer *obs = arg;

	obs->changed(obs->arg, key, key_len, value, value_len, true);
}

void ec_kv_observe(struct ec_kv *kv, const struct ec_kv_observer *obs)
{
	memset(&kv->obs, 0, sizeof(kv->obs));
	if (!obs || !obs->changed || !obs->cleared)
		return;
	kv->obs = *obs;
	obs->cleared(obs->arg);
	ec_kv_foreach(kv, tell_one, &kv->obs);
}

/* Whether entry e (which may be NULL) satisfies op's CAS condition. */
static bool cas_holds(const struct kv_entry *e, const Ec__KvOp *op)
{
	if (op->expect_absent)
		return !e;
	return e && e->value_len == op->expected.len &&
	       (e->value_len == 0 ||
		memcmp(entry_value(e), op->expected.data, e->value_len) == 0);
}

void ec_kv_get(const struct ec_kv *kv, const uint8_t *key, size_t key_len,
	       struct ec_kv_result *res)
{
	const struct kv_entry *e =
		*find_slot(kv, key_hash(key, key_len), key, key_len);

	memset(res, 0, sizeof(*res));
	res->status = e ? EC__STATUS__ST_OK : EC__STATUS__ST_NOT_FOUND;
	res->found = e != NULL;
	if (e) {
		res->value = entry_value(e);
		res->value_len = e->value_len;
	}
}

int ec_kv_apply(struct ec_kv *kv, const Ec__KvOp *op, struct ec_kv_result *res)
{
	struct kv_entry **slot, *e;
	uint64_t h;

	memset(res, 0, sizeof(*res));
	if (!ec_kv_op_valid(op)) {
		res->status = EC__STATUS__ST_BAD_REQUEST;
		return 0;
	}
	h = key_hash(op->key.data, op->key.len);
	slot = find_slot(kv, h, op->key.data, op->key.len);
	e = *slot;
	res->found = e != NULL;
	res->status = EC__STATUS__ST_OK;
	switch (op->kind) {
	case EC__OP_KIND__OP_GET:
		if (!e) {
			res->status = EC__STATUS__ST_NOT_FOUND;
			break;
		}
		res->value = entry_value(e);
		res->value_len = e->value_len;
		break;
	case EC__OP_KIND__OP_PUT:
		return bounded_put(kv, slot, h, op, res);
	case EC__OP_KIND__OP_DELETE:
		if (e) {
			del(kv, slot);
			if (kv->obs.changed)
				kv->obs.changed(kv->obs.arg, op->key.data,
						op->key.len, NULL, 0, false);
		} else
			res->status = EC__STATUS__ST_NOT_FOUND;
		break;
	case EC__OP_KIND__OP_CAS:
		if (cas_holds(e, op))
			return bounded_put(kv, slot, h, op, res);
		res->status = EC__STATUS__ST_CAS_FAILED;
		if (e) {
			res->value = entry_value(e);
			res->value_len = e->value_len;
		}
		break;
	default:
		/* unreachable: ec_kv_op_valid checked the kind */
		res->status = EC__STATUS__ST_BAD_REQUEST;
		break;
	}
	return 0;
}

size_t ec_kv_count(const struct ec_kv *kv)
{
	return kv->count;
}

uint64_t ec_kv_bytes(const struct ec_kv *kv)
{
	return kv->bytes;
}

uint64_t ec_kv_digest(const struct ec_kv *kv)
{
	return kv->digest;
}

void ec_kv_foreach(const struct ec_kv *kv, ec_kv_visit_fn *fn, void *arg)
{
	for (size_t i = 0; i < kv->nbuckets; i++)
		for (const struct kv_entry *e = kv->buckets[i]; e; e = e->next)
			fn(e->data, e->key_len, entry_value(e), e->value_len,
			   arg);
}

int ec_kv_key_cmp(const uint8_t *a, size_t a_len, const uint8_t *b,
		  size_t b_len)
{
	int r = memcmp(a, b, a_len < b_len ? a_len : b_len);

	if (r)
		return r;
	return a_len < b_len ? -1 : a_len > b_len;
}

/* qsort: entries (pointers to them) by key. */
static int entry_cmp(const void *a, const void *b)
{
	const struct kv_entry *x = *(const struct kv_entry *const *)a;
	const struct kv_entry *y = *(const struct kv_entry *const *)b;

	return ec_kv_key_cmp(x->data, x->key_len, y->data, y->key_len);
}

int ec_kv_foreach_sorted(const struct ec_kv *kv, ec_kv_visit_fn *fn,
			 void *arg)
{
	const struct kv_entry **v;
	size_t n = 0;

	/* an empty list would be NULL, which qsort may not be given */
	if (kv->count == 0)
		return 0;
	v = malloc(kv->count * sizeof(*v));
	if (!v)
		return -1;
	for (size_t i = 0; i < kv->nbuckets; i++)
		for (const struct kv_entry *e = kv->buckets[i]; e; e = e->next)
			v[n++] = e;
	qsort(v, n, sizeof(*v), entry_cmp);
	for (size_t i = 0; i < n; i++)
		fn(v[i]->data, v[i]->key_len, entry_value(v[i]),
		   v[i]->value_len, arg);
	free(v);
	return 0;
}
