/* test_history_slot.c - a --history client slot: unique values, cas from
 * what it saw, what each answer means, and a new process (and client id)
 * after an unknown outcome. */
#define _GNU_SOURCE /* open_memstream */
#include <check.h>
#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/wire.h"
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

/* The datagram answering request 1 of the session's client with value
 * "p5-4" from op 9, into buf: a READ_REPLY (kernel) or a REPLY. */
static size_t answer_dgram(uint8_t *buf, size_t cap, bool kernel)
{
	static const char v[] = "p5-4";
	struct ec_msg m = { .type = kernel ? EC_MSG_READ_REPLY : EC_MSG_REPLY,
			    .op = 9, .commit = 9 };
	struct ec_read_reply b = {
		.client_id = htobe64(ID_BASE + SLOT),
		.request_id = htobe64(1),
		.op = htobe64(9),
		.status = EC__STATUS__ST_OK,
		.found = 1,
		.value_len = htobe16(sizeof(v) - 1),
	};
	Ec__Reply r = EC__REPLY__INIT;

	if (!kernel) {
		r.client_id = ID_BASE + SLOT;
		r.request_id = 1;
		r.value.data = (uint8_t *)v;
		r.value.len = sizeof(v) - 1;
		r.found = true;
		r.op = 9;
		r.lease = true;
		return ec_msg_encode(buf, cap, &m, &r.base);
	}
	ec_hdr_encode(buf, &m, sizeof(b) + sizeof(v) - 1);
	memcpy(buf + sizeof(struct ec_hdr), &b, sizeof(b));
	memcpy(buf + sizeof(struct ec_hdr) + sizeof(b), v, sizeof(v) - 1);
	return sizeof(struct ec_hdr) + sizeof(b) + sizeof(v) - 1;
}

/* A get through the session (a READ), answered in the kernel or by user
 * space; returns the history's ok line for it as ec-bench writes it
 * (free it). */
static char *get_answered(bool kernel)
{
	uint8_t buf[256];
	struct ec_session_send out;
	struct ec_session_result res;
	struct ec_session_reply_hdr hdr;
	ProtobufCBinaryData read;
	const Ec__KvOp *op;
	Ec__Reply *rep;
	size_t len, text_len;
	char *text;
	FILE *mem;

	setup();
	ec_session_begin_at(&s, 0);
	op = ec_hslot_next(&h, EC__OP_KIND__OP_GET, 2);
	ck_assert_int_eq(ec_session_start(&s, op, 0, &out), 0);
	ck_assert_uint_eq(out.buf[offsetof(struct ec_hdr, type)], EC_MSG_READ);
	len = answer_dgram(buf, sizeof(buf), kernel);
	rep = ec_session_reply_decode(buf, len, 5, &hdr);
	ck_assert_ptr_nonnull(rep);
	ck_assert_int_eq(ec_session_on_reply(&s, rep, &hdr, 1, &out, &res),
			 EC_SESSION_DONE);
	ck_assert(res.read_reply == kernel);
	ck_assert_int_eq(ec_hslot_done(&h, &res), EC_HISTORY_OK);
	read.data = (uint8_t *)res.value;
	read.len = res.value_len;
	mem = open_memstream(&text, &text_len);
	ck_assert_ptr_nonnull(mem);
	ck_assert_int_eq(ec_history_write(mem, 0, h.process, EC_HISTORY_OK,
					  &h.op, &read), 0);
	fclose(mem);
	ec__reply__free_unpacked(rep, NULL);
	/* what the slot saw is what the answer said */
	op = ec_hslot_next(&h, EC__OP_KIND__OP_CAS, 3);
	ck_bytes(op->expected, "p5-4");
	return text;
}

/* A get the leader's XDP program answered (READ_REPLY) is recorded
 * exactly as one user space answered (REPLY): ok, the value read. */
START_TEST(get_answered_in_the_kernel_is_recorded_alike)
{
	char *kernel = get_answered(true), *user = get_answered(false);

	ck_assert_str_eq(kernel, user);
	ck_assert_ptr_nonnull(strstr(kernel, "\"type\":\"ok\",\"f\":\"get\""));
	ck_assert_ptr_nonnull(strstr(kernel, "\"value\":\"p5-4\""));
	free(kernel);
	free(user);
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
	tcase_add_test(tc, get_answered_in_the_kernel_is_recorded_alike);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	return run_suite(history_slot_suite());
}
