/*
 * test_lease.c - leader leases (replica/core/lease.h) on the simulated
 * cluster, one test per rule, each of which fails when its rule is
 * removed: no DO_VIEW_CHANGE before a promise ends (acks by user space and
 * by the XDP model), the lease counted from the send under one-way delay,
 * a retransmitted op keeping its first send time, heartbeats keeping the
 * lease without writes, the restart wait, reads closed until a new leader
 * has executed what it inherited; then the classic stale read (a leader
 * cut off from the rest while the others go on), with its negative
 * controls: the clock check ignored, and a leader clock far slower than
 * the drift bound.
 */
#include <check.h>
#include <endian.h>
#include <stdio.h>
#include <string.h>

#include "core/lease.h"
#include "sim.h"
#include "../run_suite.h"

#define MS 1000ULL
#define T_P (EC_DEFAULT_VIEW_TIMEOUT_US)
#define T_L (EC_DEFAULT_VIEW_TIMEOUT_US / 10 * 9)

/* What the filter drops and what it saw (struct sim.filter). */
struct net {
	uint32_t cut_a, cut_b;   /* replica masks: nothing crosses between */
	uint32_t drop_types;     /* bit t: drop type t (to replicas) */
	uint32_t drop_types_to[EC_MAX_REPLICAS]; /* the same, to one */
	uint64_t drop_prepare_op;/* drop the PREPAREs of this op ... */
	unsigned drop_prepare_n; /* ... this many of them */
	unsigned watch;          /* replica whose acks to replica acked are
				  * timed */
	unsigned acked;
	uint64_t last_ack;       /* when watch's last ack was delivered */
	uint64_t start_view_at;  /* first START_VIEW from watch (0: none) */
	uint64_t dvc_at;         /* first DO_VIEW_CHANGE from watch */
};

static uint64_t hdr_op(const struct sim_pkt *p)
{
	struct ec_hdr h;

	memcpy(&h, p->buf, sizeof(h));
	return be64toh(h.op);
}

static bool filter(struct sim *s, const struct sim_pkt *p, void *arg)
{
	struct net *n = arg;
	uint32_t from, to;

	/* clients' traffic both ways flows: the cuts are between replicas */
	if (p->from >= SIM_CLIENT || p->to >= SIM_CLIENT)
		return false;
	from = 1u << p->from;
	to = 1u << p->to;
	if (((n->cut_a & from) && (n->cut_b & to)) ||
	    ((n->cut_b & from) && (n->cut_a & to)))
		return true;
	if ((n->drop_types | n->drop_types_to[p->to]) & (1u << p->type))
		return true;
	if (p->type == EC_MSG_PREPARE && n->drop_prepare_n &&
	    hdr_op(p) == n->drop_prepare_op) {
		n->drop_prepare_n--;
		return true;
	}
	if (p->from == n->watch) {
		if ((p->type == EC_MSG_PREPARE_OK ||
		     p->type == EC_MSG_HEARTBEAT_OK) && p->to == n->acked)
			n->last_ack = s->now;
		if (p->type == EC_MSG_START_VIEW && !n->start_view_at)
			n->start_view_at = s->now;
		if (p->type == EC_MSG_DO_VIEW_CHANGE && !n->dvc_at)
			n->dvc_at = s->now;
	}
	return false;
}

/* Whether the clients of the next cluster send GETs as READs; whether
 * its replicas model the read offload (XDP_READS), with the old leader's
 * lease check skipped in it (XDP_READS_NO_LEASE, a negative control). */
static bool read_msg;
static enum { NO_XDP_READS, XDP_READS, XDP_READS_NO_LEASE } xdp_reads;

static struct sim *cluster(unsigned n, uint64_t seed, bool fastack,
			   struct net *net)
{
	struct sim *s = xdp_reads ? sim_new_reads(n, seed, fastack, fastack) :
				    sim_new_offload(n, seed, fastack, fastack);

