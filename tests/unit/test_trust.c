/*
 * test_trust.c - never trust the network: the membership rule
 * (replica/core/membership.c) on its own and in the core, and messages from members
 * whose numbers cannot be true, rejected whole and counted.  Driven
 * through the simulated network (sim.c).
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "sim.h"
#include "../run_suite.h"

#define MS 1000ULL

static struct ec_members three(void)
{
	struct ec_members mb = { .n = 3 };

	for (unsigned i = 0; i < 3; i++)
		mb.addr[i] = sim_addr(i);
	return mb;
}

START_TEST(rule_takes_requests_from_anyone)
{
	struct ec_members mb = three();
	struct ec_msg m = { .type = _i ? EC_MSG_READ : EC_MSG_REQUEST,
			    .sender = EC_SENDER_CLIENT };
	struct ec_addr client = sim_client_addr(3), r1 = sim_addr(1);
	struct ec_member_stats st = { { 0 } };

	ck_assert_int_eq(ec_member_check(&mb, &m, &client, &st), EC_MEMBER_OK);
	ck_assert_int_eq(ec_member_check(&mb, &m, &r1, &st), EC_MEMBER_OK);
	ck_assert_int_eq(ec_member_check(&mb, &m, NULL, &st), EC_MEMBER_OK);
	for (unsigned v = 0; v < EC_MEMBER_MAX; v++)
		ck_assert_uint_eq(st.count[v], 0);
}
END_TEST

START_TEST(rule_takes_replica_messages_only_from_the_named_replica)
{
	struct ec_members mb = three();
	struct ec_member_stats st = { { 0 } };
	uint64_t types = 0;

	for (unsigned t = EC_MSG_REPLY; t < EC_MSG_TYPE_MAX; t++) {
		struct ec_msg m = { .type = (uint8_t)t, .sender = 1 };
		struct ec_addr own = sim_addr(1), other = sim_addr(2);
		struct ec_addr client = sim_client_addr(1);
		struct ec_addr port = own;

		port.port = htons(7100); /* right host, wrong port */
		if (ec_msg_from_client(t))
			continue;
		types++;
		ck_assert_int_eq(ec_member_check(&mb, &m, &own, &st),
				 EC_MEMBER_OK);
		ck_assert_int_eq(ec_member_check(&mb, &m, &other, &st),
				 EC_MEMBER_WRONG_SENDER);
		ck_assert_int_eq(ec_member_check(&mb, &m, &client, &st),
				 EC_MEMBER_NOT_MEMBER);
		ck_assert_int_eq(ec_member_check(&mb, &m, &port, &st),
				 EC_MEMBER_NOT_MEMBER);
		ck_assert_int_eq(ec_member_check(&mb, &m, NULL, &st),
				 EC_MEMBER_NOT_MEMBER);
	}
	ck_assert_uint_eq(st.count[EC_MEMBER_OK], 0);
	ck_assert_uint_eq(types, EC_MSG_TYPE_MAX - EC_MSG_REPLY - 1);
	ck_assert_uint_eq(st.count[EC_MEMBER_WRONG_SENDER], types);
	ck_assert_uint_eq(st.count[EC_MEMBER_NOT_MEMBER], 3 * types);
	ck_assert_str_eq(ec_member_verdict_name(EC_MEMBER_NOT_MEMBER),
			 "from_non_member");
	ck_assert_str_eq(ec_member_verdict_name(EC_MEMBER_WRONG_SENDER),
			 "sender_mismatch");
	ck_assert_str_eq(ec_member_verdict_name(EC_MEMBER_MAX), "?");
}
END_TEST

/* A core refuses to start without every member's address. */
START_TEST(core_needs_every_member_address)
{
	struct ec_core_opts o;

	ec_core_opts_default(&o, 3, 0);
	ck_assert_ptr_null(ec_core_new(&o, 1));
	o.members = three();
	o.members.addr[2].port = 0;
	ck_assert_ptr_null(ec_core_new(&o, 1));
	o.members.addr[2] = sim_addr(2);
	o.members.n = 2;
	ck_assert_ptr_null(ec_core_new(&o, 1));
	o.members.n = 3;
	ec_core_free(ec_core_new(&o, 1));
}
END_TEST

