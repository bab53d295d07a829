/* test_wire.c - datagram encoding, parsing, rejection reasons, counters. */
#include <check.h>
#include <stdbool.h>
#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "common/wire.h"
#include "../run_suite.h"

#define N_REPLICAS 5

/* Body descriptor of each message type (NULL: no body). */
static const ProtobufCMessageDescriptor *const body_desc[EC_MSG_TYPE_MAX] = {
	[EC_MSG_REQUEST] = &ec__request__descriptor,
	[EC_MSG_REPLY] = &ec__reply__descriptor,
	[EC_MSG_PREPARE] = &ec__batch__descriptor,
	[EC_MSG_START_VIEW_CHANGE] = &ec__start_view_change__descriptor,
	[EC_MSG_DO_VIEW_CHANGE] = &ec__do_view_change__descriptor,
	[EC_MSG_START_VIEW] = &ec__log_chunk__descriptor,
	[EC_MSG_GET_STATE] = &ec__get_state__descriptor,
	[EC_MSG_NEW_STATE] = &ec__log_chunk__descriptor,
	[EC_MSG_RECOVERY] = &ec__recovery__descriptor,
	[EC_MSG_RECOVERY_RESPONSE] = &ec__recovery__descriptor,
	[EC_MSG_GET_SNAPSHOT] = &ec__get_snapshot__descriptor,
	[EC_MSG_SNAPSHOT] = &ec__snapshot__descriptor,
};

static uint8_t buf[EC_MAX_MSG + 64];

/* A valid PREPARE_OK (no body) from replica 1 in buf; returns its length. */
static size_t good_header(void)
{
	struct ec_msg m = { .type = EC_MSG_PREPARE_OK, .sender = 1, .view = 7,
			    .op = 42, .commit = 40 };
	size_t len = ec_msg_encode(buf, sizeof(buf), &m, NULL);

	ck_assert_uint_eq(len, sizeof(struct ec_hdr));
	return len;
}

static struct ec_hdr *hdr(void)
{
	return (struct ec_hdr *)buf;
}

static enum ec_parse_result parse(size_t len)
{
	struct ec_msg m;

	return ec_msg_parse(buf, len, N_REPLICAS, &m, NULL);
}

