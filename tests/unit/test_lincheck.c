/*
 * test_lincheck.c - ec-lincheck's reader, checker and shrinker on small
 * hand-made histories: valid concurrent ones, classic violations, and
 * malformed input reported on the right line.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lincheck/history.h"
#include "../lincheck/shrink.h"
#include "../lincheck/wgl.h"
#include "../run_suite.h"

/* One history line; V is the value as JSON text, S() makes a string. */
#define EV(p, type, f, key, v, t)                                       \
	"{\"process\": " #p ", \"type\": \"" type "\", \"f\": \"" f      \
	"\", \"key\": \"" key "\", \"value\": " v ", \"time\": " #t "}\n"
#define S(x) "\"" x "\""
#define NUL "null"

static const struct lc_limits limits = { 1000000, 10 };

static struct lc_history h;

static void teardown(void)
{
	lc_history_free(&h);
}

/* Read text into h, failing the test with the reader's error if any. */
static void read_ok(const char *text)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	char err[512];

	ck_assert_ptr_nonnull(f);
	ck_assert_msg(lc_history_read(&h, f, "t", err, sizeof(err)) == 0,
		      "%s", err);
	fclose(f);
}

/* The verdict on key k (1: the first key named) of h. */
static enum lc_verdict key_verdict(uint32_t k, const struct lc_limits *lim)
{
	size_t from = h.key_start[k - 1], n = h.key_start[k] - from;
	const struct lc_op **ops = calloc(n ? n : 1, sizeof(*ops));
	enum lc_verdict v;

	for (size_t i = 0; i < n; i++)
		ops[i] = &h.ops[h.by_key[from + i]];
	v = lc_check((const struct lc_op *const *)ops, n, lim, NULL);
	free(ops);
	return v;
}

/* The verdict on the whole history: the worst of its keys'. */
static enum lc_verdict verdict(const char *text)
{
	enum lc_verdict worst = LC_LINEARIZABLE;

	read_ok(text);
	for (uint32_t k = 1; k <= lc_history_nkeys(&h); k++) {
		enum lc_verdict v = key_verdict(k, &limits);

		if (v == LC_VIOLATION || (v == LC_LIMIT && worst != LC_VIOLATION))
			worst = v;
	}
	return worst;
}

#define ck_linearizable(text) ck_assert_int_eq(verdict(text), LC_LINEARIZABLE)
#define ck_violation(text) ck_assert_int_eq(verdict(text), LC_VIOLATION)

/* Assert text is refused with an error starting "t:LINE: " and holding why. */
static void ck_malformed(const char *text, unsigned line, const char *why)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	char err[512], prefix[32];

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(lc_history_read(&h, f, "t", err, sizeof(err)), -1);
	fclose(f);
	snprintf(prefix, sizeof(prefix), "t:%u: ", line);
	ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0,
		      "want \"%s...\", got \"%s\"", prefix, err);
	ck_assert_msg(strstr(err, why), "want \"%s\" in \"%s\"", why, err);
}

/* ---- valid histories ---- */

/* A get inside a put's interval may see the register before or after. */
#define GET_DURING_PUT(result)                          \
	EV(0, "invoke", "put", "a", S("x"), 1)          \
	EV(1, "invoke", "get", "a", NUL, 2)             \
	EV(1, "ok", "get", "a", result, 3)              \
	EV(0, "ok", "put", "a", S("x"), 4)

START_TEST(get_concurrent_with_put_sees_before)
{
	ck_linearizable(GET_DURING_PUT(NUL));
}
END_TEST

START_TEST(get_concurrent_with_put_sees_after)
{
	ck_linearizable(GET_DURING_PUT(S("x")));
}
END_TEST

START_TEST(concurrent_puts_in_either_order)
{
	ck_linearizable(EV(0, "invoke", "put", "a", S("x"), 1)
			EV(1, "invoke", "put", "a", S("y"), 2)
			EV(1, "ok", "put", "a", S("y"), 3)
			EV(0, "ok", "put", "a", S("x"), 4)
			EV(2, "invoke", "get", "a", NUL, 5)
			EV(2, "ok", "get", "a", S("y"), 6)
			EV(2, "invoke", "get", "a", NUL, 7)
			EV(2, "ok", "get", "a", S("y"), 8));
}
END_TEST

