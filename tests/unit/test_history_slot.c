/* test_history_slot.c - a --history client slot: unique values, cas from
 * what it saw, what each answer means, and a new process (and client id)
 * after an unknown outcome. */
#include <check.h>
#include <string.h>

#include "history_slot.h"
#include "../run_suite.h"

#define SLOT 3
#define SLOTS 8
#define RUN 0xabcdef01u
#define KEYS 4
#define ID_BASE 0x1000ull
#define TIMEOUT 100000
#define GIVE_UP 1000000

static struct ec_hslot h;
static struct ec_session s;

static void setup(void)
{
	ec_hslot_init(&h, SLOT, SLOTS, RUN, KEYS);
	ck_assert_int_eq(ec_session_init(&s, ID_BASE + SLOT, 5, TIMEOUT,
					 GIVE_UP), 0);
}

/* Compare b with the C string want. */
static void ck_bytes(ProtobufCBinaryData b, const char *want)
{
	ck_assert_uint_eq(b.len, strlen(want));
	ck_assert_mem_eq(b.data, want, b.len);
}

/* h's answer: status, with value (NULL: none, found false). */
static enum ec_history_type answer(Ec__Status st, const char *value)
{
	struct ec_session_result res = {
		.status = st,
		.found = value != NULL,
		.value = (const uint8_t *)value,
		.value_len = value ? strlen(value) : 0,
	};

	return ec_hslot_done(&h, &res);
}

START_TEST(keys_carry_the_run_and_values_are_unique)
{
	const Ec__KvOp *op = ec_hslot_next(&h, EC__OP_KIND__OP_PUT, 6);

	ck_assert_int_eq(op->kind, EC__OP_KIND__OP_PUT);
	ck_bytes(op->key, "habcdef01-2");
	ck_bytes(op->value, "p3-1");
	op = ec_hslot_next(&h, EC__OP_KIND__OP_PUT, 1);
	ck_bytes(op->key, "habcdef01-1");
	ck_bytes(op->value, "p3-2");
	op = ec_hslot_next(&h, EC__OP_KIND__OP_GET, 0);
	ck_assert_uint_eq(op->value.len, 0);
	op = ec_hslot_next(&h, EC__OP_KIND__OP_CAS, 0);
	ck_bytes(op->value, "p3-3");
}
END_TEST

START_TEST(first_cas_expects_absent)
{
	const Ec__KvOp *op = ec_hslot_next(&h, EC__OP_KIND__OP_CAS, 1);

	ck_bytes(op->key, "habcdef01-1");
	ck_assert(op->expect_absent);
	ck_assert_uint_eq(op->expected.len, 0);
}
END_TEST

START_TEST(cas_expects_what_a_get_read)
{
	const Ec__KvOp *op;

	ec_hslot_next(&h, EC__OP_KIND__OP_GET, 2);
	ck_assert_int_eq(answer(EC__STATUS__ST_OK, "p5-4"), EC_HISTORY_OK);
	/* The key drawn (3) gives way to the key read. */
	op = ec_hslot_next(&h, EC__OP_KIND__OP_CAS, 3);
	ck_bytes(op->key, "habcdef01-2");
	ck_assert(!op->expect_absent);
	ck_bytes(op->expected, "p5-4");
	ck_bytes(op->value, "p3-1");
}
END_TEST

START_TEST(cas_after_a_delete_expects_absent)
{
	const Ec__KvOp *op;

	ec_hslot_next(&h, EC__OP_KIND__OP_DELETE, 1);
	ck_assert_int_eq(answer(EC__STATUS__ST_OK, NULL), EC_HISTORY_OK);
	op = ec_hslot_next(&h, EC__OP_KIND__OP_CAS, 0);
	ck_bytes(op->key, "habcdef01-1");
	ck_assert(op->expect_absent);
}
END_TEST

START_TEST(cas_after_a_write_expects_it)
{
	const Ec__KvOp *op;

	ec_hslot_next(&h, EC__OP_KIND__OP_PUT, 0);
	ck_assert_int_eq(answer(EC__STATUS__ST_OK, NULL), EC_HISTORY_OK);
	op = ec_hslot_next(&h, EC__OP_KIND__OP_CAS, 3);
	ck_bytes(op->key, "habcdef01-0");
	ck_bytes(op->expected, "p3-1");
	ck_bytes(op->value, "p3-2");
	ck_assert_int_eq(answer(EC__STATUS__ST_OK, NULL), EC_HISTORY_OK);
	op = ec_hslot_next(&h, EC__OP_KIND__OP_CAS, 3);
	ck_bytes(op->expected, "p3-2");
}
END_TEST

