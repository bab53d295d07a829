/*
 * server.h - the replica's control socket.
 *
 * A unix stream socket served from the replica's libevent loop.  A client
 * connects, writes one line "COMMAND [ARGS]\n", reads the answer until the
 * replica closes the connection.  Answers are "key value" lines; a failed
 * command answers one line "error: ...".  The server itself answers only
 * help; the replica's commands (replica_cmds.h, registered by main.c):
 *
 *   status  id, status, view, leader, op, commit, executed, keys, digest,
 *           log_base, checkpoint, bytes, max_keys, max_bytes, reads,
 *           reads_open, lease_held, lease_remaining_us, lease_renewals,
 *           promise_remaining_us
 *   stats   rx.TYPE / tx.TYPE / ignored.TYPE per message type, parse.REASON,
 *           member.REASON (datagrams not from who they name), the core's
 *           other counters, and io.* socket counters
 *   dump    one "KEY VALUE" line per key, sorted by key, bytes outside
 *           0x21..0x7e and '\' written as \xHH
 *   batch [N]  "batch N": most requests per op, set to N when given
 *   reads [log|lease]  "reads MODE": how the leader answers GETs, set
 *           when given (core/lease.h)
 *   help    one line per command (the server's own)
 *
 * The BPF offloads add offload (offload_cmds.h).
 */
#ifndef EC_REPLICA_CONTROL_SERVER_H
#define EC_REPLICA_CONTROL_SERVER_H

#include <stdio.h>

struct event_base;
struct ec_control;

/* One command being run: its words, where its answer goes, its error. */
struct ec_control_req {
	int argc;
	char **argv;      /* argv[0] is the command name */
	FILE *out;        /* the answer, "key value" lines */
	char err[256];    /* set by ec_control_fail */
};

/* A command handler: write the answer to r->out and return 0, or return
 * ec_control_fail(r, ...) (anything written to r->out is then discarded). */
typedef int ec_control_fn(struct ec_control_req *r, void *arg);

/* Record why r failed (printf style, no "error: " prefix, no newline);
 * returns -1. */
int ec_control_fail(struct ec_control_req *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Serve the control socket at path from base, with help as its only
 * command until others are added.  A stale socket file is replaced; a
 * socket some live process answers on is not.  Returns NULL after logging
 * the reason.
 */
struct ec_control *ec_control_new(struct event_base *base, const char *path);

/* Close every connection and the listener, and remove the socket file.
 * NULL is fine. */
void ec_control_free(struct ec_control *ctl);

/*
 * Add command name (args: a synopsis of its arguments for help, or NULL;
 * help: one line).  The strings must outlive ctl.  Returns 0, or -1 if the
 * name is taken or the table is full.
 */
int ec_control_add(struct ec_control *ctl, const char *name, const char *args,
		   const char *help, ec_control_fn *fn, void *arg);

#endif /* EC_REPLICA_CONTROL_SERVER_H */
