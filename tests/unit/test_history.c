/* test_history.c - the --history JSON-line writer: the value of each f,
 * each type, escaping, and that a failed write is reported. */
#define _GNU_SOURCE /* open_memstream */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "history.h"
#include "../run_suite.h"

static char *text;
static size_t text_len;
static FILE *mem;
static Ec__KvOp op;

static void setup(void)
{
	mem = open_memstream(&text, &text_len);
	ck_assert_ptr_nonnull(mem);
	ec__kv_op__init(&op);
	op.key.data = (uint8_t *)"k1";
	op.key.len = 2;
}

static void teardown(void)
{
	fclose(mem);
	free(text);
}

static void set_bytes(ProtobufCBinaryData *b, const char *s)
{
	b->data = (uint8_t *)s;
	b->len = strlen(s);
}

/* Write one event of op and check the line is exactly `want`. */
static void ck_line(enum ec_history_type type,
		    const ProtobufCBinaryData *read, const char *want)
{
	ck_assert_int_eq(ec_history_write(mem, 42, 7, type, &op, read), 0);
	fflush(mem);
	ck_assert_str_eq(text, want);
	/* A fresh stream for the next line. */
	teardown();
	mem = open_memstream(&text, &text_len);
	ck_assert_ptr_nonnull(mem);
}

START_TEST(put_carries_its_value_on_invoke_and_ok)
{
	op.kind = EC__OP_KIND__OP_PUT;
	set_bytes(&op.value, "p7-1");
	ck_line(EC_HISTORY_INVOKE, NULL,
		"{\"process\":7,\"type\":\"invoke\",\"f\":\"put\",\"key\":\"k1\",\"value\":\"p7-1\",\"time\":42}\n");
	ck_line(EC_HISTORY_OK, NULL,
		"{\"process\":7,\"type\":\"ok\",\"f\":\"put\",\"key\":\"k1\",\"value\":\"p7-1\",\"time\":42}\n");
	ck_line(EC_HISTORY_INFO, NULL,
		"{\"process\":7,\"type\":\"info\",\"f\":\"put\",\"key\":\"k1\",\"value\":\"p7-1\",\"time\":42}\n");
}
END_TEST

START_TEST(get_is_null_until_ok_reads)
{
	ProtobufCBinaryData read;

	op.kind = EC__OP_KIND__OP_GET;
	set_bytes(&read, "p3-9");
	/* A read value passed with anything but ok is not shown. */
	ck_line(EC_HISTORY_INVOKE, &read,
		"{\"process\":7,\"type\":\"invoke\",\"f\":\"get\",\"key\":\"k1\",\"value\":null,\"time\":42}\n");
	ck_line(EC_HISTORY_OK, &read,
		"{\"process\":7,\"type\":\"ok\",\"f\":\"get\",\"key\":\"k1\",\"value\":\"p3-9\",\"time\":42}\n");
	ck_line(EC_HISTORY_OK, NULL,
		"{\"process\":7,\"type\":\"ok\",\"f\":\"get\",\"key\":\"k1\",\"value\":null,\"time\":42}\n");
	ck_line(EC_HISTORY_INFO, &read,
		"{\"process\":7,\"type\":\"info\",\"f\":\"get\",\"key\":\"k1\",\"value\":null,\"time\":42}\n");
}
END_TEST

START_TEST(delete_is_null)
{
	op.kind = EC__OP_KIND__OP_DELETE;
	ck_line(EC_HISTORY_INVOKE, NULL,
		"{\"process\":7,\"type\":\"invoke\",\"f\":\"delete\",\"key\":\"k1\",\"value\":null,\"time\":42}\n");
	ck_line(EC_HISTORY_OK, NULL,
		"{\"process\":7,\"type\":\"ok\",\"f\":\"delete\",\"key\":\"k1\",\"value\":null,\"time\":42}\n");
}
END_TEST

START_TEST(cas_is_expected_and_new)
{
	op.kind = EC__OP_KIND__OP_CAS;
	set_bytes(&op.expected, "p1-1");
	set_bytes(&op.value, "p7-2");
	ck_line(EC_HISTORY_INVOKE, NULL,
		"{\"process\":7,\"type\":\"invoke\",\"f\":\"cas\",\"key\":\"k1\",\"value\":[\"p1-1\",\"p7-2\"],\"time\":42}\n");
	ck_line(EC_HISTORY_FAIL, NULL,
		"{\"process\":7,\"type\":\"fail\",\"f\":\"cas\",\"key\":\"k1\",\"value\":[\"p1-1\",\"p7-2\"],\"time\":42}\n");
}
END_TEST

