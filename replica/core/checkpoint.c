/*
 * checkpoint.c - checkpoints, log compaction and snapshot state
 * transfer.
 *
 * Checkpoints.  Every replica, at every checkpoint op S, serializes its
 * state (app/snapshot.h) and keeps it as its latest checkpoint.  S is the
 * first executed op at which opts.checkpoint_ops ops were executed since
 * the previous checkpoint op, or at which those ops' entries carry
 * opts.checkpoint_bytes bytes: a function of the committed log alone, so
 * every replica has the same checkpoint ops (one that installs a
 * checkpoint goes on counting from its op, as the others did).  The
 * bytes bound keeps what a restarted replica fetches after a checkpoint
 * (and the log held) small when batches are large.  Then the replica
 * frees the log entries at or below its PREVIOUS checkpoint.  One
 * interval of entries is kept so that a replica a little behind catches
 * up from the log, cheaply; only one
 * further behind needs the checkpoint.  The previous checkpoint is kept
 * too, and while a replica is fetching it (a chunk served within four
 * retransmission intervals) it stays, with the log above it, over the
 * next checkpoints: a fetch slower than the checkpoint interval still
 * finishes.  The
 * daemon takes the checkpoint's bytes in a forked child
 * (opts.checkpoint_async, replica/io/checkpointer.c): serializing 100,000
 * keys costs about 100 ms of CPU, past a view timeout on a loaded host;
 * the core stops only for the fork, and keeps the previous checkpoint
 * until the child is done.  Without the hook (the tests) it serializes
 * at once.  Either pause is measured (stats.checkpoint_us_*).  Since S <= executed <= commit, no entry that
 * may be uncommitted, or is not executed, is ever freed.  The op is the
 * same on every replica, so replicas' checkpoints of one op are the same
 * bytes.
 *
 * Transfer.  A replica that asked for committed entries below the
 * answerer's log base hears its checkpoint's op (LogChunk.snapshot_op)
 * and, if that is above its own commit number, fetches it from that
 * replica with GET_SNAPSHOT(op, offset), answered with up to
 * EC_TRANSFER_WINDOW SNAPSHOT chunks in order, taken only in order (a
 * chunk after a lost one is dropped, and asked for again once the answer
 * is over: xfer_streaming).  What to ask stays decided by the core's
 * state alone (xfer_request_state): the next offset of the fetch, asked again
 * on the retransmission interval when an answer is lost; from offset 0 again
 * when the answerer's checkpoint changed (it answers with its latest).
 * A fetch that makes no progress for a view timeout is dropped, and the
 * ordinary question finds a source again.
 *
 * Install.  Only when the whole snapshot is there, its digest checks and
 * it decodes is anything replaced, and only if it is still above our
 * commit number: the fast ack is quiesced first (as before any change to
 * the log), the new store and client table are swapped in, commit =
 * executed = S, the log's base becomes S.  Entries above S are kept when
 * ours at S is the checkpoint's entry (same view at the same op: the
 * same entry, and the same log below it); otherwise they belong to a
 * view that was superseded before S was committed (S was committed in a
 * later view, which started only once a quorum left ours, so our
 * acknowledgements there no longer count), and the log restarts empty at
 * S.  The glue's ec_offload_sync then reopens the kernel's fast-ack
 * window at our last op + 1; it never sees a half-installed state.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static uint64_t clock_us(const struct ec_core *c)
{
	return c->o.clock ? c->o.clock(c->o.clock_arg) : 0;
}

/* A checkpoint is being fetched while chunks of it go out this often: a
 * fetcher asks again every retransmit_us when an answer is lost.  Not
 * longer, or a finished fetch would hold back compaction. */
#define FETCHING_US(c) (4 * (c)->o.retransmit_us)

/* Keep snap as the latest checkpoint (its bytes move into the core) and
 * compact the log up to the one before. */
