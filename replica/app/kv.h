/*
 * kv.h - the replicated application: a key-value store.
 *
 * Executed only on committed ops, in op order, identically on every
 * replica.  Keys and values are byte strings (EC_MAX_KEY / EC_MAX_VALUE).
 *
 * Bounded.  A store may hold at most limits.max_keys keys and
 * limits.max_bytes bytes of keys plus values (0: no bound).  A write that
 * would take the store past either bound (a PUT, or a CAS whose condition
 * holds, that adds a key or grows a value) is answered ST_STORE_FULL and
 * changes nothing.  Replacing a value with one of equal or smaller size,
 * a DELETE and a GET always succeed, so a full store can always be
 * emptied.  The answer depends on the store alone, so replicas that
 * execute the same ops decide alike -- provided they have the same
 * limits: the limits are part of the replicated state (a snapshot
 * carries them, snapshot.h).
 */
#ifndef EC_REPLICA_APP_KV_H
#define EC_REPLICA_APP_KV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ec.pb-c.h"
#include "ec_wire.h"

/* Defaults of ec-replica --max-keys and --max-bytes. */
#define EC_KV_DEFAULT_MAX_KEYS 1000000ULL
#define EC_KV_DEFAULT_MAX_BYTES (256ULL << 20)

/* Bounds of a store; 0 in a field: that one is unbounded. */
struct ec_kv_limits {
	uint64_t max_keys;
	uint64_t max_bytes; /* key bytes plus value bytes, summed over keys */
};

struct ec_kv;

/* Result of one operation; value points into the store or the op and is
 * valid until the next call that changes the store. */
struct ec_kv_result {
	Ec__Status status;
	int found;
	const uint8_t *value;
	size_t value_len;
};

/* A new, empty store without bounds (ec_kv_set_limits sets them). */
struct ec_kv *ec_kv_new(void);
void ec_kv_free(struct ec_kv *kv);

/* Set the bounds.  They apply to the writes that follow; a store already
 * past a new bound keeps its keys (only growth is refused). */
void ec_kv_set_limits(struct ec_kv *kv, const struct ec_kv_limits *l);
struct ec_kv_limits ec_kv_limits(const struct ec_kv *kv);

/*
 * Someone kept told of every change ec_kv_apply makes to a store, just
 * after it: key now holds value (present) or is gone.  For a copy of the
 * values kept elsewhere, such as the read offload's cache in the kernel;
 * the calls must not touch the store.  Nothing else changes a store, so
 * the copy follows every write in execution order.
 */
struct ec_kv_observer {
	void (*cleared)(void *arg); /* forget every key */
	void (*changed)(void *arg, const uint8_t *key, size_t key_len,
			const uint8_t *value, size_t value_len, bool present);
	void *arg;
};

/* Tell obs (NULL: nobody) of kv's changes from now on, starting with
 * the whole store as it is: cleared, then changed for every key.  For a
 * store that replaces another (a snapshot installed). */
void ec_kv_observe(struct ec_kv *kv, const struct ec_kv_observer *obs);

/* 1 if op is well formed (key and value sizes), else 0. */
int ec_kv_op_valid(const Ec__KvOp *op);

/* Execute op; res->status says how it went (ST_STORE_FULL: refused by a
 * bound, nothing changed).  Returns 0, or -1 if out of memory (the store
 * is unchanged). */
int ec_kv_apply(struct ec_kv *kv, const Ec__KvOp *op, struct ec_kv_result *res);

/* What a GET of key (its length valid: 1..EC_MAX_KEY) finds, changing
 * nothing: res as ec_kv_apply gives it for a GET. */
void ec_kv_get(const struct ec_kv *kv, const uint8_t *key, size_t key_len,
	       struct ec_kv_result *res);

/* Number of keys. */
size_t ec_kv_count(const struct ec_kv *kv);

/* Key bytes plus value bytes over all keys (what limits.max_bytes bounds). */
uint64_t ec_kv_bytes(const struct ec_kv *kv);

/* Order-independent digest of the whole store: equal stores have equal
 * digests whatever order their keys were inserted in. */
uint64_t ec_kv_digest(const struct ec_kv *kv);

/* Call fn for every key (in no particular order). */
typedef void ec_kv_visit_fn(const uint8_t *key, size_t key_len,
			    const uint8_t *value, size_t value_len, void *arg);
void ec_kv_foreach(const struct ec_kv *kv, ec_kv_visit_fn *fn, void *arg);

/* The order of keys: by their bytes, a key before every longer key it
 * is a prefix of.  Returns <0, 0 or >0 as a is before, equal to or after
 * b. */
int ec_kv_key_cmp(const uint8_t *a, size_t a_len, const uint8_t *b,
		  size_t b_len);

/*
 * Call fn for every key in ascending order (ec_kv_key_cmp), the one
 * order that does not depend on the hash table's history: a snapshot's
 * bytes (snapshot.c) and the control socket's dump, which two replicas'
 * diff compares, are in it.  fn must not change the store.  Returns 0,
 * or -1 if out of memory before fn was called at all.
 */
int ec_kv_foreach_sorted(const struct ec_kv *kv, ec_kv_visit_fn *fn,
			 void *arg);

#endif /* EC_REPLICA_APP_KV_H */
