/*
 * bench.c - ec-bench, the closed-loop load generator.
 *
 * C logical clients, each with one request outstanding, share one UDP
 * socket; replies are demultiplexed by client_id, a random base plus the
 * client's index (with --history, plus its current process: the index
 * plus a multiple of the client count, see history_slot.h).  A point is:
 * warmup (not measured), the measured duration, then a grace period in
 * which no new request starts and the outstanding ones may finish.  One
 * libevent loop runs it all: a socket read event and a periodic tick that
 * drives retries and phase changes.
 */
#define _GNU_SOURCE /* recvmmsg */
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"
#include "bench_rng.h"
#include "bench_verify.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/udp.h"
#include "histogram.h"
#include "history.h"
#include "history_slot.h"
#include "ec_wire.h"
#include "session.h"

#define GRACE_US 2000000ull
#define RX_BATCH 32
#define RX_BUF 2048
#define SOCK_BUF (8 << 20)

static const Ec__OpKind kind_ops[K_MAX] = {
	[K_GET] = EC__OP_KIND__OP_GET,
	[K_PUT] = EC__OP_KIND__OP_PUT,
	[K_CAS] = EC__OP_KIND__OP_CAS,
	[K_DELETE] = EC__OP_KIND__OP_DELETE,
};

struct client {
	struct ec_session s;
	unsigned kind;  /* of the request outstanding (or last sent) */
};

enum phase { PH_WARMUP, PH_MEASURE, PH_GRACE };

struct bench {
	struct bench_opts o;
	struct ec_config cfg;
	struct sockaddr_in addr[EC_MAX_REPLICAS];
	int fd;
	struct event_base *base;
	struct event *rx_ev, *tick_ev, *sigint_ev, *sigterm_ev;
	struct client *cl;
	unsigned active;          /* clients taking part in this point */
	uint64_t id_base;
	uint64_t rng;
	struct bench_verify verify; /* --verify-log */
	struct ec_hslot *hs;      /* --history: max_clients slots, or NULL */
	struct ec_history hist;
	enum phase phase;
	uint64_t t_measure, t_end, t_grace_end, t_progress;
	bool interrupted;
	struct bench_point pt;
	uint64_t stray;           /* datagrams not answering an active client */
	uint64_t send_errors;
	uint8_t filler[EC_MAX_VALUE];
	/* recvmmsg batch, set up once: the kernel writes only msg_len and
	 * msg_flags (no source address is asked for). */
	struct mmsghdr rx_msgs[RX_BATCH];
	struct iovec rx_iov[RX_BATCH];
	uint8_t rx_bufs[RX_BATCH][RX_BUF];
};

/* ec_session_sendto's error callback: count every failed send, show the
 * first one with -v (thousands of clients could flood stderr). */
static void on_send_error(void *arg, unsigned replica, int err)
{
	struct bench *b = arg;

	if (b->o.verbose && b->send_errors == 0)
		fprintf(stderr, "ec-bench: send to replica %u: %s\n", replica,
			strerror(err));
	b->send_errors++;
}

/* Send a datagram the session handed back, to one replica or to all. */
static void send_out(struct bench *b, const struct ec_session_send *out)
{
	ec_session_sendto(b->fd, b->addr, b->cfg.n, out, on_send_error, b);
}

/* Draw an op kind for client ci according to --mix (--pin-mix for a
 * pinned client). */
static unsigned pick_kind(struct bench *b, unsigned ci)
{
	const unsigned *mix = b->o.has_pin_mix && ci < b->o.pin_clients ?
				      b->o.pin_mix : b->o.mix;
	unsigned r = (unsigned)(bench_rnd(&b->rng) % 100), k;

	for (k = 0; k < K_MAX - 1; k++) {
		if (r < mix[k])
			break;
		r -= mix[k];
	}
	return k;
}

/* Fill op, pointing into key and val, with client c's next request of
 * the given kind outside --history: with --verify-log, one of its key
 * space (bench_verify.h; key index in *k); else a key of the plain key
 * space.  Draws from the seeded generator. */