	memset(net, 0, sizeof(*net));
	net->watch = SIM_CLIENT; /* nobody until a test says */
	s->filter = filter;
	s->filter_arg = net;
	sim_set_reads(s, EC_READS_LEASE);
	s->read_msg = read_msg || xdp_reads;
	s->kern[0].read_ignore_lease = xdp_reads == XDP_READS_NO_LEASE;
	return s;
}

/* Client c PUTs key=value at replica `to` until it is answered OK (at
 * most `ms` ms, a retry every 20); returns when the answer arrived. */
static uint64_t put_until_ok(struct sim *s, unsigned c, unsigned to,
			     uint64_t *rid, const char *key, const char *value,
			     unsigned ms)
{
	uint64_t id = ++*rid;

	for (unsigned t = 0; t < ms; t++) {
		if (t % 20 == 0) {
			s->reply[c].have = false;
			sim_put(s, c, to, id, key, value);
		}
		sim_run(s, MS, MS);
		if (s->reply[c].have && s->reply[c].request_id == id &&
		    s->reply[c].status == EC__STATUS__ST_OK)
			return s->reply[c].at;
	}
	ck_abort_msg("put %s=%s at %u not answered in %u ms", key, value, to,
		     ms);
	return 0;
}

/* Client c sends a GET of key to replica `to` (request id ++*rid). */
static void get(struct sim *s, unsigned c, unsigned to, uint64_t *rid,
		const char *key)
{
	s->reply[c].have = false;
	sim_request(s, c, to, ++*rid, EC__OP_KIND__OP_GET, key, NULL, NULL);
}

/* ---- the promise ---- */

/* Replica 2 loses leader 0 (the link between them cut) and starts view 1,
 * which replica 1 joins at once; replica 1 leads view 1 but had just
 * acknowledged 0: its START_VIEW may not go out before that ack + T_p. */
static void promise_holds_back_the_view(bool fastack, uint64_t seed)
{
	struct net net;
	struct sim *s = cluster(3, seed, fastack, &net);
	uint64_t rid = 0;

	put_until_ok(s, 0, 0, &rid, "k", "v1", 100);
	net.watch = 1;
	net.acked = 0;
	net.cut_a = 1u << 0;
	net.cut_b = 1u << 2;
	for (unsigned t = 0; t < 1500 && !net.start_view_at; t++)
		sim_run(s, MS, MS);
	ck_assert_msg(net.start_view_at, "view 1 never started");
	ck_assert_uint_ge(net.last_ack, 1);
	ck_assert_msg(net.start_view_at >= net.last_ack + T_P,
		      "replica 1 started view 1 %llu us after its last ack "
		      "to the old leader (promise %llu us)",
		      (unsigned long long)(net.start_view_at - net.last_ack),
		      (unsigned long long)T_P);
	ck_assert_uint_ge(sim_stats(s, 1)->promise_waits, 1);
	sim_run(s, 100 * MS, MS);
	ck_assert_int_eq(sim_st(s, 1).status, EC_ST_NORMAL);
	ck_assert_uint_ge(sim_st(s, 1).view, 1);
	sim_free(s);
}

START_TEST(no_view_before_the_promise_ends)
{
	for (uint64_t seed = 1; seed <= 4; seed++)
		promise_holds_back_the_view(false, seed);
}
END_TEST

/* The same when the kernel (modelled) acknowledged for replica 1: user
 * space knows of those acks only from what quiesce hands back. */
START_TEST(no_view_before_the_promise_ends_with_xdp_acks)
{
	for (uint64_t seed = 1; seed <= 4; seed++)
		promise_holds_back_the_view(true, seed);
}
END_TEST

/* A replica restarted with --recover forgot what it promised: it waits
 * T_p from its start before it may help form a view. */
