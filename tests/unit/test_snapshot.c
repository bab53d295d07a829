/*
 * test_snapshot.c - checkpoints, log compaction and snapshot state
 * transfer: the snapshot encoding, the log's base at every boundary, and
 * through the simulated network (sim.c) catching up, recovery and view
 * change past compaction, chunking under loss, duplication and
 * reordering, atomic install, and the log's size over a long run.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "sim.h"
#include "../run_suite.h"

#define MS 1000ULL

/* ---- helpers ---- */

static uint64_t next_rid[64];

/* n PUTs to leader, one at a time, from 48 clients; values of vlen bytes
 * (at least 8). */
static void load(struct sim *s, unsigned leader, unsigned n, size_t vlen)
{
	static unsigned seq;
	char key[24], value[600];

	for (unsigned i = 0; i < n; i++, seq++) {
		unsigned c = seq % 48;

		snprintf(key, sizeof(key), "k%u", seq % 5000);
		memset(value, 'a' + seq % 26, vlen);
		snprintf(value, 9, "%08u", seq);
		value[8] = 'v';
		value[vlen] = '\0';
		sim_put(s, c, leader, ++next_rid[c], key, value);
		sim_deliver(s);
	}
}

static void reset_rids(void)
{
	memset(next_rid, 0, sizeof(next_rid));
}

static uint64_t digest(const struct sim *s, unsigned i)
{
	return ec_kv_digest(ec_core_kv(s->r[i]));
}

static struct ec_kv *kv_with(unsigned n)
{
	struct ec_kv *kv = ec_kv_new();
	char key[16], value[32];

	for (unsigned i = 0; i < n; i++) {
		Ec__KvOp op = EC__KV_OP__INIT;
		struct ec_kv_result res;

		snprintf(key, sizeof(key), "key%u", i * 7919 % 1000);
		snprintf(value, sizeof(value), "value-%u", i);
		op.kind = EC__OP_KIND__OP_PUT;
		op.key.data = (uint8_t *)key;
		op.key.len = strlen(key);
		op.value.data = (uint8_t *)value;
		op.value.len = strlen(value);
		ck_assert_int_eq(ec_kv_apply(kv, &op, &res), 0);
	}
	return kv;
}

static struct ec_client_table *ct_with(unsigned n)
{
	struct ec_client_table *ct = ec_ct_new();

	for (unsigned i = 0; i < n; i++) {
		struct ec_client_rec *rec = ec_ct_get(ct, 1000 + i * 31, true);
		uint8_t *reply = malloc(4);

		memcpy(reply, "rep", 4);
		ec_ct_set_reply(rec, reply, 4);
		rec->executed_req = i + 1;
	}
	/* known to the leader only: not replicated state */
	ec_ct_get(ct, 5, true)->prepared_req = 9;
	return ct;
}

/* ---- the encoding ---- */

