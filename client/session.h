/*
 * session.h - the client side of the electrode-c protocol.
 *
 * A session is one logical client: its client_id, the next request_id, a
 * guess of the current view (the leader is view mod n), and at most one
 * outstanding request with its retry timer.  It is pure: the caller passes
 * the time in and sends the datagrams the session hands back, so the same
 * logic drives ec-bench, ec-cli and the unit tests.
 *
 * READs.  A GET goes out as a READ (proto/ec_wire.h), the fixed layout
 * the leader's XDP program can answer itself, unless the session's
 * read-message switch is off (ec_session_use_read; on by default), or its
 * key is not 1..EC_MAX_KEY bytes (such a GET goes as a REQUEST for the
 * replicas to refuse).  A READ carries what the GET's REQUEST would:
 * client_id, request_id, session_op and min_op, in fixed fields instead
 * of protobuf ones.  Its answer is a READ_REPLY when the leader's XDP
 * program gave it (always status OK, found, Reply.lease), or an ordinary
 * REPLY when user space did (a replica takes a READ as the GET Request
 * it stands for: under the lease, through the log, NOT_LEADER from a
 * follower); ec_session_reply_decode takes either to the same Reply, and
 * the result says which it was.  A READ_REPLY answers a READ only, never
 * the hello or a REQUEST.  Everything below holds for a READ as for a
 * REQUEST: retries resend the same datagram, NOT_LEADER redirects it,
 * pinning, min_op and STALE, giving up.  All other ops, and the hello,
 * are REQUESTs.
 *
 * Retry policy.  A request goes first to the guessed leader.  A
 * NOT_LEADER reply naming a newer view moves the guess and resends at once
 * to that view's leader.  When the retry timeout passes with no answer the
 * same datagram (same request_id) goes to every replica: the leader answers
 * (replicas de-duplicate retries), followers answer NOT_LEADER and so teach
 * the view.  A request unanswered give_up_us after its first send is
 * abandoned; its request_id is never reused.
 *
 * Pinning.  A session pinned to replica I (ec_session_pin) sends each
 * request first to I instead of the guessed leader; on a NOT_LEADER from
 * I, or when the timer resends to all, that request goes on as any other,
 * and the next one goes to I again.  For tests whose clients must keep
 * reaching one replica, such as a leader that lost its place.
 *
 * Monotonic reads.  Every reply to an executed request says the op it
 * reflects (Reply.op: the op that executed it, or for a GET the leader
 * answered under its lease, the last op it had executed).  The session
 * keeps the highest it accepted and sends it as Request.min_op, so that
 * the leader answers a GET from its state only if that state is at
 * least as new; and it accepts no reply reflecting an older op than one
 * it saw (the request stays outstanding; the timer resends it), so the
 * caller never sees state go back in time, whatever a replica's clock
 * did.  Op numbers are the cluster's, not a client id's: what the session
 * saw stays seen across ec_session_renew.
 *
 * Sessions.  The replicas forget a client unseen for a long time
 * (replica/app/client_table.h), and tell a new client from a forgotten one by
 * the commit number it heard before its first request (Request.session_op).
 * So before the first request of a session the session sends a hello
 * (request_id 0, no op), which any replica in normal status answers at
 * once; its header's commit number becomes session_op.  A
 * SESSION_EXPIRED answer ends the request (its outcome is unknown: an
 * earlier copy may have been executed before the expiry); the caller goes
 * on with ec_session_renew.
 */
#ifndef EC_CLIENT_SESSION_H
#define EC_CLIENT_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/wire.h"
#include "ec_wire.h"
#include "ec.pb-c.h"

/* Destination meaning "every replica". */
#define EC_SESSION_TO_ALL (-1)

/* Largest REQUEST datagram: a request must fit in one PREPARE body (a
 * READ is smaller, session.c checks). */
#define EC_SESSION_MAX_DGRAM (sizeof(struct ec_hdr) + EC_MAX_ENTRY_BODY)

enum ec_session_event {
	EC_SESSION_NONE = 0, /* nothing to do (stale, duplicate or not yet
			      * due) */
	EC_SESSION_SEND,     /* send the datagram the ec_session_send
			      * describes */
	EC_SESSION_BEGIN,    /* the hello was answered: send the request the
			      * ec_session_send describes (not a retry) */
	EC_SESSION_DONE,     /* the outstanding request got its answer */
	EC_SESSION_GAVE_UP,  /* the outstanding request was abandoned */
	EC_SESSION_STALE,    /* a reply to the outstanding request reflected
			      * an older op than one already seen: not
			      * accepted, the request stays outstanding */
};

