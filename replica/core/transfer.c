/*
 * transfer.c - moving log entries between replicas: GET_STATE and
 * NEW_STATE (gap repair, catching up, joining a view, the last step of a
 * restarted replica's recovery) and atomic installation of a view's log.
 *
 * Two kinds of transfer keep the core's invariant (internal.h):
 *  - committed entries (at or below the sender's commit number) are the
 *    same in every log that will ever hold them, so they may be placed
 *    into any replica's log at any time, advancing its commit number;
 *  - a view's uncommitted tail only replaces a replica's log as a whole
 *    (install), once the replica's committed prefix reaches that tail.
 * Committed entries below the sender's log base are gone: it answers
 * with the op of its checkpoint instead (LogChunk.snapshot_op), and the
 * asker installs that (checkpoint.c) before it goes on from the log.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

/* Size of one entry inside a LogChunk, generously rounded up. */
static size_t entry_cost(const struct ec_entry *e)
{
	return e->len + 32;
}

/* Lowest op >= from, above our log base, such that from there to our
 * last op fits in one message (the uncommitted part always does, see the
 * _Static_assert, and lies above the base). */
uint64_t xfer_tail_start(const struct ec_core *c, uint64_t from)
{
	uint64_t start = c->log.last + 1;
	size_t bytes = 0;

	if (from <= c->log.base)
		from = c->log.base + 1;
	while (start > from) {
		size_t cost = entry_cost(ec_log_at(&c->log, start - 1));

		if (bytes + cost > EC_CHUNK_BUDGET)
			break;
		bytes += cost;
		start--;
	}
	return start;
}

/* Highest op <= limit such that from..op fits in one message (from is
 * above our log base). */
static uint64_t forward_end(const struct ec_core *c, uint64_t from,
			    uint64_t limit)
{
	uint64_t end = from - 1;
	size_t bytes = 0;

	while (end < limit) {
		size_t cost = entry_cost(ec_log_at(&c->log, end + 1));

		if (bytes + cost > EC_CHUNK_BUDGET)
			break;
		bytes += cost;
		end++;
	}
	return end;
}

/*
 * LogEntry views of ops first..last (held: above our log base; borrowing
 * the log's bytes), as an
 * array of pointers followed by the entries themselves, in one allocation
 * the caller frees.  NULL when the range is empty or out of memory.
 */
Ec__LogEntry **xfer_build_entries(const struct ec_core *c, uint64_t first,
				  uint64_t last)
{
	size_t n = last >= first ? last - first + 1 : 0;
	Ec__LogEntry **ptrs;
	Ec__LogEntry *e;

	if (n == 0)
		return NULL;
	ptrs = malloc(n * (sizeof(*ptrs) + sizeof(*e)));
	if (!ptrs)
		return NULL;
	e = (Ec__LogEntry *)(ptrs + n);
	for (size_t i = 0; i < n; i++) {
		const struct ec_entry *le = ec_log_at(&c->log, first + i);

		ec__log_entry__init(&e[i]);
		e[i].op = first + i;
		e[i].view = le->view;
		e[i].batch.data = le->body;
		e[i].batch.len = le->len;
		ptrs[i] = &e[i];
	}
	return ptrs;
}

/* Queue a START_VIEW or NEW_STATE carrying ops first..last (held). */
static bool queue_entries(struct ec_core *c, uint8_t type, enum ec_dest dest,
			  unsigned to, uint64_t first, uint64_t last,
			  bool committed_only, bool more)
{
	Ec__LogChunk chunk = EC__LOG_CHUNK__INIT;
	Ec__LogEntry **entries = xfer_build_entries(c, first, last);

	if (!entries && last >= first)
		return false;
	chunk.n_entries = last >= first ? last - first + 1 : 0;
	chunk.entries = entries;
	chunk.committed_only = committed_only;
	chunk.more = more;
	core_send(c, dest, to, NULL, type, c->log.last, &chunk.base);
	free(entries);
	return true;
}

/* Queue a START_VIEW or NEW_STATE with our log's tail, starting as close
 * to `from` as fits, always through our last op. */
void xfer_queue_log_tail(struct ec_core *c, uint8_t type, enum ec_dest dest,
			 unsigned to, uint64_t from)
{
	queue_entries(c, type, dest, to, xfer_tail_start(c, from), c->log.last,
		      false, false);
}

/* Answer a GET_STATE for committed entries from `from` (above our log
 * base, at or below our commit number) with up to `chunks` NEW_STATEs of
 * consecutive entries, each as full as fits, all but the last saying
 * more follow. */