START_TEST(equal_times_are_concurrent)
{
	ck_linearizable(EV(0, "invoke", "put", "a", S("x"), 1)
			EV(0, "ok", "put", "a", S("x"), 5)
			EV(1, "invoke", "get", "a", NUL, 5)
			EV(1, "ok", "get", "a", NUL, 6));
}
END_TEST

START_TEST(info_that_took_effect)
{
	ck_linearizable(EV(0, "invoke", "put", "a", S("x"), 1)
			EV(0, "info", "put", "a", S("x"), 2)
			EV(1, "invoke", "get", "a", NUL, 10)
			EV(1, "ok", "get", "a", NUL, 11)
			EV(1, "invoke", "get", "a", NUL, 12)
			EV(1, "ok", "get", "a", S("x"), 13));
}
END_TEST

START_TEST(info_that_never_did)
{
	ck_linearizable(EV(0, "invoke", "cas", "a", "[null, \"x\"]", 1)
			EV(0, "info", "cas", "a", "[null, \"x\"]", 2)
			EV(1, "invoke", "put", "a", S("y"), 3)
			EV(1, "ok", "put", "a", S("y"), 4)
			EV(1, "invoke", "get", "a", NUL, 5)
			EV(1, "ok", "get", "a", S("y"), 6));
}
END_TEST

START_TEST(open_op_at_end_is_info)
{
	ck_linearizable(EV(0, "invoke", "put", "a", S("x"), 1)
			EV(1, "invoke", "get", "a", NUL, 2)
			EV(1, "ok", "get", "a", S("x"), 3));
	ck_assert_uint_eq(h.nopen, 1);
}
END_TEST

START_TEST(cas_delete_and_failures)
{
	ck_linearizable(EV(0, "invoke", "cas", "a", "[null, \"x\"]", 1)
			EV(0, "ok", "cas", "a", "[null, \"x\"]", 2)
			EV(0, "invoke", "cas", "a", "[\"z\", \"y\"]", 3)
			EV(0, "fail", "cas", "a", "[\"z\", \"y\"]", 4)
			EV(0, "invoke", "put", "a", S("w"), 5)
			EV(0, "fail", "put", "a", S("w"), 6)
			EV(0, "invoke", "cas", "a", "[\"x\", \"y\"]", 7)
			EV(0, "ok", "cas", "a", "[\"x\", \"y\"]", 8)
			EV(0, "invoke", "delete", "a", NUL, 9)
			EV(0, "ok", "delete", "a", NUL, 10)
			EV(0, "invoke", "delete", "a", NUL, 11)
			EV(0, "ok", "delete", "a", NUL, 12)
			EV(0, "invoke", "get", "a", NUL, 13)
			EV(0, "fail", "get", "a", NUL, 14)
			EV(0, "invoke", "get", "a", NUL, 15)
			EV(0, "ok", "get", "a", NUL, 16));
}
END_TEST

START_TEST(escapes_decode_to_the_same_string)
{
	ck_linearizable(EV(0, "invoke", "put", "k\\\"1", S("A\\\\\\u0001\\ud83d\\ude00"), 1)
			EV(0, "ok", "put", "k\\\"1", S("A\\\\\\u0001\\ud83d\\ude00"), 2)
			EV(0, "invoke", "get", "k\\u0022\\u0031", NUL, 3)
			EV(0, "ok", "get", "k\\\"1", S("\\u0041\\\\\\u0001\xf0\x9f\x98\x80"), 4));
	ck_assert_uint_eq(lc_history_nkeys(&h), 1);
}
END_TEST

START_TEST(keys_are_checked_apart)
{
	ck_linearizable(EV(0, "invoke", "put", "a", S("x"), 1)
			EV(0, "ok", "put", "a", S("x"), 2)
			EV(0, "invoke", "get", "b", NUL, 3)
			EV(0, "ok", "get", "b", NUL, 4));
	ck_assert_uint_eq(lc_history_nkeys(&h), 2);
}
END_TEST

/* ---- violations ---- */

