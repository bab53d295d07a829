/*
 * core.h - the replica's protocol core: Multi-Paxos, Viewstamped
 * Replication style.  Pure: datagrams and time in, datagrams out.  No
 * sockets, no clocks, no BPF; the libevent glue (main.c, io/io.c) feeds it
 * and sends what it queues, and the unit tests drive it the same way.
 *
 * One output record per turn (etcd-io/raft's Ready and Advance).  A turn
 * is what the glue hands over at once: what the kernel acknowledged
 * (ec_core_absorb), the datagrams of one receive (ec_core_receive each,
 * then ec_core_input_done), a tick (ec_core_tick).  Then it takes the
 * record (ec_core_ready): the datagrams to send, the state the offloads
 * mirror, the events to log; acts on it, and says so (ec_core_advance).
 * What comes in between turns (ec_core_checkpoint_done) goes into the
 * next record.  The core does no I/O and prints nothing, and its hooks
 * (struct ec_core_opts) hand it nothing while it runs.  The state machine
 * is app/exec.h's: the core orders requests, hands the committed ones
 * over in op order, and decides who is answered.
 *
 * Views 0,1,2...; the leader of view v is replica v mod n.  A replica is
 * in one of the statuses below.  Normal case: REQUEST -> PREPARE to all ->
 * PREPARE_OK from f followers -> commit, execute, REPLY; the commit number
 * rides on the next PREPARE or on a COMMIT heartbeat.
 *
 * One op carries a batch of requests (batch.h).  The leader queues the
 * requests it accepts and closes a batch when it is full (opts.batch
 * requests, or the next request would not fit one frame) or when nothing
 * more is waiting in what it has received (ec_core_input_done): at low
 * load a batch is one request, and nothing waits on a timer.  Requests
 * wait in the queue while the window of uncommitted ops is full and go
 * out together when it opens.  Replies, exactly-once and the client table stay
 * per request.
 *
 * Every opts.checkpoint_ops executed ops (or opts.checkpoint_bytes bytes
 * of them, whichever first) a replica takes a checkpoint of
 * its state (app/snapshot.h) and frees the log entries at or below its
 * previous checkpoint; a replica behind what the others still hold (or
 * restarted) fetches the latest checkpoint chunk by chunk (GET_SNAPSHOT,
 * SNAPSHOT), verifies it whole and installs it atomically, then goes on
 * from the log (checkpoint.c).
 */
#ifndef EC_REPLICA_CORE_H
#define EC_REPLICA_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "app/kv.h"
#include "membership.h"
#include "common/wire.h"

struct ec_kv;
struct ec_snapshot;

enum ec_status {
	EC_ST_NORMAL = 0,
	EC_ST_VIEW_CHANGE,
	EC_ST_RECOVERING,
};

/* A datagram, borrowed. */
struct ec_dgram {
	const uint8_t *buf;
	size_t len;
};

/* What opts.quiesce hands back: the PREPAREs acknowledged on the core's
 * behalf that it has not absorbed yet, and how far acknowledgements
 * went. */
struct ec_quiesced {
	const struct ec_dgram *acked; /* in op order */
	size_t n;
	uint64_t through;             /* every op up to this one was
				       * acknowledged (0: none) */
	uint64_t acked_at;            /* when it last acknowledged anything
				       * (a PREPARE or a heartbeat), on the
				       * core's clock (0: never): the core
				       * keeps that promise (core/lease.h) */
};

/* How the leader answers a GET. */
enum ec_reads {
	EC_READS_LOG,    /* through the log, like a write */
	EC_READS_LEASE,  /* from the executed state while it holds a lease
			  * (core/lease.h), else through the log */
};