static void queue_committed(struct ec_core *c, unsigned to, uint64_t from,
			    uint32_t chunks)
{
	chunks = xfer_answer_window(chunks);
	while (chunks--) {
		uint64_t last = forward_end(c, from, c->commit);
		bool more = chunks && last < c->commit;

		if (!queue_entries(c, EC_MSG_NEW_STATE, EC_TO_REPLICA, to,
				   from, last, true, more) || !more)
			return;
		from = last + 1;
	}
}

/* Each entry no larger than a batch can be. */
static bool entries_bounded(Ec__LogEntry **entries, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (entries[i]->batch.len > EC_MAX_ENTRY_BODY)
			return false;
	return true;
}

/* Entries contiguous from `from`, none prepared in a view after the
 * sender's. */
static bool entries_line_up(const struct ec_msg *m, Ec__LogEntry **entries,
			    size_t n, uint64_t from)
{
	for (size_t i = 0; i < n; i++)
		if (entries[i]->op != from + i || entries[i]->view > m->view)
			return false;
	return true;
}

/*
 * Check the entries a DO_VIEW_CHANGE, START_VIEW or NEW_STATE carries
 * before anything of them is used, so that a message is taken whole or
 * not at all.  Every entry must be of a batch's size at most (else a bad
 * body is counted; whether it decodes is the state machine's business,
 * batch.h), and the numbers must be possible (else a bad range): entries
 * contiguous, of views up to the sender's, and with `last` set, ending
 * exactly at op `last`, otherwise at or below it.  Sets *from to the first
 * op carried (header op + 1 when none).
 */
bool xfer_check_entries(struct ec_core *c, const struct ec_msg *m,
			Ec__LogEntry **entries, size_t n, bool exact,
			uint64_t last, uint64_t *from)
{
	*from = n ? entries[0]->op : m->op + 1;
	if (!entries_bounded(entries, n)) {
		c->stats.parse.count[EC_PARSE_BAD_BODY]++;
		return false;
	}
	if (*from == 0 || !entries_line_up(m, entries, n, *from) ||
	    (n && entries[n - 1]->op > last) ||
	    (exact && *from + n != last + 1)) {
		c->stats.parse.count[EC_PARSE_BAD_RANGE]++;
		return false;
	}
	return true;
}

/* Append an entry xfer_check_entries accepted; it is decoded when it is
 * executed. */
static bool append_one(struct ec_core *c, const Ec__LogEntry *e)
{
	return ec_log_append(&c->log, e->view, e->batch.data, e->batch.len,
			     NULL) != 0;
}

/* Append the entries that extend our log (ops already held are skipped:
 * the caller has checked they are the same log).  False on a gap. */
bool xfer_append_entries(struct ec_core *c, Ec__LogEntry **entries, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (entries[i]->op <= c->log.last)
			continue;
		if (entries[i]->op != c->log.last + 1 ||
		    !append_one(c, entries[i]))
			return false;
	}
	return true;
}

/* Place committed entries just above our commit number.  An entry of ours
 * that differs there was never committed, nor was anything after it. */
bool xfer_place_committed(struct ec_core *c, Ec__LogEntry **entries, size_t n,
			  uint64_t sender_commit)
{
	for (size_t i = 0; i < n; i++) {
		const Ec__LogEntry *e = entries[i];

		if (e->op > sender_commit)
			break;
		if (e->op <= c->commit)
			continue;
		if (e->op != c->commit + 1)
			return false;
		if (!ec_log_same(&c->log, e->op, e->view, e->batch.data,
				 e->batch.len)) {
			ec_log_truncate(&c->log, e->op - 1);
			if (!append_one(c, e))
				return false;
		}
		c->commit = e->op;
	}
	core_execute_committed(c);
	return true;
}

void xfer_clear_pending(struct ec_core *c)
{
	if (c->pending.msg)
		protobuf_c_message_free_unpacked(c->pending.msg, NULL);
	memset(&c->pending, 0, sizeof(c->pending));
}

/* Remember a view's log tail to install; takes ownership of msg. */
void xfer_stash_install(struct ec_core *c, uint32_t view, uint64_t from,
			uint64_t commit, unsigned source, ProtobufCMessage *msg,
			Ec__LogEntry **entries, size_t n)
{
	xfer_clear_pending(c);
	c->pending.have = true;
	c->pending.view = view;
	c->pending.from = from;
	c->pending.commit = commit;
	c->pending.source = source;
	c->pending.msg = msg;
	c->pending.entries = entries;
	c->pending.n = n;
}