START_TEST(stale_read)
{
	ck_violation(EV(0, "invoke", "put", "a", S("x"), 1)
		     EV(0, "ok", "put", "a", S("x"), 2)
		     EV(1, "invoke", "put", "a", S("y"), 3)
		     EV(1, "ok", "put", "a", S("y"), 4)
		     EV(2, "invoke", "get", "a", NUL, 5)
		     EV(2, "ok", "get", "a", S("x"), 6));
}
END_TEST

START_TEST(lost_write)
{
	ck_violation(EV(0, "invoke", "put", "a", S("x"), 1)
		     EV(0, "ok", "put", "a", S("x"), 2)
		     EV(1, "invoke", "get", "a", NUL, 3)
		     EV(1, "ok", "get", "a", NUL, 4));
}
END_TEST

START_TEST(double_applied_cas)
{
	ck_violation(EV(0, "invoke", "put", "a", S("x"), 1)
		     EV(0, "ok", "put", "a", S("x"), 2)
		     EV(1, "invoke", "cas", "a", "[\"x\", \"y\"]", 3)
		     EV(2, "invoke", "cas", "a", "[\"x\", \"z\"]", 4)
		     EV(1, "ok", "cas", "a", "[\"x\", \"y\"]", 5)
		     EV(2, "ok", "cas", "a", "[\"x\", \"z\"]", 6));
}
END_TEST

START_TEST(read_of_value_never_written)
{
	ck_violation(EV(0, "invoke", "put", "a", S("x"), 1)
		     EV(1, "invoke", "get", "a", NUL, 2)
		     EV(1, "ok", "get", "a", S("q"), 3)
		     EV(0, "ok", "put", "a", S("x"), 4));
}
END_TEST

START_TEST(read_of_failed_put)
{
	ck_violation(EV(0, "invoke", "put", "a", S("x"), 1)
		     EV(0, "fail", "put", "a", S("x"), 2)
		     EV(1, "invoke", "get", "a", NUL, 3)
		     EV(1, "ok", "get", "a", S("x"), 4));
}
END_TEST

START_TEST(cas_failed_though_it_must_match)
{
	ck_violation(EV(0, "invoke", "put", "a", S("x"), 1)
		     EV(0, "ok", "put", "a", S("x"), 2)
		     EV(1, "invoke", "cas", "a", "[\"x\", \"y\"]", 3)
		     EV(1, "fail", "cas", "a", "[\"x\", \"y\"]", 4));
}
END_TEST

START_TEST(cas_absent_failed_on_absent_key)
{
	ck_violation(EV(1, "invoke", "cas", "a", "[null, \"y\"]", 3)
		     EV(1, "fail", "cas", "a", "[null, \"y\"]", 4));
}
END_TEST

START_TEST(violation_in_one_key_only)
{
	read_ok(EV(0, "invoke", "put", "a", S("x"), 1)
		EV(0, "ok", "put", "a", S("x"), 2)
		EV(0, "invoke", "get", "b", NUL, 3)
		EV(0, "ok", "get", "b", S("x"), 4));
	ck_assert_int_eq(key_verdict(1, &limits), LC_LINEARIZABLE);
	ck_assert_int_eq(key_verdict(2, &limits), LC_VIOLATION);
}
END_TEST

/* ---- limits and shrinking ---- */

START_TEST(search_limit_is_its_own_verdict)
{
	static const struct lc_limits tiny = { 20, 0 };
	char text[8192] = "";

	/* 12 overlapping puts, then a read no order explains. */
	for (int p = 0; p < 12; p++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
			 "{\"process\":%d,\"type\":\"invoke\",\"f\":\"put\",\"key\":\"a\",\"value\":\"v%d\",\"time\":%d}\n",
			 p, p, p);
	for (int p = 0; p < 12; p++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
			 "{\"process\":%d,\"type\":\"ok\",\"f\":\"put\",\"key\":\"a\",\"value\":\"v%d\",\"time\":%d}\n",
			 p, p, 20 + p);
	strcat(text, EV(99, "invoke", "get", "a", NUL, 40)
		     EV(99, "ok", "get", "a", S("none"), 41));
	read_ok(text);
	ck_assert_int_eq(key_verdict(1, &tiny), LC_LIMIT);
	ck_assert_int_eq(key_verdict(1, &limits), LC_VIOLATION);
}
END_TEST

