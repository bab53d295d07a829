/* test_kv.c - the key-value store: ops, statuses, CAS, digest, growth. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/kv.h"
#include "../run_suite.h"

static struct ec_kv *kv;

static void setup(void)
{
	kv = ec_kv_new();
	ck_assert_ptr_nonnull(kv);
}

static void teardown(void)
{
	ec_kv_free(kv);
	kv = NULL;
}

static ProtobufCBinaryData bytes(const char *s)
{
	ProtobufCBinaryData b = { s ? strlen(s) : 0, (uint8_t *)s };

	return b;
}

/* Build and apply one op; NULL strings mean empty.  Returns apply's rc. */
static int run(struct ec_kv *k, Ec__OpKind kind, const char *key,
	       const char *value, const char *expected, int expect_absent,
	       struct ec_kv_result *res)
{
	Ec__KvOp op = EC__KV_OP__INIT;

	op.kind = kind;
	op.key = bytes(key);
	op.value = bytes(value);
	op.expected = bytes(expected);
	op.expect_absent = expect_absent;
	return ec_kv_apply(k, &op, res);
}

static void put(struct ec_kv *k, const char *key, const char *value)
{
	struct ec_kv_result r;

	ck_assert_int_eq(run(k, EC__OP_KIND__OP_PUT, key, value, NULL, 0, &r), 0);
	ck_assert_int_eq(r.status, EC__STATUS__ST_OK);
}

/* Assert key holds value (or is absent when value is NULL). */
static void expect_get(struct ec_kv *k, const char *key, const char *value)
{
	struct ec_kv_result r;

	ck_assert_int_eq(run(k, EC__OP_KIND__OP_GET, key, NULL, NULL, 0, &r), 0);
	if (!value) {
		ck_assert_int_eq(r.status, EC__STATUS__ST_NOT_FOUND);
		ck_assert_int_eq(r.found, 0);
		return;
	}
	ck_assert_int_eq(r.status, EC__STATUS__ST_OK);
	ck_assert_int_eq(r.found, 1);
	ck_assert_uint_eq(r.value_len, strlen(value));
	ck_assert(memcmp(r.value, value, r.value_len) == 0);
}

START_TEST(get_missing)
{
	expect_get(kv, "nope", NULL);
	ck_assert_uint_eq(ec_kv_count(kv), 0);
	ck_assert_uint_eq(ec_kv_digest(kv), 0);
}
END_TEST

START_TEST(put_get)
{
	struct ec_kv_result r;

	ck_assert_int_eq(run(kv, EC__OP_KIND__OP_PUT, "a", "1", NULL, 0, &r), 0);
	ck_assert_int_eq(r.status, EC__STATUS__ST_OK);
	ck_assert_int_eq(r.found, 0);
	expect_get(kv, "a", "1");
	ck_assert_uint_eq(ec_kv_count(kv), 1);
}
END_TEST

START_TEST(put_empty_value)
{
	put(kv, "k", "");
	expect_get(kv, "k", "");
	ck_assert_uint_eq(ec_kv_count(kv), 1);
}
END_TEST

START_TEST(overwrite)
{
	struct ec_kv_result r;

	put(kv, "a", "1");
	ck_assert_int_eq(run(kv, EC__OP_KIND__OP_PUT, "a", "22", NULL, 0, &r), 0);
	ck_assert_int_eq(r.found, 1);
	expect_get(kv, "a", "22");
	ck_assert_uint_eq(ec_kv_count(kv), 1);
}
END_TEST

START_TEST(delete)
{
	struct ec_kv_result r;

	put(kv, "a", "1");
	put(kv, "b", "2");
	ck_assert_int_eq(run(kv, EC__OP_KIND__OP_DELETE, "a", NULL, NULL, 0, &r), 0);
	ck_assert_int_eq(r.status, EC__STATUS__ST_OK);
	ck_assert_int_eq(r.found, 1);
	expect_get(kv, "a", NULL);
	expect_get(kv, "b", "2");
	ck_assert_uint_eq(ec_kv_count(kv), 1);
	ck_assert_int_eq(run(kv, EC__OP_KIND__OP_DELETE, "a", NULL, NULL, 0, &r), 0);
	ck_assert_int_eq(r.status, EC__STATUS__ST_NOT_FOUND);
	ck_assert_int_eq(r.found, 0);
}
END_TEST

