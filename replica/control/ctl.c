/*
 * ctl.c - ec-ctl: send one command to a replica's control socket and print
 * the answer.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#define CTL_TIMEOUT_S 10
#define CTL_MAX_LINE 1023

static void usage(FILE *f)
{
	fprintf(f,
"Usage: ec-ctl SOCKET COMMAND [ARGS...]\n"
"\n"
"Send COMMAND to the replica whose control socket is SOCKET (its\n"
"--control path) and print the answer.  'ec-ctl SOCKET help' lists the\n"
"commands: status, stats, dump, batch [N], reads [log|lease], offload\n"
"[SPEC on|off] (an error if the replica runs with --no-bpf) and help.\n"
"\n"
"Exit status: 0 on an answer, 1 if the replica answered 'error: ...' or\n"
"could not be reached, 2 on a usage error.\n");
}

/* Join argv into one command line ending in a newline.  Returns 0, or -1
 * after printing why. */
static int build_line(int argc, char **argv, char *line, size_t cap)
{
	size_t len = 0;

	for (int i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]);

		if (n == 0 || strpbrk(argv[i], " \t\r\n")) {
			fprintf(stderr, "ec-ctl: argument '%s' is empty or "
				"contains white space\n", argv[i]);
			return -1;
		}
		if (len + n + 1 >= cap) {
			fprintf(stderr, "ec-ctl: command longer than %zu bytes\n",
				cap - 2);
			return -1;
		}
		if (i)
			line[len++] = ' ';
		memcpy(line + len, argv[i], n);
		len += n;
	}
	line[len++] = '\n';
	line[len] = '\0';
	return 0;
}

/* Connect to the control socket at path.  Returns the fd, or -1 after
 * printing why. */
static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = CTL_TIMEOUT_S };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "ec-ctl: socket path %s is too long\n", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "ec-ctl: socket: %s\n", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "ec-ctl: cannot connect to %s: %s%s\n", path,
			strerror(errno),
			errno == ECONNREFUSED || errno == ENOENT ?
				" (is the replica running?)" : "");
		close(fd);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

/* Send line and read the whole answer into *ans (malloc'd, NUL-terminated).
 * Returns its length, or -1 after printing why. */
static ssize_t exchange(int fd, const char *path, const char *line, char **ans)
{
	size_t len = 0, cap = 4096, sent = 0, total = strlen(line);
	char *buf = malloc(cap);

	if (!buf) {
		fprintf(stderr, "ec-ctl: out of memory\n");
		return -1;
	}
	while (sent < total) {
		ssize_t n = send(fd, line + sent, total - sent, MSG_NOSIGNAL);

		if (n < 0 && errno != EINTR)
			goto io_err;
		if (n > 0)
			sent += (size_t)n;
	}
	for (;;) {
		ssize_t n;

		if (len + 1 == cap) {
			char *nb = realloc(buf, cap * 2);

			if (!nb) {
				fprintf(stderr, "ec-ctl: out of memory\n");
				goto err;
			}
			buf = nb;
			cap *= 2;
		}
		n = recv(fd, buf + len, cap - 1 - len, 0);
		if (n == 0)
			break;
		if (n < 0 && errno != EINTR)
			goto io_err;
		if (n > 0)
			len += (size_t)n;
	}
	buf[len] = '\0';
	*ans = buf;
	return (ssize_t)len;
io_err:
	fprintf(stderr, "ec-ctl: %s: %s\n", path,
		errno == EAGAIN || errno == EWOULDBLOCK ?
			"no answer (timed out)" : strerror(errno));
err:
	free(buf);
	return -1;
}

int main(int argc, char **argv)
{
	char line[CTL_MAX_LINE + 1], *ans = NULL;
	ssize_t len;
	bool failed;
	int fd;

	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 ||
			  strcmp(argv[1], "--help") == 0)) {
		usage(stdout);
		return 0;
	}
	if (argc < 3) {
		usage(stderr);
		return 2;
	}
	if (build_line(argc - 2, argv + 2, line, sizeof(line)) < 0)
		return 2;
	fd = connect_to(argv[1]);
	if (fd < 0)
		return 1;
	len = exchange(fd, argv[1], line, &ans);
	close(fd);
	if (len < 0)
		return 1;
	failed = strncmp(ans, "error: ", 7) == 0;
	fwrite(ans, 1, (size_t)len, failed ? stderr : stdout);
	free(ans);
	if (fflush(stdout) != 0) {
		perror("ec-ctl: stdout");
		return 1;
	}
	return failed ? 1 : 0;
}