START_TEST(snapshot_round_trip)
{
	struct ec_kv *kv = kv_with(500), *kv2;
	struct ec_client_table *ct = ct_with(40), *ct2;
	struct ec_snapshot a = { 0 }, b = { 0 };
	struct ec_kv_limits lim = { 5000, 123456 };
	uint64_t op;
	uint32_t view;

	ec_kv_set_limits(kv, &lim);
	ck_assert_int_eq(ec_snapshot_take(kv, ct, 1234, 7, &a), 0);
	ck_assert_uint_eq(a.op, 1234);
	ck_assert_uint_eq(a.view, 7);
	ck_assert_uint_eq(a.digest, ec_snapshot_digest(a.buf, a.len));
	ck_assert_int_eq(ec_snapshot_restore(a.buf, a.len, &kv2, &ct2, &op,
					     &view), 0);
	ck_assert_uint_eq(op, 1234);
	ck_assert_uint_eq(view, 7);
	ck_assert_uint_eq(ec_kv_count(kv2), ec_kv_count(kv));
	ck_assert_uint_eq(ec_kv_digest(kv2), ec_kv_digest(kv));
	ck_assert_uint_eq(ec_kv_bytes(kv2), ec_kv_bytes(kv));
	ck_assert_uint_eq(ec_kv_limits(kv2).max_keys, 5000);
	ck_assert_uint_eq(ec_kv_limits(kv2).max_bytes, 123456);
	ck_assert_uint_eq(ec_ct_get(ct2, 1000 + 3 * 31, false)->executed_req, 4);
	ck_assert_uint_eq(ec_ct_get(ct2, 1000 + 3 * 31, false)->reply_len, 4);
	ck_assert_ptr_null(ec_ct_get(ct2, 5, false));
	/* deterministic: the restored state (other insertion order, other
	 * table sizes) encodes to the same bytes */
	ck_assert_int_eq(ec_snapshot_take(kv2, ct2, 1234, 7, &b), 0);
	ck_assert_uint_eq(a.len, b.len);
	ck_assert(memcmp(a.buf, b.buf, a.len) == 0);
	ck_assert_uint_eq(a.digest, b.digest);
	ec_kv_free(kv2);
	ec_ct_free(ct2);
	ec_snapshot_clear(&b);

	/* anything cut short, or trailing, or a byte changed in a length,
	 * does not decode; a changed byte anywhere changes the digest */
	for (size_t len = 0; len < a.len; len += 1 + len / 3)
		ck_assert_int_eq(ec_snapshot_restore(a.buf, len, &kv2, &ct2,
						     &op, &view), -1);
	{
		uint8_t *longer = malloc(a.len + 1);

		memcpy(longer, a.buf, a.len);
		longer[a.len] = 0;
		ck_assert_int_eq(ec_snapshot_restore(longer, a.len + 1, &kv2,
						     &ct2, &op, &view), -1);
		free(longer);
	}
	for (size_t i = 0; i < a.len; i += 97) {
		a.buf[i] ^= 0x20;
		ck_assert_uint_ne(ec_snapshot_digest(a.buf, a.len), a.digest);
		a.buf[i] ^= 0x20;
	}
	a.buf[48] ^= 0xff; /* the first key's length */
	ck_assert_int_eq(ec_snapshot_restore(a.buf, a.len, &kv2, &ct2, &op,
					     &view), -1);
	ec_snapshot_clear(&a);

	/* an empty state too */
	{
		struct ec_kv *e = ec_kv_new();
		struct ec_client_table *t = ec_ct_new();

		ck_assert_int_eq(ec_snapshot_take(e, t, 1, 0, &a), 0);
		ck_assert_int_eq(ec_snapshot_restore(a.buf, a.len, &kv2, &ct2,
						     &op, &view), 0);
		ck_assert_uint_eq(ec_kv_count(kv2), 0);
		ec_kv_free(kv2);
		ec_ct_free(ct2);
		ec_kv_free(e);
		ec_ct_free(t);
		ec_snapshot_clear(&a);
	}
	ec_kv_free(kv);
	ec_ct_free(ct);
}
END_TEST

/* ---- the log's base ---- */

START_TEST(log_compaction_at_every_boundary)
{
	for (uint64_t upto = 0; upto <= 12; upto++) {
		struct ec_log l;
		uint8_t body[4] = { 1, 2, 3, 4 };

		ec_log_init(&l);
		for (unsigned i = 1; i <= 10; i++) {
			body[0] = (uint8_t)i;
			ck_assert_uint_eq(ec_log_append(&l, i / 4, body, 4, NULL), i);
		}
		ec_log_compact(&l, upto);
		{
			uint64_t base = upto > 10 ? 10 : upto;

			ck_assert_uint_eq(l.base, base);
			ck_assert_uint_eq(l.last, 10);
			ck_assert_uint_eq(ec_log_held(&l), 10 - base);
			ck_assert_ptr_null(ec_log_at(&l, 0));
			ck_assert_ptr_null(ec_log_at(&l, base));
			ck_assert_ptr_null(ec_log_at(&l, 11));
			ck_assert_ptr_null(ec_log_batch(&l, base));
			for (uint64_t op = base + 1; op <= 10; op++) {
				ck_assert_uint_eq(ec_log_at(&l, op)->body[0], op);
				ck_assert_uint_eq(ec_log_at(&l, op)->view, op / 4);
				body[0] = (uint8_t)op;
				ck_assert(ec_log_same(&l, op, op / 4, body, 4));
			}
			body[0] = (uint8_t)base;
			ck_assert(!ec_log_same(&l, base, base / 4, body, 4));
			/* compacting again at or below the base does nothing */
			ec_log_compact(&l, base);
			ec_log_compact(&l, base ? base - 1 : 0);
			ck_assert_uint_eq(l.base, base);
			/* truncation never goes below the base */
			ec_log_truncate(&l, 0);
			ck_assert_uint_eq(l.last, base);
			ck_assert_uint_eq(ec_log_held(&l), 0);
			/* appending goes on above it */
			ck_assert_uint_eq(ec_log_append(&l, 9, body, 4, NULL),
					  base + 1);
			ck_assert_ptr_nonnull(ec_log_at(&l, base + 1));
		}
		ec_log_reset(&l, 100);
		ck_assert_uint_eq(l.base, 100);
		ck_assert_uint_eq(l.last, 100);
		ck_assert_ptr_null(ec_log_at(&l, 100));
		ck_assert_uint_eq(ec_log_append(&l, 9, body, 4, NULL), 101);
		ec_log_free(&l);
	}
}
END_TEST