START_TEST(cas_match)
{
	struct ec_kv_result r;

	put(kv, "a", "old");
	ck_assert_int_eq(run(kv, EC__OP_KIND__OP_CAS, "a", "new", "old", 0, &r), 0);
	ck_assert_int_eq(r.status, EC__STATUS__ST_OK);
	expect_get(kv, "a", "new");
}
END_TEST

START_TEST(cas_mismatch)
{
	struct ec_kv_result r;

	put(kv, "a", "cur");
	ck_assert_int_eq(run(kv, EC__OP_KIND__OP_CAS, "a", "new", "old", 0, &r), 0);
	ck_assert_int_eq(r.status, EC__STATUS__ST_CAS_FAILED);
	ck_assert_int_eq(r.found, 1);
	ck_assert_uint_eq(r.value_len, 3);
	ck_assert(memcmp(r.value, "cur", 3) == 0);
	expect_get(kv, "a", "cur");
	/* a prefix of the current value is not equal to it */
	ck_assert_int_eq(run(kv, EC__OP_KIND__OP_CAS, "a", "new", "cu", 0, &r), 0);
	ck_assert_int_eq(r.status, EC__STATUS__ST_CAS_FAILED);
}
END_TEST

START_TEST(cas_missing_key)
{
	struct ec_kv_result r;

	ck_assert_int_eq(run(kv, EC__OP_KIND__OP_CAS, "a", "new", "", 0, &r), 0);
	ck_assert_int_eq(r.status, EC__STATUS__ST_CAS_FAILED);
	ck_assert_int_eq(r.found, 0);
	ck_assert_uint_eq(r.value_len, 0);
	expect_get(kv, "a", NULL);
}
END_TEST

START_TEST(cas_expect_absent)
{
	struct ec_kv_result r;

	ck_assert_int_eq(run(kv, EC__OP_KIND__OP_CAS, "a", "v1", NULL, 1, &r), 0);
	ck_assert_int_eq(r.status, EC__STATUS__ST_OK);
	expect_get(kv, "a", "v1");
	ck_assert_int_eq(run(kv, EC__OP_KIND__OP_CAS, "a", "v2", NULL, 1, &r), 0);
	ck_assert_int_eq(r.status, EC__STATUS__ST_CAS_FAILED);
	ck_assert_int_eq(r.found, 1);
	ck_assert_uint_eq(r.value_len, 2);
	ck_assert(memcmp(r.value, "v1", 2) == 0);
	expect_get(kv, "a", "v1");
}
END_TEST

START_TEST(cas_empty_expected_matches_empty_value)
{
	struct ec_kv_result r;

	put(kv, "a", "");
	ck_assert_int_eq(run(kv, EC__OP_KIND__OP_CAS, "a", "x", "", 0, &r), 0);
	ck_assert_int_eq(r.status, EC__STATUS__ST_OK);
	expect_get(kv, "a", "x");
}
END_TEST

START_TEST(op_valid)
{
	Ec__KvOp op = EC__KV_OP__INIT;
	static uint8_t big[EC_MAX_VALUE + 1];
	struct ec_kv_result r;

	ck_assert_int_eq(ec_kv_op_valid(NULL), 0);
	ck_assert_int_eq(ec_kv_op_valid(&op), 0); /* empty key */
	op.key.len = EC_MAX_KEY;
	op.key.data = big;
	ck_assert_int_eq(ec_kv_op_valid(&op), 1);
	op.key.len = EC_MAX_KEY + 1;
	ck_assert_int_eq(ec_kv_op_valid(&op), 0);
	op.key.len = 1;
	op.kind = EC__OP_KIND__OP_PUT;
	op.value.len = EC_MAX_VALUE;
	op.value.data = big;
	ck_assert_int_eq(ec_kv_op_valid(&op), 1);
	op.value.len = EC_MAX_VALUE + 1;
	ck_assert_int_eq(ec_kv_op_valid(&op), 0);
	op.value.len = 0;
	op.kind = EC__OP_KIND__OP_CAS;
	op.expected.data = big;
	op.expected.len = EC_MAX_VALUE;
	ck_assert_int_eq(ec_kv_op_valid(&op), 1);
	op.expected.len = EC_MAX_VALUE + 1;
	ck_assert_int_eq(ec_kv_op_valid(&op), 0);
	op.expected.len = 0;
	op.kind = (Ec__OpKind)17;
	ck_assert_int_eq(ec_kv_op_valid(&op), 0);

	/* an invalid op is answered, not executed */
	ck_assert_int_eq(ec_kv_apply(kv, &op, &r), 0);
	ck_assert_int_eq(r.status, EC__STATUS__ST_BAD_REQUEST);
	ck_assert_uint_eq(ec_kv_count(kv), 0);
}
END_TEST

