/*
 * kv.h - the replicated application: a key-value store.
 *
 * Executed only on committed ops, in op order, identically on every
 * replica.  Keys and values are byte strings (EC_MAX_KEY / EC_MAX_VALUE).
 */
#ifndef EC_REPLICA_KV_H
#define EC_REPLICA_KV_H

#include <stddef.h>
#include <stdint.h>

#include "ec.pb-c.h"

#define EC_MAX_KEY 64
#define EC_MAX_VALUE 512

struct ec_kv;

/* Result of one operation; value points into the store or the op and is
 * valid until the next call that changes the store. */
struct ec_kv_result {
	Ec__Status status;
	int found;
	const uint8_t *value;
	size_t value_len;
};

struct ec_kv *ec_kv_new(void);
void ec_kv_free(struct ec_kv *kv);

/* 1 if op is well formed (key and value sizes), else 0. */
int ec_kv_op_valid(const Ec__KvOp *op);

/* Execute op.  Returns 0, or -1 if out of memory (the store is unchanged). */
int ec_kv_apply(struct ec_kv *kv, const Ec__KvOp *op, struct ec_kv_result *res);

/* Number of keys. */
size_t ec_kv_count(const struct ec_kv *kv);

/* Order-independent digest of the whole store: equal stores have equal
 * digests whatever order their keys were inserted in. */
uint64_t ec_kv_digest(const struct ec_kv *kv);

/* Call fn for every key (in no particular order). */
typedef void ec_kv_visit_fn(const uint8_t *key, size_t key_len,
			    const uint8_t *value, size_t value_len, void *arg);
void ec_kv_foreach(const struct ec_kv *kv, ec_kv_visit_fn *fn, void *arg);

#endif /* EC_REPLICA_KV_H */