struct ec_core_opts {
	unsigned n;                /* replicas, 1..EC_MAX_REPLICAS */
	unsigned self;             /* this replica's id */
	struct ec_members members; /* every replica's address (n of them):
				    * replica messages are taken only from
				    * the address of the replica they name */
	uint64_t heartbeat_us;     /* leader sends COMMIT after this much idle */
	uint64_t view_timeout_us;  /* follower starts a view change after this
				    * long without hearing from the leader */
	uint64_t retransmit_us;    /* leader resends PREPAREs a follower has not
				    * acknowledged after this long; also the
				    * retry interval of GET_STATE and view
				    * change messages */
	unsigned window;           /* max ops prepared but not committed */
	unsigned batch;            /* max requests per op, 1..EC_MAX_BATCH
				    * (1: no batching) */
	uint64_t client_expiry_ops;/* forget a client unseen for this many
				    * executed ops; 0: never (see
				    * app/client_table.h) */
	uint64_t checkpoint_ops;   /* take a checkpoint at the op where this
				    * many were executed since the last one,
				    * or where they carry checkpoint_bytes
				    * bytes of entries, whichever is first
				    * (0: no such bound), and keep the log
				    * only from the previous one on; both 0:
				    * never (the log is kept whole) */
	uint64_t checkpoint_bytes;
	struct ec_kv_limits kv_limits; /* the store's bounds (app/kv.h): every
				    * replica must have the same, or they
				    * answer writes differently; a snapshot
				    * with other bounds is refused */
	enum ec_reads reads;       /* changed at run time: ec_core_set_reads */
	bool test_lease_ignore_clock; /* TEST ONLY: a lease never expires
				    * (the stale-read test's negative
				    * control; never in production) */
	bool recovering;           /* restarted: recover state from peers */
	uint64_t nonce;            /* recovery nonce (random, nonzero) */
	/*
	 * Called before the core leaves normal status or replaces entries
	 * of its log.  Whoever acknowledges PREPAREs on the core's behalf
	 * (the fast-ack XDP program) must stop, and fill *q: every PREPARE
	 * it acknowledged and has not yet handed to ec_core_absorb, as data
	 * (valid until its owner is next called), and the op up to which it
	 * acknowledged.  last_op is the core's last op: the acknowledged ops
	 * above it are the ones that must be there, so the hook waits for
	 * any that are a moment away.  The hook must not call the core; the
	 * core then absorbs what it was given, and stops (opts.fatal) if its
	 * log still ends below q->through: its DO_VIEW_CHANGE must contain
	 * every op it acknowledged.  NULL when nothing acknowledges for the
	 * core.
	 */
	void (*quiesce)(void *arg, uint64_t last_op, struct ec_quiesced *q);
	void *quiesce_arg;
	/*
	 * The clock the glue reads for the times it hands in, in
	 * microseconds, read when a fresh reading matters: whether the lease
	 * still holds at the moment a read is answered (the time of the
	 * turn's input would be earlier, and stretch the lease), and how
	 * long taking a checkpoint stops the core (stats.checkpoint_us_*).
	 * NULL: no read is answered under a lease, no pause is measured.
	 */
	uint64_t (*clock)(void *arg);
	void *clock_arg;
	/*
	 * Taking checkpoints off the core's thread.  Called at the executed
	 * op a checkpoint is of; returns 0 if the checkpoint is taken
	 * elsewhere (ec_core_snapshot_take on a copy of the core as it is
	 * now, e.g. in a forked child) and handed to ec_core_checkpoint_done
	 * later, or -1 to have the core take it at once.  At most one is
	 * outstanding: checkpoint ops met meanwhile are skipped.  NULL: the
	 * core takes every checkpoint itself, stopping while it does.
	 */
	int (*checkpoint_async)(void *arg, uint64_t op, uint32_t view);
	void *checkpoint_arg;
	/*
	 * Told of every change to the store as it executes, and of the whole
	 * store when a snapshot replaces it (app/kv.h): the read offload
	 * keeps its copy of the values with it.  Called inside the turn,
	 * before the replies of what executed are queued.  Both NULL:
	 * nobody.
	 */
	struct ec_kv_observer store_observer;
	/*
	 * The core cannot go on: going on would make this replica diverge
	 * or break a promise it made (out of memory where nothing may be
	 * skipped, an acknowledged op its log cannot keep).  Called once,
	 * with what happened (one line, no newline), for the glue to log;
	 * it then aborts, and a restart recovers the state from the others
	 * (--recover).  If the hook returns, or is NULL, the core aborts
	 * itself.  (All else the core has to say comes out as events,
	 * struct ec_ready.)
	 */
	void (*fatal)(void *arg, const char *msg);
	void *fatal_arg;
};

/* Defaults for the timing fields (microseconds) and window. */
#define EC_DEFAULT_HEARTBEAT_US 10000
#define EC_DEFAULT_VIEW_TIMEOUT_US 200000
#define EC_DEFAULT_RETRANSMIT_US 20000
#define EC_DEFAULT_WINDOW 32
#define EC_MAX_WINDOW 32
#define EC_DEFAULT_CHECKPOINT_OPS 100000
/* 16 MiB: with batches of about ten requests a checkpoint every 2 or 3 s
 * at this VM's peak, and a restarted replica fetches at most that much
 * log after the checkpoint (about 0.3 s here). */
#define EC_DEFAULT_CHECKPOINT_BYTES (16ULL << 20)
#define EC_DEFAULT_CLIENT_EXPIRY_OPS 10000000

/* Where a queued datagram goes. */
enum ec_dest {
	EC_TO_REPLICA, /* replica id in .replica */
	EC_TO_ALL,     /* every other replica (the broadcast offload's job) */
	EC_TO_CLIENT,  /* .client */
};

