/*
 * internal.h - state and helpers shared by the core's files:
 *   core.c        creation, dispatch, outputs, execution order, timers
 *   normal.c      REQUEST, PREPARE, PREPARE_OK, COMMIT
 *   viewchange.c  START_VIEW_CHANGE, DO_VIEW_CHANGE, START_VIEW
 *   transfer.c    log installation, GET_STATE/NEW_STATE
 *   recovery.c    RECOVERY/RECOVERY_RESPONSE: a restarted replica
 *   checkpoint.c  checkpoints, log compaction, GET_SNAPSHOT/SNAPSHOT
 *
 * Invariant everything relies on: a replica whose status is normal in view
 * v holds a prefix of the log of v's leader.  A log is only replaced by an
 * atomic install of a view's log suffix (install()); below a replica's
 * commit number, committed entries may be filled in at any time.
 *
 * With checkpoints the log starts above a base (log.h): base <= executed
 * <= commit always, so an entry that may still be uncommitted, or is not
 * yet executed, is never compacted away.  Whatever reads old entries
 * (state transfer, view change messages) starts above the base, and a
 * replica that needs what lies below someone's base installs that
 * replica's checkpoint instead: committed state, the same everywhere.
 */
#ifndef EC_REPLICA_CORE_INTERNAL_H
#define EC_REPLICA_CORE_INTERNAL_H

#include "app/client_table.h"
#include "app/exec.h"
#include "core.h"
#include "app/kv.h"
#include "lease.h"
#include "log.h"
#include "quorum.h"
#include "app/snapshot.h"

/* Bytes of log entries one message may carry (header and slack aside). */
#define EC_CHUNK_BUDGET (EC_MAX_MSG - 1024)
/* PREPAREs resent per follower per retransmission round. */
#define EC_RETX_BATCH 16
/* Bytes of a checkpoint one SNAPSHOT carries (it stays far within
 * EC_MAX_MSG; a chunk is still an IP-fragmented datagram). */
#define EC_SNAP_CHUNK 32768
/* Chunks one answer to GET_STATE (committed entries) or GET_SNAPSHOT
 * carries at most: a transfer moves this many per round trip instead of
 * one, which on a loaded leader (a round trip of a few ms) is the
 * difference between seconds and a fraction of one for 10M ops.  Eight
 * datagrams of at most EC_MAX_MSG stay well within a socket buffer
 * (IO_SOCKBUF, 4 MiB) with the normal traffic. */
#define EC_TRANSFER_WINDOW 8
/* Requests the leader holds while the window is full. */
#define EC_MAX_QUEUED 4096

/* A DO_VIEW_CHANGE received (or built from our own log) by a new leader. */
struct ec_dvc {
	bool have;
	uint32_t last_normal_view;
	uint64_t op, commit, from; /* entries carried: from..op */
	Ec__DoViewChange *msg;     /* NULL for our own */
};

_Static_assert(EC_MAX_WINDOW <= EC_LEASE_OP_SLOTS,
	       "every op in flight keeps its first send time (lease.h)");
_Static_assert((EC_MAX_WINDOW + 2) * (EC_MAX_ENTRY_BODY + 32) <= EC_CHUNK_BUDGET,
	       "a log's uncommitted part must fit in one message");

/* A view's log suffix waiting for our committed prefix to reach it. */
struct ec_pending_install {
	bool have;
	uint32_t view;
	uint64_t from, commit;
	size_t n;
	Ec__LogEntry **entries;  /* borrowed from msg */
	ProtobufCMessage *msg;   /* owned */
	unsigned source;         /* replica to fetch committed entries from */
};

/* A checkpoint being fetched from another replica (checkpoint.c).
 * Nothing of it is used before it is whole and its digest checks. */
struct ec_snap_fetch {
	bool active;
	unsigned source;         /* replica asked */
	uint64_t op;             /* checkpoint wanted / being received */
	uint32_t view;           /* as the first chunk said */
	uint64_t total, digest;  /* as the first chunk said; total 0: no
				  * chunk yet */
	uint64_t offset;         /* bytes received, in order */
	uint8_t *buf;            /* total bytes */
	uint64_t progress_at;    /* started, or last chunk taken */
	uint64_t not_before;     /* after a bad snapshot: ask no sooner */
};

/* What a GET_STATE or GET_SNAPSHOT asked last (see xfer_request_state). */
enum ec_question {
	EC_Q_LOG,                /* GET_STATE: a = from_op, b = committed */
	EC_Q_SNAPSHOT,           /* GET_SNAPSHOT: a = op, b = offset */
};

