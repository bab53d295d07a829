/*
 * cli.c - ec-cli, a one-shot command-line client: one request, its answer
 * on stdout, the outcome in the exit status.  Retries, leader discovery and
 * the deadline come from the session (session.c); this file only parses
 * the command, runs a poll() loop and prints.
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/config.h"
#include "common/udp.h"
#include "ec_wire.h"
#include "session.h"

/* Exit statuses. */
#define EXIT_OK 0
#define EXIT_ERROR 1
#define EXIT_NO 2 /* NOT_FOUND or CAS_FAILED */
#define EXIT_FULL 3 /* STORE_FULL */

struct cli {
	struct ec_config cfg;
	struct sockaddr_in addr[EC_MAX_REPLICAS];
	struct ec_session s;
	int fd;
	bool verbose;
	bool is_get;
};

static void usage(FILE *f)
{
	fprintf(f,
"usage: ec-cli --config FILE [--timeout-ms T] [--deadline-ms D] [--min-op OP]\n"
"              [--read-msg on|off] [-v] COMMAND\n"
"\n"
"Send one request to an electrode-c cluster and print the answer.\n"
"\n"
"Commands:\n"
"  put KEY VALUE              set KEY; prints OK\n"
"  get KEY                    prints the value (raw bytes, then a newline)\n"
"  delete KEY                 remove KEY; prints OK\n"
"  cas KEY EXPECTED NEW       set KEY to NEW if it holds EXPECTED\n"
"  cas-absent KEY NEW         set KEY to NEW if it does not exist\n"
"\n"
"Keys are at most %d bytes, values at most %d.  A failed lookup prints\n"
"NOT_FOUND; a failed cas prints CAS_FAILED current=<value>, or CAS_FAILED\n"
"absent if the key does not exist.  A put or cas that the store has no room\n"
"for (the replicas' --max-keys/--max-bytes) prints STORE_FULL and changed\n"
"nothing.\n"
"\n"
"Options (before the command):\n"
"  --config FILE       cluster configuration (replica addresses), required\n"
"  --timeout-ms T      resend to every replica after T ms without an answer,\n"
"                      same request id (default 100)\n"
"  --deadline-ms D     give up D ms after the first send (default 5000)\n"
"  --min-op OP         the op an earlier run's answer reflected (-v prints\n"
"                      it): an answer from older state is not accepted (the\n"
"                      request is resent until the deadline), so reads never\n"
"                      go back in time from one run to the next (default 0)\n"
"  --read-msg on|off   on (the default): a get goes out as a READ, the\n"
"                      fixed-layout message the leader's XDP program can\n"
"                      answer itself (READ_REPLY) and user space answers as\n"
"                      the GET it stands for; off: as a REQUEST like every\n"
"                      other command, as before READs\n"
"  -v, --verbose       show redirects, retries and the op the answer reflects\n"
"                      (and whether the leader's lease answered it, and if so\n"
"                      whether in the kernel) on stderr\n"
"  -h, --help          this text\n"
"\n"
"Exit status: 0 OK, 2 NOT_FOUND or CAS_FAILED, 3 STORE_FULL, 1 error or no\n"
"answer before the deadline.\n",
		EC_MAX_KEY, EC_MAX_VALUE);
}

/* Parse milliseconds in 1..3600000 for option name.  Returns the value in
 * microseconds, or 0 after a message. */
static uint64_t parse_ms(const char *s, const char *name)
{
	unsigned long long v;

	if (ec_parse_uint(s, 1, 3600000, &v) < 0) {
		fprintf(stderr, "ec-cli: %s: expected milliseconds in 1..3600000, got '%s'\n",
			name, s);
		return 0;
	}
	return v * 1000;
}

/* Point b at a command-line argument, checking its length. */
static int set_bytes(ProtobufCBinaryData *b, const char *arg, size_t max,
		     const char *what)
{
	size_t len = strlen(arg);

	if (len > max) {
		fprintf(stderr, "ec-cli: %s is %zu bytes, at most %zu allowed\n",
			what, len, max);
		return -1;
	}
	b->data = (uint8_t *)arg;
	b->len = len;
	return 0;
}

/* Build op from the command words args[0..n).  Returns 0, or -1 after a
 * message. */