struct ec_out {
	enum ec_dest dest;
	unsigned replica;
	struct ec_addr client;
	uint8_t type;        /* message type, for counters and offload switches */
	size_t len;
	uint8_t *buf;        /* the whole datagram, owned by the core; the
			      * glue may set flags in its header (EC_F_TO_ALL)
			      * before it sends it */
};

/* Counters kept by the core (shown by the control interface). */
struct ec_core_stats {
	struct ec_parse_stats parse;
	struct ec_member_stats member;    /* dropped: sender not who it says */
	uint64_t rx[EC_MSG_TYPE_MAX];     /* accepted, by type */
	uint64_t tx[EC_MSG_TYPE_MAX];     /* queued, by type (TO_ALL counts once) */
	uint64_t ignored[EC_MSG_TYPE_MAX];/* parsed but dropped (stale view...) */
	uint64_t view_changes;            /* views this replica entered */
	uint64_t retransmits;             /* PREPAREs resent */
	uint64_t gap_requests;            /* GET_STATEs sent */
	uint64_t duplicate_requests;      /* client retries answered from cache */
	uint64_t queued_requests;         /* requests that waited for window */
	uint64_t batches;                 /* ops prepared as leader */
	uint64_t batched_requests;        /* requests in them */
	uint64_t malformed_batches;       /* log entries that did not decode:
					   * executed as nothing, on every
					   * replica alike */
	uint64_t invalid_logged;          /* requests in the log that are not
					   * valid ops: never executed */
	uint64_t sessions_expired;        /* requests answered SESSION_EXPIRED */
	uint64_t clients_expired;         /* client records dropped by expiry */
	uint64_t absorbed;                /* PREPAREs acknowledged in the kernel
					   * (those of a view left count in
					   * ignored too) */
	uint64_t quorum_commits;          /* commits learnt from EC_F_QUORUM */
	uint64_t absorbed_heartbeats;     /* COMMITs acknowledged in the kernel */
	/* Leases and reads (core/lease.h). */
	uint64_t lease_renewals;          /* the lease was extended */
	uint64_t reads_lease;             /* GETs answered under the lease */
	uint64_t reads_log;               /* GETs ordered through the log */
	uint64_t reads_lease_expired;     /* ... because the lease had run out
					   * when the read was answered */
	uint64_t reads_closed;            /* ... because reads were not open
					   * (not the leader, not normal, or
					   * not every inherited op executed) */
	uint64_t reads_behind;            /* ... because the client had seen a
					   * later op than we executed */
	uint64_t promise_waits;           /* view changes whose DO_VIEW_CHANGE
					   * waited for a promise to the old
					   * leader to end */
	/* Checkpoints (the pause: the fork, or the serialization). */
	uint64_t checkpoints;             /* taken */
	uint64_t checkpoint_failures;     /* out of memory: skipped */
	uint64_t checkpoint_skipped;      /* met while one was outstanding */
	uint64_t checkpoint_us_total;     /* time spent taking them */
	uint64_t checkpoint_us_max;       /* longest single pause */
	uint64_t checkpoint_bytes;        /* size of the latest */
	uint64_t log_compacted;           /* entries freed by compaction */
	/* Snapshot state transfer. */
	uint64_t snapshot_chunks_sent;
	uint64_t snapshot_chunks_received;/* accepted in order */
	uint64_t snapshot_restarts;       /* fetch restarted from 0: the
					   * sender's checkpoint changed */
	uint64_t snapshot_bad;            /* complete but wrong digest or
					   * not decodable: fetched again */
	uint64_t snapshot_timeouts;       /* fetch dropped, no progress */
	uint64_t snapshot_limits_mismatch;/* complete and sound, but taken
					   * with other store bounds than
					   * ours: refused (misconfigured
					   * cluster), fetched again */
	uint64_t snapshots_installed;
};

struct ec_core_state {
	enum ec_status status;
	uint32_t view;
	unsigned leader;
	uint64_t op;         /* last op in the log */
	uint64_t commit;     /* last committed op */
	uint64_t executed;   /* last op applied to the store */
	uint64_t log_base;   /* ops up to here compacted away */
	uint64_t checkpoint; /* op of the latest checkpoint (0: none) */
	enum ec_reads reads; /* how the leader answers GETs */
	uint64_t lease_until;/* leader: its lease holds while the clock reads
			      * below this (0: none) */
	bool reads_open;     /* leader: every inherited op executed */
	uint64_t promise_until; /* no DO_VIEW_CHANGE before this */
};

/* Something that happened, for the glue to log. */
enum ec_event_kind {
	EC_EV_STATUS,             /* status or view changed: see .state */
	EC_EV_RECOVERED,          /* a restarted replica is normal again */
	EC_EV_SNAPSHOT_INSTALLED, /* replica .replica's checkpoint at .op
				   * replaced the store and client table */
	EC_EV_SNAPSHOT_REFUSED,   /* replica .replica's checkpoint at .op is
				   * sound but was taken with the store bounds
				   * .theirs, not ours (.ours): refused, and
				   * fetched again (misconfigured cluster) */
	EC_EV_CHECKPOINT,         /* the checkpoint at .op (.bytes) is kept */
	EC_EV_CHECKPOINT_FAILED,  /* taking the one at .op failed (out of
				   * memory, or checkpoint_async's taker): the
				   * previous checkpoint and the log stay */
	EC_EV_MAX,                /* the number of kinds */
};

