/*
 * intern.c - see intern.h.
 *
 * Linear probing over a table of ids, grown to keep it at most half
 * full.  Each string is its own allocation: histories hold up to a few
 * million distinct values, which malloc handles well enough.
 */
#include "intern.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

#define INTERN_MIN_SLOTS 1024

/* FNV-1a, then a finaliser so that the low bits spread well. */
static uint64_t hash_bytes(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

void lc_intern_init(struct lc_intern *t)
{
	memset(t, 0, sizeof(*t));
	t->nslots = INTERN_MIN_SLOTS;
	t->slots = lc_xcalloc(t->nslots, sizeof(*t->slots));
}

void lc_intern_free(struct lc_intern *t)
{
	for (uint32_t id = 1; id <= t->count; id++)
		free(t->str[id]);
	free(t->slots);
	free(t->str);
	free(t->len);
	free(t->hash);
	memset(t, 0, sizeof(*t));
}

/* The slot holding s, or the empty slot where it would go. */
static size_t probe(const struct lc_intern *t, const char *s, size_t len,
		    uint64_t h)
{
	size_t mask = t->nslots - 1;
	size_t i = h & mask;
	uint32_t id;

	while ((id = t->slots[i]) != 0) {
		if (t->hash[id] == h && t->len[id] == len &&
		    memcmp(t->str[id], s, len) == 0)
			break;
		i = (i + 1) & mask;
	}
	return i;
}

static void grow_slots(struct lc_intern *t)
{
	size_t mask;

	free(t->slots);
	t->nslots *= 2;
	t->slots = lc_xcalloc(t->nslots, sizeof(*t->slots));
	mask = t->nslots - 1;
	for (uint32_t id = 1; id <= t->count; id++) {
		size_t i = t->hash[id] & mask;

		while (t->slots[i])
			i = (i + 1) & mask;
		t->slots[i] = id;
	}
}

uint32_t lc_intern_find(const struct lc_intern *t, const char *s, size_t len)
{
	return t->slots[probe(t, s, len, hash_bytes(s, len))];
}

uint32_t lc_intern(struct lc_intern *t, const char *s, size_t len)
{
	uint64_t h = hash_bytes(s, len);
	size_t i = probe(t, s, len, h);
	uint32_t id;

	if (t->slots[i])
		return t->slots[i];
	id = ++t->count;
	if (id >= t->cap) {
		t->cap = t->cap ? t->cap * 2 : 1024;
		t->str = lc_xrealloc(t->str, t->cap, sizeof(*t->str));
		t->len = lc_xrealloc(t->len, t->cap, sizeof(*t->len));
		t->hash = lc_xrealloc(t->hash, t->cap, sizeof(*t->hash));
	}
	t->str[id] = lc_xmalloc(len);
	memcpy(t->str[id], s, len);
	t->len[id] = len;
	t->hash[id] = h;
	t->slots[i] = id;
	if ((size_t)t->count * 2 > t->nslots)
		grow_slots(t);
	return id;
}