/* ---- checkpoints in a cluster ---- */

START_TEST(checkpoints_compact_every_log_alike)
{
	struct sim *s = sim_new(3, 1);

	reset_rids();
	sim_set_batch(s, 1);
	sim_set_checkpoint_ops(s, 20);
	load(s, 0, 105, 16);
	sim_run(s, 30 * MS, MS);
	for (unsigned i = 0; i < 3; i++) {
		const struct ec_core *c = s->r[i];

		ck_assert_uint_eq(c->executed, 105);
		ck_assert_uint_eq(c->ckpt.op, 100);
		ck_assert_uint_eq(c->log.base, 80);
		ck_assert_uint_eq(c->stats.checkpoints, 5);
		ck_assert_uint_eq(c->stats.log_compacted, 80);
		ck_assert_uint_eq(c->ckpt.digest, s->r[0]->ckpt.digest);
		ck_assert_ptr_null(ec_log_at(&c->log, 80));
		ck_assert_ptr_nonnull(ec_log_at(&c->log, 81));
	}
	ck_assert_ptr_null(sim_check_agreement(s));
	sim_free(s);
}
END_TEST

/* A follower a little behind (within one interval of the others' bases)
 * catches up from the log, without a snapshot. */
START_TEST(follower_a_little_behind_catches_up_from_the_log)
{
	struct sim *s = sim_new(3, 1);
	struct sim_drop_rule r = { .type = -1, .to_mask = 1u << 2, .on = true };

	reset_rids();
	sim_set_batch(s, 1);
	sim_set_checkpoint_ops(s, 50);
	load(s, 0, 55, 16);
	sim_run(s, 30 * MS, MS);
	ck_assert_uint_eq(sim_st(s, 2).executed, 55);
	s->filter = sim_drop_by_rule;
	s->filter_arg = &r;
	load(s, 0, 50, 16); /* to 105: checkpoint at 100, base 50 */
	r.on = false;
	sim_run(s, 100 * MS, MS);
	ck_assert_uint_eq(s->r[0]->log.base, 50);
	ck_assert_uint_eq(sim_st(s, 2).executed, 105);
	ck_assert_uint_eq(s->r[2]->stats.snapshots_installed, 0);
	ck_assert_uint_eq(digest(s, 2), digest(s, 0));
	ck_assert_ptr_null(sim_check_agreement(s));
	sim_free(s);
}
END_TEST

/* Cut off past several checkpoints, a follower catches up by snapshot,
 * and after it the fast-ack window (modelled) is at its next op again. */