START_TEST(restarted_replica_waits_out_the_promise)
{
	struct net net;
	struct sim *s = cluster(3, 1, false, &net);
	uint64_t rid = 0, restart;

	put_until_ok(s, 0, 0, &rid, "k", "v1", 100);
	sim_crash(s, 2);
	sim_run(s, 50 * MS, MS);
	restart = sim_now_of(s, 2);
	sim_restart(s, 2);
	ck_assert_uint_ge(sim_st(s, 2).promise_until, restart + T_P);
	sim_run(s, 100 * MS, MS);
	ck_assert_int_eq(sim_st(s, 2).status, EC_ST_NORMAL);
	ck_assert_uint_ge(sim_st(s, 2).promise_until, restart + T_P);
	sim_free(s);
}
END_TEST

/* ---- the lease ---- */

/* Acks reach the leader 50 ms after they leave: its lease never ends
 * later than the newest send they answered + T_l, and it holds. */
START_TEST(lease_counts_from_the_send)
{
	struct net net;
	struct sim *s = cluster(3, 1, false, &net);
	uint64_t rid = 0, held = 0;

	put_until_ok(s, 0, 0, &rid, "k", "v1", 100);
	s->delay_us[EC_MSG_PREPARE_OK] = 50 * MS;
	s->delay_us[EC_MSG_HEARTBEAT_OK] = 50 * MS;
	/* what was acked before the delay is older than 50 ms after this */
	sim_run(s, 60 * MS, MS);
	for (unsigned t = 0; t < 400; t++) {
		struct ec_core_state st;

		if (t % 7 == 0)
			sim_put(s, 1, 0, ++rid, "k", "v");
		sim_run(s, MS, MS);
		st = sim_st(s, 0);
		ck_assert_msg(st.lease_until <= s->now - 50 * MS + T_L,
			      "lease until now + %lld us with acks 50 ms late",
			      (long long)(st.lease_until - s->now));
		held += st.lease_until > s->now;
	}
	ck_assert_uint_gt(held, 300);
	sim_free(s);
}
END_TEST

/* The first PREPARE of op k is lost and resent 20 ms later: the lease
 * of its commit counts from the first send.  Heartbeat acks are dropped
 * so that only the op's acks renew the lease. */
START_TEST(retransmitted_op_keeps_its_first_send_time)
{
	struct net net;
	struct sim *s = cluster(3, 1, false, &net);
	uint64_t rid = 0, sent;

	put_until_ok(s, 0, 0, &rid, "k", "v1", 100);
	/* and GET_STATE: the followers would fetch the op on the next
	 * heartbeat instead of waiting for the resend */
	net.drop_types = 1u << EC_MSG_HEARTBEAT_OK | 1u << EC_MSG_GET_STATE;
	sim_run(s, 30 * MS, MS);
	net.drop_prepare_op = sim_st(s, 0).op + 1;
	net.drop_prepare_n = 2; /* one for each follower */
	sent = s->now;
	sim_put(s, 0, 0, ++rid, "k", "v2");
	sim_deliver(s);
	ck_assert_uint_eq(net.drop_prepare_n, 0);
	ck_assert_uint_lt(sim_st(s, 0).commit, net.drop_prepare_op);
	for (unsigned t = 0; t < 100 && sim_st(s, 0).commit <
					   net.drop_prepare_op; t++)
		sim_run(s, MS, MS);
	ck_assert_uint_ge(sim_st(s, 0).commit, net.drop_prepare_op);
	ck_assert_uint_ge(sim_stats(s, 0)->retransmits, 1);
	ck_assert_uint_eq(sim_st(s, 0).lease_until, sent + T_L);
	sim_free(s);
}
END_TEST

/* Without writes, acknowledged heartbeats keep the lease; without their
 * acknowledgements it runs out within T_l and reads go to the log. */
