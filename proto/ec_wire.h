/*
 * ec_wire.h - the fixed-layout packet header shared by user space and BPF.
 *
 * Every electrode-c datagram (UDP payload) starts with struct ec_hdr,
 * followed by body_len bytes of a protobuf-c encoded body (see ec.proto).
 * BPF programs parse only this header, so its layout is frozen: all fields
 * are fixed width, in network byte order, naturally aligned, and pinned by
 * the _Static_asserts below.  Do not change an offset; retire a field by
 * renaming it reserved.
 *
 * This header must compile both in user space and under clang -target bpf,
 * so it includes only <linux/types.h>.
 */
#ifndef EC_WIRE_H
#define EC_WIRE_H

#include <linux/types.h>

#define EC_MAGIC 0x45435058u /* "ECPX" */
#define EC_VERSION 4 /* 2: a PREPARE carries a Batch of requests; 3: a
			    * COMMIT carries a heartbeat, acknowledged; 4:
			    * READ and READ_REPLY */

/* Largest datagram the replica accepts or sends (header + body). */
#define EC_MAX_MSG 60000
/* Largest PREPARE body (one encoded Batch).  Chosen so that a PREPARE
 * always fits in one 1500-byte Ethernet frame: the XDP programs never see
 * a fragmented PREPARE, and the fast-ack log can store it whole. */
#define EC_MAX_ENTRY_BODY 1400
/* Largest replica count; ids fit in a bitset of this many bits. */
#define EC_MAX_REPLICAS 9
/* Bytes of a key and of a value: every replica refuses larger ones, and
 * the clients never send them. */
#define EC_MAX_KEY 64
#define EC_MAX_VALUE 512
/* Sender id used by clients. */
#define EC_SENDER_CLIENT 0xff

enum ec_msg_type {
	EC_MSG_REQUEST = 1,           /* client -> leader, body Request */
	EC_MSG_REPLY = 2,             /* replica -> client, body Reply */
	EC_MSG_PREPARE = 3,           /* leader -> followers, body Request */
	EC_MSG_PREPARE_OK = 4,        /* follower -> leader, no body */
	EC_MSG_COMMIT = 5,            /* leader -> followers, body struct
				       * ec_heartbeat: the heartbeat */
	EC_MSG_START_VIEW_CHANGE = 6, /* all -> all, body StartViewChange */
	EC_MSG_DO_VIEW_CHANGE = 7,    /* all -> new leader, body DoViewChange */
	EC_MSG_START_VIEW = 8,        /* new leader -> all, body LogChunk */
	EC_MSG_GET_STATE = 9,         /* any -> any, body GetState */
	EC_MSG_NEW_STATE = 10,        /* answer to GET_STATE, body LogChunk */
	EC_MSG_RECOVERY = 11,         /* restarted replica -> all, body Recovery */
	EC_MSG_RECOVERY_RESPONSE = 12,/* all -> restarted replica, body Recovery */
	EC_MSG_GET_SNAPSHOT = 13,     /* any -> any, body GetSnapshot */
	EC_MSG_SNAPSHOT = 14,         /* answer to GET_SNAPSHOT, body Snapshot */
	EC_MSG_HEARTBEAT_OK = 15,     /* follower -> leader, no body: op is the
				       * heartbeat's seq (struct ec_heartbeat) */
	EC_MSG_READ = 16,             /* client -> leader: a GET, body struct
				       * ec_read (fixed layout) */
	EC_MSG_READ_REPLY = 17,       /* leader's XDP program -> client, body
				       * struct ec_read_reply */
	EC_MSG_TYPE_MAX = 18,
};

/* Header flags. */
enum ec_hdr_flags {
	/* Set by the leader's wait-on-quorum XDP program on the one
	 * PREPARE_OK it passes up: (view, op) reached a quorum. */
	EC_F_QUORUM = 1u << 0,
	/* Set by user space on a packet the TC broadcast program must clone
	 * to every peer; cleared on each clone. */
	EC_F_TO_ALL = 1u << 1,
	/* Set on a PREPARE_OK built by a follower's fast-ack XDP program. */
	EC_F_FAST_ACK = 1u << 2,
};