static void cut_off_follower(bool fastack, bool quorum)
{
	struct sim *s = sim_new_offload(3, 1, fastack, quorum);
	struct sim_drop_rule r = { .type = -1, .to_mask = 1u << 2, .on = true };
	uint64_t acked = 0;

	reset_rids();
	sim_set_batch(s, 1);
	sim_set_checkpoint_ops(s, 20);
	sim_run(s, MS, MS);
	load(s, 0, 10, 16);
	s->filter = sim_drop_by_rule;
	s->filter_arg = &r;
	/* everything to it lost while the others run past checkpoints */
	load(s, 0, 150, 16);
	ck_assert_uint_le(sim_st(s, 2).executed, 10);
	ck_assert_uint_eq(s->r[0]->ckpt.op, 160);
	ck_assert_uint_eq(s->r[0]->log.base, 140);
	r.on = false;
	sim_run(s, 200 * MS, MS);
	ck_assert_int_eq(sim_st(s, 2).status, EC_ST_NORMAL);
	ck_assert_uint_eq(sim_st(s, 2).executed, 160);
	ck_assert_uint_ge(s->r[2]->stats.snapshots_installed, 1);
	ck_assert_uint_eq(s->r[2]->log.base, 160);
	ck_assert_uint_eq(s->r[2]->ckpt.op, 160);
	ck_assert_uint_eq(digest(s, 2), digest(s, 0));
	ck_assert_ptr_null(sim_check_agreement(s));
	if (fastack) {
		ck_assert_uint_eq(s->kern[2].expected, sim_st(s, 2).op + 1);
		acked = s->kern[2].fast_acked;
	}
	/* and it takes part again */
	load(s, 0, 30, 16);
	sim_run(s, 30 * MS, MS);
	ck_assert_uint_eq(sim_st(s, 2).executed, 190);
	if (fastack)
		ck_assert_uint_ge(s->kern[2].fast_acked, acked + 30);
	ck_assert_ptr_null(sim_check_agreement(s));
	sim_free(s);
}

START_TEST(follower_cut_off_past_compaction_catches_up_by_snapshot)
{
	cut_off_follower(false, false);
	cut_off_follower(true, false);
	cut_off_follower(true, true);
}
END_TEST

/* Restarted (--recover) after several checkpoints: it installs the
 * latest, then the log after it, and reaches the same digest. */
START_TEST(restarted_replica_installs_snapshot)
{
	struct sim *s = sim_new(3, 1);

	reset_rids();
	sim_set_batch(s, 1);
	sim_set_checkpoint_ops(s, 25);
	load(s, 0, 130, 200);
	sim_run(s, 30 * MS, MS);
	sim_crash(s, 2);
	load(s, 0, 40, 200);
	sim_restart(s, 2);
	ck_assert_int_eq(sim_st(s, 2).status, EC_ST_RECOVERING);
	sim_run(s, 300 * MS, MS);
	ck_assert_int_eq(sim_st(s, 2).status, EC_ST_NORMAL);
	ck_assert_uint_eq(s->r[2]->stats.snapshots_installed, 1);
	ck_assert_uint_eq(sim_st(s, 2).executed, 170);
	ck_assert_uint_eq(s->r[2]->log.base, 150);
	ck_assert_uint_eq(digest(s, 2), digest(s, 0));
	ck_assert_ptr_null(sim_check_agreement(s));
	sim_free(s);
}
END_TEST

/* The store's bounds travel with the snapshot; a restarted replica
 * configured with other bounds refuses it (it would answer writes unlike
 * the others) and stays out, and installs it once configured alike. */
START_TEST(snapshot_with_other_limits_refused)
{
	struct sim *s = sim_new(3, 1);
	struct ec_kv_limits same = s->opts.kv_limits;

	reset_rids();
	sim_set_batch(s, 1);
	sim_set_checkpoint_ops(s, 25);
	load(s, 0, 130, 200);
	sim_run(s, 30 * MS, MS);
	ck_assert_uint_eq(ec_kv_limits(ec_core_kv(s->r[0])).max_keys,
			  EC_KV_DEFAULT_MAX_KEYS);
	sim_crash(s, 2);
	load(s, 0, 40, 200);
	s->opts.kv_limits.max_keys = same.max_keys + 1;
	sim_restart(s, 2);
	sim_run(s, 300 * MS, MS);
	ck_assert_int_eq(sim_st(s, 2).status, EC_ST_RECOVERING);
	ck_assert_uint_ge(s->r[2]->stats.snapshot_limits_mismatch, 1);
	ck_assert_uint_eq(s->r[2]->stats.snapshot_bad, 0);
	ck_assert_uint_eq(s->r[2]->stats.snapshots_installed, 0);

	s->opts.kv_limits = same;
	sim_restart(s, 2);
	sim_run(s, 300 * MS, MS);
	ck_assert_int_eq(sim_st(s, 2).status, EC_ST_NORMAL);
	ck_assert_uint_eq(s->r[2]->stats.snapshots_installed, 1);
	ck_assert_uint_eq(s->r[2]->stats.snapshot_limits_mismatch, 0);
	ck_assert_uint_eq(digest(s, 2), digest(s, 0));
	ck_assert_ptr_null(sim_check_agreement(s));
	sim_free(s);
}
END_TEST