/* A PREPARE body: a batch of one PUT of key=value by client 99. */
static size_t put_body(uint8_t *buf, const char *key, const char *value)
{
	uint8_t req[128];

	return sim_batch_of(buf, req, sim_put_request(req, 99, 1, key, value));
}

/*
 * The report that opened this: one PREPARE naming the leader, for the
 * follower's next op, sent from a client's address.  It must not enter
 * the follower's log; the leader's real op for the same slot must.
 */
static void forged_prepare_is_not_stored(const struct ec_addr *from,
					 enum ec_member_verdict why)
{
	struct sim *s = sim_new(3, 1);
	uint8_t body[128], dgram[256];
	size_t len;

	sim_put(s, 0, 0, 1, "a", "1");
	sim_run(s, 20 * MS, MS);
	len = sim_prepare_dgram(dgram, 0, 0, sim_st(s, 1).op + 1, body,
				put_body(body, "a", "forged"));
	sim_receive_at(s, 1, from, dgram, len);
	ck_assert_uint_eq(sim_st(s, 1).op, 1);
	ck_assert_uint_eq(ec_core_stats(s->r[1])->member.count[why], 1);
	sim_put(s, 0, 0, 2, "a", "real");
	sim_run(s, 50 * MS, MS);
	for (unsigned i = 0; i < 3; i++) {
		ck_assert_uint_eq(sim_st(s, i).executed, 2);
		ck_assert_uint_eq(ec_kv_digest(ec_core_kv(s->r[i])),
				  ec_kv_digest(ec_core_kv(s->r[0])));
	}
	ck_assert_ptr_null(sim_check_agreement(s));
	sim_free(s);
}

START_TEST(forged_prepare_from_client_is_dropped)
{
	struct ec_addr client = sim_client_addr(5);

	forged_prepare_is_not_stored(&client, EC_MEMBER_NOT_MEMBER);
}
END_TEST

START_TEST(prepare_from_another_member_naming_the_leader_is_dropped)
{
	struct ec_addr r2 = sim_addr(2);

	forged_prepare_is_not_stored(&r2, EC_MEMBER_WRONG_SENDER);
}
END_TEST

/* Replica `from` tells replica `to` it starts a view change to `view`
 * (commit number 0): to moves to that view's change too. */
static void svc_from(struct sim *s, unsigned to, unsigned from, uint32_t view)
{
	Ec__StartViewChange svc = EC__START_VIEW_CHANGE__INIT;
	struct ec_msg m = { .type = EC_MSG_START_VIEW_CHANGE,
			    .sender = (uint8_t)from, .view = view };
	uint8_t dgram[64];

	sim_receive_from(s, to, from, dgram,
			 ec_msg_encode(dgram, sizeof(dgram), &m, &svc.base));
}

/*
 * Every replica message type, with every sender id, from a client's
 * address, at a core in each status (leader, follower, view change,
 * recovering): nothing about the core changes and every one is counted.
 */