START_TEST(binary_keys_and_values)
{
	uint8_t key[3] = { 0, 'a', 0 }, val[4] = { 0xff, 0, 1, 0 };
	Ec__KvOp op = EC__KV_OP__INIT;
	struct ec_kv_result r;

	op.kind = EC__OP_KIND__OP_PUT;
	op.key.data = key;
	op.key.len = sizeof(key);
	op.value.data = val;
	op.value.len = sizeof(val);
	ck_assert_int_eq(ec_kv_apply(kv, &op, &r), 0);
	op.kind = EC__OP_KIND__OP_GET;
	op.key.len = 2; /* "\0a" is another key */
	ck_assert_int_eq(ec_kv_apply(kv, &op, &r), 0);
	ck_assert_int_eq(r.status, EC__STATUS__ST_NOT_FOUND);
	op.key.len = 3;
	ck_assert_int_eq(ec_kv_apply(kv, &op, &r), 0);
	ck_assert_int_eq(r.status, EC__STATUS__ST_OK);
	ck_assert_uint_eq(r.value_len, sizeof(val));
	ck_assert(memcmp(r.value, val, sizeof(val)) == 0);
}
END_TEST

START_TEST(digest_order_independent)
{
	struct ec_kv *b = ec_kv_new();
	struct ec_kv_result r;
	char k[32], v[32];

	ck_assert_ptr_nonnull(b);
	for (int i = 0; i < 500; i++) {
		snprintf(k, sizeof(k), "key%d", i);
		snprintf(v, sizeof(v), "val%d", i * 7);
		put(kv, k, v);
	}
	for (int i = 499; i >= 0; i--) {
		snprintf(k, sizeof(k), "key%d", i);
		snprintf(v, sizeof(v), "val%d", i * 7);
		put(b, k, v);
	}
	ck_assert_uint_eq(ec_kv_digest(kv), ec_kv_digest(b));
	ck_assert_uint_ne(ec_kv_digest(kv), 0);

	/* same contents reached through overwrites and deletes */
	put(b, "key3", "temp");
	put(b, "extra", "x");
	ck_assert_uint_ne(ec_kv_digest(kv), ec_kv_digest(b));
	put(b, "key3", "val21");
	ck_assert_uint_ne(ec_kv_digest(kv), ec_kv_digest(b));
	ck_assert_int_eq(run(b, EC__OP_KIND__OP_DELETE, "extra", NULL, NULL, 0,
			     &r), 0);
	ck_assert_uint_eq(ec_kv_digest(kv), ec_kv_digest(b));
	ec_kv_free(b);
}
END_TEST

START_TEST(digest_sees_changes)
{
	struct ec_kv *b = ec_kv_new(), *c = ec_kv_new();
	uint64_t d0, d1;

	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_nonnull(c);
	put(kv, "ab", "c");
	put(b, "a", "bc");
	ck_assert_uint_ne(ec_kv_digest(kv), ec_kv_digest(b)); /* framing */
	d0 = ec_kv_digest(kv);
	put(kv, "ab", "d");
	d1 = ec_kv_digest(kv);
	ck_assert_uint_ne(d0, d1);
	put(kv, "ab", "c");
	ck_assert_uint_eq(ec_kv_digest(kv), d0);
	/* a key with an empty value is not the same as no key */
	put(kv, "e", "");
	ck_assert_uint_ne(ec_kv_digest(kv), d0);
	/* swapping values between two keys changes the digest */
	ec_kv_free(b);
	b = ec_kv_new();
	ck_assert_ptr_nonnull(b);
	put(b, "x", "1");
	put(b, "y", "2");
	put(c, "x", "2");
	put(c, "y", "1");
	ck_assert_uint_ne(ec_kv_digest(b), ec_kv_digest(c));
	ec_kv_free(b);
	ec_kv_free(c);
}
END_TEST

