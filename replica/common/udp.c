/* udp.c - see udp.h. */
#include "udp.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

/* Ask for a buffer of size bytes through force_opt, else opt; returns 0
 * or the errno of opt's refusal.  *got: the size the kernel reports. */
static int set_buf(int fd, int force_opt, int opt, int size, int *got)
{
	socklen_t len = sizeof(*got);
	int err = 0;

	if (setsockopt(fd, SOL_SOCKET, force_opt, &size, sizeof(size)) < 0 &&
	    setsockopt(fd, SOL_SOCKET, opt, &size, sizeof(size)) < 0)
		err = errno;
	if (getsockopt(fd, SOL_SOCKET, opt, got, &len) < 0)
		*got = -1;
	return err;
}

int ec_udp_open(const struct ec_udp_opts *o, struct ec_udp_report *r)
{
	struct ec_udp_report unused;
	int fd, err;

	if (!r)
		r = &unused;
	*r = (struct ec_udp_report){ .rcvbuf = -1, .sndbuf = -1 };
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC |
			     (o->nonblock ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0) {
		r->failed = "socket";
		return -1;
	}
	if (o->no_check && setsockopt(fd, SOL_SOCKET, SO_NO_CHECK, &(int){ 1 },
				      sizeof(int)) < 0)
		r->no_check_err = errno;
	if (o->buf_bytes) {
		r->rcvbuf_err = set_buf(fd, SO_RCVBUFFORCE, SO_RCVBUF,
					o->buf_bytes, &r->rcvbuf);
		r->sndbuf_err = set_buf(fd, SO_SNDBUFFORCE, SO_SNDBUF,
					o->buf_bytes, &r->sndbuf);
	}
	if (o->bind && bind(fd, (const struct sockaddr *)o->bind,
			    sizeof(*o->bind)) < 0) {
		err = errno;
		close(fd);
		errno = err;
		r->failed = "bind";
		return -1;
	}
	return fd;
}