START_TEST(forged_messages_change_nothing_in_any_status)
{
	struct sim *s = sim_new(3, 1);
	struct ec_addr client = sim_client_addr(7);
	uint8_t body[128], dgram[256];
	size_t blen = put_body(body, "x", "forged");

	sim_put(s, 0, 0, 1, "a", "1");
	sim_run(s, 20 * MS, MS);
	/* no packet moves below: each stays in its status */
	svc_from(s, 1, 2, 1);
	sim_crash(s, 2);
	sim_restart(s, 2);
	ck_assert_int_eq(sim_st(s, 0).status, EC_ST_NORMAL);
	ck_assert_int_eq(sim_st(s, 1).status, EC_ST_VIEW_CHANGE);
	ck_assert_int_eq(sim_st(s, 2).status, EC_ST_RECOVERING);
	for (unsigned i = 0; i < 3; i++) {
		struct ec_core_state before = sim_st(s, i), after;
		uint64_t counted = 0, forged = 0;
		size_t queued;

		for (unsigned t = EC_MSG_REPLY; t < EC_MSG_TYPE_MAX; t++)
			for (unsigned from = 0; from < 3 && !ec_msg_from_client(t);
			     from++) {
				struct ec_msg m = {
					.type = (uint8_t)t, .sender = (uint8_t)from,
					.view = before.view + (t & 1),
					.op = before.op + 1,
				};
				size_t len = ec_msg_encode(dgram, sizeof(dgram),
							   &m, NULL);

				if (t == EC_MSG_PREPARE)
					len = sim_prepare_dgram(dgram, (uint8_t)from,
								m.view, m.op,
								body, blen);
				queued = s->q_len;
				forged++;
				sim_receive_at(s, i, &client, dgram, len);
				ck_assert_uint_eq(s->q_len, queued);
			}
		after = sim_st(s, i);
		ck_assert_int_eq(after.status, before.status);
		ck_assert_uint_eq(after.view, before.view);
		ck_assert_uint_eq(after.op, before.op);
		ck_assert_uint_eq(after.commit, before.commit);
		for (unsigned v = 0; v < EC_MEMBER_MAX; v++)
			counted += ec_core_stats(s->r[i])->member.count[v];
		ck_assert_uint_eq(counted, forged);
		ck_assert_uint_ge(forged, (EC_MSG_TYPE_MAX - EC_MSG_REPLY - 1) * 3);
	}
	sim_free(s);
}
END_TEST

/* Encode `n` PUT entries from op `from`, prepared in entry_view, into a
 * datagram of `type` from replica `sender`: a DoViewChange (last normal
 * view 0) for DO_VIEW_CHANGE, else a LogChunk. */
static size_t chunk_dgram(uint8_t *buf, size_t cap, uint8_t type,
			  uint8_t sender, uint32_t view, uint64_t op,
			  uint64_t commit, uint64_t from, size_t n,
			  uint32_t entry_view, bool committed_only)
{
	Ec__LogChunk chunk = EC__LOG_CHUNK__INIT;
	Ec__LogEntry e[8], *ptrs[8];
	uint8_t body[128];
	size_t blen = put_body(body, "k", "v");
	struct ec_msg m = { .type = type, .sender = sender, .view = view,
			    .op = op, .commit = commit };

	ck_assert_uint_le(n, 8);
	for (size_t i = 0; i < n; i++) {
		ec__log_entry__init(&e[i]);
		e[i].op = from + i;
		e[i].view = entry_view;
		e[i].batch.data = body;
		e[i].batch.len = blen;
		ptrs[i] = &e[i];
	}
	if (type == EC_MSG_DO_VIEW_CHANGE) {
		Ec__DoViewChange dvc = EC__DO_VIEW_CHANGE__INIT;

		dvc.n_entries = n;
		dvc.entries = ptrs;
		return ec_msg_encode(buf, cap, &m, &dvc.base);
	}
	chunk.n_entries = n;
	chunk.entries = ptrs;
	chunk.committed_only = committed_only;
	return ec_msg_encode(buf, cap, &m, &chunk.base);
}

static uint64_t bad_range(const struct sim *s, unsigned i)
{
	return ec_core_stats(s->r[i])->parse.count[EC_PARSE_BAD_RANGE];
}

/* Committed entries past the sender's commit number, entries of a view
 * after the sender's, or a tail that does not end at the sender's op:
 * the whole message is refused, nothing of it placed. */