struct visit {
	int count;
	size_t bytes;
};

static void visit(const uint8_t *key, size_t key_len, const uint8_t *value,
		  size_t value_len, void *arg)
{
	struct visit *v = arg;

	v->count++;
	v->bytes += key_len + value_len;
}

START_TEST(growth_and_foreach)
{
	enum { N = 50000 };
	struct ec_kv_result r;
	struct visit v = { 0, 0 };
	size_t bytes = 0;
	char k[32], val[32];

	for (int i = 0; i < N; i++) {
		snprintf(k, sizeof(k), "k%d", i);
		snprintf(val, sizeof(val), "v%d", i);
		put(kv, k, val);
		bytes += strlen(k) + strlen(val);
	}
	ck_assert_uint_eq(ec_kv_count(kv), N);
	for (int i = 0; i < N; i += 997) {
		snprintf(k, sizeof(k), "k%d", i);
		snprintf(val, sizeof(val), "v%d", i);
		expect_get(kv, k, val);
	}
	ec_kv_foreach(kv, visit, &v);
	ck_assert_int_eq(v.count, N);
	ck_assert_uint_eq(v.bytes, bytes);
	for (int i = 0; i < N; i += 2) {
		snprintf(k, sizeof(k), "k%d", i);
		ck_assert_int_eq(run(kv, EC__OP_KIND__OP_DELETE, k, NULL, NULL,
				     0, &r), 0);
		ck_assert_int_eq(r.status, EC__STATUS__ST_OK);
	}
	ck_assert_uint_eq(ec_kv_count(kv), N / 2);
	expect_get(kv, "k0", NULL);
	expect_get(kv, "k1", "v1");
}
END_TEST

/* ---- bounds (--max-keys, --max-bytes) ---- */

static void limit(struct ec_kv *k, uint64_t max_keys, uint64_t max_bytes)
{
	struct ec_kv_limits l = { max_keys, max_bytes };

	ec_kv_set_limits(k, &l);
}

/* Apply op and assert it was refused with STORE_FULL and changed nothing. */
static void expect_full(struct ec_kv *k, Ec__OpKind kind, const char *key,
			const char *value, const char *expected,
			int expect_absent)
{
	struct ec_kv_result r;
	uint64_t digest = ec_kv_digest(k), bytes = ec_kv_bytes(k);
	size_t count = ec_kv_count(k);

	ck_assert_int_eq(run(k, kind, key, value, expected, expect_absent, &r),
			 0);
	ck_assert_int_eq(r.status, EC__STATUS__ST_STORE_FULL);
	ck_assert_uint_eq(ec_kv_digest(k), digest);
	ck_assert_uint_eq(ec_kv_bytes(k), bytes);
	ck_assert_uint_eq(ec_kv_count(k), count);
}

START_TEST(bytes_counted)
{
	struct ec_kv_result r;

	put(kv, "ab", "123");
	put(kv, "c", "");
	ck_assert_uint_eq(ec_kv_bytes(kv), 6);
	put(kv, "ab", "1");
	ck_assert_uint_eq(ec_kv_bytes(kv), 4);
	run(kv, EC__OP_KIND__OP_DELETE, "ab", NULL, NULL, 0, &r);
	ck_assert_uint_eq(ec_kv_bytes(kv), 1);
	/* no bounds by default */
	ck_assert_uint_eq(ec_kv_limits(kv).max_keys, 0);
	ck_assert_uint_eq(ec_kv_limits(kv).max_bytes, 0);
}
END_TEST

START_TEST(limit_keys_at_and_past)
{
	limit(kv, 3, 0);
	put(kv, "a", "1");
	put(kv, "b", "2");
	put(kv, "c", "3"); /* exactly at the bound: allowed */
	ck_assert_uint_eq(ec_kv_count(kv), 3);
	expect_full(kv, EC__OP_KIND__OP_PUT, "d", "4", NULL, 0);
	expect_get(kv, "d", NULL);
	/* overwriting an existing key adds no key, even growing */
	put(kv, "a", "1111");
	expect_get(kv, "a", "1111");
}
END_TEST