START_TEST(failed_cas_learns_the_current_value)
{
	const Ec__KvOp *op;

	ec_hslot_next(&h, EC__OP_KIND__OP_CAS, 1);
	ck_assert_int_eq(answer(EC__STATUS__ST_CAS_FAILED, "p0-7"),
			 EC_HISTORY_FAIL);
	op = ec_hslot_next(&h, EC__OP_KIND__OP_CAS, 0);
	ck_bytes(op->key, "habcdef01-1");
	ck_bytes(op->expected, "p0-7");
	/* Failed against an absent key: expect it absent next. */
	ck_assert_int_eq(answer(EC__STATUS__ST_CAS_FAILED, NULL),
			 EC_HISTORY_FAIL);
	op = ec_hslot_next(&h, EC__OP_KIND__OP_CAS, 0);
	ck_assert(op->expect_absent);
}
END_TEST

START_TEST(not_found_is_ok_for_get_and_delete)
{
	ec_hslot_next(&h, EC__OP_KIND__OP_GET, 0);
	ck_assert_int_eq(answer(EC__STATUS__ST_NOT_FOUND, NULL), EC_HISTORY_OK);
	ec_hslot_next(&h, EC__OP_KIND__OP_DELETE, 0);
	ck_assert_int_eq(answer(EC__STATUS__ST_NOT_FOUND, NULL), EC_HISTORY_OK);
}
END_TEST

START_TEST(fail_only_when_certainly_not_executed)
{
	ec_hslot_next(&h, EC__OP_KIND__OP_PUT, 0);
	ck_assert_int_eq(answer(EC__STATUS__ST_BAD_REQUEST, NULL),
			 EC_HISTORY_FAIL);
	/* Answers no replica gives to these ops: the client cannot tell. */
	ck_assert_int_eq(answer(EC__STATUS__ST_CAS_FAILED, NULL),
			 EC_HISTORY_INFO);
	ck_assert_int_eq(answer(EC__STATUS__ST_NOT_FOUND, NULL),
			 EC_HISTORY_INFO);
	ck_assert_int_eq(answer(EC__STATUS__ST_NOT_LEADER, NULL),
			 EC_HISTORY_INFO);
	ck_assert_int_eq(answer((Ec__Status)99, NULL), EC_HISTORY_INFO);
}
END_TEST

START_TEST(info_starts_a_new_process_and_client_id)
{
	struct ec_session_send out;
	const Ec__KvOp *op;

	op = ec_hslot_next(&h, EC__OP_KIND__OP_PUT, 0);
	ck_assert_int_eq(ec_session_start(&s, op, 0, &out), 0);
	ck_assert_int_eq(ec_session_start(&s, op, 0, &out), -1);
	/* Retiring needs the session idle. */
	ck_assert_int_eq(ec_hslot_retire(&h, &s, ID_BASE), -1);
	ck_assert_uint_eq(h.process, SLOT);
	ck_assert_int_eq(ec_session_tick(&s, GIVE_UP, &out),
			 EC_SESSION_GAVE_UP);
	ck_assert_int_eq(ec_hslot_retire(&h, &s, ID_BASE), 0);
	ck_assert_uint_eq(h.process, SLOT + SLOTS);
	ck_assert_uint_eq(s.client_id, ID_BASE + SLOT + SLOTS);
	ck_assert_uint_eq(s.next_request_id, 1);
	op = ec_hslot_next(&h, EC__OP_KIND__OP_PUT, 0);
	ck_bytes(op->value, "p11-1");
	ck_assert_int_eq(ec_session_start(&s, op, GIVE_UP, &out), 0);
	ck_assert_uint_eq(s.request_id, 1);
	/* And again: processes of one slot never repeat. */
	ec_session_abandon(&s);
	ck_assert_int_eq(ec_hslot_retire(&h, &s, ID_BASE), 0);
	ck_assert_uint_eq(h.process, SLOT + 2 * SLOTS);
	ck_assert_uint_eq(s.client_id, ID_BASE + SLOT + 2 * SLOTS);
}
END_TEST

static Suite *history_slot_suite(void)
{
	Suite *su = suite_create("history_slot");
	TCase *tc = tcase_create("history_slot");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, keys_carry_the_run_and_values_are_unique);
	tcase_add_test(tc, first_cas_expects_absent);
	tcase_add_test(tc, cas_expects_what_a_get_read);
	tcase_add_test(tc, cas_after_a_delete_expects_absent);
	tcase_add_test(tc, cas_after_a_write_expects_it);
	tcase_add_test(tc, failed_cas_learns_the_current_value);
	tcase_add_test(tc, not_found_is_ok_for_get_and_delete);
	tcase_add_test(tc, fail_only_when_certainly_not_executed);
	tcase_add_test(tc, info_starts_a_new_process_and_client_id);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	return run_suite(history_slot_suite());
}