static void keep_checkpoint(struct ec_core *c, struct ec_snapshot *snap)
{
	struct ec_event *ev;
	uint64_t base;

	if (c->prev_ckpt.op &&
	    c->now - c->prev_served_at < FETCHING_US(c)) {
		/* someone is still fetching the older one: keep it (and the
		 * log above it), let the one in between go */
		ec_snapshot_clear(&c->ckpt);
	} else {
		ec_snapshot_clear(&c->prev_ckpt);
		c->prev_ckpt = c->ckpt;
		c->prev_served_at = c->ckpt_served_at;
	}
	c->ckpt = *snap;
	memset(snap, 0, sizeof(*snap));
	c->ckpt_served_at = 0;
	base = c->log.base;
	ec_log_compact(&c->log, c->prev_ckpt.op);
	c->stats.log_compacted += c->log.base - base;
	c->stats.checkpoints++;
	c->stats.checkpoint_bytes = c->ckpt.len;
	ev = core_event(c, EC_EV_CHECKPOINT);
	if (ev) {
		ev->op = c->ckpt.op;
		ev->bytes = c->ckpt.len;
	}
}

/* Taking the checkpoint at op failed: the previous one and the log stay,
 * and the next checkpoint op tries again. */
static void checkpoint_failed(struct ec_core *c, uint64_t op)
{
	struct ec_event *ev = core_event(c, EC_EV_CHECKPOINT_FAILED);

	c->stats.checkpoint_failures++;
	if (ev)
		ev->op = op;
}

int ec_core_snapshot_take(const struct ec_core *c, uint64_t op,
			  uint32_t view, struct ec_snapshot *out)
{
	return ec_snapshot_take(c->kv, c->ct, op, view, out);
}

/* Whether executed op is a checkpoint op; counts its entry's bytes. */
static bool checkpoint_due(struct ec_core *c, const struct ec_entry *e,
			   uint64_t op)
{
	uint64_t ops = c->o.checkpoint_ops, bytes = c->o.checkpoint_bytes;

	c->bytes_since_point += e->len;
	if ((ops && op - c->ckpt_point >= ops) ||
	    (bytes && c->bytes_since_point >= bytes)) {
		c->ckpt_point = op;
		c->bytes_since_point = 0;
		return true;
	}
	return false;
}

/* Take a checkpoint at executed op if it is one of the checkpoint ops:
 * here and now, or through the checkpoint_async hook (then the pause is
 * the hook's, e.g. a fork). */
void ckpt_maybe_take(struct ec_core *c, uint64_t op)
{
	const struct ec_entry *e = ec_log_at(&c->log, op);
	struct ec_snapshot snap = { 0 };
	uint64_t t0, us;

	if (!e || !checkpoint_due(c, e, op))
		return;
	if (c->ckpt_pending) {
		c->stats.checkpoint_skipped++;
		return;
	}
	t0 = clock_us(c);
	if (c->o.checkpoint_async &&
	    c->o.checkpoint_async(c->o.checkpoint_arg, op, e->view) == 0) {
		c->ckpt_pending = op;
	} else if (ec_core_snapshot_take(c, op, e->view, &snap) < 0) {
		checkpoint_failed(c, op);
	} else {
		keep_checkpoint(c, &snap);
	}
	us = clock_us(c) - t0;
	c->stats.checkpoint_us_total += us;
	if (us > c->stats.checkpoint_us_max)
		c->stats.checkpoint_us_max = us;
}

void ec_core_checkpoint_done(struct ec_core *c, struct ec_snapshot *snap)
{
	uint64_t op = c->ckpt_pending;

	c->ckpt_pending = 0;
	if (!snap) {
		checkpoint_failed(c, op);
		return;
	}
	/* a snapshot installed meanwhile may be newer: keep that one */
	if (!op || snap->op != op || snap->op <= c->ckpt.op) {
		ec_snapshot_clear(snap);
		return;
	}
	keep_checkpoint(c, snap);
}

void ckpt_clear_fetch(struct ec_core *c)
{
	free(c->fetch.buf);
	memset(&c->fetch, 0, sizeof(c->fetch));
}