START_TEST(heartbeats_keep_the_lease)
{
	struct net net;
	struct sim *s = cluster(3, 1, false, &net);
	uint64_t rid = 0;

	put_until_ok(s, 0, 0, &rid, "k", "v1", 100);
	for (unsigned t = 0; t < 500; t++) {
		sim_run(s, MS, MS);
		ck_assert_uint_gt(sim_st(s, 0).lease_until, s->now);
	}
	get(s, 1, 0, &rid, "k");
	sim_deliver(s);
	ck_assert(s->reply[1].have && s->reply[1].lease);
	ck_assert_str_eq(s->reply[1].value, "v1");
	net.drop_types = 1u << EC_MSG_HEARTBEAT_OK;
	sim_run(s, T_L + 20 * MS, MS);
	ck_assert_uint_le(sim_st(s, 0).lease_until, s->now);
	get(s, 1, 0, &rid, "k");
	sim_deliver(s);
	ck_assert(s->reply[1].have && !s->reply[1].lease);
	ck_assert_str_eq(s->reply[1].value, "v1");
	ck_assert_uint_ge(sim_stats(s, 0)->reads_lease_expired, 1);
	sim_free(s);
}
END_TEST

/* --reads log: every GET through the log; --reads lease: answered under
 * the lease, Reply.op the executed op; a lone replica holds its own. */
START_TEST(reads_mode_decides_the_path)
{
	for (unsigned n = 1; n <= 3; n += 2) {
		struct net net;
		struct sim *s = cluster(n, 1, false, &net);
		uint64_t rid = 0;

		put_until_ok(s, 0, 0, &rid, "k", "v1", 100);
		sim_run(s, 30 * MS, MS);
		get(s, 1, 0, &rid, "k");
		sim_deliver(s);
		ck_assert(s->reply[1].have && s->reply[1].lease);
		ck_assert_uint_eq(s->reply[1].op, sim_st(s, 0).executed);
		ck_assert_uint_eq(sim_stats(s, 0)->reads_lease, 1);
		sim_set_reads(s, EC_READS_LOG);
		get(s, 1, 0, &rid, "k");
		sim_run(s, 5 * MS, MS);
		ck_assert(s->reply[1].have && !s->reply[1].lease);
		ck_assert_str_eq(s->reply[1].value, "v1");
		ck_assert_uint_eq(s->reply[1].op, sim_st(s, 0).executed);
		ck_assert_uint_eq(sim_stats(s, 0)->reads_lease, 1);
		ck_assert_uint_ge(sim_stats(s, 0)->reads_log, 1);
		sim_free(s);
	}
}
END_TEST

/*
 * Old leader 0 committed and answered k=v2 (op 2), but no follower
 * learnt the commit before 0 crashed.  New leader 1 inherits op 2 with
 * commit 1.  Its follower's PREPARE_OKs are dropped while its heartbeat
 * acks pass: 1 holds a lease but has not executed op 2, so a GET of k must
 * not be answered v1 from its state; it goes through the log and is
 * answered v2 once the acks pass again.
 */
START_TEST(reads_closed_until_inherited_ops_execute)
{
	struct net net;
	struct sim *s = cluster(3, 1, false, &net);
	uint64_t rid = 0, t;

	put_until_ok(s, 0, 0, &rid, "k", "v1", 100);
	sim_run(s, 30 * MS, MS);
	net.drop_types = 1u << EC_MSG_COMMIT;
	sim_put(s, 0, 0, ++rid, "k", "v2");
	sim_deliver(s);
	ck_assert(s->reply[0].have && s->reply[0].status == EC__STATUS__ST_OK);
	sim_crash(s, 0);
	net.drop_types = 1u << EC_MSG_PREPARE_OK;
	for (t = 0; t < 1000 && !(sim_st(s, 1).status == EC_ST_NORMAL &&
				  sim_st(s, 1).view >= 1); t++)
		sim_run(s, MS, MS);
	ck_assert_int_eq(sim_st(s, 1).leader, 1);
	for (t = 0; t < 100 && sim_st(s, 1).lease_until <= s->now; t++)
		sim_run(s, MS, MS);
	ck_assert_uint_gt(sim_st(s, 1).lease_until, s->now);
	ck_assert_uint_lt(sim_st(s, 1).executed, sim_st(s, 1).op);
	ck_assert(!sim_st(s, 1).reads_open);
	get(s, 1, 1, &rid, "k");
	sim_run(s, 20 * MS, MS);
	ck_assert_msg(!s->reply[1].have, "answered %s before op 2 executed",
		      s->reply[1].value);
	ck_assert_uint_ge(sim_stats(s, 1)->reads_closed, 1);
	net.drop_types = 0;
	sim_run(s, 50 * MS, MS);
	ck_assert(s->reply[1].have);
	ck_assert_str_eq(s->reply[1].value, "v2");
	ck_assert(sim_st(s, 1).reads_open);
	sim_free(s);
}
END_TEST