/* A datagram to send: to a replica id, or EC_SESSION_TO_ALL.  buf points
 * into the session and stays valid until the session's next call. */
struct ec_session_send {
	int to;
	const uint8_t *buf;
	size_t len;
};

/* What a REPLY's or READ_REPLY's header says besides its body. */
struct ec_session_reply_hdr {
	uint32_t view;
	uint64_t commit;
	bool read_reply;     /* a READ_REPLY, not a REPLY */
};

/* The answer to a request.  value points into the Reply it came from. */
struct ec_session_result {
	uint64_t request_id;
	Ec__Status status;
	bool found;
	const uint8_t *value;
	size_t value_len;
	uint64_t latency_us; /* from the first send to the answer */
	unsigned sends;      /* transmissions of the request, first included */
	uint64_t op;         /* Reply.op: the op the answer reflects (0: a
			      * refusal before ordering) */
	bool lease;          /* Reply.lease: a GET answered under the
			      * leader's lease, without the log */
	bool read_reply;     /* answered by a READ_REPLY: by the leader's
			      * XDP program, in the kernel (lease is set
			      * too) */
};

/* Counters over the session's life. */
struct ec_session_stats {
	uint64_t retries;    /* timeouts that resent a request to all */
	uint64_t redirects;  /* NOT_LEADER replies that resent to a new leader */
	uint64_t gave_up;    /* requests abandoned */
	uint64_t stale;      /* replies for another client or no outstanding
			      * request, duplicates, stale NOT_LEADERs */
	uint64_t stale_op;   /* replies reflecting an older op than one seen
			      * (EC_SESSION_STALE) */
};

struct ec_session {
	uint64_t client_id;
	uint64_t next_request_id;
	unsigned n;            /* replicas */
	uint32_t view;         /* guessed view (ec_view_leader) */
	uint64_t timeout_us;   /* retry interval */
	uint64_t give_up_us;   /* abandon a request this long after it started */

	int pin;               /* replica each request goes to first, or -1 */
	uint64_t seen_op;      /* highest Reply.op accepted: Request.min_op */
	bool use_read;         /* GETs go out as READs */

	bool has_session_op;   /* the session's start is known */
	uint64_t session_op;   /* Request.session_op of this session */
	bool hello;            /* the datagram out is the hello */

	bool busy;             /* a request is outstanding */
	uint64_t request_id;   /* of the outstanding request */
	uint64_t started;      /* its first send */
	uint64_t retry_at;     /* when to resend it to all */
	unsigned sends;
	bool at_pin;           /* it went to the pinned replica alone so far */
	bool read;             /* it goes (after the hello) as a READ */
	uint8_t dgram[EC_SESSION_MAX_DGRAM];
	size_t dgram_len;
	uint8_t body[EC_MAX_ENTRY_BODY]; /* what the request is built from:
					  * for a READ its key, else the
					  * packed Request without
					  * session_op and min_op */
	size_t body_len;

	struct ec_session_stats stats;
};

/*
 * Set up s for client_id against n replicas (1..EC_MAX_REPLICAS), with the
 * given retry interval and give-up limit (both > 0).  Returns 0, or -1 on
 * bad arguments.
 */
int ec_session_init(struct ec_session *s, uint64_t client_id, unsigned n,
		    uint64_t timeout_us, uint64_t give_up_us);

/* Take session_op as the session's start: no hello goes out (for a
 * caller that knows, and for tests). */
void ec_session_begin_at(struct ec_session *s, uint64_t session_op);

/* Send GETs as READs (on, the default) or as REQUESTs (off), from the
 * next request on (see the top of this file). */
void ec_session_use_read(struct ec_session *s, bool on);

/* Send every request first to replica (< n), or to the guessed leader
 * again with -1 (see the top of this file). */
void ec_session_pin(struct ec_session *s, int replica);

/* Take op as seen, as if a reply had reflected it (for a caller that
 * carries what an earlier session saw). */
void ec_session_saw(struct ec_session *s, uint64_t op);