/* (Re)start fetching checkpoint op from replica source, from byte 0. */
static void start_fetch(struct ec_core *c, unsigned source, uint64_t op)
{
	ckpt_clear_fetch(c);
	c->fetch.active = true;
	c->fetch.source = source;
	c->fetch.op = op;
	c->fetch.progress_at = c->now;
}

/* A NEW_STATE told us m's sender compacted what we asked for and has a
 * checkpoint at snapshot_op (at or below its commit, checked).  A leader
 * in normal status takes none: it holds every committed op (vc_enter_normal)
 * and orders requests with its client table, which an install would
 * replace; a pointer reaching it is a late answer to a question it asked
 * before it led. */
void ckpt_hint(struct ec_core *c, const struct ec_msg *m,
	       uint64_t snapshot_op)
{
	if (snapshot_op <= c->commit || c->fetch.active ||
	    (c->status == EC_ST_NORMAL && core_is_leader(c))) {
		c->stats.ignored[m->type]++;
		return;
	}
	start_fetch(c, m->sender, snapshot_op);
	xfer_request_state(c);
}

/*
 * The snapshot part of xfer_request_state: drop a fetch that is no longer
 * needed (our commit number reached it) or makes no progress; otherwise
 * ask for its next chunk.  Returns whether a fetch is going on (the
 * caller asks nothing else then).
 */
bool ckpt_request(struct ec_core *c)
{
	Ec__GetSnapshot gs = EC__GET_SNAPSHOT__INIT;
	struct ec_snap_fetch *f = &c->fetch;

	if (!f->active)
		return false;
	if (f->op <= c->commit) {
		ckpt_clear_fetch(c);
		return false;
	}
	if (c->now - f->progress_at >= c->o.view_timeout_us) {
		c->stats.snapshot_timeouts++;
		ckpt_clear_fetch(c);
		return false;
	}
	if (c->now < f->not_before || xfer_streaming(c))
		return true;
	gs.op = f->op;
	gs.offset = f->offset;
	gs.chunks = EC_TRANSFER_WINDOW;
	if (xfer_question_due(c, EC_Q_SNAPSHOT, f->source, gs.op, gs.offset))
		core_send(c, EC_TO_REPLICA, f->source, NULL,
			  EC_MSG_GET_SNAPSHOT, c->log.last, &gs.base);
	return true;
}

/* Anyone with a checkpoint answers: the chunks asked for (up to
 * EC_TRANSFER_WINDOW from the offset asked, all but the last saying more
 * follow) of the one asked for (the latest, or the older one, which is
 * kept while it is being fetched: a fetch slower than the checkpoint
 * interval still finishes), else the first chunks of our latest. */
void ckpt_on_get_snapshot(struct ec_core *c, const struct ec_msg *m)
{
	Ec__GetSnapshot *gs;
	Ec__Snapshot sn = EC__SNAPSHOT__INIT;
	const struct ec_snapshot *from = &c->ckpt;
	uint64_t offset;
	uint32_t chunks;

	gs = (Ec__GetSnapshot *)ec_msg_unpack(m, &ec__get_snapshot__descriptor,
					      &c->stats.parse);
	if (!gs)
		return;
	if (!c->ckpt.op) {
		c->stats.ignored[m->type]++;
		goto out;
	}
	if (gs->op && gs->op == c->prev_ckpt.op)
		from = &c->prev_ckpt;
	offset = gs->op == 0 || gs->op == from->op ? gs->offset : 0;
	if (offset >= from->len) {
		c->stats.parse.count[EC_PARSE_BAD_RANGE]++;
		goto out;
	}
	chunks = xfer_answer_window(gs->chunks);
	if (from == &c->prev_ckpt)
		c->prev_served_at = c->now;
	else
		c->ckpt_served_at = c->now;
	sn.op = from->op;
	sn.view = from->view;
	sn.total = from->len;
	sn.digest = from->digest;
	while (chunks-- && offset < from->len) {
		size_t len = from->len - offset;

		if (len > EC_SNAP_CHUNK)
			len = EC_SNAP_CHUNK;
		sn.offset = offset;
		sn.data.data = from->buf + offset;
		sn.data.len = len;
		offset += len;
		sn.more = chunks && offset < from->len;
		core_send(c, EC_TO_REPLICA, m->sender, NULL, EC_MSG_SNAPSHOT,
			  c->log.last, &sn.base);
		c->stats.snapshot_chunks_sent++;
	}
out:
	ec__get_snapshot__free_unpacked(gs, NULL);
}