START_TEST(round_trip_every_type)
{
	Ec__KvOp kop = EC__KV_OP__INIT;
	Ec__Request req = EC__REQUEST__INIT;
	Ec__Reply rep = EC__REPLY__INIT;
	Ec__LogEntry ent = EC__LOG_ENTRY__INIT, *ents[1] = { &ent };
	Ec__StartViewChange svc = EC__START_VIEW_CHANGE__INIT;
	Ec__DoViewChange dvc = EC__DO_VIEW_CHANGE__INIT;
	Ec__LogChunk chunk = EC__LOG_CHUNK__INIT;
	Ec__GetState gs = EC__GET_STATE__INIT;
	Ec__Recovery rec = EC__RECOVERY__INIT;
	Ec__Batch batch = EC__BATCH__INIT;
	Ec__GetSnapshot gsn = EC__GET_SNAPSHOT__INIT;
	Ec__Snapshot snap = EC__SNAPSHOT__INIT;
	ProtobufCBinaryData one;
	uint8_t req_bytes[128], batch_bytes[160];
	const ProtobufCMessage *bodies[EC_MSG_TYPE_MAX] = {
		[EC_MSG_REQUEST] = &req.base,
		[EC_MSG_REPLY] = &rep.base,
		[EC_MSG_PREPARE] = &batch.base,
		[EC_MSG_START_VIEW_CHANGE] = &svc.base,
		[EC_MSG_DO_VIEW_CHANGE] = &dvc.base,
		[EC_MSG_START_VIEW] = &chunk.base,
		[EC_MSG_GET_STATE] = &gs.base,
		[EC_MSG_NEW_STATE] = &chunk.base,
		[EC_MSG_RECOVERY] = &rec.base,
		[EC_MSG_RECOVERY_RESPONSE] = &rec.base,
		[EC_MSG_GET_SNAPSHOT] = &gsn.base,
		[EC_MSG_SNAPSHOT] = &snap.base,
	};

	kop.kind = EC__OP_KIND__OP_PUT;
	kop.key.data = (uint8_t *)"key";
	kop.key.len = 3;
	kop.value.data = (uint8_t *)"value";
	kop.value.len = 5;
	req.client_id = 99;
	req.request_id = 1234567890123ULL;
	req.op = &kop;
	rep.client_id = 99;
	rep.request_id = 5;
	rep.status = EC__STATUS__ST_CAS_FAILED;
	rep.found = 1;
	ent.op = 3;
	ent.view = 2;
	one.len = ec__request__pack(&req, req_bytes);
	one.data = req_bytes;
	batch.n_requests = 1;
	batch.requests = &one;
	ent.batch.len = ec__batch__pack(&batch, batch_bytes);
	ent.batch.data = batch_bytes;
	svc.commit = 17;
	dvc.last_normal_view = 4;
	dvc.n_entries = 1;
	dvc.entries = ents;
	chunk.n_entries = 1;
	chunk.entries = ents;
	chunk.committed_only = 1;
	gs.from_op = 11;
	rec.nonce = 0xdeadbeefcafeULL;
	gsn.op = 1000;
	gsn.offset = 32768;
	snap.op = 1000;
	snap.view = 3;
	snap.total = 70000;
	snap.digest = 0x0123456789abcdefULL;
	snap.offset = 32768;
	snap.data.data = req_bytes;
	snap.data.len = 16;

	for (unsigned t = 1; t < EC_MSG_TYPE_MAX; t++) {
		struct ec_msg in = {
			.type = (uint8_t)t,
			.flags = EC_F_QUORUM | EC_F_FAST_ACK,
			.sender = ec_msg_from_client(t) ? EC_SENDER_CLIENT : 4,
			.view = 0x89abcdefu,
			.op = 0xfedcba9876543210ULL + t,
			.commit = 0x0123456789abcdefULL,
		};
		struct ec_msg out;
		struct ec_parse_stats st = { { 0 } };
		size_t len, body_len;

		len = ec_msg_encode(buf, sizeof(buf), &in, bodies[t]);
		body_len = bodies[t] ?
			protobuf_c_message_get_packed_size(bodies[t]) : 0;
		ck_assert_uint_eq(len, sizeof(struct ec_hdr) + body_len);
		/* the header alone, for a body encoded elsewhere, is the same */
		{
			uint8_t hdr[sizeof(struct ec_hdr)];

			ec_hdr_encode(hdr, &in, body_len);
			ck_assert(memcmp(hdr, buf, sizeof(hdr)) == 0);
		}
		ck_assert_int_eq(ec_msg_parse(buf, len, N_REPLICAS, &out, &st),
				 EC_PARSE_OK);
		ck_assert_uint_eq(st.count[EC_PARSE_OK], 1);
		ck_assert_uint_eq(out.type, t);
		ck_assert_uint_eq(out.flags, in.flags);
		ck_assert_uint_eq(out.sender, in.sender);
		ck_assert_uint_eq(out.view, in.view);
		ck_assert_uint_eq(out.op, in.op);
		ck_assert_uint_eq(out.commit, in.commit);
		ck_assert_uint_eq(out.body_len, body_len);
		ck_assert_ptr_eq(out.body, buf + sizeof(struct ec_hdr));
		if (body_desc[t]) {
			ProtobufCMessage *pm = ec_msg_unpack(&out, body_desc[t],
							     &st);
			uint8_t again[256];

			ck_assert_ptr_nonnull(pm);
			/* re-encoding the decoded body gives the same bytes */
			ck_assert_uint_eq(protobuf_c_message_pack(pm, again),
					  body_len);
			ck_assert(memcmp(again, out.body, body_len) == 0);
			protobuf_c_message_free_unpacked(pm, NULL);
		}
		ck_assert_uint_eq(st.count[EC_PARSE_BAD_BODY], 0);
	}
}
END_TEST

START_TEST(wire_byte_order)
{
	good_header();
	ck_assert_uint_eq(buf[0], 'E');
	ck_assert_uint_eq(buf[1], 'C');
	ck_assert_uint_eq(buf[2], 'P');
	ck_assert_uint_eq(buf[3], 'X');
	ck_assert_uint_eq(buf[4], EC_VERSION);
	ck_assert_uint_eq(buf[5], EC_MSG_PREPARE_OK);
	ck_assert_uint_eq(buf[7], 1);
	ck_assert_uint_eq(buf[11], 7);  /* view, big endian */
	ck_assert_uint_eq(buf[23], 42); /* op */
	ck_assert_uint_eq(buf[31], 40); /* commit */
}
END_TEST

