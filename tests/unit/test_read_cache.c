/* test_read_cache.c - the read cache's writer and the read window
 * (replica/offload/read_cache.c) on plain memory: what a slot holds after
 * each kind of write, that every write leaves seq even and one write
 * further, and how the window opens, stays and closes. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "offload/read_cache.h"
#include "../run_suite.h"

#define SLOTS 64

static struct ec_read_slot slots[SLOTS];
static struct ec_read_cache rc;
static struct ec_xdp_state xs;

static void setup(void)
{
	memset(slots, 0, sizeof(slots));
	memset(&xs, 0, sizeof(xs));
	ck_assert_int_eq(ec_read_cache_init(&rc, slots, SLOTS, &xs), 0);
}

static struct ec_read_slot *slot_of(const char *key)
{
	return &slots[ec_read_hash((const uint8_t *)key, strlen(key)) &
		      (SLOTS - 1)];
}

static void put(const char *key, const char *value)
{
	ec_read_cache_set(&rc, (const uint8_t *)key, strlen(key),
			  (const uint8_t *)value, strlen(value), true);
}

static void del(const char *key)
{
	ec_read_cache_set(&rc, (const uint8_t *)key, strlen(key), NULL, 0,
			  false);
}

/* Whether key's slot holds key with value (NULL: holds it, too large). */
static bool holds(const char *key, const char *value)
{
	const struct ec_read_slot *s = slot_of(key);

	if (s->key_len != strlen(key) || memcmp(s->key, key, s->key_len) ||
	    s->hash != ec_read_hash((const uint8_t *)key, strlen(key)))
		return false;
	if (!value)
		return (s->flags & EC_RS_TOO_LARGE) && s->value_len == 0;
	return !(s->flags & EC_RS_TOO_LARGE) && s->value_len == strlen(value) &&
	       memcmp(s->value, value, s->value_len) == 0;
}

/* Two keys of the same slot: k0, and a second found by search. */
static void colliding(char a[16], char b[16])
{
	strcpy(a, "k0");
	for (unsigned i = 1;; i++) {
		snprintf(b, 16, "k%u", i);
		if (slot_of(a) == slot_of(b))
			return;
	}
}

START_TEST(power_of_two_only)
{
	struct ec_read_cache c;

	ck_assert_int_eq(ec_read_cache_init(&c, slots, 0, &xs), -1);
	ck_assert_int_eq(ec_read_cache_init(&c, slots, 48, &xs), -1);
	ck_assert_int_eq(ec_read_cache_init(&c, slots, 1, &xs), 0);
}
END_TEST

START_TEST(put_replace_delete)
{
	struct ec_read_slot *s = slot_of("alpha");

	put("alpha", "one");
	ck_assert(holds("alpha", "one"));
	ck_assert_uint_eq(s->seq, 2);
	put("alpha", "");
	ck_assert(holds("alpha", ""));
	ck_assert_uint_eq(s->seq, 4);
	del("alpha");
	ck_assert_uint_eq(s->key_len, 0);
	ck_assert_uint_eq(s->seq, 6);
	ck_assert_uint_eq(rc.writes, 2);
	ck_assert_uint_eq(rc.deletes, 1);
}
END_TEST

/* Direct-mapped: the last write of a slot's keys wins; deleting a key
 * whose slot holds another leaves the other alone. */
START_TEST(collisions_evict_and_deletes_spare_the_other)
{
	char a[16], b[16];

	colliding(a, b);
	put(a, "A");
	put(b, "B");
	ck_assert(!holds(a, "A"));
	ck_assert(holds(b, "B"));
	ck_assert_uint_eq(rc.evictions, 1);
	del(a);
	ck_assert(holds(b, "B"));
	ck_assert_uint_eq(rc.deletes, 0);
	put(a, "A2");
	ck_assert(holds(a, "A2"));
}
END_TEST

/* A value the slot cannot hold leaves the key marked, never its older
 * value: a read of it must go up. */
START_TEST(too_large_values_are_marked)
{
	char big[EC_READ_VALUE_MAX + 2];

	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	put("key", "small");
	put("key", big);
	ck_assert(holds("key", NULL));
	ck_assert_uint_eq(rc.too_large, 1);
	big[EC_READ_VALUE_MAX] = '\0'; /* exactly the most a slot holds */
	put("key", big);
	ck_assert(holds("key", big));
}
END_TEST

