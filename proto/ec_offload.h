/*
 * ec_offload.h - the interface between the replica and its BPF programs.
 *
 * Like ec_wire.h this is shared by user space and BPF, so its layouts are
 * fixed: explicit widths and padding, sizes pinned below.  Two objects use
 * it:
 *   bpf/ec_broadcast.bpf.c  TC egress: clone a "to all" packet to every peer
 *   bpf/ec_xdp.bpf.c        XDP: follower fast ack, leader wait-on-quorum,
 *                           leader reads (READ answered from the cache)
 *
 * Topology (peers, own id, interface) is read-only data set by the loader
 * before load.  What changes at run time (switches, view, role, op
 * numbers) lives in the objects' .bss, which user space maps and updates
 * with atomic operations, no syscall per update.
 */
#ifndef EC_OFFLOAD_H
#define EC_OFFLOAD_H

#include <linux/types.h>
#include <stdbool.h>

#include "ec_wire.h"

/* The offloads.  Each has a switch word in which bit (1 << msg type) turns
 * it on for that message type. */
enum ec_offload_kind {
	EC_OFFLOAD_BROADCAST = 0, /* TC: PREPARE, COMMIT, START_VIEW_CHANGE,
				   * START_VIEW, RECOVERY.  User space reads
				   * this switch when it marks a datagram
				   * EC_F_TO_ALL; the TC program clones every
				   * marked datagram, so a flip never leaves
				   * a peer without its copy */
	EC_OFFLOAD_FASTACK = 1,   /* XDP follower: PREPARE, COMMIT (the
				   * heartbeat) */
	EC_OFFLOAD_QUORUM = 2,    /* XDP leader: PREPARE_OK */
	EC_OFFLOAD_READ = 3,      /* XDP leader: READ */
	EC_OFFLOAD_MAX = 4,
};

/* skb->mark on clones made by the broadcast program: a marked packet that
 * re-enters the egress hook passes untouched (no recursion). */
#define EC_CLONE_MARK 0xec0c1013u

/* One replica's address, as the BPF programs rewrite and check frames.
 * Only ids below the program's ec_n are read. */
struct ec_bpf_peer {
	__be32 ip;
	__be16 port;
	__u8 mac[6];
	__u8 pad[4];
};
_Static_assert(sizeof(struct ec_bpf_peer) == 16, "shared layout");

/* XDP run-time state, one instance in ec_xdp.bpf.c's .bss. */
struct ec_xdp_state {
	__u32 switches[EC_OFFLOAD_MAX]; /* FASTACK, QUORUM and READ are read */
	__u32 view;       /* our view */
	__u32 leader;     /* leader of that view */
	__u32 lead;       /* 1: we are the leader of view in normal status */
	__u32 quorum;     /* leader: follower acks that make a quorum
			   * (ec_quorum_followers, replica/core/quorum.h) */
	__u64 expected;   /* follower: EC_FA_WORD(view, epoch, next op the
			   * kernel may fast-ack); 0 = fast ack closed (not
			   * normal, leader, ...).  The kernel advances it
			   * with compare-and-swap; user space closes it with
			   * an atomic exchange and reopens it with a new
			   * epoch, so a program run that read it before a
			   * close cannot store into the reopened window, and
			   * the view tag is checked from the very word that
			   * is swapped, whatever order loads complete in */
	__u64 commit;     /* leader: commit number user space knows */
	/* The read offload (below): */
	__u64 read_word;  /* EC_READ_WORD(view, generation) while the leader
			   * answers reads (normal status, --reads lease,
			   * every inherited op executed); 0: closed */
	__u64 lease_until_ns; /* the lease: a read is answered only while
			       * bpf_ktime_get_boot_ns() is below this */
	__u64 applied_op; /* the last op whose writes are in read_cache */
};
_Static_assert(sizeof(struct ec_xdp_state) == 72, "shared layout");