static void plain_op(struct bench *b, struct client *c, unsigned kind,
		     Ec__KvOp *op, char *key, char *val, unsigned *k)
{
	int klen;

	op->kind = kind_ops[kind];
	if (b->o.verify_log) {
		bench_verify_op(&b->verify, (unsigned)(c - b->cl),
				kind == K_PUT, &b->rng, op, key, val, k);
		return;
	}
	klen = snprintf(key, EC_MAX_KEY + 1, "k%u",
			(unsigned)(bench_rnd(&b->rng) % b->o.keys));
	if (kind == K_PUT || kind == K_CAS) {
		op->value.data = b->filler;
		op->value.len = b->o.value_size;
	}
	/* CAS expects what PUT writes, so it succeeds on written keys. */
	if (kind == K_CAS)
		op->expected = op->value;
	op->key.data = (uint8_t *)key;
	op->key.len = (size_t)klen;
}

/* Start client c's next request at time now.  Returns 0, or -1 if the
 * session refused it (a bug: sizes were checked at start-up). */
static int issue(struct bench *b, struct client *c, uint64_t now)
{
	Ec__KvOp plain = EC__KV_OP__INIT;
	const Ec__KvOp *op = &plain;
	struct ec_session_send out;
	char key[EC_MAX_KEY + 1];
	char val[EC_MAX_VALUE + 1];
	unsigned ci = (unsigned)(c - b->cl), kind = pick_kind(b, ci), k = 0;

	c->kind = kind;

	if (b->hs)
		op = ec_hslot_next(&b->hs[ci], kind_ops[kind],
				   bench_rnd(&b->rng));
	else
		plain_op(b, c, kind, &plain, key, val, &k);
	if (ec_session_start(&c->s, op, now, &out) < 0) {
		fprintf(stderr, "ec-bench: client %u: request does not fit\n", ci);
		return -1;
	}
	if (b->o.verify_log)
		bench_verify_sent(&b->verify, ci, kind == K_PUT, k);
	/* Logged before the send: the invoke precedes anything it causes. */
	if (b->hs)
		ec_history_record(&b->hist, b->hs[ci].process,
				  EC_HISTORY_INVOKE, op, NULL);
	send_out(b, &out);
	return 0;
}

/* Start the next request of c unless the point is winding down; a
 * refusal ends the run. */
static void next(struct bench *b, struct client *c, uint64_t now)
{
	if (b->phase == PH_GRACE)
		return;
	if (issue(b, c, now) < 0) {
		b->interrupted = true;
		b->t_grace_end = now;
		event_base_loopbreak(b->base);
	}
}

/* Move through the phases of the point as time passes. */
static void advance(struct bench *b, uint64_t now)
{
	if (b->phase == PH_WARMUP && now >= b->t_measure) {
		b->phase = PH_MEASURE;
		b->pt.last_done = b->t_measure;
		b->t_progress = b->t_measure + 1000000;
	}
	if (b->phase == PH_MEASURE && now >= b->t_end) {
		if (b->t_end - b->pt.last_done > b->pt.max_stall)
			b->pt.max_stall = b->t_end - b->pt.last_done;
		b->pt.measured_us = b->t_end - b->t_measure;
		b->phase = PH_GRACE;
	}
}

/* --history: log the end of client c's op with the given type (read: what
 * a get read, NULL if nothing) and, when its outcome is unknown, move the
 * client to a new process.  The session must be idle. */
static void history_end(struct bench *b, struct client *c,
			enum ec_history_type type,
			const ProtobufCBinaryData *read)
{
	struct ec_hslot *h = &b->hs[c - b->cl];

	ec_history_record(&b->hist, h->process, type, &h->op, read);
	if (type == EC_HISTORY_INFO)
		ec_hslot_retire(h, &c->s, b->id_base);
}