/* ---- the classic stale read ---- */

/*
 * Leader 0 is cut off from 1 and 2 while client 1 keeps reading k from 0
 * every 5 ms; client 0 writes k=v2 at the new leader.  Returns whether 0
 * answered v1 after v2's write was answered: a stale read.  Disruptive:
 * only replica 2 loses 0, and starts a view change, which 1 joins at
 * once (it had acknowledged 0 a moment before); 0 hears nothing from 1
 * but its acknowledgements, so it learns nothing of the new view, which
 * would form at once but for 1's promise.
 */
static bool stale_read(bool fastack, uint64_t seed, int64_t leader_skew_ppm,
		       bool ignore_clock, bool disruptive)
{
	struct net net;
	struct sim *s = cluster(3, seed, fastack, &net);
	uint64_t rid = 0, written = 0;
	unsigned lease_answers = 0;
	bool stale = false;

	sim_set_skew_ppm(s, 0, leader_skew_ppm);
	sim_set_lease_ignore_clock(s, ignore_clock);
	put_until_ok(s, 0, 0, &rid, "k", "v1", 100);
	sim_run(s, 30 * MS, MS);
	net.cut_a = 1u << 0;
	net.cut_b = disruptive ? 1u << 2 : 1u << 1 | 1u << 2;
	if (disruptive)
		net.drop_types_to[0] = ~(1u << EC_MSG_PREPARE_OK |
					 1u << EC_MSG_HEARTBEAT_OK);
	for (unsigned t = 0; t < 1500; t++) {
		if (t % 5 == 0) {
			if (s->reply[1].have && s->reply[1].from == 0 &&
			    s->reply[1].lease) {
				lease_answers++;
				if (written && s->reply[1].at >= written &&
				    !strcmp(s->reply[1].value, "v1"))
					stale = true;
			}
			get(s, 1, 0, &rid, "k");
		}
		if (!written && t > 20 && t % 20 == 0) {
			int l = sim_leader(s);

			if (l > 0) {
				s->reply[0].have = false;
				sim_put(s, 0, (unsigned)l, ++rid, "k", "v2");
			}
		}
		sim_run(s, MS, MS);
		if (!written && s->reply[0].have &&
		    s->reply[0].status == EC__STATUS__ST_OK &&
		    s->reply[0].from != 0)
			written = s->reply[0].at;
	}
	ck_assert_msg(written, "the write at the new leader never completed");
	ck_assert_msg(lease_answers > 0, "the old leader never answered");
	if (!ignore_clock && xdp_reads != XDP_READS_NO_LEASE)
		ck_assert_uint_ge(sim_stats(s, 0)->reads_lease_expired, 1);
	if (xdp_reads)
		ck_assert_msg(s->kern[0].reads_answered > 0,
			      "the old leader's read offload answered nothing");
	sim_free(s);
	return stale;
}

START_TEST(partitioned_leader_serves_no_stale_read)
{
	for (uint64_t seed = 1; seed <= 4; seed++) {
		ck_assert(!stale_read(false, seed, 0, false, false));
		ck_assert(!stale_read(true, seed, 0, false, false));
	}
}
END_TEST

/* The same with the GETs sent as READs (the fixed layout the read
 * offload answers; here user space takes them as GETs), and the
 * negative control that shows the run would see a stale one. */
START_TEST(read_messages_serve_no_stale_read)
{
	for (uint64_t seed = 1; seed <= 4; seed++) {
		read_msg = true;
		ck_assert(!stale_read(false, seed, 0, false, false));
		ck_assert(!stale_read(true, seed, 0, false, true));
		ck_assert(stale_read(true, seed, 0, true, false));
		read_msg = false;
	}
}
END_TEST