#define EC_FA_OP_MASK ((1ULL << 48) - 1)
#define EC_FA_OP(w) ((w) & EC_FA_OP_MASK)
#define EC_FA_VIEW_TAG(w) ((__u32)((w) >> 56))
#define EC_FA_WORD(view, epoch, op)                                  \
	((((__u64)(view) & 0xff) << 56) | (((__u64)(epoch) & 0xff) << 48) | \
	 ((__u64)(op) & EC_FA_OP_MASK))

/* Per-slot ack bitsets of the leader: slot op % EC_QUORUM_SLOTS holds a
 * tag (op and the low byte of the view) and the bitmask of followers that
 * acked op in that view.  User space writes the tag when it prepares op;
 * the kernel ORs bits in with compare-and-swap against a word carrying
 * the ack's own op and view, so an ack for another op, or from another
 * view (even one read before a view change), never lands in it. */
#define EC_QUORUM_SLOTS 1024
#define EC_SLOT_TAG(op, view) \
	(((__u64)(op) << 24) | ((__u64)((view) & 0xff) << 16))
#define EC_SLOT_MATCHES(w, op, view) \
	(((w) & ~0xffffULL) == EC_SLOT_TAG(op, view))
#define EC_SLOT_BITS(w) ((__u32)((w) & 0xffff))

/*
 * The follower's promises (core/lease.h).  Before the XDP program lets an
 * acknowledgement of its leader out (a PREPARE_OK or a HEARTBEAT_OK), it
 * stores bpf_ktime_get_boot_ns() in ec_promise_ns[its CPU] in .bss: one
 * slot per CPU, for the CPUs below ec_promise_cpus (read-only data the
 * loader sets: the possible CPUs, at most EC_PROMISE_CPUS); on any other
 * CPU it acknowledges nothing (EC_XDP_FA_NO_CPU, EC_XDP_HB_NO_CPU).
 * Who writes: the program alone, and a slot only from its own CPU, where
 * XDP runs in softirq with migration disabled, so runs on one CPU follow
 * one another: one writer per slot, a plain 8-byte store, no atomics.
 * Who reads: user space, when it quiesces the fast ack, taking the newest
 * slot as when the kernel last promised.  Why that is every promise: the
 * stamp is stored before the compare-and-swap on ec_state.expected that
 * lets the ack out (fully ordered, and made for heartbeats too, onto the
 * word itself), so a reader that closed the window with its exchange and
 * then reads the slots sees the stamp of every ack sent, and no ack is
 * sent after the exchange.  The reading is taken after the frame arrived,
 * so it is no earlier than the leader's send: what the lease counts from.
 */
#define EC_PROMISE_CPUS 256

/* A PREPARE or a COMMIT the follower's XDP program acknowledged: the UDP
 * payload (ec_hdr + body), as a ring buffer record of fixed size. */
#define EC_FA_DATA_MAX (sizeof(struct ec_hdr) + EC_MAX_ENTRY_BODY)
struct ec_fa_record {
	__u32 len;
	__u32 pad;
	__u8 data[EC_FA_DATA_MAX];
};

/*
 * The read offload.  Every replica keeps a copy of its executed values in
 * read_cache, a BPF_F_MMAPABLE array of struct ec_read_slot that user
 * space maps: one slot per key hash (ec_read_hash & ec_read_mask, the
 * number of slots a power of two set at start), a key whose slot holds
 * another key is simply not cached.  Only the event loop writes it, when
 * it executes an op, before that op's reply is queued, as a seqlock: seq
 * made odd, the fields written, seq made even (release stores).  After
 * the writes of op k it stores applied_op = k (release).  DELETE empties
 * the key's slot; installing a snapshot empties all and refills them from
 * the store while reads are closed (a follower installs).
 *
 * The leader's XDP program answers a READ for key K only if, checked
 * after the value was copied out: the read switch is on for READ;
 * read_word was nonzero before the copy and is unchanged after it;
 * bpf_ktime_get_boot_ns() is below lease_until_ns; the slot's seq was
 * even and is unchanged (read with a fully ordered atomic), and it holds
 * K; applied_op, read before the slot, is at least the READ's min_op.
 * The answer says applied_op (the value reflects at least that).
 * Anything else passes the frame up untouched: user space answers it.
 * User space closes read_word (store 0) before anything it sends after
 * leaving the view or the lease's rules, and publishes lease_until_ns
 * before it opens read_word with a new generation.
 */
