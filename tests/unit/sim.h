/*
 * sim.h - a deterministic in-memory network for driving protocol cores in
 * unit tests: no sockets, simulated time, packets that can be dropped,
 * duplicated and reordered by a seeded generator.
 */
#ifndef EC_TEST_SIM_H
#define EC_TEST_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "app/snapshot.h"
#include "core/core.h"
#include "sim_kernel.h"

#define SIM_CLIENT 100 /* endpoint ids >= this are clients */

struct sim_pkt {
	unsigned from, to; /* replica id, or SIM_CLIENT + client index */
	uint8_t type;
	size_t len;
	uint8_t *buf;
	uint64_t due;      /* not delivered before this time */
};

struct sim;

/* What a replica's quiesce (ec_core_opts.quiesce) handed its core: the
 * kernel model's records, taken from it as offload.c reads them from the
 * ring, the sim's until the next quiesce. */
struct sim_quiesced {
	uint8_t **buf;
	struct ec_dgram *dgram;
	size_t n;
	uint64_t acked_through; /* the fast ack closed by kern_sync: acked up
				 * to here, for the next quiesce to report */
};

/* Return true to drop the packet. */
typedef bool sim_filter_fn(struct sim *s, const struct sim_pkt *p, void *arg);

/* ec_core_opts.checkpoint_async, for sim_set_checkpoint_async. */
typedef int sim_checkpoint_async_fn(void *arg, uint64_t op, uint32_t view);

struct sim {
	unsigned n;
	struct ec_core *r[EC_MAX_REPLICAS];
	bool down[EC_MAX_REPLICAS];
	struct ec_core_opts opts;
	uint64_t now;
	struct sim_pkt *q;
	size_t q_len, q_cap;
	uint64_t rng;
	unsigned loss_pct, dup_pct; /* random loss/duplication, percent */
	bool reorder;
	uint64_t delay_us[EC_MSG_TYPE_MAX]; /* per message type, on the way
					     * to a replica */
	sim_filter_fn *filter;
	void *filter_arg;
	bool kernel_fastack, kernel_quorum; /* model the XDP offloads */
	bool kernel_lazy;  /* absorb kernel records only when a datagram
			    * for that replica arrives (never on ticks);
			    * heartbeats then go up unacked */
	struct sim_kernel kern[EC_MAX_REPLICAS]; /* the XDP program of each
						  * replica, modelled */
	struct sim_quiesced quiesced[EC_MAX_REPLICAS];
	/* The events each core reported (struct ec_ready), counted by
	 * kind, and the latest of each kind. */
	uint64_t events[EC_MAX_REPLICAS][EC_EV_MAX];
	struct ec_event last_event[EC_MAX_REPLICAS][EC_EV_MAX];
	/* Replies received by clients, latest per client index. */
	struct {
		bool have;
		uint64_t request_id;
		int status;
		bool found;
		char value[600];
		uint32_t view;
		uint64_t commit;   /* the header's: a hello's answer */
		uint64_t op;       /* Reply.op: the op the answer reflects */
		bool lease;        /* answered under the leader's lease */
		unsigned from;     /* the replica that answered */
		uint64_t at;       /* when it arrived (simulated time) */
	} reply[64];
	uint64_t session_op[64]; /* what each client's requests carry */
	struct {
		sim_checkpoint_async_fn *fn;
		void *arg;
	} checkpoint_async[EC_MAX_REPLICAS]; /* sim_set_checkpoint_async */
	int64_t skew_ppm[EC_MAX_REPLICAS]; /* sim_set_skew_ppm */
	enum ec_reads reads;               /* sim_set_reads */
	bool lease_ignore_clock;           /* sim_set_lease_ignore_clock */
	bool read_msg;                     /* sim_request sends GETs as READs */
	bool kernel_read;                  /* model the read offload
					    * (sim_new_reads) */
	uint64_t delivered;
};

struct sim *sim_new(unsigned n, uint64_t seed);

/* Same, with the XDP offloads modelled (see struct sim_kernel). */
struct sim *sim_new_offload(unsigned n, uint64_t seed, bool fastack,
			    bool quorum);

/* Same with the read offload modelled too, on a read cache of
 * SIM_READ_SLOTS slots per replica kept by its store observer; clients'
 * GETs go as READs (read_msg).  The model's lease check is skipped while
 * kern[i].read_ignore_lease (TEST ONLY, the negative control). */
#define SIM_READ_SLOTS 256
struct sim *sim_new_reads(unsigned n, uint64_t seed, bool fastack,
			  bool quorum);
void sim_free(struct sim *s);

/* Stop replica i (its packets are dropped) / restart it with an empty
 * state in recovery. */
void sim_crash(struct sim *s, unsigned i);
void sim_restart(struct sim *s, unsigned i);

/* Client `client` sends a request to replica `to`. kind is EC__OP_KIND__*;
 * value/expected may be NULL. */
void sim_request(struct sim *s, unsigned client, unsigned to,
		 uint64_t request_id, int kind, const char *key,
		 const char *value, const char *expected);