/* Account for client c's answered request. */
static void on_done(struct bench *b, struct client *c,
		    const struct ec_session_result *res, uint64_t now)
{
	bool ok = res->status == EC__STATUS__ST_OK ||
		  res->status == EC__STATUS__ST_NOT_FOUND ||
		  res->status == EC__STATUS__ST_CAS_FAILED;

	if (b->o.verify_log)
		bench_verify_done(&b->verify, (unsigned)(c - b->cl),
				  res->status);
	if (b->hs) {
		ProtobufCBinaryData read = {
			.len = res->value_len,
			.data = (uint8_t *)res->value,
		};

		history_end(b, c, ec_hslot_done(&b->hs[c - b->cl], res),
			    res->status == EC__STATUS__ST_OK ? &read : NULL);
	}
	if (!ok && b->phase != PH_WARMUP) {
		const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
			&ec__status__descriptor, res->status);

		if (b->o.verbose && b->pt.errors == 0)
			fprintf(stderr, "ec-bench: request refused with status %s\n",
				v ? v->name : "?");
		b->pt.errors++;
	}
	/* the replicas forgot this client: go on as a new one (history mode
	 * did, as for any unknown outcome); the id keeps its slot's residue */
	if (res->status == EC__STATUS__ST_SESSION_EXPIRED && !b->hs)
		ec_session_renew(&c->s, c->s.client_id + b->o.max_clients);
	if (ok && b->phase == PH_MEASURE) {
		ec_hist_record(&b->pt.hist, res->latency_us);
		ec_hist_record(&b->pt.kind_hist[c->kind], res->latency_us);
		b->pt.ops++;
		b->pt.kind_ops[c->kind]++;
		b->pt.kind_lease[c->kind] += res->lease;
		b->pt.kind_kernel[c->kind] += res->read_reply;
		if (now - b->pt.last_done > b->pt.max_stall)
			b->pt.max_stall = now - b->pt.last_done;
		b->pt.last_done = now;
	}
	next(b, c, now);
}

/* Handle one received datagram. */
static void on_datagram(struct bench *b, const uint8_t *buf, size_t len,
			uint64_t now)
{
	struct ec_session_result res;
	struct ec_session_send out;
	struct client *c;
	struct ec_session_reply_hdr hdr;
	Ec__Reply *rep;
	uint64_t idx;

	rep = ec_session_reply_decode(buf, len, b->cfg.n, &hdr);
	if (!rep) {
		b->stray++;
		return;
	}
	idx = (rep->client_id - b->id_base) % b->o.max_clients;
	if (idx >= b->active) {
		b->stray++;
		goto out;
	}
	c = &b->cl[idx];
	switch (ec_session_on_reply(&c->s, rep, &hdr, now, &out, &res)) {
	case EC_SESSION_SEND:
		send_out(b, &out);
		if (b->phase != PH_WARMUP)
			b->pt.retries++;
		break;
	case EC_SESSION_BEGIN:
		send_out(b, &out);
		break;
	case EC_SESSION_DONE:
		on_done(b, c, &res, now);
		break;
	case EC_SESSION_STALE:
		if (b->phase != PH_WARMUP)
			b->pt.kind_stale[c->kind]++;
		break;
	default:
		break;
	}
out:
	ec__reply__free_unpacked(rep, NULL);
}

/* libevent: the socket is readable; drain it in batches. */
static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct bench *b = arg;
	struct mmsghdr *msgs = b->rx_msgs;
	uint64_t now;
	int n;

	do {
		n = recvmmsg(fd, msgs, RX_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			break;
		now = ec_clock_us();
		advance(b, now);
		for (int i = 0; i < n; i++) {
			if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC)
				b->stray++;
			else
				on_datagram(b, b->rx_bufs[i], msgs[i].msg_len, now);
		}
	} while (n == RX_BATCH);
}

/* Print a progress line every measured second (-v). */
static void progress(struct bench *b, uint64_t now)
{
	if (!b->o.verbose || b->phase != PH_MEASURE || now < b->t_progress)
		return;
	fprintf(stderr, "  %4.0f s: %llu ops, %llu retries, %llu timeouts\n",
		(double)(now - b->t_measure) / 1e6,
		(unsigned long long)b->pt.ops,
		(unsigned long long)b->pt.retries,
		(unsigned long long)b->pt.timeouts);
	b->t_progress += 1000000;
}

/* libevent: periodic tick.  Resend or give up timed-out requests, move
 * phases, and end the point when the grace period is over. */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct bench *b = arg;
	uint64_t now = ec_clock_us();
	struct ec_session_send out;
	bool idle = true;

	advance(b, now);
	for (unsigned i = 0; i < b->active; i++) {
		struct client *c = &b->cl[i];

		switch (ec_session_tick(&c->s, now, &out)) {
		case EC_SESSION_SEND:
			send_out(b, &out);
			if (b->phase != PH_WARMUP)
				b->pt.retries++;
			break;
		case EC_SESSION_GAVE_UP:
			if (b->phase != PH_WARMUP)
				b->pt.timeouts++;
			if (b->o.verify_log)
				bench_verify_forget(&b->verify, i);
			if (b->hs)
				history_end(b, c, EC_HISTORY_INFO, NULL);
			next(b, c, now);
			break;
		default:
			break;
		}
		idle = idle && !c->s.busy;
	}
	progress(b, now);
	if (b->phase == PH_GRACE && (idle || now >= b->t_grace_end))
		event_base_loopbreak(b->base);
}