START_TEST(shrink_keeps_the_writes_a_stale_read_needs)
{
	const struct lc_op *ops[16];
	size_t n;
	bool minimal;

	read_ok(EV(3, "invoke", "get", "a", NUL, 0)
		EV(3, "ok", "get", "a", NUL, 1)
		EV(0, "invoke", "put", "a", S("x"), 1)
		EV(0, "ok", "put", "a", S("x"), 2)
		EV(3, "invoke", "get", "a", NUL, 2)
		EV(3, "ok", "get", "a", S("x"), 3)
		EV(1, "invoke", "put", "a", S("y"), 3)
		EV(1, "ok", "put", "a", S("y"), 4)
		EV(3, "invoke", "put", "a", S("z"), 5)
		EV(2, "invoke", "get", "a", NUL, 5)
		EV(2, "ok", "get", "a", S("x"), 6)
		EV(3, "ok", "put", "a", S("z"), 7));
	n = h.nops;
	for (size_t i = 0; i < n; i++)
		ops[i] = &h.ops[i];
	n = lc_shrink(ops, n, h.values.count, &limits, 0, &minimal);
	/* Dropping the put of x would leave "read of a value never written". */
	ck_assert(minimal);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(ops[0]->call_line, 3);
	ck_assert_uint_eq(ops[1]->call_line, 7);
	ck_assert_uint_eq(ops[2]->call_line, 10);
}
END_TEST

/* ---- malformed input ---- */

START_TEST(malformed_json)
{
	ck_malformed(EV(0, "invoke", "get", "a", NUL, 1) "{\"process\": 0,\n", 2,
		     "bad JSON");
	ck_malformed("{\"process\": 0 \"type\": \"ok\"}\n", 1, "expected ','");
	ck_malformed(EV(0, "invoke", "put", "a", S("\\x"), 1), 1, "unknown escape");
	ck_malformed(EV(0, "invoke", "put", "a", S("\\udc00"), 1), 1, "surrogate");
	ck_malformed(EV(0, "invoke", "get", "a", NUL, 1) "x\n", 2, "bad JSON");
	ck_malformed("{\"process\": 0, \"type\": \"invoke\", \"f\": \"get\", \"key\": \"a\", \"value\": null, \"time\": 1} junk\n",
		     1, "after the object");
}
END_TEST

START_TEST(malformed_fields)
{
	ck_malformed(EV(0, "ack", "get", "a", NUL, 1), 1, "unknown \"type\" \"ack\"");
	ck_malformed(EV(0, "invoke", "incr", "a", NUL, 1), 1, "unknown \"f\" \"incr\"");
	ck_malformed("{\"process\": 0, \"type\": \"invoke\", \"f\": \"get\", \"key\": \"a\", \"value\": null}\n",
		     1, "missing field \"time\"");
	ck_malformed("{\"process\": 0, \"type\": \"invoke\", \"f\": \"get\", \"key\": \"a\", \"value\": null, \"time\": 1, \"node\": 2}\n",
		     1, "unknown field \"node\"");
	ck_malformed("{\"process\": 0, \"process\": 0}\n", 1, "given twice");
	ck_malformed(EV(-1, "invoke", "get", "a", NUL, 1), 1, "non-negative integer");
	ck_malformed(EV(0, "invoke", "get", "a", NUL, 1.5), 1, "non-negative integer");
	ck_malformed("{\"process\": 0, \"type\": \"invoke\", \"f\": \"get\", \"key\": 7, \"value\": null, \"time\": 1}\n",
		     1, "\"key\" must be a string");
}
END_TEST

START_TEST(malformed_process_protocol)
{
	ck_malformed("\n" EV(0, "ok", "get", "a", NUL, 1), 2, "no op outstanding");
	ck_malformed(EV(0, "invoke", "get", "a", NUL, 1)
		     EV(0, "invoke", "get", "a", NUL, 2), 2,
		     "while its op from line 1 is outstanding");
	ck_malformed(EV(0, "invoke", "get", "a", NUL, 1)
		     EV(0, "info", "get", "a", NUL, 2)
		     EV(0, "invoke", "get", "a", NUL, 3), 3, "after an info");
	ck_malformed(EV(0, "invoke", "get", "a", NUL, 5)
		     EV(1, "invoke", "get", "a", NUL, 4), 2, "time goes backwards");
	ck_malformed(EV(0, "invoke", "get", "a", NUL, 1)
		     EV(0, "ok", "get", "b", NUL, 2), 2, "differs from its invoke");
	ck_malformed(EV(0, "invoke", "get", "a", NUL, 1)
		     EV(0, "ok", "put", "a", S("x"), 2), 2, "differs from its invoke");
}
END_TEST