/*
 * Install the pending tail if our committed prefix reaches it; otherwise
 * ask its sender for the committed entries in between.  On success we are
 * normal in the pending view.  Returns whether it was installed.
 */
bool xfer_try_install(struct ec_core *c)
{
	struct ec_pending_install *p = &c->pending;
	uint64_t commit;

	if (!p->have)
		return false;
	/* before deciding anything from our log: it may still grow by ops
	 * the kernel acknowledged for us */
	core_quiesce(c);
	if (p->view != c->view || p->from + p->n <= c->commit) {
		/* stale: from an older view or behind us */
		xfer_clear_pending(c);
		return false;
	}
	if (c->commit + 1 < p->from) {
		xfer_request_state(c);
		return false;
	}
	ec_log_truncate(&c->log, p->from - 1);
	/* Out of memory mid-install: our log no longer holds what we may
	 * have acknowledged; only a restart is safe. */
	if (!xfer_append_entries(c, p->entries, p->n))
		core_fatal(c, "out of memory installing the log of view %u; "
			   "aborting", p->view);
	commit = p->commit;
	xfer_clear_pending(c);
	vc_enter_normal(c, commit);
	return true;
}

/*
 * Whether question (kind, to, a, b) may go out now, recording it: a
 * repeat of the last question waits retransmit_us (its answer may still
 * be on its way); any other question goes at once.
 */
bool xfer_question_due(struct ec_core *c, enum ec_question kind, unsigned to,
		       uint64_t a, uint64_t b)
{
	if (c->state_req_at && c->now - c->state_req_at < c->o.retransmit_us &&
	    c->state_req_kind == kind && c->state_req_to == to &&
	    c->state_req_a == a && c->state_req_b == b)
		return false;
	c->state_req_at = c->now;
	c->state_req_kind = kind;
	c->state_req_to = to;
	c->state_req_a = a;
	c->state_req_b = b;
	return true;
}

/* How many chunks to answer a question for `asked` with: 0 (an older
 * asker) is one, and no more than a window. */
uint32_t xfer_answer_window(uint32_t asked)
{
	if (asked < 1)
		return 1;
	return asked < EC_TRANSFER_WINDOW ? asked : EC_TRANSFER_WINDOW;
}

/* A chunk of an answer came in; more: the answer goes on. */
void xfer_chunk_seen(struct ec_core *c, bool more)
{
	c->more_coming = more;
	c->more_at = c->now;
}

/*
 * Whether an answer of several chunks (GetState.chunks, GetSnapshot.chunks)
 * is still coming in: its latest chunk said more follow, less than a
 * retransmission interval ago.  Until it ends nothing is asked, or every
 * chunk would ask for a window again; a chunk lost on the way is asked
 * for when the answer's last one is in, or when the interval passes.
 */
bool xfer_streaming(const struct ec_core *c)
{
	return c->more_coming && c->now - c->more_at < c->o.retransmit_us;
}

/*
 * Ask for the state we are missing.  What to ask follows from our state
 * alone, so every path that notices we are behind (a gap, a COMMIT, a
 * tick, an answer) asks the same question:
 *  - a checkpoint is being fetched (someone's log starts above our
 *    commit number): its next chunk (checkpoint.c);
 *  - a view's tail is waiting for our committed prefix (pending): the
 *    committed entries above our commit number, from the tail's sender;
 *  - otherwise the tail of our view's log, from its leader.
 * An answer moves our commit number or log, which changes the question,
 * and a new question goes out at once; only the same question is held
 * back for retransmit_us (its answer may still be on its way).
 */
void xfer_request_state(struct ec_core *c)
{
	Ec__GetState gs = EC__GET_STATE__INIT;
	unsigned to;

	if (ckpt_request(c) || xfer_streaming(c))
		return;
	gs.committed_only = c->pending.have;
	if (gs.committed_only) {
		to = c->pending.source;
		gs.from_op = c->commit + 1;
		gs.chunks = EC_TRANSFER_WINDOW;
	} else {
		to = core_leader_of(c, c->view);
		gs.from_op = c->status == EC_ST_NORMAL ? c->log.last + 1 :
							 c->commit + 1;
	}
	if (to == c->o.self ||
	    !xfer_question_due(c, EC_Q_LOG, to, gs.from_op, gs.committed_only))
		return;
	core_send(c, EC_TO_REPLICA, to, NULL, EC_MSG_GET_STATE, gs.from_op,
		  &gs.base);
	c->stats.gap_requests++;
}