/* With the read offload modelled (the old leader's XDP program answers
 * the reads it can from its read cache, under the window user space
 * syncs): none stale, partitioned or disruptive, fast ack off or on; and
 * its negative control, the model's lease check skipped (user space
 * still checks), serves stale reads. */
START_TEST(xdp_reads_serve_no_stale_read)
{
	for (uint64_t seed = 1; seed <= 4; seed++) {
		xdp_reads = XDP_READS;
		ck_assert(!stale_read(false, seed, 0, false, false));
		ck_assert(!stale_read(true, seed, 0, false, false));
		ck_assert(!stale_read(true, seed, 0, false, true));
		ck_assert(!stale_read(false, seed, -1000, false, false));
		xdp_reads = NO_XDP_READS;
	}
}
END_TEST

START_TEST(negative_control_xdp_no_clock_check)
{
	for (uint64_t seed = 1; seed <= 4; seed++) {
		xdp_reads = XDP_READS_NO_LEASE;
		ck_assert(stale_read(true, seed, 0, false, false));
		xdp_reads = NO_XDP_READS;
	}
}
END_TEST

/* A follower that joins a newer view's change keeps its promise: without
 * it the new view forms while the old leader's lease still holds. */
START_TEST(disruptive_view_change_serves_no_stale_read)
{
	for (uint64_t seed = 1; seed <= 4; seed++) {
		ck_assert(!stale_read(false, seed, 0, false, true));
		ck_assert(!stale_read(true, seed, 0, false, true));
	}
}
END_TEST

/* Within the drift bound (a leader clock 1000 ppm slow), still none. */
START_TEST(skew_within_the_bound_serves_no_stale_read)
{
	for (uint64_t seed = 1; seed <= 4; seed++)
		ck_assert(!stale_read(false, seed, -1000, false, false));
}
END_TEST

/* Negative controls: the same run serves a stale read when the lease's
 * clock check is ignored, and when the old leader's clock runs 30% slow
 * (its 180 ms lease then lasts 257 ms of real time, past the new view). */
START_TEST(negative_control_no_clock_check)
{
	for (uint64_t seed = 1; seed <= 4; seed++)
		ck_assert(stale_read(false, seed, 0, true, false));
}
END_TEST

START_TEST(negative_control_skew_beyond_the_bound)
{
	for (uint64_t seed = 1; seed <= 4; seed++)
		ck_assert(stale_read(false, seed, -300000, false, false));
}
END_TEST

static Suite *lease_suite(void)
{
	Suite *s = suite_create("lease");
	TCase *t = tcase_create("lease");

	tcase_set_timeout(t, 60);
	tcase_add_test(t, no_view_before_the_promise_ends);
	tcase_add_test(t, no_view_before_the_promise_ends_with_xdp_acks);
	tcase_add_test(t, restarted_replica_waits_out_the_promise);
	tcase_add_test(t, lease_counts_from_the_send);
	tcase_add_test(t, retransmitted_op_keeps_its_first_send_time);
	tcase_add_test(t, heartbeats_keep_the_lease);
	tcase_add_test(t, reads_mode_decides_the_path);
	tcase_add_test(t, reads_closed_until_inherited_ops_execute);
	tcase_add_test(t, partitioned_leader_serves_no_stale_read);
	tcase_add_test(t, read_messages_serve_no_stale_read);
	tcase_add_test(t, xdp_reads_serve_no_stale_read);
	tcase_add_test(t, negative_control_xdp_no_clock_check);
	tcase_add_test(t, disruptive_view_change_serves_no_stale_read);
	tcase_add_test(t, skew_within_the_bound_serves_no_stale_read);
	tcase_add_test(t, negative_control_no_clock_check);
	tcase_add_test(t, negative_control_skew_beyond_the_bound);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return run_suite(lease_suite());
}