/* Client `client` sends a hello (request_id 0, no op) to replica `to`. */
void sim_hello(struct sim *s, unsigned client, unsigned to);

/* Deliver packets until none is due (bounded); returns packets delivered. */
uint64_t sim_deliver(struct sim *s);

/* Same, only the packets match returns true for: the others stay on the
 * network, in order, and a replica is flushed once no packet it is to be
 * handed is due. */
typedef bool sim_match_fn(const struct sim_pkt *p, void *arg);
uint64_t sim_deliver_matching(struct sim *s, sim_match_fn *match, void *arg);

/* Advance time by `us` in steps of `step` us, ticking every live replica
 * and delivering after each step. */
void sim_run(struct sim *s, uint64_t us, uint64_t step);

/* Current leader if some live replica is normal and leads its view, and a
 * majority is normal in that view; else -1. */
int sim_leader(const struct sim *s);

/* State of replica i. */
void sim_state(const struct sim *s, unsigned i, struct ec_core_state *st);

/* Check that all live replicas' logs agree up to the smallest commit and
 * that equal commit numbers mean equal store digests.  Returns NULL or a
 * description of the violation. */
const char *sim_check_agreement(const struct sim *s);

/* Whether replica i holds op in its log (above its base); if so *digest
 * is a hash of the entry's view and bytes, equal for equal entries. */
bool sim_entry_digest(const struct sim *s, unsigned i, uint64_t op,
		      uint64_t *digest);

/* The UDP address of replica i (its member address) / of client c. */
struct ec_addr sim_addr(unsigned i);
struct ec_addr sim_client_addr(unsigned c);

/* Move replica i's queued outputs onto the network (sim_deliver and
 * sim_run do it for every replica). */
void sim_collect(struct sim *s, unsigned i);

/* Checkpoint every k ops / every b bytes of entries (whichever first) on
 * every replica, now and after restarts. */
void sim_set_checkpoint_ops(struct sim *s, uint64_t k);
void sim_set_checkpoint_bytes(struct sim *s, uint64_t b);

/* Forget clients unseen for this many executed ops, on every replica, now
 * and after restarts (ec_core_opts.client_expiry_ops). */
void sim_set_client_expiry_ops(struct sim *s, uint64_t ops);

/* How the leaders answer GETs (opts.reads), on every replica now and
 * after restarts. */
void sim_set_reads(struct sim *s, enum ec_reads reads);

/* TEST ONLY, like the daemon's --test-lease-ignore-clock: leases never
 * run out (negative controls), on every replica now and after restarts. */
void sim_set_lease_ignore_clock(struct sim *s, bool on);

/* Replica i's clock runs ppm parts per million fast (negative: slow),
 * like the daemon's --clock-skew-ppm: every time handed to its core, and
 * its kernel model's stamps, are read on it.  Its clock counts from the
 * simulation's start, so set it before running. */
void sim_set_skew_ppm(struct sim *s, unsigned i, int64_t ppm);

/* The simulated time as replica i's clock reads it. */
uint64_t sim_now_of(const struct sim *s, unsigned i);

/* Requests per op on every replica, now and after restarts. */
void sim_set_batch(struct sim *s, unsigned batch);

/* Replica i takes its checkpoints through fn (ec_core_opts.
 * checkpoint_async, called with arg), now and after restarts. */
void sim_set_checkpoint_async(struct sim *s, unsigned i,
			      sim_checkpoint_async_fn *fn, void *arg);

/* Shorthands for tests. */
struct ec_core_state sim_st(const struct sim *s, unsigned i);
const struct ec_core_stats *sim_stats(const struct sim *s, unsigned i);
void sim_put(struct sim *s, unsigned client, unsigned to, uint64_t rid,
	     const char *key, const char *value);

/* Hand replica `to` a datagram straight from address `from` (no filter,
 * loss or kernel model), then move its outputs onto the network. */
void sim_receive_at(struct sim *s, unsigned to, const struct ec_addr *from,
		    const uint8_t *buf, size_t len);
/* Same, from replica `from`'s own address. */
void sim_receive_from(struct sim *s, unsigned to, unsigned from,
		      const uint8_t *buf, size_t len);

/* An encoded PUT Request of key=value by client_id, request_id rid, into
 * buf (at least 32 + strlen(key) + strlen(value) bytes); returns its
 * length. */
size_t sim_put_request(uint8_t *buf, uint64_t client_id, uint64_t rid,
		       const char *key, const char *value);

/* The encoded Batch (a PREPARE body) of one encoded request, into out
 * (at least len + 8 bytes); returns its length. */
size_t sim_batch_of(uint8_t *out, const uint8_t *req, size_t len);

/* Put a datagram on the network, sent now by endpoint `from` (a replica
 * id or SIM_CLIENT + client index: it comes from that address) to replica
 * `to`; sim_deliver hands it over like any other, through the kernel
 * model.  buf may be anything, a datagram of no known type included. */
void sim_send(struct sim *s, unsigned from, unsigned to, const uint8_t *buf,
	      size_t len);