static int parse_command(char **args, int n, Ec__KvOp *op, bool *is_get)
{
	static const struct {
		const char *name;
		int argc;
		Ec__OpKind kind;
	} cmds[] = {
		{ "put", 3, EC__OP_KIND__OP_PUT },
		{ "get", 2, EC__OP_KIND__OP_GET },
		{ "delete", 2, EC__OP_KIND__OP_DELETE },
		{ "cas", 4, EC__OP_KIND__OP_CAS },
		{ "cas-absent", 3, EC__OP_KIND__OP_CAS },
	};
	unsigned i;

	if (n == 0) {
		fprintf(stderr, "ec-cli: no command (see --help)\n");
		return -1;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(args[0], cmds[i].name) == 0)
			break;
	if (i == sizeof(cmds) / sizeof(cmds[0])) {
		fprintf(stderr, "ec-cli: unknown command '%s' (see --help)\n",
			args[0]);
		return -1;
	}
	if (n != cmds[i].argc) {
		fprintf(stderr, "ec-cli: %s takes %d argument%s (see --help)\n",
			args[0], cmds[i].argc - 1, cmds[i].argc == 2 ? "" : "s");
		return -1;
	}
	op->kind = cmds[i].kind;
	*is_get = op->kind == EC__OP_KIND__OP_GET;
	op->expect_absent = strcmp(args[0], "cas-absent") == 0;
	if (set_bytes(&op->key, args[1], EC_MAX_KEY, "KEY") < 0)
		return -1;
	if (op->kind == EC__OP_KIND__OP_CAS && !op->expect_absent) {
		if (set_bytes(&op->expected, args[2], EC_MAX_VALUE, "EXPECTED") < 0)
			return -1;
		return set_bytes(&op->value, args[3], EC_MAX_VALUE, "NEW");
	}
	if (n == 3)
		return set_bytes(&op->value, args[2], EC_MAX_VALUE,
				 op->kind == EC__OP_KIND__OP_PUT ? "VALUE" : "NEW");
	return 0;
}

/* ec_session_sendto's error callback with -v: show every failed send. */
static void print_send_error(void *arg, unsigned replica, int err)
{
	fprintf(stderr, "ec-cli: send to replica %u: %s\n", replica,
		strerror(err));
}

/* Send a datagram the session handed back.  A failed send is only a lost
 * packet to the session, which retries; say so with -v. */
static void send_out(struct cli *c, const struct ec_session_send *out)
{
	ec_session_sendto(c->fd, c->addr, c->cfg.n, out,
			  c->verbose ? print_send_error : NULL, NULL);
}

/* Print the answer and return the exit status for it. */
static int print_result(const struct cli *c,
			const struct ec_session_result *r)
{
	switch (r->status) {
	case EC__STATUS__ST_OK:
		if (c->is_get) {
			fwrite(r->value, 1, r->value_len, stdout);
			putchar('\n');
		} else {
			puts("OK");
		}
		return EXIT_OK;
	case EC__STATUS__ST_NOT_FOUND:
		puts("NOT_FOUND");
		return EXIT_NO;
	case EC__STATUS__ST_CAS_FAILED:
		if (!r->found) {
			puts("CAS_FAILED absent");
			return EXIT_NO;
		}
		fputs("CAS_FAILED current=", stdout);
		fwrite(r->value, 1, r->value_len, stdout);
		putchar('\n');
		return EXIT_NO;
	case EC__STATUS__ST_STORE_FULL:
		puts("STORE_FULL");
		return EXIT_FULL;
	case EC__STATUS__ST_BAD_REQUEST:
		fprintf(stderr, "ec-cli: the cluster rejected the request as malformed\n");
		return EXIT_ERROR;
	case EC__STATUS__ST_SESSION_EXPIRED:
		fprintf(stderr, "ec-cli: the cluster no longer knows this client "
			"(session expired); the request was not executed now\n");
		return EXIT_ERROR;
	default:
		fprintf(stderr, "ec-cli: unexpected reply status %d\n", r->status);
		return EXIT_ERROR;
	}
}

/* Read every queued datagram.  Returns an exit status once the request
 * is answered, else -1. */
static int receive(struct cli *c)
{
	uint8_t buf[EC_MAX_MSG];
	struct ec_session_result res;
	struct ec_session_send out;
	struct ec_session_reply_hdr hdr;
	Ec__Reply *rep;
	ssize_t len;
	int rc = -1;

	while (rc < 0 && (len = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT)) >= 0) {
		rep = ec_session_reply_decode(buf, (size_t)len, c->cfg.n, &hdr);
		if (!rep)
			continue;
		switch (ec_session_on_reply(&c->s, rep, &hdr, ec_clock_us(), &out, &res)) {
		case EC_SESSION_SEND:
			if (c->verbose)
				fprintf(stderr, "ec-cli: not the leader; view %u, trying replica %d\n",
					hdr.view, out.to);
			send_out(c, &out);
			break;
		case EC_SESSION_BEGIN:
			if (c->verbose)
				fprintf(stderr, "ec-cli: session starts at commit %llu\n",
					(unsigned long long)hdr.commit);
			send_out(c, &out);
			break;
		case EC_SESSION_STALE:
			if (c->verbose)
				fprintf(stderr, "ec-cli: an answer from op %llu, older than op %llu; waiting for a newer one\n",
					(unsigned long long)rep->op,
					(unsigned long long)c->s.seen_op);
			break;
		case EC_SESSION_DONE:
			if (c->verbose)
				fprintf(stderr, "ec-cli: answered in %llu us after %u send%s, op %llu%s\n",
					(unsigned long long)res.latency_us,
					res.sends, res.sends == 1 ? "" : "s",
					(unsigned long long)res.op,
					res.read_reply ? " (under the lease, in the kernel)" :
					res.lease ? " (under the lease)" : "");
			rc = print_result(c, &res);
			break;
		default:
			break;
		}
		ec__reply__free_unpacked(rep, NULL);
	}
	return rc;
}