/*
 * Start a request for op at time now under the next request_id.  Fills
 * *out with the datagram for the guessed leader, or the pinned replica:
 * the request (a READ for a GET, see READs above), or the session's
 * hello first.  Returns 0, or -1 if a request is already outstanding or
 * the request does not fit a PREPARE.
 */
int ec_session_start(struct ec_session *s, const Ec__KvOp *op, uint64_t now,
		     struct ec_session_send *out);

/*
 * Parse one received datagram as a REPLY or a READ_REPLY.  Returns the
 * unpacked Reply (for a READ_REPLY the Reply it stands for; free either
 * with ec__reply__free_unpacked) and fills *hdr from its header, or NULL
 * if it is not a valid REPLY or READ_REPLY from one of n replicas.
 */
Ec__Reply *ec_session_reply_decode(const void *buf, size_t len, unsigned n,
				   struct ec_session_reply_hdr *hdr);

/*
 * Hand s a decoded reply with header hdr.  Returns EC_SESSION_DONE with
 * *res filled (pointing into rep) if it answers the outstanding request,
 * EC_SESSION_SEND with *out filled if it was a NOT_LEADER naming a newer
 * view (or the pinned replica's first NOT_LEADER: the request goes on to
 * the guessed leader), EC_SESSION_BEGIN with *out filled (the request) if
 * it answered the hello, EC_SESSION_STALE if it answered the outstanding
 * request from an older op than one seen, else EC_SESSION_NONE.
 */
enum ec_session_event ec_session_on_reply(
	struct ec_session *s, const Ec__Reply *rep,
	const struct ec_session_reply_hdr *hdr, uint64_t now,
	struct ec_session_send *out, struct ec_session_result *res);

/*
 * Advance s's timer to now.  Returns EC_SESSION_SEND with *out filled (a
 * resend to all) when the retry timeout passed, EC_SESSION_GAVE_UP when
 * the give-up limit passed (s is idle again), else EC_SESSION_NONE.
 */
enum ec_session_event ec_session_tick(struct ec_session *s, uint64_t now,
				      struct ec_session_send *out);

/* Time at which ec_session_tick next has something to do, or UINT64_MAX
 * when no request is outstanding. */
uint64_t ec_session_next_tick(const struct ec_session *s);

/* Drop the outstanding request, if any, without counting it as given up
 * (the caller stops waiting, e.g. at exit).  Late replies to it are
 * ignored. */
void ec_session_abandon(struct ec_session *s);

/*
 * Go on as a new logical client, client_id, with request ids from 1 again
 * and a new session (its first request says hello first); the view guess,
 * the pin, the op seen and the timing parameters stay.  For when the outcome of
 * the last request is unknown and must not be confused with what follows
 * (the replicas de-duplicate per client id).  Returns 0, or -1 if a
 * request is outstanding.
 */
int ec_session_renew(struct ec_session *s, uint64_t client_id);

/* Replica the session believes leads. */
static inline unsigned ec_session_leader(const struct ec_session *s)
{
	return ec_view_leader(s->view, s->n);
}

/*
 * The programs' side, shared by ec-bench and ec-cli: a real socket and the
 * kernel's randomness.  The session logic above does not use them.
 */

struct sockaddr_in;

/* Told of one failed send: the replica, and the send's errno. */
typedef void (*ec_session_send_err_fn)(void *arg, unsigned replica, int err);

/*
 * Send out over the UDP socket fd to replica out->to, or to each of the n
 * replicas for EC_SESSION_TO_ALL; addr[i] is replica i's address.  A
 * failed send is only a lost datagram, which the retry timer covers, so
 * the others still go; each failure is passed to on_err (unless NULL) for
 * the caller to count or print as it sees fit.
 */
void ec_session_sendto(int fd, const struct sockaddr_in *addr, unsigned n,
		       const struct ec_session_send *out,
		       ec_session_send_err_fn on_err, void *arg);

/* Parse the argument of --read-msg (ec-bench, ec-cli): "on" or "off"
 * into *on.  Returns 0, or -1 for anything else. */
int ec_session_parse_read_msg(const char *arg, bool *on);

/*
 * A random client id from the kernel, so that two runs, or an ec-bench and
 * an ec-cli, never share one and trip over each other's request_ids (a
 * fresh id also makes request_id 1 new to the replicas).  Returns 0, or -1
 * with errno set.
 */
int ec_session_random_id(uint64_t *id);

#endif /* EC_CLIENT_SESSION_H */
