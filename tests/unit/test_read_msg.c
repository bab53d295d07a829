/* test_read_msg.c - the fixed-layout READ and READ_REPLY codec
 * (common/read_msg.c): what it builds, what it takes apart, and what it
 * refuses. */
#include <check.h>
#include <endian.h>
#include <string.h>

#include "common/read_msg.h"
#include "common/wire.h"
#include "../run_suite.h"

#define N 5

static uint8_t key[EC_MAX_KEY + 1];
static uint8_t buf[1024];

/* A READ with every field distinct, of key_len bytes of key. */
static struct ec_read_msg sample(size_t key_len)
{
	for (unsigned i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)('a' + i % 26);
	return (struct ec_read_msg){
		.client_id = 0x0102030405060708ull,
		.request_id = 9,
		.session_op = 1000,
		.min_op = 0xfedcba9876543210ull,
		.key = key,
		.key_len = key_len,
	};
}

/* Parse the datagram buf[0..len) into *m; it must parse. */
static void parse(size_t len, struct ec_msg *m)
{
	ck_assert_int_eq(ec_msg_parse(buf, len, N, m, NULL), EC_PARSE_OK);
}

START_TEST(read_round_trip)
{
	size_t lens[] = { 1, 2, EC_MAX_KEY };

	for (unsigned i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		struct ec_read_msg r = sample(lens[i]), got;
		struct ec_msg m;
		size_t len = ec_read_encode(buf, 42, &r);

		ck_assert_uint_eq(len, sizeof(struct ec_hdr) +
				       sizeof(struct ec_read) + lens[i]);
		ck_assert_uint_le(len, EC_READ_MAX_DGRAM);
		parse(len, &m);
		ck_assert_uint_eq(m.type, EC_MSG_READ);
		ck_assert_uint_eq(m.sender, EC_SENDER_CLIENT);
		ck_assert_uint_eq(m.view, 42);
		ck_assert_uint_eq(m.op, 0);
		ck_assert_uint_eq(m.commit, 0);
		ck_assert_int_eq(ec_read_decode(&m, &got), 0);
		ck_assert_uint_eq(got.client_id, r.client_id);
		ck_assert_uint_eq(got.request_id, r.request_id);
		ck_assert_uint_eq(got.session_op, r.session_op);
		ck_assert_uint_eq(got.min_op, r.min_op);
		ck_assert_uint_eq(got.key_len, lens[i]);
		ck_assert_mem_eq(got.key, key, lens[i]);
	}
}
END_TEST

/* The fields are in network byte order where ec_wire.h puts them. */
START_TEST(read_layout)
{
	struct ec_read_msg r = sample(3);
	const uint8_t *body = buf + sizeof(struct ec_hdr);
	uint64_t v;

	ck_assert_uint_gt(ec_read_encode(buf, 0, &r), 0);
	memcpy(&v, body + offsetof(struct ec_read, min_op), sizeof(v));
	ck_assert_uint_eq(be64toh(v), r.min_op);
	memcpy(&v, body + offsetof(struct ec_read, client_id), sizeof(v));
	ck_assert_uint_eq(be64toh(v), r.client_id);
	ck_assert_uint_eq(body[offsetof(struct ec_read, key_len)], 3);
	ck_assert_mem_eq(body + sizeof(struct ec_read), "abc", 3);
}
END_TEST

START_TEST(encode_rejects_bad_key_lengths)
{
	struct ec_read_msg r = sample(0);

	ck_assert_uint_eq(ec_read_encode(buf, 0, &r), 0);
	r.key_len = EC_MAX_KEY + 1;
	ck_assert_uint_eq(ec_read_encode(buf, 0, &r), 0);
}
END_TEST

/* Encode a good READ with a key of 4 bytes, then let the test change its
 * body at offset off to byte v and the header's body_len to body_len;
 * returns whether it decodes. */
static int decodes_with(size_t off, uint8_t v, size_t body_len)
{
	struct ec_read_msg r = sample(4), got;
	struct ec_msg m = { .type = EC_MSG_READ, .sender = EC_SENDER_CLIENT };

	ck_assert_uint_gt(ec_read_encode(buf, 0, &r), 0);
	buf[sizeof(struct ec_hdr) + off] = v;
	ec_hdr_encode(buf, &m, body_len);
	parse(sizeof(struct ec_hdr) + body_len, &m);
	return ec_read_decode(&m, &got);
}

START_TEST(decode_rejects_malformed_reads)
{
	const size_t kl = offsetof(struct ec_read, key_len);
	const size_t pad = offsetof(struct ec_read, pad);
	const size_t good = sizeof(struct ec_read) + 4;

	ck_assert_int_eq(decodes_with(kl, 4, good), 0);
	/* key_len 0, or longer than any key */
	ck_assert_int_eq(decodes_with(kl, 0, sizeof(struct ec_read)), -1);
	ck_assert_int_eq(decodes_with(kl, EC_MAX_KEY + 1,
				      sizeof(struct ec_read) + EC_MAX_KEY + 1),
			 -1);
	/* padding not zero, at either end */
	ck_assert_int_eq(decodes_with(pad, 1, good), -1);
	ck_assert_int_eq(decodes_with(pad + 6, 0x80, good), -1);
	/* body_len not the fixed part plus key_len, either way */
	ck_assert_int_eq(decodes_with(kl, 4, good + 1), -1);
	ck_assert_int_eq(decodes_with(kl, 4, good - 1), -1);
	ck_assert_int_eq(decodes_with(kl, 5, good), -1);
	/* shorter than the fixed part */
	ck_assert_int_eq(decodes_with(kl, 4, sizeof(struct ec_read) - 1), -1);
}
END_TEST