START_TEST(encode_limits)
{
	struct ec_msg m = { .type = EC_MSG_REPLY, .sender = 0 };
	Ec__Reply rep = EC__REPLY__INIT;
	static uint8_t big[EC_MAX_MSG];

	ck_assert_uint_eq(ec_msg_encode(buf, sizeof(struct ec_hdr) - 1, &m,
					NULL), 0);
	rep.value.data = big;
	rep.value.len = sizeof(big);
	ck_assert_uint_eq(ec_msg_encode(buf, sizeof(buf), &m, &rep.base), 0);
	rep.value.len = 10;
	ck_assert_uint_eq(ec_msg_encode(buf, sizeof(struct ec_hdr) + 5, &m,
					&rep.base), 0);
}
END_TEST

START_TEST(reject_truncated_header)
{
	size_t len = good_header();

	ck_assert_int_eq(parse(len - 1), EC_PARSE_TRUNCATED);
	ck_assert_int_eq(parse(0), EC_PARSE_TRUNCATED);
}
END_TEST

START_TEST(reject_body_longer_than_datagram)
{
	size_t len = good_header();

	hdr()->body_len = htobe32(10);
	ck_assert_int_eq(parse(len + 9), EC_PARSE_TRUNCATED);
	ck_assert_int_eq(parse(len + 10), EC_PARSE_OK);
	hdr()->body_len = htobe32(0xffffffffu);
	ck_assert_int_eq(parse(len), EC_PARSE_TRUNCATED);
}
END_TEST

START_TEST(reject_datagram_longer_than_body)
{
	size_t len = good_header();

	ck_assert_int_eq(parse(len + 1), EC_PARSE_OVERSIZED);
}
END_TEST

START_TEST(reject_over_max)
{
	size_t len = good_header();

	hdr()->body_len = htobe32(EC_MAX_MSG + 1 - len);
	ck_assert_int_eq(parse(EC_MAX_MSG + 1), EC_PARSE_OVERSIZED);
	hdr()->body_len = htobe32(EC_MAX_MSG - len);
	ck_assert_int_eq(parse(EC_MAX_MSG), EC_PARSE_OK);
}
END_TEST

START_TEST(reject_bad_magic)
{
	size_t len = good_header();

	buf[0] ^= 1;
	ck_assert_int_eq(parse(len), EC_PARSE_BAD_MAGIC);
}
END_TEST

START_TEST(reject_bad_version)
{
	size_t len = good_header();

	hdr()->version = EC_VERSION + 1;
	ck_assert_int_eq(parse(len), EC_PARSE_BAD_VERSION);
	hdr()->version = 0;
	ck_assert_int_eq(parse(len), EC_PARSE_BAD_VERSION);
}
END_TEST

START_TEST(reject_unknown_type)
{
	size_t len = good_header();

	hdr()->type = 0;
	ck_assert_int_eq(parse(len), EC_PARSE_UNKNOWN_TYPE);
	hdr()->type = EC_MSG_TYPE_MAX;
	ck_assert_int_eq(parse(len), EC_PARSE_UNKNOWN_TYPE);
	hdr()->type = 0xff;
	ck_assert_int_eq(parse(len), EC_PARSE_UNKNOWN_TYPE);
}
END_TEST

START_TEST(reject_replica_sender_out_of_range)
{
	size_t len = good_header();

	hdr()->sender = N_REPLICAS - 1;
	ck_assert_int_eq(parse(len), EC_PARSE_OK);
	hdr()->sender = N_REPLICAS;
	ck_assert_int_eq(parse(len), EC_PARSE_BAD_SENDER);
	hdr()->sender = EC_SENDER_CLIENT;
	ck_assert_int_eq(parse(len), EC_PARSE_BAD_SENDER);
}
END_TEST

START_TEST(reject_request_from_replica)
{
	size_t len = good_header();

	hdr()->type = EC_MSG_REQUEST;
	hdr()->sender = 0;
	ck_assert_int_eq(parse(len), EC_PARSE_BAD_SENDER);
	hdr()->sender = EC_SENDER_CLIENT;
	ck_assert_int_eq(parse(len), EC_PARSE_OK);
}
END_TEST