/* A snapshot of many chunks, fetched through loss, duplication and
 * reordering, arrives whole. */
START_TEST(snapshot_chunks_survive_loss_dup_reorder)
{
	for (uint64_t seed = 1; seed <= 4; seed++) {
		struct sim *s = sim_new(3, seed);
		struct sim_drop_rule r = { .type = -1, .to_mask = 1u << 2,
					   .on = true };

		reset_rids();
		sim_set_checkpoint_ops(s, 400);
		s->filter = sim_drop_by_rule;
		s->filter_arg = &r;
		load(s, 0, 1300, 500); /* about 600 KB of state */
		ck_assert_uint_eq(s->r[0]->ckpt.op % 400, 0);
		ck_assert_uint_gt(s->r[0]->ckpt.len, 8 * EC_SNAP_CHUNK);
		r.on = false;
		s->loss_pct = 20;
		s->dup_pct = 10;
		s->reorder = true;
		sim_run(s, 3000 * MS, MS);
		s->loss_pct = s->dup_pct = 0;
		sim_run(s, 500 * MS, MS);
		ck_assert_uint_ge(s->r[2]->stats.snapshots_installed, 1);
		ck_assert_uint_ge(s->r[2]->stats.snapshot_chunks_received, 9);
		ck_assert_uint_eq(s->r[2]->stats.snapshot_bad, 0);
		ck_assert_uint_eq(sim_st(s, 2).executed, sim_st(s, 0).executed);
		ck_assert_uint_eq(digest(s, 2), digest(s, 0));
		ck_assert_ptr_null(sim_check_agreement(s));
		sim_free(s);
	}
}
END_TEST

/* Corrupt one byte of SNAPSHOT data on the way. */
static bool corrupt_snapshot(struct sim *s, const struct sim_pkt *p, void *arg)
{
	unsigned *left = arg;

	(void)s;
	if (p->type == EC_MSG_SNAPSHOT && *left) {
		(*left)--;
		p->buf[p->len - 1] ^= 0x5a; /* the last byte of data */
	}
	return false;
}

/* Deliver only the first chunk of a snapshot. */
static bool first_chunk_only(struct sim *s, const struct sim_pkt *p, void *arg)
{
	unsigned *seen = arg;

	(void)s;
	return p->type == EC_MSG_SNAPSHOT && (*seen)++ > 0;
}

/* Neither a snapshot that fails its digest nor one half received changes
 * anything; the fetch goes on and then installs. */
START_TEST(install_is_atomic)
{
	struct sim *s = sim_new(3, 1);
	struct sim_drop_rule r = { .type = -1, .to_mask = 1u << 2, .on = true };
	struct ec_core_state before;
	uint64_t d;
	unsigned left, seen;

	reset_rids();
	sim_set_checkpoint_ops(s, 200);
	load(s, 0, 30, 400);
	sim_run(s, 30 * MS, MS);
	s->filter = sim_drop_by_rule;
	s->filter_arg = &r;
	load(s, 0, 600, 400);
	before = sim_st(s, 2);
	d = digest(s, 2);
	ck_assert_uint_eq(before.executed, 30);

	/* every chunk corrupted: a whole, verified-bad snapshot */
	left = 1000000;
	s->filter = corrupt_snapshot;
	s->filter_arg = &left;
	sim_run(s, 100 * MS, MS);
	ck_assert_uint_ge(s->r[2]->stats.snapshot_bad, 1);
	ck_assert_uint_eq(s->r[2]->stats.snapshots_installed, 0);
	ck_assert_uint_eq(sim_st(s, 2).executed, before.executed);
	ck_assert_uint_eq(sim_st(s, 2).commit, before.commit);
	ck_assert_uint_eq(s->r[2]->log.base, 0);
	ck_assert_uint_eq(digest(s, 2), d);

	/* only the first chunk: half a snapshot, nothing changes */
	ckpt_clear_fetch(s->r[2]);
	seen = 0;
	s->filter = first_chunk_only;
	s->filter_arg = &seen;
	sim_run(s, 100 * MS, MS);
	ck_assert(s->r[2]->fetch.active);
	ck_assert_uint_eq(s->r[2]->fetch.offset, EC_SNAP_CHUNK);
	ck_assert_uint_eq(s->r[2]->stats.snapshots_installed, 0);
	ck_assert_uint_eq(sim_st(s, 2).executed, before.executed);
	ck_assert_uint_eq(digest(s, 2), d);

	s->filter = NULL;
	sim_run(s, 300 * MS, MS);
	ck_assert_uint_eq(s->r[2]->stats.snapshots_installed, 1);
	ck_assert_uint_eq(sim_st(s, 2).executed, 630);
	ck_assert_uint_eq(digest(s, 2), digest(s, 0));
	ck_assert_ptr_null(sim_check_agreement(s));
	sim_free(s);
}
END_TEST