struct ec_event {
	enum ec_event_kind kind;
	struct ec_core_state state; /* the core's, just after it happened */
	uint64_t op;
	unsigned replica;
	uint64_t bytes;
	struct ec_kv_limits theirs, ours;
};

/*
 * What the core produced since the last ec_core_advance.  Everything
 * points into the core and stays valid until ec_core_advance; meanwhile
 * nothing may be handed to the core (its const getters may be called).
 */
struct ec_ready {
	struct ec_out *out;          /* datagrams to send, in order */
	size_t n_out;
	struct ec_core_state state;  /* now: what the offloads mirror (view,
				      * role, commit, the next op to fast-ack)
				      * before the datagrams leave */
	const struct ec_event *events; /* in the order they happened */
	size_t n_events;
};

struct ec_core;

/* Fill *o with defaults for replica self of n; the caller fills in
 * o->members. */
void ec_core_opts_default(struct ec_core_opts *o, unsigned n, unsigned self);

/* Create a core at time now (us, any monotonic origin).  NULL on bad
 * options or no memory. */
struct ec_core *ec_core_new(const struct ec_core_opts *o, uint64_t now);
void ec_core_free(struct ec_core *c);

/* Hand the core one received datagram.  from is the sender's address
 * (checked against the members, used to reply to clients; NULL: unknown,
 * only a REQUEST is then taken).  Invalid input is counted, never fatal. */
void ec_core_receive(struct ec_core *c, const void *buf, size_t len,
		     const struct ec_addr *from, uint64_t now);

/*
 * Hand the core a PREPARE datagram that was already acknowledged on its
 * behalf (stored by the fast-ack XDP program).  It is appended exactly as
 * if it had been received, but no PREPARE_OK is sent.  Must be called, in
 * order, before any datagram that arrived after it is received (the
 * core absorbs what opts.quiesce hands back itself).  One of a view the
 * core has left is a duplicate (quiesce saw its op in the log then) and
 * is ignored.
 */
void ec_core_absorb(struct ec_core *c, const void *buf, size_t len,
		    uint64_t now);

/* Believe PREPARE_OKs flagged EC_F_QUORUM (set by the leader's
 * wait-on-quorum XDP program) only while that program is on: then the
 * flagged ack stands for a quorum of acks for (view, op). */
void ec_core_trust_quorum_flag(struct ec_core *c, bool on);

/* Everything received for now has been handed over (the glue calls this
 * after each batch of datagrams): the leader prepares what it queued. */
void ec_core_input_done(struct ec_core *c);

/* Change opts.reads at run time. */
void ec_core_set_reads(struct ec_core *c, enum ec_reads reads);

/* Change opts.batch at run time; -1 (nothing changed) if out of range. */
int ec_core_set_batch(struct ec_core *c, unsigned batch);
unsigned ec_core_batch(const struct ec_core *c);

/* Serialize the core's state as the checkpoint of op (prepared in view):
 * what a checkpoint_async hook runs on its copy of the core.  0, or -1
 * out of memory. */
int ec_core_snapshot_take(const struct ec_core *c, uint64_t op,
			  uint32_t view, struct ec_snapshot *out);

/* The checkpoint a checkpoint_async hook took: snap (the core takes its
 * bytes), or NULL when it failed (the previous checkpoint stays). */
void ec_core_checkpoint_done(struct ec_core *c, struct ec_snapshot *snap);

/* Advance timers: heartbeats, retransmission, view change, recovery. */
void ec_core_tick(struct ec_core *c, uint64_t now);

/* The record of what happened since the last ec_core_advance (see
 * struct ec_ready). */
void ec_core_ready(struct ec_core *c, struct ec_ready *rd);

/* The glue is done with the record: the core frees its datagrams and
 * events and starts the next. */
void ec_core_advance(struct ec_core *c);

void ec_core_get_state(const struct ec_core *c, struct ec_core_state *s);
const struct ec_core_stats *ec_core_stats(const struct ec_core *c);
const struct ec_kv *ec_core_kv(const struct ec_core *c);

const char *ec_status_name(enum ec_status s);

/* "log" or "lease"; ec_reads_parse: 0, or -1 if name is neither. */
const char *ec_reads_name(enum ec_reads r);
int ec_reads_parse(const char *name, enum ec_reads *r);

#endif /* EC_REPLICA_CORE_H */