START_TEST(limit_bytes_past_by_one)
{
	limit(kv, 0, 10);
	put(kv, "a", "1234");  /* 5 */
	put(kv, "b", "123");   /* 9 */
	expect_full(kv, EC__OP_KIND__OP_PUT, "c", "1", NULL, 0); /* 11 */
	put(kv, "c", "");      /* 10: at the bound */
	ck_assert_uint_eq(ec_kv_bytes(kv), 10);
	/* growing a value past the bound is refused too */
	expect_full(kv, EC__OP_KIND__OP_PUT, "b", "1234", NULL, 0);
	expect_get(kv, "b", "123");
}
END_TEST

START_TEST(limit_replace_smaller_at_full)
{
	limit(kv, 2, 8);
	put(kv, "a", "123");
	put(kv, "b", "123"); /* 2 keys, 8 bytes: full both ways */
	put(kv, "a", "xyz"); /* equal size */
	put(kv, "b", "1");   /* smaller */
	expect_get(kv, "a", "xyz");
	expect_get(kv, "b", "1");
	ck_assert_uint_eq(ec_kv_bytes(kv), 6);
	/* reads never fail on a full store */
	expect_full(kv, EC__OP_KIND__OP_PUT, "c", "", NULL, 0);
	expect_get(kv, "a", "xyz");
	/* a store past a lowered bound may still shrink, not grow */
	limit(kv, 1, 2);
	put(kv, "a", "");
	expect_full(kv, EC__OP_KIND__OP_PUT, "b", "12", NULL, 0);
}
END_TEST

START_TEST(limit_delete_then_write)
{
	struct ec_kv_result r;

	limit(kv, 2, 0);
	put(kv, "a", "1");
	put(kv, "b", "2");
	expect_full(kv, EC__OP_KIND__OP_PUT, "c", "3", NULL, 0);
	ck_assert_int_eq(run(kv, EC__OP_KIND__OP_DELETE, "a", NULL, NULL, 0, &r), 0);
	ck_assert_int_eq(r.status, EC__STATUS__ST_OK);
	put(kv, "c", "3");
	expect_get(kv, "c", "3");
	ck_assert_uint_eq(ec_kv_count(kv), 2);
}
END_TEST

START_TEST(limit_cas_at_full)
{
	struct ec_kv_result r;

	limit(kv, 2, 0);
	put(kv, "a", "1");
	put(kv, "b", "2");
	/* a CAS that would add a key is refused ... */
	expect_full(kv, EC__OP_KIND__OP_CAS, "c", "3", NULL, 1);
	/* ... but a failing condition is still reported as such */
	ck_assert_int_eq(run(kv, EC__OP_KIND__OP_CAS, "a", "9", "nope", 0, &r), 0);
	ck_assert_int_eq(r.status, EC__STATUS__ST_CAS_FAILED);
	/* replacing an existing key's value works */
	ck_assert_int_eq(run(kv, EC__OP_KIND__OP_CAS, "a", "9", "1", 0, &r), 0);
	ck_assert_int_eq(r.status, EC__STATUS__ST_OK);
	expect_get(kv, "a", "9");
	/* growing it past the byte bound does not */
	limit(kv, 2, 4);
	expect_full(kv, EC__OP_KIND__OP_CAS, "a", "99", "9", 0);
	expect_get(kv, "a", "9");
}
END_TEST

static Suite *kv_suite(void)
{
	Suite *s = suite_create("kv");
	TCase *tc = tcase_create("ops");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, get_missing);
	tcase_add_test(tc, put_get);
	tcase_add_test(tc, put_empty_value);
	tcase_add_test(tc, overwrite);
	tcase_add_test(tc, delete);
	tcase_add_test(tc, cas_match);
	tcase_add_test(tc, cas_mismatch);
	tcase_add_test(tc, cas_missing_key);
	tcase_add_test(tc, cas_expect_absent);
	tcase_add_test(tc, cas_empty_expected_matches_empty_value);
	tcase_add_test(tc, op_valid);
	tcase_add_test(tc, binary_keys_and_values);
	tcase_add_test(tc, digest_order_independent);
	tcase_add_test(tc, digest_sees_changes);
	tcase_add_test(tc, growth_and_foreach);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, bytes_counted);
	tcase_add_test(tc, limit_keys_at_and_past);
	tcase_add_test(tc, limit_bytes_past_by_one);
	tcase_add_test(tc, limit_replace_smaller_at_full);
	tcase_add_test(tc, limit_delete_then_write);
	tcase_add_test(tc, limit_cas_at_full);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return run_suite(kv_suite());
}
