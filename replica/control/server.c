/*
 * server.c - see server.h.  The socket server and the command table; it
 * knows no command but help: the others are registered by their modules.
 *
 * Each connection is a small state machine driven by libevent: READING
 * until a newline (or EOF), then the command runs to completion and the
 * answer is WRITING until sent, then the connection closes.  Nothing
 * blocks the replica: a slow or silent client only holds its own
 * connection, until CTL_TIMEOUT_S.
 */
#define _GNU_SOURCE
#include "server.h"

#include <errno.h>
#include <event2/event.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/diag.h"

#define CTL_MAX_CMDS 32
#define CTL_MAX_CONNS 16
#define CTL_MAX_LINE 1024
#define CTL_MAX_ARGS 16
#define CTL_TIMEOUT_S 5

/* One entry of the command table. */
struct ctl_cmd {
	const char *name;
	const char *args;
	const char *help;
	ec_control_fn *fn;
	void *arg;
};

enum conn_state { CONN_READING, CONN_WRITING };

/* One client connection, on the list ctl->conns. */
struct ctl_conn {
	struct ec_control *ctl;
	struct ctl_conn *prev, *next;
	int fd;
	struct event *ev;
	enum conn_state state;
	char line[CTL_MAX_LINE];
	size_t line_len;
	char *answer;
	size_t answer_len, sent;
};

struct ec_control {
	struct event_base *base;
	char *path;
	int fd;
	struct event *listen_ev;
	struct ctl_conn *conns;
	unsigned nconns;
	struct ctl_cmd cmds[CTL_MAX_CMDS];
	unsigned ncmds;
};

/* Record why r failed; returns -1 (see server.h). */
int ec_control_fail(struct ec_control_req *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	return -1;
}

/* Append a command to the table; returns 0, or -1 if the name is taken or
 * the table is full (see server.h). */
int ec_control_add(struct ec_control *ctl, const char *name, const char *args,
		   const char *help, ec_control_fn *fn, void *arg)
{
	if (ctl->ncmds == CTL_MAX_CMDS)
		return -1;
	for (unsigned i = 0; i < ctl->ncmds; i++)
		if (strcmp(ctl->cmds[i].name, name) == 0)
			return -1;
	ctl->cmds[ctl->ncmds++] = (struct ctl_cmd){ name, args, help, fn, arg };
	return 0;
}

/* help: one line per command, in the order they were added. */
static int cmd_help(struct ec_control_req *r, void *arg)
{
	const struct ec_control *ctl = arg;

	if (r->argc > 1)
		return ec_control_fail(r, "'help' takes no arguments");
	for (unsigned i = 0; i < ctl->ncmds; i++) {
		const struct ctl_cmd *c = &ctl->cmds[i];
		char syn[64];

		snprintf(syn, sizeof(syn), "%s%s%s", c->name,
			 c->args ? " " : "", c->args ? c->args : "");
		fprintf(r->out, "%-20s %s\n", syn, c->help);
	}
	return 0;
}

/* Run the command in line; returns the answer (malloc'd, *len bytes) or
 * NULL if out of memory. */
static char *run_command(struct ec_control *ctl, char *line, size_t *len)
{
	char *argv[CTL_MAX_ARGS + 1], *save = NULL, *tok, *ans = NULL;
	struct ec_control_req r = { .argv = argv };
	const struct ctl_cmd *cmd = NULL;
	int rc;

	for (tok = strtok_r(line, " \t\r\n", &save); tok;
	     tok = strtok_r(NULL, " \t\r\n", &save)) {
		if (r.argc == CTL_MAX_ARGS) {
			ec_control_fail(&r, "more than %d words", CTL_MAX_ARGS);
			goto error;
		}
		argv[r.argc++] = tok;
	}
	argv[r.argc] = NULL;
	if (r.argc == 0) {
		ec_control_fail(&r, "empty command (try help)");
		goto error;
	}
	for (unsigned i = 0; i < ctl->ncmds && !cmd; i++)
		if (strcmp(ctl->cmds[i].name, argv[0]) == 0)
			cmd = &ctl->cmds[i];
	if (!cmd) {
		ec_control_fail(&r, "unknown command '%.64s' (try help)", argv[0]);
		goto error;
	}
	pr_debug("control: %s", argv[0]);
	r.out = open_memstream(&ans, len);
	if (!r.out)
		return NULL;
	rc = cmd->fn(&r, cmd->arg);
	if (fclose(r.out) != 0) {
		free(ans);
		return NULL;
	}
	if (rc == 0)
		return ans;
	free(ans);
error:
	rc = asprintf(&ans, "error: %s\n", r.err);
	if (rc < 0)
		return NULL;
	*len = (size_t)rc;
	return ans;
}

