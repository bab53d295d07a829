/*
 * udp.h - one UDP socket, set up as every program here wants it:
 * close-on-exec, blocking or not, with large buffers, bound or not.
 * The replica's glue (io/io.c), ec-bench and ec-cli open theirs with it.
 *
 * Like the rest of common/ it prints nothing: what went wrong comes back
 * in a report, and each caller says so in its own words (the replica
 * logs, ec-bench does not care whether it got its buffers).
 */
#ifndef EC_REPLICA_COMMON_UDP_H
#define EC_REPLICA_COMMON_UDP_H

#include <netinet/in.h>
#include <stdbool.h>

struct ec_udp_opts {
	bool nonblock;
	bool no_check;    /* send with UDP checksum 0 (SO_NO_CHECK, legal on
			   * IPv4) */
	int buf_bytes;    /* receive and send buffer size asked for; 0
			   * leaves the kernel's default */
	const struct sockaddr_in *bind; /* NULL: not bound (the kernel
					 * picks a port at the first send) */
};

/* What ec_udp_open did besides returning the socket. */
struct ec_udp_report {
	const char *failed;  /* when it returned -1: "socket" or "bind" */
	int no_check_err;    /* 0, or the errno that refused SO_NO_CHECK */
	int rcvbuf_err;      /* 0, or the errno that refused SO_RCVBUF once
			      * SO_RCVBUFFORCE was refused too */
	int sndbuf_err;      /* the same for the send buffer */
	int rcvbuf, sndbuf;  /* the sizes the kernel reports afterwards, -1
			      * when not asked for or not known */
};

/*
 * Open an IPv4 UDP socket as o says.  Each buffer is asked for with the
 * FORCE option first, which may exceed net.core.{r,w}mem_max (it needs
 * CAP_NET_ADMIN), then with the plain one, which the sysctl caps; the
 * socket works with whatever it got, and so without SO_NO_CHECK.
 * Returns the descriptor, or -1 with errno set when socket() or bind()
 * failed (nothing is left open).  r (may be NULL) gets the report.
 */
int ec_udp_open(const struct ec_udp_opts *o, struct ec_udp_report *r);

#endif /* EC_REPLICA_COMMON_UDP_H */