/* Send replica `to` a SNAPSHOT from `from` with the given numbers. */
static void forge_snapshot(struct sim *s, unsigned to, unsigned from,
			   uint64_t commit, uint64_t op, uint64_t total,
			   uint64_t offset, size_t len)
{
	Ec__Snapshot sn = EC__SNAPSHOT__INIT;
	struct ec_msg m = { .type = EC_MSG_SNAPSHOT, .sender = (uint8_t)from,
			    .op = commit, .commit = commit };
	static uint8_t data[EC_SNAP_CHUNK], buf[EC_MAX_MSG];
	size_t n;

	sn.op = op;
	sn.total = total;
	sn.offset = offset;
	sn.digest = 1;
	sn.data.data = data;
	sn.data.len = len;
	n = ec_msg_encode(buf, sizeof(buf), &m, &sn.base);
	ck_assert_uint_gt(n, 0);
	sim_receive_from(s, to, from, buf, n);
}

/* Impossible numbers in a SNAPSHOT are rejected and counted. */
START_TEST(impossible_snapshot_chunks_are_bad_ranges)
{
	struct sim *s = sim_new(3, 1);
	struct ec_core *c = s->r[2];
	uint64_t bad = c->stats.parse.count[EC_PARSE_BAD_RANGE];

	/* a fetch of op 100 from replica 0 going on */
	c->fetch.active = true;
	c->fetch.source = 0;
	c->fetch.op = 100;
	c->fetch.progress_at = s->now;
	forge_snapshot(s, 2, 0, 200, 100, 1000, 1000, 10); /* offset at total */
	forge_snapshot(s, 2, 0, 200, 100, 1000, 995, 10);  /* past total */
	forge_snapshot(s, 2, 0, 200, 100, 0, 0, 0);        /* empty */
	forge_snapshot(s, 2, 0, 200, 90, 1000, 0, 10);     /* below asked */
	forge_snapshot(s, 2, 0, 99, 100, 1000, 0, 10);     /* not committed */
	forge_snapshot(s, 2, 0, 200, 100, EC_MAX_SNAPSHOT_BYTES + 1, 0, 10);
	ck_assert_uint_eq(c->stats.parse.count[EC_PARSE_BAD_RANGE], bad + 6);
	ck_assert_uint_eq(c->fetch.offset, 0);
	ck_assert_uint_eq(c->fetch.total, 0);
	/* from another replica than the one asked: ignored */
	forge_snapshot(s, 2, 1, 200, 100, 1000, 0, 10);
	ck_assert_uint_eq(c->fetch.total, 0);
	ck_assert_uint_eq(c->stats.ignored[EC_MSG_SNAPSHOT], 1);
	/* a good first chunk is taken */
	forge_snapshot(s, 2, 0, 200, 100, 1000, 0, 10);
	ck_assert_uint_eq(c->fetch.offset, 10);
	ck_assert_uint_eq(c->fetch.total, 1000);
	ckpt_clear_fetch(c);
	sim_deliver(s);
	/* a GET_SNAPSHOT past the end of a checkpoint is one too */
	{
		Ec__GetSnapshot gs = EC__GET_SNAPSHOT__INIT;
		struct ec_msg m = { .type = EC_MSG_GET_SNAPSHOT, .sender = 2 };
		uint8_t buf[64];
		size_t n;

		sim_set_checkpoint_ops(s, 1);
		load(s, 0, 1, 8);
		ck_assert_uint_eq(s->r[0]->ckpt.op, 1);
		bad = s->r[0]->stats.parse.count[EC_PARSE_BAD_RANGE];
		gs.op = 1;
		gs.offset = s->r[0]->ckpt.len;
		n = ec_msg_encode(buf, sizeof(buf), &m, &gs.base);
		sim_receive_from(s, 0, 2, buf, n);
		ck_assert_uint_eq(s->r[0]->stats.parse.count[EC_PARSE_BAD_RANGE],
				  bad + 1);
		ck_assert_uint_eq(s->r[0]->stats.snapshot_chunks_sent, 0);
	}
	sim_free(s);
}
END_TEST