/* libevent: SIGINT/SIGTERM.  The first ends the measurement now (results
 * are still reported), the second the grace period too. */
static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct bench *b = arg;
	uint64_t now = ec_clock_us();

	if (b->interrupted) {
		b->t_grace_end = now;
		return;
	}
	b->interrupted = true;
	if (b->phase != PH_GRACE) {
		if (b->t_measure > now)
			b->t_measure = now;
		b->t_end = now;
		advance(b, now);
	}
}

/* Run one point with `clients` clients.  Returns 0, or -1 if the event
 * loop failed. */
static int run_point(struct bench *b, unsigned clients)
{
	uint64_t now = ec_clock_us();

	memset(&b->pt, 0, offsetof(struct bench_point, hist));
	ec_hist_reset(&b->pt.hist);
	for (unsigned k = 0; k < K_MAX; k++)
		ec_hist_reset(&b->pt.kind_hist[k]);
	b->active = clients;
	b->phase = PH_WARMUP;
	b->t_measure = now + b->o.warmup_us;
	b->t_end = b->t_measure + b->o.duration_us;
	b->t_grace_end = b->t_end + GRACE_US;
	advance(b, now);
	for (unsigned i = 0; i < clients && !b->interrupted; i++)
		next(b, &b->cl[i], now);
	if (event_base_dispatch(b->base) < 0) {
		fprintf(stderr, "ec-bench: event loop failed\n");
		return -1;
	}
	advance(b, ec_clock_us());
	/* Requests still unanswered at the end of the grace period count as
	 * given up; --verify-log already has them as sent. */
	for (unsigned i = 0; i < clients; i++) {
		if (b->cl[i].s.busy) {
			b->pt.timeouts++;
			ec_session_abandon(&b->cl[i].s);
			if (b->hs)
				history_end(b, &b->cl[i], EC_HISTORY_INFO, NULL);
		}
		if (b->o.verify_log)
			bench_verify_forget(&b->verify, i);
	}
	return 0;
}

/* Allocate clients, the verify table, the socket and the events.
 * Returns 0, or -1 with a message (bench_free cleans up either way). */
static int setup(struct bench *b)
{
	struct timeval tick = { 0, 0 };
	uint64_t tick_us;

	for (unsigned i = 0; i < b->cfg.n; i++)
		ec_peer_sockaddr(&b->cfg.peers[i], &b->addr[i]);
	for (unsigned i = 0; i < RX_BATCH; i++) {
		b->rx_iov[i].iov_base = b->rx_bufs[i];
		b->rx_iov[i].iov_len = RX_BUF;
		b->rx_msgs[i].msg_hdr.msg_iov = &b->rx_iov[i];
		b->rx_msgs[i].msg_hdr.msg_iovlen = 1;
	}
	for (unsigned i = 0; i < sizeof(b->filler); i++)
		b->filler[i] = (uint8_t)('a' + i % 26);
	b->rng = b->o.seed;
	/* Client i's id is id_base + i. */
	if (ec_session_random_id(&b->id_base) < 0) {
		perror("ec-bench: getrandom");
		return -1;
	}
	b->cl = calloc(b->o.max_clients, sizeof(*b->cl));
	if (!b->cl)
		goto nomem;
	for (unsigned i = 0; i < b->o.max_clients; i++) {
		if (ec_session_init(&b->cl[i].s, b->id_base + i, b->cfg.n,
				    b->o.timeout_us, b->o.give_up_us) < 0) {
			fprintf(stderr, "ec-bench: bad session parameters\n");
			return -1;
		}
		ec_session_use_read(&b->cl[i].s, b->o.read_msg);
		if (i < b->o.pin_clients)
			ec_session_pin(&b->cl[i].s, (int)b->o.pin_replica);
	}
	if (b->o.verify_log &&
	    bench_verify_init(&b->verify, b->o.max_clients, b->o.keys,
			      b->o.value_size, b->filler) < 0)
		goto nomem;
	if (b->o.history) {
		b->hs = calloc(b->o.max_clients, sizeof(*b->hs));
		if (!b->hs)
			goto nomem;
		/* The keys' run tag: the client ids are as random and as
		 * much this run's. */
		for (unsigned i = 0; i < b->o.max_clients; i++)
			ec_hslot_init(&b->hs[i], i, b->o.max_clients,
				      (uint32_t)(b->id_base >> 32), b->o.keys);
		if (ec_history_open(&b->hist, b->o.history) < 0)
			return -1;
	}
	/* Large buffers, forced past the sysctl limits when privileged:
	 * thousands of clients can burst. */
	b->fd = ec_udp_open(&(struct ec_udp_opts){ .nonblock = true,
						   .buf_bytes = SOCK_BUF }, NULL);
	if (b->fd < 0) {
		perror("ec-bench: socket");
		return -1;
	}
	b->base = event_base_new();
	if (!b->base)
		goto nomem;
	tick_us = b->o.timeout_us / 4;
	tick_us = tick_us < 1000 ? 1000 : tick_us > 10000 ? 10000 : tick_us;
	tick.tv_usec = (suseconds_t)tick_us;
	b->rx_ev = event_new(b->base, b->fd, EV_READ | EV_PERSIST, on_readable, b);
	b->tick_ev = event_new(b->base, -1, EV_PERSIST, on_tick, b);
	b->sigint_ev = evsignal_new(b->base, SIGINT, on_signal, b);
	b->sigterm_ev = evsignal_new(b->base, SIGTERM, on_signal, b);
	if (!b->rx_ev || !b->tick_ev || !b->sigint_ev || !b->sigterm_ev)
		goto nomem;
	if (event_add(b->rx_ev, NULL) < 0 || event_add(b->tick_ev, &tick) < 0 ||
	    event_add(b->sigint_ev, NULL) < 0 || event_add(b->sigterm_ev, NULL) < 0) {
		fprintf(stderr, "ec-bench: cannot register events\n");
		return -1;
	}
	return 0;
nomem:
	fprintf(stderr, "ec-bench: out of memory\n");
	return -1;
}