/* Whether a SNAPSHOT's numbers can be true: a chunk within a snapshot of
 * possible size, of committed state, not older than what we asked. */
static bool snapshot_sane(const struct ec_core *c, const struct ec_msg *m,
			  const Ec__Snapshot *sn)
{
	return sn->op >= 1 && sn->op <= m->commit && sn->op >= c->fetch.op &&
	       sn->total > 0 && sn->total <= EC_MAX_SNAPSHOT_BYTES &&
	       sn->offset < sn->total && sn->data.len > 0 &&
	       sn->data.len <= sn->total - sn->offset;
}

/* Drop the log up to op and what we executed, and take the snapshot's
 * state: see the comment at the top.  Takes kv, ct and the fetch's
 * buffer. */
static void install(struct ec_core *c, struct ec_kv *kv,
		    struct ec_client_table *ct)
{
	struct ec_snap_fetch *f = &c->fetch;
	const struct ec_entry *e;
	struct ec_event *ev;

	/* the kernel may hold ops it acknowledged for us: our log must
	 * have them before we decide from it (and we change it) */
	core_quiesce(c);
	if (f->op <= c->commit) {
		/* the log got us there meanwhile */
		ec_kv_free(kv);
		ec_ct_free(ct);
		ckpt_clear_fetch(c);
		return;
	}
	e = ec_log_at(&c->log, f->op);
	if (e && e->view == f->view) {
		ec_log_compact(&c->log, f->op);
	} else {
		ec_log_reset(&c->log, f->op);
	}
	ec_kv_free(c->kv);
	ec_ct_free(c->ct);
	c->kv = kv;
	c->ct = ct;
	ec_kv_observe(c->kv, &c->o.store_observer);
	c->commit = c->executed = f->op;
	c->ckpt_point = f->op; /* a checkpoint op of everyone's */
	c->bytes_since_point = 0;
	ec_snapshot_clear(&c->prev_ckpt); /* the log starts at f->op now */
	ec_snapshot_clear(&c->ckpt);
	c->ckpt.op = f->op;
	c->ckpt.view = f->view;
	c->ckpt.digest = f->digest;
	c->ckpt.buf = f->buf;
	c->ckpt.len = f->total;
	f->buf = NULL;
	c->stats.snapshots_installed++;
	ev = core_event(c, EC_EV_SNAPSHOT_INSTALLED);
	if (ev) {
		ev->op = f->op;
		ev->replica = f->source;
	}
	ckpt_clear_fetch(c);
}

/* A whole snapshot was no good: count it in *why and fetch it again from
 * byte 0, not before the retransmission interval (a sender that keeps
 * sending bad bytes must not keep us busy at network speed). */
static void refetch(struct ec_core *c, uint64_t *why)
{
	uint64_t progress_at = c->fetch.progress_at;

	(*why)++;
	start_fetch(c, c->fetch.source, c->fetch.op);
	c->fetch.not_before = c->now + c->o.retransmit_us;
	/* bad bytes are no progress: a source that only sends those is
	 * dropped after a view timeout like a silent one */
	c->fetch.progress_at = progress_at;
}