START_TEST(clear_empties_every_slot)
{
	put("a", "1");
	put("b", "2");
	ec_read_cache_clear(&rc);
	for (unsigned i = 0; i < SLOTS; i++) {
		ck_assert_uint_eq(slots[i].key_len, 0);
		ck_assert_uint_eq(slots[i].seq % 2, 0);
	}
	ck_assert_uint_eq(rc.clears, 1);
}
END_TEST

/* Open for a view with a new generation, stay open across syncs of the
 * same view (lease end and applied op published each time), close, and
 * reopen with another word even in the same view. */
START_TEST(window_opens_stays_and_closes)
{
	uint64_t w1, w2;

	ec_read_cache_sync(&rc, false, 3, 500, 7);
	ck_assert_uint_eq(xs.read_word, 0);
	ck_assert_uint_eq(xs.applied_op, 7);
	ck_assert_uint_eq(xs.lease_until_ns, 0);
	ec_read_cache_sync(&rc, true, 3, 1000, 8);
	w1 = xs.read_word;
	ck_assert_uint_ne(w1, 0);
	ck_assert_uint_eq(w1 >> 32, 3);
	ck_assert_uint_eq(xs.lease_until_ns, 1000);
	ec_read_cache_sync(&rc, true, 3, 2000, 9);
	ck_assert_uint_eq(xs.read_word, w1);
	ck_assert_uint_eq(xs.lease_until_ns, 2000);
	ck_assert_uint_eq(xs.applied_op, 9);
	ec_read_cache_sync(&rc, false, 3, 3000, 10);
	ck_assert_uint_eq(xs.read_word, 0);
	ck_assert_uint_eq(xs.lease_until_ns, 2000);
	ec_read_cache_sync(&rc, true, 3, 4000, 11);
	w2 = xs.read_word;
	ck_assert_uint_ne(w2, 0);
	ck_assert_uint_ne(w2, w1);
	ec_read_cache_sync(&rc, true, 4, 5000, 12);
	ck_assert_uint_eq(xs.read_word >> 32, 4);
	ec_read_cache_close(&rc);
	ck_assert_uint_eq(xs.read_word, 0);
}
END_TEST

/* The store observer: a store given to it is written in whole after the
 * window closed and every slot emptied; its changes follow. */
START_TEST(observer_follows_the_store)
{
	struct ec_kv_observer obs = ec_read_cache_observer(&rc);
	Ec__KvOp op = EC__KV_OP__INIT;
	struct ec_kv *kv = ec_kv_new();
	struct ec_kv_result res;

	ck_assert_ptr_nonnull(kv);
	put("stale", "old");
	xs.read_word = EC_READ_WORD(1, 1);
	op.kind = EC__OP_KIND__OP_PUT;
	op.key.data = (uint8_t *)"a";
	op.key.len = 1;
	op.value.data = (uint8_t *)"1";
	op.value.len = 1;
	ck_assert_int_eq(ec_kv_apply(kv, &op, &res), 0);
	ec_kv_observe(kv, &obs);
	ck_assert_uint_eq(xs.read_word, 0);
	ck_assert(!holds("stale", "old"));
	ck_assert(holds("a", "1"));
	op.kind = EC__OP_KIND__OP_DELETE;
	ck_assert_int_eq(ec_kv_apply(kv, &op, &res), 0);
	ck_assert_uint_eq(slot_of("a")->key_len, 0);
	ec_kv_free(kv);
}
END_TEST

static Suite *read_cache_suite(void)
{
	Suite *su = suite_create("read_cache");
	TCase *tc = tcase_create("read_cache");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, power_of_two_only);
	tcase_add_test(tc, put_replace_delete);
	tcase_add_test(tc, collisions_evict_and_deletes_spare_the_other);
	tcase_add_test(tc, too_large_values_are_marked);
	tcase_add_test(tc, clear_empties_every_slot);
	tcase_add_test(tc, window_opens_stays_and_closes);
	tcase_add_test(tc, observer_follows_the_store);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	return run_suite(read_cache_suite());
}