/* Unlink c from ctl->conns, close its socket and free it. */
static void conn_close(struct ctl_conn *c)
{
	struct ec_control *ctl = c->ctl;

	if (c->prev)
		c->prev->next = c->next;
	else
		ctl->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	ctl->nconns--;
	if (c->ev)
		event_free(c->ev);
	close(c->fd);
	free(c->answer);
	free(c);
}

/* Read what the client sent.  Returns 1 once the command line is complete
 * (newline, EOF or a full buffer), 0 to wait for more, -1 on error. */
static int conn_read(struct ctl_conn *c)
{
	size_t room = sizeof(c->line) - 1 - c->line_len;
	ssize_t n;

	n = recv(c->fd, c->line + c->line_len, room, MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ||
		       errno == EINTR ? 0 : -1;
	c->line_len += (size_t)n;
	c->line[c->line_len] = '\0';
	return n == 0 || memchr(c->line, '\n', c->line_len) ||
	       c->line_len == sizeof(c->line) - 1;
}

/* Run the command read into c->line and keep its answer.  Returns 0, or
 * -1 if out of memory. */
static int conn_answer(struct ctl_conn *c)
{
	static const char too_long[] = "error: command line too long\n";

	if (!memchr(c->line, '\n', c->line_len) &&
	    c->line_len == sizeof(c->line) - 1) {
		c->answer = strdup(too_long);
		c->answer_len = sizeof(too_long) - 1;
	} else {
		c->answer = run_command(c->ctl, c->line, &c->answer_len);
	}
	return c->answer ? 0 : -1;
}

/* Write more of the answer; true when all of it is sent (or the client
 * went away). */
static bool conn_write(struct ctl_conn *c)
{
	while (c->sent < c->answer_len) {
		ssize_t n = send(c->fd, c->answer + c->sent,
				 c->answer_len - c->sent,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0)
			return errno != EAGAIN && errno != EWOULDBLOCK &&
			       errno != EINTR;
		c->sent += (size_t)n;
	}
	return true;
}

static void on_conn(evutil_socket_t fd, short what, void *arg);

/* Re-arm c's event for the given direction with a fresh timeout. */
static int conn_arm(struct ctl_conn *c, short what)
{
	struct timeval tv = { .tv_sec = CTL_TIMEOUT_S };

	if (c->ev)
		event_free(c->ev);
	/* freeing the event whose callback is running is allowed */
	c->ev = event_new(c->ctl->base, c->fd, what | EV_PERSIST, on_conn, c);
	return c->ev && event_add(c->ev, &tv) == 0 ? 0 : -1;
}

/* libevent: a control connection is readable, writable or timed out. */
static void on_conn(evutil_socket_t fd, short what, void *arg)
{
	struct ctl_conn *c = arg;

	if (what & EV_TIMEOUT) {
		pr_debug("control: client timed out");
		goto close;
	}
	if (c->state == CONN_READING) {
		int rc = conn_read(c);

		if (rc == 0)
			return;
		if (rc < 0 || conn_answer(c) < 0)
			goto close;
		c->state = CONN_WRITING;
		if (conn_arm(c, EV_WRITE) < 0)
			goto close;
	}
	if (!conn_write(c))
		return;
close:
	conn_close(c);
}

/* libevent: the listening socket has connections to accept. */
static void on_accept(evutil_socket_t fd, short what, void *arg)
{
	struct ec_control *ctl = arg;

	for (;;) {
		int cfd = accept4(ctl->fd, NULL, NULL,
				  SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct ctl_conn *c;

		if (cfd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				pr_debug("control accept: %s", strerror(errno));
			return;
		}
		if (ctl->nconns == CTL_MAX_CONNS) {
			pr_debug("control: too many connections");
			close(cfd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(cfd);
			continue;
		}
		c->ctl = ctl;
		c->fd = cfd;
		c->state = CONN_READING;
		if (conn_arm(c, EV_READ) < 0) {
			if (c->ev)
				event_free(c->ev);
			free(c);
			close(cfd);
			continue;
		}
		c->next = ctl->conns;
		if (c->next)
			c->next->prev = c;
		ctl->conns = c;
		ctl->nconns++;
	}
}

/*
 * Make path free for our socket: nothing there, or a stale socket nobody
 * answers on (removed).  Refuses a live socket and anything not a socket.
 */
static int claim_path(const char *path, const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		pr_warn("control socket %s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		pr_warn("control socket %s: exists and is not a socket; "
			"not replacing it", path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		pr_warn("socket: %s", strerror(errno));
		return -1;
	}
	rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (rc == 0) {
		pr_warn("control socket %s: a live process answers on it "
			"(is this replica already running?)", path);
		return -1;
	}
	if (errno != ECONNREFUSED) {
		pr_warn("control socket %s: %s", path, strerror(errno));
		return -1;
	}
	pr_info("removing stale control socket %s", path);
	if (unlink(path) < 0 && errno != ENOENT) {
		pr_warn("unlink %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Serve the socket at path; returns NULL after logging why not (see
 * server.h). */
struct ec_control *ec_control_new(struct event_base *base, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ec_control *ctl;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		pr_warn("control socket path %s is longer than %zu bytes", path,
			sizeof(sa.sun_path) - 1);
		return NULL;
	}
	strcpy(sa.sun_path, path);
	ctl = calloc(1, sizeof(*ctl));
	if (!ctl) {
		pr_warn("out of memory");
		return NULL;
	}
	ctl->fd = -1;
	ctl->base = base;
	ec_control_add(ctl, "help", NULL, "this list", cmd_help, ctl);
	if (claim_path(path, &sa) < 0)
		goto err;
	ctl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			 0);
	if (ctl->fd < 0) {
		pr_warn("socket: %s", strerror(errno));
		goto err;
	}
	if (bind(ctl->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		pr_warn("bind control socket %s: %s", path, strerror(errno));
		goto err;
	}
	/* from here on the file is ours to remove */
	ctl->path = strdup(path);
	if (!ctl->path) {
		unlink(path);
		pr_warn("out of memory");
		goto err;
	}
	/* the commands will include switches: keep them to the owner */
	if (chmod(path, 0600) < 0 || listen(ctl->fd, 16) < 0) {
		pr_warn("control socket %s: %s", path, strerror(errno));
		goto err;
	}
	ctl->listen_ev = event_new(base, ctl->fd, EV_READ | EV_PERSIST,
				   on_accept, ctl);
	if (!ctl->listen_ev || event_add(ctl->listen_ev, NULL) < 0) {
		pr_warn("cannot register the control socket with libevent");
		goto err;
	}
	pr_info("control socket %s", path);
	return ctl;
err:
	ec_control_free(ctl);
	return NULL;
}

/* Close everything and remove the socket file (see server.h). */
void ec_control_free(struct ec_control *ctl)
{
	if (!ctl)
		return;
	while (ctl->conns)
		conn_close(ctl->conns);
	if (ctl->listen_ev)
		event_free(ctl->listen_ev);
	if (ctl->fd >= 0)
		close(ctl->fd);
	if (ctl->path) {
		unlink(ctl->path);
		free(ctl->path);
	}
	free(ctl);
}