#define EC_READ_VALUE_MAX 256 /* longer values are not cached */
#define EC_READ_DEFAULT_SLOTS 65536
#define EC_READ_MAX_SLOTS (1u << 22)
#define EC_READ_WORD(view, gen) (((__u64)(view) << 32) | ((gen) & 0xffffffffu))

enum ec_read_slot_flags {
	EC_RS_TOO_LARGE = 1u << 0, /* holds key, but its value is longer than
				    * EC_READ_VALUE_MAX: not cached */
};

struct ec_read_slot {
	__u32 seq;        /* odd while user space writes the slot */
	__u32 hash;       /* ec_read_hash of key */
	__u8 key_len;     /* 0: empty */
	__u8 flags;       /* enum ec_read_slot_flags */
	__u16 value_len;
	__u32 pad;
	__u8 key[EC_MAX_KEY];
	__u8 value[EC_READ_VALUE_MAX];
};
_Static_assert(sizeof(struct ec_read_slot) % 8 == 0,
	       "an array map's value stride is rounded up to 8: keep it exact");
_Static_assert(sizeof(struct ec_read_slot) == 336, "shared layout");

/* FNV-1a of the key, the same in user space and BPF (a loop the verifier
 * bounds: len is at most EC_MAX_KEY). */
static inline __u32 ec_read_hash(const __u8 *key, __u32 len)
{
	__u32 h = 2166136261u;

	for (__u32 i = 0; i < EC_MAX_KEY; i++) {
		if (i >= len)
			break;
		h = (h ^ key[i]) * 16777619u;
	}
	return h;
}

/* Verdicts, counted per CPU in each object's `counters` array.  Keep the
 * names in replica/offload/switches.c in step.  replica/control/offload_cmds.c sums
 * the fast-ack verdicts of PREPAREs, those of heartbeats and the quorum
 * verdicts as ranges: add new ones inside their group. */
enum ec_tc_verdict {
	EC_TC_CLONED = 0,        /* one per clone sent */
	EC_TC_BROADCAST,         /* "to all" originals consumed */
	EC_TC_PASS_NOT_EC,       /* not an electrode-c datagram from us */
	EC_TC_PASS_NOT_TO_ALL,   /* ours, but not marked to all */
	EC_TC_PASS_CLONE,        /* a clone re-entering the hook */
	EC_TC_CLONE_FAILED,      /* bpf_clone_redirect error (per peer) */
	EC_TC_MAX,
};