START_TEST(stats_counted)
{
	struct ec_parse_stats st = { { 0 } };
	struct ec_msg m;
	size_t len = good_header();

	ck_assert_int_eq(ec_msg_parse(buf, len, N_REPLICAS, &m, &st),
			 EC_PARSE_OK);
	ck_assert_int_eq(ec_msg_parse(buf, len, N_REPLICAS, &m, &st),
			 EC_PARSE_OK);
	ck_assert_int_eq(ec_msg_parse(buf, len - 1, N_REPLICAS, &m, &st),
			 EC_PARSE_TRUNCATED);
	ck_assert_int_eq(ec_msg_parse(buf, len + 1, N_REPLICAS, &m, &st),
			 EC_PARSE_OVERSIZED);
	hdr()->sender = 9;
	ck_assert_int_eq(ec_msg_parse(buf, len, N_REPLICAS, &m, &st),
			 EC_PARSE_BAD_SENDER);
	hdr()->type = 0;
	ck_assert_int_eq(ec_msg_parse(buf, len, N_REPLICAS, &m, &st),
			 EC_PARSE_UNKNOWN_TYPE);
	hdr()->version = 9;
	ck_assert_int_eq(ec_msg_parse(buf, len, N_REPLICAS, &m, &st),
			 EC_PARSE_BAD_VERSION);
	buf[0] = 0;
	ck_assert_int_eq(ec_msg_parse(buf, len, N_REPLICAS, &m, &st),
			 EC_PARSE_BAD_MAGIC);
	ck_assert_uint_eq(st.count[EC_PARSE_OK], 2);
	for (int r = EC_PARSE_TRUNCATED; r < EC_PARSE_BAD_BODY; r++)
		ck_assert_msg(st.count[r] == 1, "%s counted %lu times",
			      ec_parse_result_name(r),
			      (unsigned long)st.count[r]);
	ck_assert_uint_eq(st.count[EC_PARSE_BAD_BODY], 0);
}
END_TEST

START_TEST(names)
{
	ck_assert_str_eq(ec_msg_type_name(EC_MSG_PREPARE), "PREPARE");
	ck_assert_str_eq(ec_msg_type_name(0), "?");
	ck_assert_str_eq(ec_msg_type_name(EC_MSG_TYPE_MAX), "?");
	ck_assert_str_eq(ec_parse_result_name(EC_PARSE_BAD_BODY), "bad_body");
	ck_assert_str_eq(ec_parse_result_name(EC_PARSE_MAX), "?");
	for (unsigned t = 1; t < EC_MSG_TYPE_MAX; t++)
		ck_assert_str_ne(ec_msg_type_name(t), "?");
}
END_TEST

START_TEST(unpack_garbage_body)
{
	struct ec_parse_stats st = { { 0 } };
	/* field 1, wire type 2 (length-delimited) claiming 100 bytes */
	static const uint8_t garbage[] = { 0x0a, 0x64, 0x01, 0x02 };
	struct ec_msg m = { .type = EC_MSG_REQUEST, .body = garbage,
			    .body_len = sizeof(garbage) };

	ck_assert_ptr_null(ec_msg_unpack(&m, &ec__request__descriptor, &st));
	ck_assert_uint_eq(st.count[EC_PARSE_BAD_BODY], 1);
	ck_assert_ptr_null(ec_msg_unpack(&m, &ec__request__descriptor, NULL));
}
END_TEST

/* Random datagrams, and valid headers with random bodies: parse and unpack
 * must never crash and must agree with the header's own checks. */