/* A PREPARE of op in view from `leader`, carrying body, into buf (at
 * least sizeof(struct ec_hdr) + len bytes); returns its length. */
size_t sim_prepare_dgram(uint8_t *buf, uint8_t leader, uint32_t view,
			 uint64_t op, const uint8_t *body, size_t len);

/* A NEW_STATE from replica `from` (view, its op and commit number
 * `commit`) pointing at its checkpoint of op snapshot_op: the answer to a
 * GET_STATE for committed entries below its log, into buf (at least 64
 * bytes); returns its length. */
size_t sim_pointer_dgram(uint8_t *buf, uint8_t from, uint32_t view,
			 uint64_t commit, uint64_t snapshot_op);

/* A filter (struct sim.filter) that drops packets of one type (any: -1)
 * going to the replicas in to_mask (any: 0) while on, counting them. */
struct sim_drop_rule {
	int type;
	unsigned to_mask;
	bool on;
	unsigned count;
};
bool sim_drop_by_rule(struct sim *s, const struct sim_pkt *p, void *arg);

/* Uniform random number below n. */
unsigned sim_rand(struct sim *s, unsigned n);

/*
 * A view of the cores for the tests.  The tests drive a core through its
 * interface (core.h: ec_core_get_state, ec_core_stats, ec_core_kv and the
 * calls that feed it); what they check beyond that is read here, and
 * sim.c is the one test file that includes the core's private header
 * (internal.h, struct ec_core).  When the core's private state changes,
 * these are mended and the tests stay.
 */

/* An entry of a replica's log: the view it was prepared in and its bytes
 * (an encoded Batch, batch.h). */
struct sim_entry {
	uint32_t view;
	const uint8_t *body;
	size_t len;
};

/* Whether replica i holds op in its log (above its base); if so fills *e,
 * whose bytes are the core's, valid until it next runs. */
bool sim_log_at(const struct sim *s, unsigned i, uint64_t op,
		struct sim_entry *e);

/* Slots replica i's log has allocated (memory, not entries held). */
uint64_t sim_log_slots(const struct sim *s, unsigned i);

/* Replica i's latest checkpoint, and the one before it (the log is kept
 * from that one on); op 0: none.  Its bytes are the state at its op.  The
 * core's own: it changes as the core runs, and is gone when replica i
 * restarts. */
const struct ec_snapshot *sim_checkpoint(const struct sim *s, unsigned i);
const struct ec_snapshot *sim_prev_checkpoint(const struct sim *s,
					      unsigned i);

/* The checkpoint replica i is fetching from another (checkpoint.c): from
 * which replica, which op, bytes received in order of how many (total 0:
 * no chunk yet).  Nothing of it is used until it is whole. */
struct sim_fetch {
	bool active;
	unsigned source;
	uint64_t op, offset, total;
};
struct sim_fetch sim_snapshot_fetch(const struct sim *s, unsigned i);

/* The core's transfer sizes, for tests that count chunks: bytes of a
 * checkpoint one SNAPSHOT carries, chunks one answer carries at most. */
extern const size_t sim_snap_chunk;
extern const unsigned sim_transfer_window;

/* The highest op follower f acknowledged to leader l in l's view (what
 * l counts towards a quorum). */
uint64_t sim_acked(const struct sim *s, unsigned l, unsigned f);

/* Whether replica i, changing view, has taken a DO_VIEW_CHANGE from
 * replica `from` (from itself: it has sent its own). */
bool sim_has_do_view_change(const struct sim *s, unsigned i, unsigned from);

/* Whether replica i holds a view's log tail waiting for its committed
 * prefix to reach it (transfer.c: the pending install). */
bool sim_pending_install(const struct sim *s, unsigned i);

/* A recovering replica i: the nonce its RECOVERY carries, and the
 * replicas whose RECOVERY_RESPONSE to it counted (a bit each). */
uint64_t sim_recovery_nonce(const struct sim *s, unsigned i);
uint32_t sim_recovery_responses(const struct sim *s, unsigned i);

/* Replica i's client table: the newest request it executed of client
 * `client` (sim_request's client index; 0: none, or no record), and how
 * many clients it holds records of. */
uint64_t sim_client_executed(const struct sim *s, unsigned i, unsigned client);
size_t sim_clients(const struct sim *s, unsigned i);

/*
 * Test hooks: they reach into a core to build a case no sequence of
 * messages to a correct core can, and say so in their name.
 */

/* What replica i's view timeout would do, at once: it starts a view
 * change to its view + 1, its START_VIEW_CHANGEs put on the network
 * undelivered (a timeout of one replica alone, without moving the
 * clock: the fuzz scenarios replay from that exact state). */
void sim_hook_view_timeout(struct sim *s, unsigned i);

/* A broken leader: replica i appends body to its log as the next op of
 * its view, without the checks a request goes through, and sends it to
 * every other replica as a PREPARE like any other.  Returns the op, 0
 * when out of memory. */
uint64_t sim_hook_log_as_leader(struct sim *s, unsigned i, const uint8_t *body,
				size_t len);

#endif /* EC_TEST_SIM_H */