enum ec_xdp_verdict {
	EC_XDP_PASS_NOT_EC = 0,  /* not an electrode-c datagram for us */
	EC_XDP_PASS_OTHER,       /* ours, a type no offload handles */
	/* follower fast ack (PREPARE) */
	EC_XDP_FA_ACKED,         /* stored and answered with XDP_TX */
	EC_XDP_FA_OFF,           /* switch off */
	EC_XDP_FA_CLOSED,        /* not a normal follower right now */
	EC_XDP_FA_VIEW,          /* view differs from ours */
	EC_XDP_FA_NOT_LEADER,    /* not from our view's leader */
	EC_XDP_FA_GAP,           /* op beyond the next expected */
	EC_XDP_FA_OLD,           /* op already held (duplicate, resend) */
	EC_XDP_FA_OVERSIZED,     /* body too large to store */
	EC_XDP_FA_FULL,          /* ring buffer full */
	EC_XDP_FA_RACE,          /* lost the compare-and-swap */
	EC_XDP_FA_MALFORMED,     /* lengths do not add up, or a commit
				  * past the op (user space refuses both) */
	EC_XDP_FA_NO_CPU,        /* this CPU has no promise slot */
	/* follower fast ack of heartbeats (COMMIT, the same switch word
	 * and window) */
	EC_XDP_HB_ACKED,         /* stored and answered with a HEARTBEAT_OK
				  * by XDP_TX */
	EC_XDP_HB_OFF,           /* switch off */
	EC_XDP_HB_CLOSED,        /* not a normal follower right now */
	EC_XDP_HB_VIEW,          /* view differs from ours */
	EC_XDP_HB_NOT_LEADER,    /* not from our view's leader */
	EC_XDP_HB_MALFORMED,     /* no heartbeat body (struct ec_heartbeat,
				  * seq not 0), lengths that do not add up,
				  * or a commit past the op: user space
				  * would answer none of them */
	EC_XDP_HB_FULL,          /* ring buffer full */
	EC_XDP_HB_RACE,          /* the window closed or moved meanwhile */
	EC_XDP_HB_NO_CPU,        /* this CPU has no promise slot */
	/* leader wait on quorum (PREPARE_OK) */
	EC_XDP_Q_QUORUM,         /* completed a quorum: passed, flagged */
	EC_XDP_Q_LATE,           /* a follower acks again a slot at quorum
				  * (the leader retransmitted because the
				  * commit stalled): passed, flagged */
	EC_XDP_Q_PENDING,        /* counted, below quorum: dropped */
	EC_XDP_Q_DUP,            /* same follower again: dropped */
	EC_XDP_Q_COMMITTED,      /* op already committed up: dropped */
	EC_XDP_Q_OFF,            /* switch off */
	EC_XDP_Q_NOT_LEADER,     /* we do not lead right now */
	EC_XDP_Q_VIEW,           /* view differs from ours */
	EC_XDP_Q_UNKNOWN,        /* slot holds another op */
	EC_XDP_Q_EXTRA,          /* first ack of a follower for a slot
				  * already at quorum: dropped */
	/* leader reads (READ) */
	EC_XDP_RD_ANSWERED,      /* answered with a READ_REPLY by XDP_TX */
	EC_XDP_RD_OFF,           /* switch off */
	EC_XDP_RD_CLOSED,        /* read_word 0: not a leader answering reads */
	EC_XDP_RD_LEASE,         /* the lease is over by the kernel's clock */
	EC_XDP_RD_BUSY,          /* the slot was being written (seq odd or
				  * moved during the copy) */
	EC_XDP_RD_MISS,          /* the slot is empty or holds another key */
	EC_XDP_RD_BEHIND,        /* applied_op below the client's min_op */
	EC_XDP_RD_TOO_LARGE,     /* the value is not cached (too long) */
	EC_XDP_RD_RACE,          /* read_word changed during the read */
	EC_XDP_RD_NO_ROOM,       /* the frame could not grow to the reply */
	EC_XDP_RD_MALFORMED,     /* lengths that do not add up, a key length
				  * outside 1..EC_MAX_KEY, a sender other
				  * than EC_SENDER_CLIENT */
	/* membership (any role) */
	EC_XDP_NOT_MEMBER,       /* a replica message not from the IP and
				  * port of the replica it names: dropped */
	EC_XDP_MAX,
};

/* Whether the XDP program sends a frame with verdict v back (XDP_TX, an
 * acknowledgement), or drops it; it passes every other one up.  Here, not
 * in the program, so that the counters' summary and the tests take what
 * the program does. */
static inline bool ec_xdp_verdict_sends(enum ec_xdp_verdict v)
{
	return v == EC_XDP_FA_ACKED || v == EC_XDP_HB_ACKED ||
	       v == EC_XDP_RD_ANSWERED;
}

static inline bool ec_xdp_verdict_drops(enum ec_xdp_verdict v)
{
	return v == EC_XDP_Q_PENDING || v == EC_XDP_Q_DUP ||
	       v == EC_XDP_Q_EXTRA || v == EC_XDP_Q_COMMITTED ||
	       v == EC_XDP_NOT_MEMBER;
}

#endif /* EC_OFFLOAD_H */
