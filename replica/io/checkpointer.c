/* checkpointer.c - see checkpointer.h. */
#define _GNU_SOURCE
#include "checkpointer.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/core.h"
#include "common/diag.h"
#include "app/snapshot.h"

/* What the child writes before the bytes, in its own byte order (the
 * parent is the same program on the same host). */
struct ckpt_hdr {
	uint64_t op;
	uint64_t digest;
	uint64_t len;
	uint32_t view;
	uint32_t pad;
};

struct ec_checkpointer {
	struct event_base *base;
	struct ec_core *core;
	pid_t child;             /* 0: none running */
	int fd;                  /* read end of its pipe */
	struct event *ev;
	struct ckpt_hdr hdr;
	size_t got;              /* bytes of hdr, then of buf, read so far */
	uint8_t *buf;            /* hdr.len bytes, once hdr is in */
};

struct ec_checkpointer *ec_checkpointer_new(struct event_base *base)
{
	struct ec_checkpointer *k = calloc(1, sizeof(*k));

	if (!k) {
		pr_warn("out of memory");
		return NULL;
	}
	k->base = base;
	k->fd = -1;
	return k;
}

void ec_checkpointer_set_core(struct ec_checkpointer *k, struct ec_core *core)
{
	k->core = core;
}

/* Write all of len bytes to fd; 0, or -1. */
static int write_all(int fd, const void *p, size_t len)
{
	const uint8_t *b = p;

	while (len) {
		ssize_t n = write(fd, b, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The child: serialize, write, exit.  fd 3 is the pipe; nothing else but
 * the standard descriptors is open.  It runs as SCHED_IDLE: its 100 ms of
 * CPU per 100,000 keys is taken only when no replica's event loop wants
 * the CPU (on a shared host, all five replicas checkpoint at the same op);
 * it only delays when the checkpoint is in. */
static _Noreturn void child_main(const struct ec_core *core, uint64_t op,
				 uint32_t view)
{
	struct ec_snapshot snap = { 0 };
	struct ckpt_hdr h = { .op = op, .view = view };
	struct sched_param idle = { .sched_priority = 0 };

	sched_setscheduler(0, SCHED_IDLE, &idle); /* best effort */
	if (ec_core_snapshot_take(core, op, view, &snap) < 0)
		_exit(1);
	h.digest = snap.digest;
	h.len = snap.len;
	if (write_all(3, &h, sizeof(h)) < 0 ||
	    write_all(3, snap.buf, snap.len) < 0)
		_exit(1);
	_exit(0);
}

/* Close the pipe, reap the child (it has exited, or is killed first when
 * kill_it), forget the partial read. */
static void finish(struct ec_checkpointer *k, bool kill_it)
{
	if (k->ev) {
		event_free(k->ev);
		k->ev = NULL;
	}
	if (k->fd >= 0)
		close(k->fd);
	k->fd = -1;
	if (k->child > 0) {
		if (kill_it)
			kill(k->child, SIGKILL);
		while (waitpid(k->child, NULL, 0) < 0 && errno == EINTR)
			;
	}
	k->child = 0;
	free(k->buf);
	k->buf = NULL;
	k->got = 0;
}

/* libevent: the child's pipe is readable.  Read what is there; at the
 * end, hand the checkpoint (or its failure) to the core. */
static void on_pipe(evutil_socket_t fd, short what, void *arg)
{
	struct ec_checkpointer *k = arg;
	struct ec_snapshot snap = { 0 };
	uint8_t *dst;
	size_t want;
	ssize_t n;

	for (;;) {
		if (k->got < sizeof(k->hdr)) {
			dst = (uint8_t *)&k->hdr + k->got;
			want = sizeof(k->hdr) - k->got;
		} else {
			size_t off = k->got - sizeof(k->hdr);

			if (!k->buf) {
				k->buf = malloc(k->hdr.len ? k->hdr.len : 1);
				if (!k->buf)
					break;
			}
			if (off == k->hdr.len)
				break;
			dst = k->buf + off;
			want = k->hdr.len - off;
		}
		n = read(fd, dst, want);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return; /* more later */
		if (n <= 0)
			break;
		k->got += (size_t)n;
	}
	/* the digest is the child's, over the bytes it wrote: hashing them
	 * again here would cost the event loop about 10 ms per 8 MB */
	if (k->got == sizeof(k->hdr) + k->hdr.len && k->buf) {
		snap.op = k->hdr.op;
		snap.view = k->hdr.view;
		snap.digest = k->hdr.digest;
		snap.len = k->hdr.len;
		snap.buf = k->buf;
		k->buf = NULL;
		ec_core_checkpoint_done(k->core, &snap);
		ec_snapshot_clear(&snap);
	} else {
		pr_warn("checkpoint child failed after %zu bytes", k->got);
		ec_core_checkpoint_done(k->core, NULL);
	}
	finish(k, false);
}

int ec_checkpointer_start(void *arg, uint64_t op, uint32_t view)
{
	struct ec_checkpointer *k = arg;
	int p[2];
	pid_t pid;

	if (!k->core || k->child)
		return -1;
	if (pipe2(p, O_CLOEXEC) < 0) {
		pr_warn("checkpoint: pipe: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		pr_warn("checkpoint: fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		/* the XDP link, the socket, the control socket: not ours */
		if (dup2(p[1], 3) < 0 || close_range(4, ~0U, 0) < 0)
			_exit(1);
		child_main(k->core, op, view);
	}
	close(p[1]);
	k->child = pid;
	k->fd = p[0];
	k->got = 0;
	k->ev = event_new(k->base, k->fd, EV_READ | EV_PERSIST, on_pipe, k);
	if (fcntl(k->fd, F_SETFL, O_NONBLOCK) < 0 || !k->ev ||
	    event_add(k->ev, NULL) < 0) {
		pr_warn("checkpoint: cannot watch the child's pipe");
		finish(k, true);
		return -1;
	}
	return 0;
}

void ec_checkpointer_free(struct ec_checkpointer *k)
{
	if (!k)
		return;
	finish(k, true);
	free(k);
}