START_TEST(impossible_entry_ranges_are_rejected_whole)
{
	struct sim *s = sim_new(3, 1);
	uint8_t dgram[2048];
	size_t len;

	/* committed_only, ops 1..4 but the sender's commit is 2 */
	len = chunk_dgram(dgram, sizeof(dgram), EC_MSG_NEW_STATE, 0, 0, 4, 2,
			  1, 4, 0, true);
	sim_receive_from(s, 1, 0, dgram, len);
	ck_assert_uint_eq(sim_st(s, 1).op, 0);
	ck_assert_uint_eq(bad_range(s, 1), 1);
	/* an entry of view 3 in a message of view 0 */
	len = chunk_dgram(dgram, sizeof(dgram), EC_MSG_NEW_STATE, 0, 0, 2, 2,
			  1, 2, 3, true);
	sim_receive_from(s, 1, 0, dgram, len);
	ck_assert_uint_eq(sim_st(s, 1).op, 0);
	ck_assert_uint_eq(bad_range(s, 1), 2);
	/* a view's tail that stops short of the sender's op */
	len = chunk_dgram(dgram, sizeof(dgram), EC_MSG_NEW_STATE, 0, 0, 5, 1,
			  1, 3, 0, false);
	sim_receive_from(s, 1, 0, dgram, len);
	ck_assert_uint_eq(sim_st(s, 1).op, 0);
	ck_assert_uint_eq(bad_range(s, 1), 3);
	/* START_VIEW of view 3 whose entries start at op 0 */
	len = chunk_dgram(dgram, sizeof(dgram), EC_MSG_START_VIEW, 0, 3, 1, 0,
			  0, 2, 0, false);
	sim_receive_from(s, 1, 0, dgram, len);
	ck_assert_uint_eq(sim_st(s, 1).view, 0);
	ck_assert_uint_eq(bad_range(s, 1), 4);
	/* the same, well-formed, is taken: the checks are not blanket */
	len = chunk_dgram(dgram, sizeof(dgram), EC_MSG_NEW_STATE, 0, 0, 4, 4,
			  1, 4, 0, true);
	sim_receive_from(s, 1, 0, dgram, len);
	ck_assert_uint_eq(sim_st(s, 1).commit, 4);
	ck_assert_uint_eq(bad_range(s, 1), 4);
	sim_free(s);
}
END_TEST

/* A DO_VIEW_CHANGE claiming its sender was normal in the view being
 * started, or a START_VIEW_CHANGE whose commit passes its op. */
START_TEST(impossible_view_change_messages_are_rejected)
{
	struct sim *s = sim_new(3, 1);
	Ec__DoViewChange dvc = EC__DO_VIEW_CHANGE__INIT;
	Ec__StartViewChange svc = EC__START_VIEW_CHANGE__INIT;
	struct ec_msg m = { .type = EC_MSG_DO_VIEW_CHANGE, .sender = 2,
			    .view = 1 };
	uint8_t dgram[256];
	size_t len;

	dvc.last_normal_view = 1;
	len = ec_msg_encode(dgram, sizeof(dgram), &m, &dvc.base);
	sim_receive_from(s, 1, 2, dgram, len);
	ck_assert_uint_eq(bad_range(s, 1), 1);
	ck_assert(!sim_has_do_view_change(s, 1, 2));
	m.type = EC_MSG_START_VIEW_CHANGE;
	m.view = 2;
	m.op = 3;
	m.commit = 3;
	svc.commit = 4;
	len = ec_msg_encode(dgram, sizeof(dgram), &m, &svc.base);
	sim_receive_from(s, 1, 2, dgram, len);
	ck_assert_uint_eq(bad_range(s, 1), 2);
	ck_assert_uint_eq(sim_st(s, 1).view, 1);
	sim_free(s);
}
END_TEST