START_TEST(malformed_values)
{
	ck_malformed(EV(0, "invoke", "put", "a", NUL, 1), 1, "must be a string");
	ck_malformed(EV(0, "invoke", "get", "a", S("x"), 1), 1, "must be null");
	ck_malformed(EV(0, "invoke", "delete", "a", S("x"), 1), 1, "must be null");
	ck_malformed(EV(0, "invoke", "cas", "a", S("x"), 1), 1, "[expected, new]");
	ck_malformed(EV(0, "invoke", "cas", "a", "[\"x\", null]", 1), 1, "[expected, new]");
	ck_malformed(EV(0, "invoke", "cas", "a", "[\"x\", \"y\", \"z\"]", 1), 1,
		     "exactly 2 elements");
	ck_malformed(EV(0, "invoke", "put", "a", "7", 1), 1, "must be null, a string");
	ck_malformed(EV(0, "invoke", "put", "a", S("x"), 1)
		     EV(0, "ok", "put", "a", S("y"), 2), 2, "repeat the invoke's (line 1)");
	ck_malformed(EV(0, "invoke", "cas", "a", "[null, \"y\"]", 1)
		     EV(0, "fail", "cas", "a", "[\"x\", \"y\"]", 2), 2, "repeat the invoke's");
	ck_malformed(EV(0, "invoke", "get", "a", NUL, 1)
		     EV(0, "ok", "get", "a", "[\"x\", \"y\"]", 2), 2, "the string read or null");
	ck_malformed(EV(0, "invoke", "get", "a", NUL, 1)
		     EV(0, "info", "get", "a", S("x"), 2), 2, "must be null");
}
END_TEST

static Suite *lincheck_suite(void)
{
	Suite *s = suite_create("lincheck");
	TCase *valid = tcase_create("valid");
	TCase *bad = tcase_create("violations");
	TCase *input = tcase_create("malformed");

	tcase_add_checked_fixture(valid, NULL, teardown);
	tcase_add_test(valid, get_concurrent_with_put_sees_before);
	tcase_add_test(valid, get_concurrent_with_put_sees_after);
	tcase_add_test(valid, concurrent_puts_in_either_order);
	tcase_add_test(valid, equal_times_are_concurrent);
	tcase_add_test(valid, info_that_took_effect);
	tcase_add_test(valid, info_that_never_did);
	tcase_add_test(valid, open_op_at_end_is_info);
	tcase_add_test(valid, cas_delete_and_failures);
	tcase_add_test(valid, escapes_decode_to_the_same_string);
	tcase_add_test(valid, keys_are_checked_apart);
	suite_add_tcase(s, valid);

	tcase_add_checked_fixture(bad, NULL, teardown);
	tcase_add_test(bad, stale_read);
	tcase_add_test(bad, lost_write);
	tcase_add_test(bad, double_applied_cas);
	tcase_add_test(bad, read_of_value_never_written);
	tcase_add_test(bad, read_of_failed_put);
	tcase_add_test(bad, cas_failed_though_it_must_match);
	tcase_add_test(bad, cas_absent_failed_on_absent_key);
	tcase_add_test(bad, violation_in_one_key_only);
	tcase_add_test(bad, search_limit_is_its_own_verdict);
	tcase_add_test(bad, shrink_keeps_the_writes_a_stale_read_needs);
	suite_add_tcase(s, bad);

	tcase_add_test(input, malformed_json);
	tcase_add_test(input, malformed_fields);
	tcase_add_test(input, malformed_process_protocol);
	tcase_add_test(input, malformed_values);
	suite_add_tcase(s, input);
	return s;
}

int main(void)
{
	return run_suite(lincheck_suite());
}