/* Release everything setup() made. */
static void bench_free(struct bench *b)
{
	struct event *evs[] = { b->rx_ev, b->tick_ev, b->sigint_ev, b->sigterm_ev };

	for (unsigned i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
		if (evs[i])
			event_free(evs[i]);
	if (b->base)
		event_base_free(b->base);
	if (b->fd >= 0)
		close(b->fd);
	free(b->hs);
	bench_verify_free(&b->verify);
	free(b->cl);
}

int main(int argc, char **argv)
{
	/* Static for its size (histogram, receive buffers), and without an
	 * initialiser so that it lands in .bss, not in the binary. */
	static struct bench b;
	char err[256];
	unsigned points;
	int rc = 1;
	bool all_ops = true;

	b.fd = -1;
	if (bench_parse_opts(argc, argv, &b.o) < 0)
		return 1;
	if (ec_config_load(b.o.config, &b.cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "ec-bench: %s\n", err);
		return 1;
	}
	if (b.o.pin_clients && b.o.pin_replica >= b.cfg.n) {
		fprintf(stderr, "ec-bench: --pin: no replica %u in %s (%u replicas)\n",
			b.o.pin_replica, b.o.config, b.cfg.n);
		goto out;
	}
	if (setup(&b) < 0)
		goto out;
	bench_print_header(&b.o, b.cfg.n);
	points = b.o.n_sweep ? b.o.n_sweep : 1;
	for (unsigned i = 0; i < points && !b.interrupted; i++) {
		unsigned clients = b.o.n_sweep ? b.o.sweep[i] : b.o.clients;

		if (run_point(&b, clients) < 0 ||
		    bench_print_point(&b.o, b.cfg.n, clients, &b.pt) < 0)
			goto out;
		all_ops = all_ops && b.pt.ops > 0;
	}
	if (b.o.verbose)
		fprintf(stderr, "ec-bench: %llu stray datagrams, %llu send errors\n",
			(unsigned long long)b.stray,
			(unsigned long long)b.send_errors);
	rc = 0;
	if (b.o.verify_log && bench_verify_write(&b.verify, b.o.verify_log) < 0) {
		fprintf(stderr, "ec-bench: %s: %s\n", b.o.verify_log,
			strerror(errno));
		rc = 1;
	}
	if (!all_ops) {
		fprintf(stderr, "ec-bench: no operation completed in a measured period (is the cluster up?)\n");
		rc = 1;
	}
out:
	/* Whatever ended the run, the history written so far goes out whole. */
	if (b.hist.f && ec_history_close(&b.hist) < 0)
		rc = 1;
	bench_free(&b);
	return rc;
}