/* Tell a replica that asked for committed entries we compacted away where
 * our checkpoint is. */
static void point_to_checkpoint(struct ec_core *c, unsigned to)
{
	Ec__LogChunk chunk = EC__LOG_CHUNK__INIT;

	chunk.committed_only = true;
	chunk.snapshot_op = c->ckpt.op;
	core_send(c, EC_TO_REPLICA, to, NULL, EC_MSG_NEW_STATE, c->log.last,
		  &chunk.base);
}

/* Committed entries: anyone may answer (below our log base, with where
 * our checkpoint is).  The view's log: its leader. */
void xfer_on_get_state(struct ec_core *c, const struct ec_msg *m)
{
	Ec__GetState *gs;

	gs = (Ec__GetState *)ec_msg_unpack(m, &ec__get_state__descriptor,
					   &c->stats.parse);
	if (!gs)
		return;
	if (gs->committed_only && gs->from_op >= 1 &&
	    gs->from_op <= c->log.base && c->ckpt.op) {
		point_to_checkpoint(c, m->sender);
	} else if (gs->committed_only) {
		if (gs->from_op > c->log.base && gs->from_op <= c->commit)
			queue_committed(c, m->sender, gs->from_op, gs->chunks);
	} else if (c->status == EC_ST_NORMAL && core_is_leader(c) &&
		   m->view <= c->view) {
		xfer_queue_log_tail(c, EC_MSG_NEW_STATE, EC_TO_REPLICA,
				    m->sender, gs->from_op);
	} else {
		c->stats.ignored[m->type]++;
	}
	ec__get_state__free_unpacked(gs, NULL);
}

/* A view's log from its leader: extend our log if it is already that
 * view's log, else install it. */
static void take_view_log(struct ec_core *c, const struct ec_msg *m,
			  Ec__LogChunk *nc, uint64_t from)
{
	if (m->view < c->view || m->sender != core_leader_of(c, m->view) ||
	    (c->status == EC_ST_RECOVERING && !rec_view_known(c))) {
		c->stats.ignored[m->type]++;
		ec__log_chunk__free_unpacked(nc, NULL);
		return;
	}
	if (c->status == EC_ST_NORMAL && m->view == c->view &&
	    from <= c->log.last + 1) {
		xfer_append_entries(c, nc->entries, nc->n_entries);
		ec__log_chunk__free_unpacked(nc, NULL);
		normal_heard_from_leader(c, m);
		core_set_commit(c, m->commit);
		normal_send_prepare_ok(c);
	} else {
		if (m->view > c->view && c->status != EC_ST_RECOVERING)
			vc_leave_view(c, m->view);
		core_enter(c, c->status, m->view);
		xfer_stash_install(c, m->view, from, m->commit, m->sender,
				   &nc->base, nc->entries, nc->n_entries);
		if (!xfer_try_install(c))
			return;
		normal_heard_from_leader(c, m);
	}
	if (c->log.last < c->leader_op)
		xfer_request_state(c);
}

void xfer_on_new_state(struct ec_core *c, const struct ec_msg *m)
{
	Ec__LogChunk *nc;
	uint64_t from;

	nc = (Ec__LogChunk *)ec_msg_unpack(m, &ec__log_chunk__descriptor,
					   &c->stats.parse);
	if (!nc)
		return;
	/* a view's tail ends at the sender's last op; committed entries
	 * lie at or below its commit number */
	if (!xfer_check_entries(c, m, nc->entries, nc->n_entries,
				!nc->committed_only,
				nc->committed_only ? m->commit : m->op,
				&from)) {
		ec__log_chunk__free_unpacked(nc, NULL);
		return;
	}
	if (nc->snapshot_op) {
		/* a pointer to a checkpoint carries no entries, and the
		 * checkpoint is of committed state */
		if (!nc->committed_only || nc->n_entries ||
		    nc->snapshot_op > m->commit)
			c->stats.parse.count[EC_PARSE_BAD_RANGE]++;
		else
			ckpt_hint(c, m, nc->snapshot_op);
		ec__log_chunk__free_unpacked(nc, NULL);
		return;
	}
	if (!nc->committed_only) {
		take_view_log(c, m, nc, from);
		return;
	}
	xfer_chunk_seen(c, nc->more);
	xfer_place_committed(c, nc->entries, nc->n_entries, m->commit);
	ec__log_chunk__free_unpacked(nc, NULL);
	if (c->pending.have)
		xfer_try_install(c); /* or ask for the next committed chunk */
}