/* A request the leader accepted, waiting to go into a batch. */
struct ec_queued_req {
	uint8_t *body;           /* encoded, as the client sent it */
	size_t len;
	Ec__Request *req;        /* the same, decoded */
};

struct ec_core {
	struct ec_core_opts o;

	enum ec_status status;
	uint32_t view;
	uint32_t last_normal_view;
	struct ec_log log;
	uint64_t commit;
	uint64_t executed;
	struct ec_kv *kv;
	struct ec_client_table *ct;

	/* Leader, normal status. */
	uint64_t acked[EC_MAX_REPLICAS];      /* highest op acked, this view */
	uint64_t retx_at;        /* resend uncommitted PREPAREs at this time */
	uint64_t retx_gap;       /* backoff interval while commit is stuck */
	uint64_t last_broadcast;              /* for COMMIT heartbeats */
	struct ec_queued_req *queue;          /* ring of EC_MAX_QUEUED */
	size_t queue_head, queue_len;
	struct ec_batch_builder builder;      /* the batch being closed */

	/* Follower. */
	uint64_t last_heard;     /* from the leader of our view */
	uint64_t leader_op;      /* leader's last op, as last heard */
	uint64_t state_req_at;   /* last GET_STATE / GET_SNAPSHOT sent, and
				  * what it asked of whom */
	enum ec_question state_req_kind;
	unsigned state_req_to;
	uint64_t state_req_a, state_req_b;
	bool more_coming;        /* the last chunk of an answer said more
				  * follow, at more_at (xfer_streaming) */
	uint64_t more_at;

	/* Checkpoints (every replica). */
	struct ec_snapshot ckpt; /* latest (op 0: none) */
	struct ec_snapshot prev_ckpt; /* an older one (op 0: none): the log
				       * is kept above it, and a fetch of it
				       * that began before ckpt was taken
				       * goes on from it */
	uint64_t ckpt_served_at, prev_served_at; /* last chunk sent of each */
	uint64_t ckpt_pending;   /* op of the checkpoint checkpoint_async is
				  * taking (0: none) */
	uint64_t ckpt_point;     /* the last checkpoint op, taken or not
				  * (the same on every replica) */
	uint64_t bytes_since_point; /* of the entries executed after it */
	struct ec_snap_fetch fetch;

	/* View change (status VIEW_CHANGE). */
	uint64_t vc_started;
	uint64_t vc_sent_at;
	bool joining;            /* view adopted from its leader: no SVC/DVC,
				  * just ask the leader for its log */
	uint32_t svc_from;       /* bitmask of START_VIEW_CHANGE senders */
	uint64_t svc_commit[EC_MAX_REPLICAS];
	struct ec_dvc dvc[EC_MAX_REPLICAS];
	struct ec_pending_install pending;

	/* Recovery (status RECOVERING). */
	uint32_t rec_from;       /* bitmask of RECOVERY_RESPONSE senders */
	uint32_t rec_view;       /* highest view in the responses */
	bool rec_have_leader;    /* leader of rec_view answered */
	uint64_t rec_sent_at;
	uint64_t rec_started;

	bool trust_quorum;       /* see ec_core_trust_quorum_flag */
	struct ec_lease lease;   /* lease.h */

	uint64_t now;
	/* The record ec_core_ready hands out: queued since the last
	 * ec_core_advance. */
	struct ec_out *out;
	size_t n_out, cap_out;
	struct ec_event *events;
	size_t n_events, cap_events;
	struct ec_core_stats stats;
};

static inline unsigned core_leader_of(const struct ec_core *c, uint32_t view)
{
	return ec_view_leader(view, c->o.n);
}

static inline bool core_is_leader(const struct ec_core *c)
{
	return core_leader_of(c, c->view) == c->o.self;
}

/* core.c */
void core_send(struct ec_core *c, enum ec_dest dest, unsigned replica,
	       const struct ec_addr *client, uint8_t type, uint64_t op,
	       const ProtobufCMessage *body);
void core_send_raw(struct ec_core *c, enum ec_dest dest, unsigned replica,
		   const struct ec_addr *client, uint8_t type, uint64_t op,
		   const uint8_t *body, size_t len);
void core_execute_committed(struct ec_core *c);
void core_set_commit(struct ec_core *c, uint64_t commit);
/* Answer a client without executing anything (NOT_LEADER, BAD_REQUEST,
 * ...). */
void core_reply_status(struct ec_core *c, const struct ec_addr *to,
		       const Ec__Request *req, Ec__Status status);
/* Record an event of kind, stamped with the state now, for the caller to
 * fill in; NULL out of memory (the event is lost: it is only logged). */