/* Send op and wait for its answer.  Returns the exit status. */
static int run(struct cli *c, const Ec__KvOp *op)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	struct ec_session_send out;
	uint64_t now = ec_clock_us(), next;
	int rc;

	if (ec_session_start(&c->s, op, now, &out) < 0) {
		fprintf(stderr, "ec-cli: request too large for one message\n");
		return EXIT_ERROR;
	}
	send_out(c, &out);
	for (;;) {
		next = ec_session_next_tick(&c->s);
		now = ec_clock_us();
		if (poll(&pfd, 1, next > now ? (int)((next - now + 999) / 1000) : 0) < 0 &&
		    errno != EINTR) {
			perror("ec-cli: poll");
			return EXIT_ERROR;
		}
		if (pfd.revents & POLLIN && (rc = receive(c)) >= 0)
			return rc;
		switch (ec_session_tick(&c->s, ec_clock_us(), &out)) {
		case EC_SESSION_SEND:
			if (c->verbose)
				fprintf(stderr, "ec-cli: no answer yet; resending to all replicas\n");
			send_out(c, &out);
			break;
		case EC_SESSION_GAVE_UP:
			fprintf(stderr, "ec-cli: no answer within %llu ms\n",
				(unsigned long long)(c->s.give_up_us / 1000));
			return EXIT_ERROR;
		default:
			break;
		}
	}
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'f' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "deadline-ms", required_argument, NULL, 'd' },
		{ "min-op", required_argument, NULL, 'o' },
		{ "read-msg", required_argument, NULL, 'r' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli c = { .fd = -1 };
	Ec__KvOp op = EC__KV_OP__INIT;
	uint64_t timeout_us = 100000, deadline_us = 5000000, client_id;
	unsigned long long min_op = 0;
	bool read_msg = true;
	const char *config = NULL;
	char err[256];
	int opt, rc = EXIT_ERROR;

	/* "+": stop at the command, so keys and values may start with '-'. */
	while ((opt = getopt_long(argc, argv, "+vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			config = optarg;
			break;
		case 't':
			if (!(timeout_us = parse_ms(optarg, "--timeout-ms")))
				return EXIT_ERROR;
			break;
		case 'd':
			if (!(deadline_us = parse_ms(optarg, "--deadline-ms")))
				return EXIT_ERROR;
			break;
		case 'o':
			if (ec_parse_uint(optarg, 0, UINT64_MAX, &min_op) < 0) {
				fprintf(stderr, "ec-cli: --min-op: expected an op number, got '%s'\n",
					optarg);
				return EXIT_ERROR;
			}
			break;
		case 'r':
			if (ec_session_parse_read_msg(optarg, &read_msg) < 0) {
				fprintf(stderr, "ec-cli: --read-msg: expected on or off, got '%s'\n",
					optarg);
				return EXIT_ERROR;
			}
			break;
		case 'v':
			c.verbose = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			fprintf(stderr, "ec-cli: see --help\n");
			return EXIT_ERROR;
		}
	}
	if (!config) {
		fprintf(stderr, "ec-cli: --config FILE is required (see --help)\n");
		return EXIT_ERROR;
	}
	if (parse_command(argv + optind, argc - optind, &op, &c.is_get) < 0)
		return EXIT_ERROR;
	if (ec_config_load(config, &c.cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "ec-cli: %s\n", err);
		return EXIT_ERROR;
	}
	for (unsigned i = 0; i < c.cfg.n; i++)
		ec_peer_sockaddr(&c.cfg.peers[i], &c.addr[i]);
	if (ec_session_random_id(&client_id) < 0) {
		perror("ec-cli: getrandom");
		return EXIT_ERROR;
	}
	if (ec_session_init(&c.s, client_id, c.cfg.n, timeout_us, deadline_us) < 0) {
		fprintf(stderr, "ec-cli: bad retry parameters\n");
		return EXIT_ERROR;
	}
	ec_session_saw(&c.s, min_op);
	ec_session_use_read(&c.s, read_msg);
	c.fd = ec_udp_open(&(struct ec_udp_opts){ 0 }, NULL);
	if (c.fd < 0) {
		perror("ec-cli: socket");
		return EXIT_ERROR;
	}
	rc = run(&c, &op);
	close(c.fd);
	return rc;
}