/* A RECOVERY_RESPONSE for a nonce we never sent counts for nothing. */
START_TEST(recovery_response_to_another_nonce_is_ignored)
{
	struct sim *s = sim_new(3, 1);
	Ec__Recovery r = EC__RECOVERY__INIT;
	struct ec_msg m = { .type = EC_MSG_RECOVERY_RESPONSE, .sender = 0 };
	uint8_t dgram[64];
	size_t len;

	sim_crash(s, 2);
	sim_restart(s, 2);
	r.nonce = sim_recovery_nonce(s, 2) + 1;
	len = ec_msg_encode(dgram, sizeof(dgram), &m, &r.base);
	sim_receive_from(s, 2, 0, dgram, len);
	ck_assert_uint_eq(sim_recovery_responses(s, 2), 0);
	ck_assert_uint_eq(ec_core_stats(s->r[2])->ignored[m.type], 1);
	r.nonce = sim_recovery_nonce(s, 2);
	len = ec_msg_encode(dgram, sizeof(dgram), &m, &r.base);
	sim_receive_from(s, 2, 0, dgram, len);
	ck_assert_uint_eq(sim_recovery_responses(s, 2), 1);
	sim_free(s);
}
END_TEST

/*
 * A new leader hands the best DO_VIEW_CHANGE's log to a pending install;
 * if that install is dropped (its committed prefix passed the whole tail,
 * which only impossible numbers from a member lead to), a later
 * DO_VIEW_CHANGE must not pick the handed-over one again (it has no log
 * any more: this crashed).
 */
START_TEST(dropped_install_does_not_reuse_its_do_view_change)
{
	struct sim *s = sim_new(3, 1);
	uint8_t dgram[2048];
	size_t len;

	/* replica 1 leads view 1 once replica 2 agrees */
	svc_from(s, 1, 2, 1);
	/* replica 2's log: ops 5..6, committed up to 4 */
	len = chunk_dgram(dgram, sizeof(dgram), EC_MSG_DO_VIEW_CHANGE, 2, 1, 6,
			  4, 5, 2, 0, false);
	sim_receive_from(s, 1, 2, dgram, len);
	ck_assert(sim_pending_install(s, 1));
	/* then committed entries from replica 2 up to op 7, past the log it
	 * sent: replica 1's commit number passes the tail, which is dropped */
	len = chunk_dgram(dgram, sizeof(dgram), EC_MSG_NEW_STATE, 2, 1, 7, 7,
			  1, 7, 0, true);
	sim_receive_from(s, 1, 2, dgram, len);
	ck_assert_uint_eq(sim_st(s, 1).commit, 7);
	ck_assert(!sim_pending_install(s, 1));
	/* replica 0's DO_VIEW_CHANGE completes a quorum without replica 2 */
	len = chunk_dgram(dgram, sizeof(dgram), EC_MSG_DO_VIEW_CHANGE, 0, 1, 0,
			  0, 1, 0, 0, false);
	sim_receive_from(s, 1, 0, dgram, len);
	ck_assert_int_eq(sim_st(s, 1).status, EC_ST_NORMAL);
	ck_assert_uint_eq(sim_st(s, 1).view, 1);
	sim_free(s);
}
END_TEST

static Suite *trust_suite(void)
{
	Suite *s = suite_create("trust");
	TCase *t = tcase_create("trust");

	tcase_add_loop_test(t, rule_takes_requests_from_anyone, 0, 2);
	tcase_add_test(t, rule_takes_replica_messages_only_from_the_named_replica);
	tcase_add_test(t, core_needs_every_member_address);
	tcase_add_test(t, forged_prepare_from_client_is_dropped);
	tcase_add_test(t, prepare_from_another_member_naming_the_leader_is_dropped);
	tcase_add_test(t, forged_messages_change_nothing_in_any_status);
	tcase_add_test(t, impossible_entry_ranges_are_rejected_whole);
	tcase_add_test(t, impossible_view_change_messages_are_rejected);
	tcase_add_test(t, recovery_response_to_another_nonce_is_ignored);
	tcase_add_test(t, dropped_install_does_not_reuse_its_do_view_change);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return run_suite(trust_suite());
}