struct ec_hdr {
	__be32 magic;     /* EC_MAGIC */
	__u8 version;     /* EC_VERSION */
	__u8 type;        /* enum ec_msg_type */
	__u8 flags;       /* enum ec_hdr_flags */
	__u8 sender;      /* replica id, or EC_SENDER_CLIENT */
	__be32 view;      /* sender's view */
	__be32 body_len;  /* bytes following the header */
	__be64 op;        /* op number (meaning depends on type) */
	__be64 commit;    /* sender's commit number */
};

_Static_assert(sizeof(struct ec_hdr) == 32, "ec_hdr size is part of the wire");

/*
 * The body of a COMMIT, fixed so that a follower's XDP program can answer
 * it.  A follower answers every COMMIT of its view's leader with a
 * HEARTBEAT_OK whose header op is seq, and by that promises to help form
 * no later view for a while (the leader's lease, core/lease.h).  The
 * leader numbers its heartbeats 1, 2, 3... within a view.  The header of a
 * COMMIT carries the leader's last op and commit number as before; a
 * HEARTBEAT_OK's commit is its sender's (0 from XDP) and is not checked
 * against its op.
 */
struct ec_heartbeat {
	__be64 seq;
};
_Static_assert(sizeof(struct ec_heartbeat) == 8, "part of the wire");

/*
 * A GET in a fixed layout, so that the leader's XDP program can answer it
 * (the read offload, ec_offload.h).  The header: sender EC_SENDER_CLIENT,
 * view the client's guess, op and commit 0, body_len = sizeof(struct
 * ec_read) + key_len.  The fields mean what the same Request fields mean
 * (client_id, request_id, session_op, min_op, a GET of key); user space
 * takes a READ it gets as that Request, under the lease or through the
 * log (ec.proto), and answers with a REPLY.
 */
struct ec_read {
	__be64 client_id;
	__be64 request_id;
	__be64 session_op;
	__be64 min_op;    /* the highest op the client has seen */
	__u8 key_len;     /* 1..EC_MAX_KEY */
	__u8 pad[7];      /* 0 */
	__u8 key[];
};
_Static_assert(sizeof(struct ec_read) == 40, "part of the wire");

/*
 * The answer to a READ from the leader's XDP program.  The header: sender
 * the leader, view its view, op the op the answer reflects (as below),
 * commit the leader's commit number as XDP knows it, body_len =
 * sizeof(struct ec_read_reply) + value_len.  It means what a REPLY to the
 * GET with status OK or NOT_FOUND, Reply.lease set, means.
 */
struct ec_read_reply {
	__be64 client_id;
	__be64 request_id;
	__be64 op;        /* the answer reflects at least every op up to this */
	__u8 status;      /* Ec__Status: EC__STATUS__ST_OK */
	__u8 found;       /* 1 */
	__be16 value_len; /* bytes of value */
	__u8 pad[4];      /* 0 */
	__u8 value[];
};
_Static_assert(sizeof(struct ec_read_reply) == 32, "part of the wire");

_Static_assert(__builtin_offsetof(struct ec_hdr, magic) == 0, "do not move");
_Static_assert(__builtin_offsetof(struct ec_hdr, version) == 4, "do not move");
_Static_assert(__builtin_offsetof(struct ec_hdr, type) == 5, "do not move");
_Static_assert(__builtin_offsetof(struct ec_hdr, flags) == 6, "do not move");
_Static_assert(__builtin_offsetof(struct ec_hdr, sender) == 7, "do not move");
_Static_assert(__builtin_offsetof(struct ec_hdr, view) == 8, "do not move");
_Static_assert(__builtin_offsetof(struct ec_hdr, body_len) == 12, "do not move");
_Static_assert(__builtin_offsetof(struct ec_hdr, op) == 16, "do not move");
_Static_assert(__builtin_offsetof(struct ec_hdr, commit) == 24, "do not move");

#endif /* EC_WIRE_H */