START_TEST(random_bytes_never_crash)
{
	struct ec_parse_stats st = { { 0 } };
	uint64_t total = 0;

	srandom(12345);
	for (int i = 0; i < 4000; i++) {
		size_t len = (size_t)random() % 200;
		struct ec_msg m;

		for (size_t j = 0; j < len; j++)
			buf[j] = (uint8_t)random();
		if (i % 2 && len >= sizeof(struct ec_hdr)) {
			/* make the header valid so the body reaches unpack */
			hdr()->magic = htobe32(EC_MAGIC);
			hdr()->version = EC_VERSION;
			hdr()->type = (uint8_t)(1 + random() %
						(EC_MSG_TYPE_MAX - 1));
			hdr()->sender = hdr()->type == EC_MSG_REQUEST ?
				EC_SENDER_CLIENT : (uint8_t)(random() %
							     N_REPLICAS);
			hdr()->body_len = htobe32((uint32_t)(len -
						  sizeof(struct ec_hdr)));
		}
		if (ec_msg_parse(buf, len, N_REPLICAS, &m, &st) == EC_PARSE_OK) {
			ck_assert_uint_eq(m.body_len + sizeof(struct ec_hdr),
					  len);
			for (unsigned t = 1; t < EC_MSG_TYPE_MAX; t++) {
				ProtobufCMessage *pm;

				if (!body_desc[t])
					continue;
				pm = ec_msg_unpack(&m, body_desc[t], &st);
				if (pm)
					protobuf_c_message_free_unpacked(pm,
									 NULL);
			}
		}
	}
	/* every datagram counted once by the parser (bodies apart) */
	for (int r = 0; r < EC_PARSE_MAX; r++)
		if (r != EC_PARSE_BAD_BODY)
			total += st.count[r];
	ck_assert_uint_eq(total, 4000);
	ck_assert_uint_gt(st.count[EC_PARSE_OK], 1000);
	ck_assert_uint_gt(st.count[EC_PARSE_BAD_BODY], 0);
}
END_TEST

/* A commit number past the sender's last op cannot be true: rejected for
 * every replica message whose op is the sender's last op (or above its
 * commit), accepted where op means nothing (REQUEST, REPLY, RECOVERY). */
START_TEST(commit_past_op_is_a_bad_range)
{
	for (unsigned t = 1; t < EC_MSG_TYPE_MAX; t++) {
		struct ec_msg in = {
			.type = (uint8_t)t,
			.sender = ec_msg_from_client(t) ? EC_SENDER_CLIENT : 1,
			.op = 10,
		};
		bool loose = t == EC_MSG_REQUEST || t == EC_MSG_REPLY ||
			     t == EC_MSG_RECOVERY || t == EC_MSG_HEARTBEAT_OK ||
			     t == EC_MSG_READ || t == EC_MSG_READ_REPLY;
		struct ec_parse_stats st = { { 0 } };
		uint8_t buf[64];
		struct ec_msg out;
		size_t len;

		in.commit = 10;
		len = ec_msg_encode(buf, sizeof(buf), &in, NULL);
		ck_assert_int_eq(ec_msg_parse(buf, len, N_REPLICAS, &out, &st),
				 EC_PARSE_OK);
		in.commit = 11;
		len = ec_msg_encode(buf, sizeof(buf), &in, NULL);
		ck_assert_int_eq(ec_msg_parse(buf, len, N_REPLICAS, &out, &st),
				 loose ? EC_PARSE_OK : EC_PARSE_BAD_RANGE);
		ck_assert_uint_eq(st.count[EC_PARSE_BAD_RANGE], loose ? 0 : 1);
	}
	ck_assert_str_eq(ec_parse_result_name(EC_PARSE_BAD_RANGE), "bad_range");
}
END_TEST

static Suite *wire_suite(void)
{
	Suite *s = suite_create("wire");
	TCase *tc = tcase_create("wire");

	tcase_add_test(tc, round_trip_every_type);
	tcase_add_test(tc, wire_byte_order);
	tcase_add_test(tc, encode_limits);
	tcase_add_test(tc, reject_truncated_header);
	tcase_add_test(tc, reject_body_longer_than_datagram);
	tcase_add_test(tc, reject_datagram_longer_than_body);
	tcase_add_test(tc, reject_over_max);
	tcase_add_test(tc, reject_bad_magic);
	tcase_add_test(tc, reject_bad_version);
	tcase_add_test(tc, reject_unknown_type);
	tcase_add_test(tc, reject_replica_sender_out_of_range);
	tcase_add_test(tc, reject_request_from_replica);
	tcase_add_test(tc, stats_counted);
	tcase_add_test(tc, names);
	tcase_add_test(tc, unpack_garbage_body);
	tcase_add_test(tc, random_bytes_never_crash);
	tcase_add_test(tc, commit_past_op_is_a_bad_range);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return run_suite(wire_suite());
}