START_TEST(decode_rejects_other_types)
{
	struct ec_read_msg r = sample(4), got;
	struct ec_msg m;
	size_t len = ec_read_encode(buf, 0, &r);

	parse(len, &m);
	m.type = EC_MSG_REQUEST;
	ck_assert_int_eq(ec_read_decode(&m, &got), -1);
}
END_TEST

/* A READ stands for the GET Request with the same fields. */
START_TEST(read_as_request)
{
	struct ec_read_msg r = sample(5);
	Ec__Request req;
	Ec__KvOp op;

	ec_read_as_request(&r, &req, &op);
	ck_assert_uint_eq(req.client_id, r.client_id);
	ck_assert_uint_eq(req.request_id, r.request_id);
	ck_assert_uint_eq(req.session_op, r.session_op);
	ck_assert_uint_eq(req.min_op, r.min_op);
	ck_assert_ptr_eq(req.op, &op);
	ck_assert_int_eq(op.kind, EC__OP_KIND__OP_GET);
	ck_assert_uint_eq(op.key.len, 5);
	ck_assert_mem_eq(op.key.data, "abcde", 5);
}
END_TEST

/* A READ_REPLY from replica 2 answering with value_len bytes of key;
 * returns the datagram's length. */
static size_t read_reply(size_t value_len, uint8_t status, uint8_t found)
{
	struct ec_msg m = { .type = EC_MSG_READ_REPLY, .sender = 2,
			    .view = 7, .op = 30, .commit = 31 };
	struct ec_read_reply b;

	memset(&b, 0, sizeof(b));
	b.client_id = htobe64(11);
	b.request_id = htobe64(12);
	b.op = htobe64(30);
	b.status = status;
	b.found = found;
	b.value_len = htobe16((uint16_t)value_len);
	ec_hdr_encode(buf, &m, sizeof(b) + value_len);
	memcpy(buf + sizeof(struct ec_hdr), &b, sizeof(b));
	memcpy(buf + sizeof(struct ec_hdr) + sizeof(b), key, value_len);
	return sizeof(struct ec_hdr) + sizeof(b) + value_len;
}

/* Unpacked as the Reply it stands for, freeable as protobuf-c's own;
 * an empty value too. */
START_TEST(read_reply_unpacks)
{
	size_t lens[] = { 0, 3 };

	sample(0);
	for (unsigned i = 0; i < 2; i++) {
		struct ec_msg m;
		Ec__Reply *rep;

		parse(read_reply(lens[i], EC__STATUS__ST_OK, 1), &m);
		rep = ec_read_reply_unpack(&m);
		ck_assert_ptr_nonnull(rep);
		ck_assert_uint_eq(rep->client_id, 11);
		ck_assert_uint_eq(rep->request_id, 12);
		ck_assert_int_eq(rep->status, EC__STATUS__ST_OK);
		ck_assert(rep->found);
		ck_assert(rep->lease);
		ck_assert_uint_eq(rep->op, 30);
		ck_assert_uint_eq(rep->value.len, lens[i]);
		if (lens[i])
			ck_assert_mem_eq(rep->value.data, "abc", 3);
		ec__reply__free_unpacked(rep, NULL);
	}
}
END_TEST

START_TEST(read_reply_rejects_malformed)
{
	struct ec_msg m;

	sample(0);
	parse(read_reply(3, EC__STATUS__ST_NOT_FOUND, 1), &m);
	ck_assert_ptr_null(ec_read_reply_unpack(&m));
	parse(read_reply(3, EC__STATUS__ST_OK, 0), &m);
	ck_assert_ptr_null(ec_read_reply_unpack(&m));
	/* body_len one more, then one less, than value_len says */
	parse(read_reply(3, EC__STATUS__ST_OK, 1), &m);
	m.body_len++;
	ck_assert_ptr_null(ec_read_reply_unpack(&m));
	m.body_len -= 2;
	ck_assert_ptr_null(ec_read_reply_unpack(&m));
	m.body_len = sizeof(struct ec_read_reply) - 1;
	ck_assert_ptr_null(ec_read_reply_unpack(&m));
	parse(read_reply(3, EC__STATUS__ST_OK, 1), &m);
	m.type = EC_MSG_REPLY;
	ck_assert_ptr_null(ec_read_reply_unpack(&m));
}
END_TEST

static Suite *read_msg_suite(void)
{
	Suite *su = suite_create("read_msg");
	TCase *tc = tcase_create("read_msg");

	tcase_add_test(tc, read_round_trip);
	tcase_add_test(tc, read_layout);
	tcase_add_test(tc, encode_rejects_bad_key_lengths);
	tcase_add_test(tc, decode_rejects_malformed_reads);
	tcase_add_test(tc, decode_rejects_other_types);
	tcase_add_test(tc, read_as_request);
	tcase_add_test(tc, read_reply_unpacks);
	tcase_add_test(tc, read_reply_rejects_malformed);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	return run_suite(read_msg_suite());
}
