/*
 * intern.h - byte strings to small integer ids and back.
 *
 * The checker compares register states millions of times; interning
 * makes a state one uint32_t.  Ids start at 1 and are dense: id 0 is
 * never given out, so callers use it for "null" (an absent key).
 * Strings may hold any bytes, NUL included.  The table owns copies.
 */
#ifndef EC_LINCHECK_INTERN_H
#define EC_LINCHECK_INTERN_H

#include <stddef.h>
#include <stdint.h>

struct lc_intern {
	uint32_t *slots;     /* open addressing: id, or 0 for empty */
	size_t nslots;       /* a power of two */
	char **str;          /* str[id], len[id]: the bytes of id */
	size_t *len;
	uint64_t *hash;      /* hash[id], kept for rehashing */
	uint32_t count;      /* ids 1..count are in use */
	size_t cap;          /* room in str/len/hash */
};

void lc_intern_init(struct lc_intern *t);
void lc_intern_free(struct lc_intern *t);

/* The id of s[0..len), added if new. */
uint32_t lc_intern(struct lc_intern *t, const char *s, size_t len);

/* The id of s[0..len), or 0 if it was never interned. */
uint32_t lc_intern_find(const struct lc_intern *t, const char *s, size_t len);

#endif /* EC_LINCHECK_INTERN_H */
