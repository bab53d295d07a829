/*
 * read_cache.c - see read_cache.h.
 *
 * The seqlock's writer.  The XDP reader reads seq with a fully ordered
 * atomic before and after it copies a slot, and answers only if both
 * readings are the same even number.  So: seq := odd (relaxed), a
 * release fence (the fields' stores may not move above the odd seq: a
 * reader that saw the even seq before could otherwise copy half-written
 * fields and find seq unchanged), the fields, seq := even (release: the
 * fields are visible before a reader can find seq even again).  On x86
 * the fences cost nothing; the compiler keeps the order.
 */
#include "read_cache.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

int ec_read_cache_init(struct ec_read_cache *rc, struct ec_read_slot *slots,
		       uint32_t nslots, struct ec_xdp_state *xs)
{
	memset(rc, 0, sizeof(*rc));
	rc->xs = xs;
	if (nslots == 0 || (nslots & (nslots - 1))) {
		errno = EINVAL;
		return -1;
	}
	rc->slots = slots;
	rc->mask = nslots - 1;
	return 0;
}

int ec_read_cache_map(struct ec_read_cache *rc, int map_fd, uint32_t nslots,
		      struct ec_xdp_state *xs)
{
	size_t bytes = (size_t)nslots * sizeof(struct ec_read_slot);
	void *p;

	if (ec_read_cache_init(rc, NULL, nslots, xs) < 0)
		return -1;
	p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	if (p == MAP_FAILED)
		return -1;
	rc->slots = p;
	rc->bytes = bytes;
	return 0;
}

void ec_read_cache_unmap(struct ec_read_cache *rc)
{
	if (rc->slots && rc->bytes)
		munmap(rc->slots, rc->bytes);
	rc->slots = NULL;
}

static void write_begin(struct ec_read_slot *s)
{
	uint32_t seq = __atomic_load_n(&s->seq, __ATOMIC_RELAXED);

	__atomic_store_n(&s->seq, seq | 1u, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static void write_end(struct ec_read_slot *s)
{
	uint32_t seq = __atomic_load_n(&s->seq, __ATOMIC_RELAXED);

	__atomic_store_n(&s->seq, seq + 1, __ATOMIC_RELEASE);
}

static bool holds(const struct ec_read_slot *s, uint32_t hash,
		  const uint8_t *key, size_t key_len)
{
	return s->key_len == key_len && s->hash == hash &&
	       memcmp(s->key, key, key_len) == 0;
}

void ec_read_cache_set(struct ec_read_cache *rc, const uint8_t *key,
		       size_t key_len, const uint8_t *value, size_t value_len,
		       bool present)
{
	uint32_t hash = ec_read_hash(key, (uint32_t)key_len);
	struct ec_read_slot *s = &rc->slots[hash & rc->mask];

	if (key_len == 0 || key_len > EC_MAX_KEY)
		return;
	if (!present) {
		if (!holds(s, hash, key, key_len))
			return;
		rc->deletes++;
		write_begin(s);
		s->key_len = 0;
		write_end(s);
		return;
	}
	if (s->key_len && !holds(s, hash, key, key_len))
		rc->evictions++;
	rc->writes++;
	write_begin(s);
	s->hash = hash;
	s->key_len = (uint8_t)key_len;
	memcpy(s->key, key, key_len);
	if (value_len > EC_READ_VALUE_MAX) {
		rc->too_large++;
		s->flags = EC_RS_TOO_LARGE;
		s->value_len = 0;
	} else {
		s->flags = 0;
		s->value_len = (uint16_t)value_len;
		memcpy(s->value, value, value_len);
	}
	write_end(s);
}

void ec_read_cache_clear(struct ec_read_cache *rc)
{
	rc->clears++;
	for (uint32_t i = 0; i <= rc->mask; i++) {
		struct ec_read_slot *s = &rc->slots[i];

		if (!s->key_len)
			continue;
		write_begin(s);
		s->key_len = 0;
		write_end(s);
	}
}

void ec_read_cache_close(struct ec_read_cache *rc)
{
	__atomic_store_n(&rc->xs->read_word, 0, __ATOMIC_SEQ_CST);
}

void ec_read_cache_sync(struct ec_read_cache *rc, bool open, uint32_t view,
			uint64_t lease_until_ns, uint64_t applied_op)
{
	struct ec_xdp_state *xs = rc->xs;
	uint64_t w = __atomic_load_n(&xs->read_word, __ATOMIC_RELAXED);

	/* release: the cache's writes up to applied_op are visible first */
	__atomic_store_n(&xs->applied_op, applied_op, __ATOMIC_RELEASE);
	if (!open) {
		if (w)
			ec_read_cache_close(rc);
		return;
	}
	__atomic_store_n(&xs->lease_until_ns, lease_until_ns, __ATOMIC_RELEASE);
	if (w && (uint32_t)(w >> 32) == view)
		return;
	/* a new generation, so that a reader that saw the window before a
	 * close finds it changed even if it reopened for the same view */
	if (++rc->gen == 0)
		rc->gen = 1;
	__atomic_store_n(&xs->read_word, EC_READ_WORD(view, rc->gen),
			 __ATOMIC_SEQ_CST);
}

static void observed_clear(void *arg)
{
	struct ec_read_cache *rc = arg;

	/* a new store: nothing of the old one may be answered, and the
	 * replica installing it is no leader answering reads anyway */
	ec_read_cache_close(rc);
	ec_read_cache_clear(rc);
}

static void observed_change(void *arg, const uint8_t *key, size_t key_len,
			    const uint8_t *value, size_t value_len,
			    bool present)
{
	ec_read_cache_set(arg, key, key_len, value, value_len, present);
}

struct ec_kv_observer ec_read_cache_observer(struct ec_read_cache *rc)
{
	return (struct ec_kv_observer){
		.cleared = observed_clear,
		.changed = observed_change,
		.arg = rc,
	};
}