/* A view change while the replicas have compacted: the old leader dies,
 * and the new leader (cut off meanwhile, behind every other log's base)
 * fetches a checkpoint from the log it adopts before it leads. */
START_TEST(view_change_with_compacted_logs)
{
	struct sim *s = sim_new(5, 1);
	struct sim_drop_rule r = { .type = -1, .to_mask = 1u << 1 | 1u << 4,
				   .on = true };

	reset_rids();
	sim_set_batch(s, 1);
	sim_set_checkpoint_ops(s, 20);
	load(s, 0, 15, 16);
	sim_run(s, 30 * MS, MS);
	s->filter = sim_drop_by_rule;
	s->filter_arg = &r;
	load(s, 0, 120, 16);
	ck_assert_uint_eq(sim_st(s, 1).executed, 15);
	ck_assert_uint_eq(s->r[2]->log.base, 100);
	sim_crash(s, 0);
	r.on = false;
	sim_run(s, 800 * MS, MS);
	ck_assert_int_eq(sim_leader(s), 1);
	ck_assert_uint_ge(s->r[1]->stats.snapshots_installed, 1);
	ck_assert_uint_ge(sim_st(s, 1).commit, 135);
	ck_assert_uint_eq(sim_st(s, 4).executed, sim_st(s, 1).executed);
	load(s, 1, 20, 16);
	sim_run(s, 50 * MS, MS);
	for (unsigned i = 2; i < 5; i++) {
		ck_assert_uint_eq(sim_st(s, i).executed, sim_st(s, 1).executed);
		ck_assert_uint_eq(digest(s, i), digest(s, 1));
	}
	ck_assert_ptr_null(sim_check_agreement(s));
	sim_free(s);
}
END_TEST

/* Memory: a long run holds at most about two intervals of entries. */
START_TEST(log_stays_bounded_over_a_long_run)
{
	struct sim *s = sim_new(3, 1);
	uint64_t most = 0;

	reset_rids();
	sim_set_batch(s, 1);
	sim_set_checkpoint_ops(s, 1000);
	for (unsigned round = 0; round < 200; round++) {
		load(s, 0, 100, 16);
		for (unsigned i = 0; i < 3; i++)
			if (ec_log_held(&s->r[i]->log) > most)
				most = ec_log_held(&s->r[i]->log);
	}
	sim_run(s, 30 * MS, MS);
	ck_assert_uint_eq(sim_st(s, 0).executed, 20000);
	ck_assert_uint_le(most, 2 * 1000 + EC_MAX_WINDOW);
	for (unsigned i = 0; i < 3; i++) {
		ck_assert_uint_eq(s->r[i]->log.base, 19000);
		ck_assert_uint_le(s->r[i]->log.cap, 4096);
	}
	ck_assert_ptr_null(sim_check_agreement(s));
	sim_free(s);
}
END_TEST

static Suite *snapshot_suite(void)
{
	Suite *s = suite_create("snapshot");
	TCase *t = tcase_create("snapshot");

	tcase_set_timeout(t, 120);
	tcase_add_test(t, snapshot_round_trip);
	tcase_add_test(t, log_compaction_at_every_boundary);
	tcase_add_test(t, checkpoints_compact_every_log_alike);
	tcase_add_test(t, follower_a_little_behind_catches_up_from_the_log);
	tcase_add_test(t, follower_cut_off_past_compaction_catches_up_by_snapshot);
	tcase_add_test(t, restarted_replica_installs_snapshot);
	tcase_add_test(t, snapshot_with_other_limits_refused);
	tcase_add_test(t, snapshot_chunks_survive_loss_dup_reorder);
	tcase_add_test(t, install_is_atomic);
	tcase_add_test(t, impossible_snapshot_chunks_are_bad_ranges);
	tcase_add_test(t, view_change_with_compacted_logs);
	tcase_add_test(t, log_stays_bounded_over_a_long_run);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return run_suite(snapshot_suite());
}