struct ec_event *core_event(struct ec_core *c, enum ec_event_kind kind);
/* Be in status in view from now on; a change is an event. */
void core_enter(struct ec_core *c, enum ec_status status, uint32_t view);
/* Stop whoever acknowledges for us and absorb what it acknowledged
 * (opts.quiesce): before leaving normal status or replacing log
 * entries. */
void core_quiesce(struct ec_core *c);
/* Stop: tell opts.fatal why (printf-style), then abort. */
_Noreturn void core_fatal(const struct ec_core *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* normal.c */
void normal_on_read(struct ec_core *c, const struct ec_msg *m,
		    const struct ec_addr *from);
void normal_on_request(struct ec_core *c, const struct ec_msg *m,
		       const struct ec_addr *from);
void normal_on_prepare(struct ec_core *c, const struct ec_msg *m);
void normal_on_prepare_ok(struct ec_core *c, const struct ec_msg *m);
void normal_on_commit(struct ec_core *c, const struct ec_msg *m);
void normal_leader_tick(struct ec_core *c);
void normal_follower_tick(struct ec_core *c);
void normal_prepare_queued(struct ec_core *c, bool partial);
void normal_drop_queue(struct ec_core *c);
void normal_reset_leader(struct ec_core *c);
void normal_send_prepare_ok(struct ec_core *c);
void normal_heard_from_leader(struct ec_core *c, const struct ec_msg *m);
void normal_absorb(struct ec_core *c, const void *buf, size_t len);
void normal_on_heartbeat_ok(struct ec_core *c, const struct ec_msg *m);

/* viewchange.c */
void vc_enter_normal(struct ec_core *c, uint64_t commit);
void vc_leave_view(struct ec_core *c, uint32_t view);
void vc_start(struct ec_core *c, uint32_t view);
void vc_join(struct ec_core *c, uint32_t view);
void vc_on_start_view_change(struct ec_core *c, const struct ec_msg *m);
void vc_on_do_view_change(struct ec_core *c, const struct ec_msg *m);
void vc_on_start_view(struct ec_core *c, const struct ec_msg *m);
void vc_tick(struct ec_core *c);
void vc_clear(struct ec_core *c);

/* transfer.c */
bool xfer_check_entries(struct ec_core *c, const struct ec_msg *m,
			Ec__LogEntry **entries, size_t n, bool exact,
			uint64_t last, uint64_t *from);
void xfer_stash_install(struct ec_core *c, uint32_t view, uint64_t from,
			uint64_t commit, unsigned source, ProtobufCMessage *msg,
			Ec__LogEntry **entries, size_t n);
bool xfer_try_install(struct ec_core *c);
void xfer_clear_pending(struct ec_core *c);
void xfer_request_state(struct ec_core *c);
void xfer_queue_log_tail(struct ec_core *c, uint8_t type, enum ec_dest dest,
			 unsigned to, uint64_t from);
uint32_t xfer_answer_window(uint32_t asked);
void xfer_chunk_seen(struct ec_core *c, bool more);
bool xfer_streaming(const struct ec_core *c);
uint64_t xfer_tail_start(const struct ec_core *c, uint64_t from);
Ec__LogEntry **xfer_build_entries(const struct ec_core *c, uint64_t first,
				  uint64_t last);
void xfer_on_get_state(struct ec_core *c, const struct ec_msg *m);
void xfer_on_new_state(struct ec_core *c, const struct ec_msg *m);
bool xfer_append_entries(struct ec_core *c, Ec__LogEntry **entries, size_t n);
bool xfer_place_committed(struct ec_core *c, Ec__LogEntry **entries, size_t n,
			  uint64_t sender_commit);
bool xfer_question_due(struct ec_core *c, enum ec_question kind, unsigned to,
		       uint64_t a, uint64_t b);

/* recovery.c */
void rec_on_recovery(struct ec_core *c, const struct ec_msg *m);
void rec_on_recovery_response(struct ec_core *c, const struct ec_msg *m);
void rec_tick(struct ec_core *c);
void rec_start(struct ec_core *c);
bool rec_view_known(const struct ec_core *c);

/* lease.c: see lease.h */

/* checkpoint.c */
void ckpt_maybe_take(struct ec_core *c, uint64_t op);
void ckpt_hint(struct ec_core *c, const struct ec_msg *m,
	       uint64_t snapshot_op);
bool ckpt_request(struct ec_core *c);
void ckpt_clear_fetch(struct ec_core *c);
void ckpt_on_get_snapshot(struct ec_core *c, const struct ec_msg *m);
void ckpt_on_snapshot(struct ec_core *c, const struct ec_msg *m);

#endif /* EC_REPLICA_CORE_INTERNAL_H */