/* The fetch is whole: verify, decode, install; or start it over. */
static void finish_fetch(struct ec_core *c)
{
	struct ec_snap_fetch *f = &c->fetch;
	struct ec_kv *kv;
	struct ec_client_table *ct;
	struct ec_kv_limits lim;
	uint64_t op;
	uint32_t view;

	if (ec_snapshot_digest(f->buf, f->total) != f->digest ||
	    ec_snapshot_restore(f->buf, f->total, &kv, &ct, &op, &view) < 0) {
		refetch(c, &c->stats.snapshot_bad);
		return;
	}
	if (op != f->op || view != f->view) {
		ec_kv_free(kv);
		ec_ct_free(ct);
		refetch(c, &c->stats.snapshot_bad);
		return;
	}
	lim = ec_kv_limits(kv);
	if (lim.max_keys != c->o.kv_limits.max_keys ||
	    lim.max_bytes != c->o.kv_limits.max_bytes) {
		/* With other bounds we would answer some writes unlike the
		 * others: a configuration error no retry fixes, but the
		 * sender may be the odd one out, so ask again (counted). */
		struct ec_event *ev = core_event(c, EC_EV_SNAPSHOT_REFUSED);

		if (ev) {
			ev->op = op;
			ev->replica = f->source;
			ev->theirs = lim;
			ev->ours = c->o.kv_limits;
		}
		ec_kv_free(kv);
		ec_ct_free(ct);
		refetch(c, &c->stats.snapshot_limits_mismatch);
		return;
	}
	install(c, kv, ct);
}

/* Go on from where we stand after a fetch moved or ended. */
static void continue_after(struct ec_core *c)
{
	if (c->pending.have) {
		xfer_try_install(c); /* or ask for what lies between */
		return;
	}
	if (c->status == EC_ST_RECOVERING && !rec_view_known(c)) {
		ckpt_request(c);
		return;
	}
	if (c->fetch.active || c->joining || c->status == EC_ST_RECOVERING ||
	    (c->status == EC_ST_NORMAL && c->leader_op > c->log.last))
		xfer_request_state(c);
}

void ckpt_on_snapshot(struct ec_core *c, const struct ec_msg *m)
{
	struct ec_snap_fetch *f = &c->fetch;
	Ec__Snapshot *sn;

	if (!f->active || m->sender != f->source) {
		c->stats.ignored[m->type]++;
		return;
	}
	sn = (Ec__Snapshot *)ec_msg_unpack(m, &ec__snapshot__descriptor,
					   &c->stats.parse);
	if (!sn)
		return;
	if (!snapshot_sane(c, m, sn)) {
		c->stats.parse.count[EC_PARSE_BAD_RANGE]++;
		goto out;
	}
	xfer_chunk_seen(c, sn->more);
	if (sn->op <= c->commit) {
		/* we got past it meanwhile: nothing to fetch from there */
		c->stats.ignored[m->type]++;
		ckpt_clear_fetch(c);
		continue_after(c);
		goto out;
	}
	if (f->total == 0 || sn->op != f->op || sn->total != f->total ||
	    sn->digest != f->digest || sn->view != f->view) {
		/* the first chunk, or the sender's checkpoint changed:
		 * (re)start at this snapshot, from byte 0 */
		if (f->total != 0)
			c->stats.snapshot_restarts++;
		start_fetch(c, f->source, sn->op);
		f->view = sn->view;
		f->total = sn->total;
		f->digest = sn->digest;
		f->buf = malloc(sn->total);
		if (!f->buf) {
			/* out of memory: asked again later */
			ckpt_clear_fetch(c);
			goto out;
		}
	}
	if (sn->offset != f->offset) {
		/* a duplicate or an answer to an older question */
		c->stats.ignored[m->type]++;
		continue_after(c);
		goto out;
	}
	memcpy(f->buf + f->offset, sn->data.data, sn->data.len);
	f->offset += sn->data.len;
	f->progress_at = c->now;
	c->stats.snapshot_chunks_received++;
	if (f->offset == f->total)
		finish_fetch(c);
	continue_after(c);
out:
	ec__snapshot__free_unpacked(sn, NULL);
}