START_TEST(cas_absent_expects_null)
{
	op.kind = EC__OP_KIND__OP_CAS;
	op.expect_absent = true;
	set_bytes(&op.value, "p7-3");
	ck_line(EC_HISTORY_OK, NULL,
		"{\"process\":7,\"type\":\"ok\",\"f\":\"cas\",\"key\":\"k1\",\"value\":[null,\"p7-3\"],\"time\":42}\n");
}
END_TEST

START_TEST(strings_are_escaped)
{
	static const uint8_t key[] = { 'a', '"', 'b', '\\', '\n', 0x01, 0x7f,
				       0xff, ' ', '~' };

	op.kind = EC__OP_KIND__OP_PUT;
	op.key.data = (uint8_t *)key;
	op.key.len = sizeof(key);
	op.value.data = (uint8_t *)"";
	op.value.len = 0;
	ck_line(EC_HISTORY_INVOKE, NULL,
		"{\"process\":7,\"type\":\"invoke\",\"f\":\"put\",\"key\":\"a\\\"b\\\\\\u000a\\u0001\\u007f\\u00ff ~\",\"value\":\"\",\"time\":42}\n");
}
END_TEST

START_TEST(large_numbers_are_exact)
{
	op.kind = EC__OP_KIND__OP_DELETE;
	ck_assert_int_eq(ec_history_write(mem, UINT64_MAX, UINT64_MAX - 1,
					  EC_HISTORY_OK, &op, NULL), 0);
	fflush(mem);
	ck_assert_str_eq(text, "{\"process\":18446744073709551614,\"type\":\"ok\",\"f\":\"delete\",\"key\":\"k1\",\"value\":null,\"time\":18446744073709551615}\n");
}
END_TEST

START_TEST(record_stamps_non_decreasing_time)
{
	struct ec_history h;
	unsigned long long t1, t2;
	char path[64], line[256];
	FILE *f;

	/* Per process: other worktrees may run the same test at once. */
	snprintf(path, sizeof(path), "/tmp/ec-test-history-%d.jsonl", (int)getpid());
	op.kind = EC__OP_KIND__OP_DELETE;
	ck_assert_int_eq(ec_history_open(&h, path), 0);
	ec_history_record(&h, 1, EC_HISTORY_INVOKE, &op, NULL);
	ec_history_record(&h, 1, EC_HISTORY_OK, &op, NULL);
	ck_assert_int_eq(ec_history_close(&h), 0);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
	ck_assert_int_eq(sscanf(strstr(line, "\"time\":"), "\"time\":%llu", &t1), 1);
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
	ck_assert_int_eq(sscanf(strstr(line, "\"time\":"), "\"time\":%llu", &t2), 1);
	ck_assert_ptr_null(fgets(line, sizeof(line), f));
	fclose(f);
	unlink(path);
	ck_assert_uint_gt(t1, 0);
	ck_assert_uint_ge(t2, t1);
}
END_TEST

START_TEST(write_error_is_reported_at_close)
{
	struct ec_history h;

	op.kind = EC__OP_KIND__OP_DELETE;
	/* /dev/full takes the open and fails every write with ENOSPC. */
	ck_assert_int_eq(ec_history_open(&h, "/dev/full"), 0);
	ec_history_record(&h, 1, EC_HISTORY_INVOKE, &op, NULL);
	ck_assert_int_eq(ec_history_close(&h), -1);
}
END_TEST

START_TEST(open_error_is_reported)
{
	struct ec_history h;

	ck_assert_int_eq(ec_history_open(&h, "/nonexistent/dir/h.jsonl"), -1);
}
END_TEST

static Suite *history_suite(void)
{
	Suite *su = suite_create("history");
	TCase *tc = tcase_create("history");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, put_carries_its_value_on_invoke_and_ok);
	tcase_add_test(tc, get_is_null_until_ok_reads);
	tcase_add_test(tc, delete_is_null);
	tcase_add_test(tc, cas_is_expected_and_new);
	tcase_add_test(tc, cas_absent_expects_null);
	tcase_add_test(tc, strings_are_escaped);
	tcase_add_test(tc, large_numbers_are_exact);
	tcase_add_test(tc, record_stamps_non_decreasing_time);
	tcase_add_test(tc, write_error_is_reported_at_close);
	tcase_add_test(tc, open_error_is_reported);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	return run_suite(history_suite());
}
