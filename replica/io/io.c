/* io.c - see io.h. */
#define _GNU_SOURCE
#include "io.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/clock.h"
#include "core/core.h"
#include "common/diag.h"
#include "common/udp.h"
#include "offload/offload.h"

/* Datagrams per recvmmsg, and recvmmsg calls per readable event before
 * giving the timer and the control socket a turn. */
#define IO_BATCH 32
#define IO_BATCHES_PER_EVENT 4
/* Datagrams per sendmmsg: what one turn of the core sends goes out in
 * one call unless it is more than this. */
#define IO_TX_BATCH 256
/* One byte more than the largest valid datagram, so that an oversized one
 * arrives longer than EC_MAX_MSG and the core counts it as such. */
#define IO_RXBUF (EC_MAX_MSG + 1)
#define IO_SOCKBUF (4 << 20)

struct ec_io {
	struct ec_core *core;
	struct ec_offload *off;
	struct event *ring_ev;   /* fast-ack log has entries */
	int fd;
	unsigned n, self;
	unsigned carrier;                  /* peer a broadcast is addressed to */
	struct sockaddr_in peers[EC_MAX_REPLICAS];
	struct event *rx_ev;
	struct event *tick_ev;
	struct ec_io_stats stats;
	uint8_t *bufs;                     /* IO_BATCH * IO_RXBUF */
	struct mmsghdr msgs[IO_BATCH];     /* set up once, see ec_io_new */
	struct iovec iov[IO_BATCH];
	struct sockaddr_in from[IO_BATCH];
	/* datagrams of the current turn, not sent yet */
	unsigned tx_n;
	struct mmsghdr tx_msgs[IO_TX_BATCH];
	struct iovec tx_iov[IO_TX_BATCH];
	struct sockaddr_in tx_to[IO_TX_BATCH];
};

/*
 * Open io's UDP socket, bound to its own address (ip:port, for messages):
 * non-blocking, with checksum 0 (the BPF programs rewrite and build
 * frames without recomputing a checksum over the payload) and
 * IO_SOCKBUF buffers.  Logs what it could not set and the buffer sizes
 * it got.  Returns 0, or -1 after logging.
 */
static int open_socket(struct ec_io *io, const char *ip, unsigned port)
{
	struct ec_udp_opts o = { .nonblock = true, .no_check = true,
				 .buf_bytes = IO_SOCKBUF,
				 .bind = &io->peers[io->self] };
	struct ec_udp_report r;
	int err;

	io->fd = ec_udp_open(&o, &r);
	err = errno;
	if (r.no_check_err)
		pr_warn("setsockopt SO_NO_CHECK: %s", strerror(r.no_check_err));
	if (r.rcvbuf_err)
		pr_warn("setsockopt SO_RCVBUF: %s", strerror(r.rcvbuf_err));
	if (r.rcvbuf >= 0)
		pr_debug("SO_RCVBUF is %d bytes", r.rcvbuf);
	if (r.sndbuf_err)
		pr_warn("setsockopt SO_SNDBUF: %s", strerror(r.sndbuf_err));
	if (r.sndbuf >= 0)
		pr_debug("SO_SNDBUF is %d bytes", r.sndbuf);
	if (io->fd >= 0)
		return 0;
	if (strcmp(r.failed, "bind") == 0)
		pr_warn("bind %s:%u: %s", ip, port, strerror(err));
	else
		pr_warn("socket: %s", strerror(err));
	return -1;
}

/* Count a datagram sendmmsg refused (errno says why) and drop it: the
 * protocol retransmits what matters. */
static void tx_failed(struct ec_io *io, const struct mmsghdr *m)
{
	int err = errno;

	if (err == EAGAIN || err == EWOULDBLOCK)
		io->stats.tx_eagain++;
	else if (err == ENOBUFS)
		io->stats.tx_enobufs++;
	else
		io->stats.tx_errors++;
	if (ec_diag_enabled(EC_DIAG_DEBUG)) {
		const struct sockaddr_in *to = m->msg_hdr.msg_name;
		char ip[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &to->sin_addr, ip, sizeof(ip));
		pr_debug("send %zu bytes to %s:%u: %s",
			 m->msg_hdr.msg_iov->iov_len, ip, ntohs(to->sin_port),
			 strerror(err));
	}
}

/* Send every datagram queued by send_one, with as few sendmmsg calls as
 * the kernel allows (one, unless a datagram fails: it is skipped). */
static void send_queued(struct ec_io *io)
{
	unsigned done = 0;

	while (done < io->tx_n) {
		int rc;

		io->stats.tx_syscalls++;
		rc = sendmmsg(io->fd, io->tx_msgs + done, io->tx_n - done, 0);
		if (rc > 0) {
			io->stats.tx_datagrams += (unsigned)rc;
			done += (unsigned)rc;
		} else {
			tx_failed(io, &io->tx_msgs[done]);
			done++;
		}
	}
	io->tx_n = 0;
}

/* Queue one datagram for send_queued.  o's buffer must stay valid until
 * then (the core keeps it until ec_core_advance). */
static void send_one(struct ec_io *io, const struct ec_out *o,
		     const struct sockaddr_in *to)
{
	struct mmsghdr *m;

	if (io->tx_n == IO_TX_BATCH)
		send_queued(io);
	m = &io->tx_msgs[io->tx_n];
	io->tx_to[io->tx_n] = *to;
	io->tx_iov[io->tx_n].iov_base = o->buf;
	io->tx_iov[io->tx_n].iov_len = o->len;
	m->msg_hdr.msg_name = &io->tx_to[io->tx_n];
	m->msg_hdr.msg_namelen = sizeof(*to);
	m->msg_hdr.msg_iov = &io->tx_iov[io->tx_n];
	m->msg_hdr.msg_iovlen = 1;
	io->tx_n++;
}

/*
 * Send o to every other replica.  This is the one place a datagram goes to
 * all: with the broadcast offload on, it is sent once and the TC egress
 * program clones it to every peer.  The one datagram must still get past
 * neighbour resolution to reach the egress hook, so it is addressed to the
 * peer we heard from last: one that is up, whose neighbour entry is fresh.
 */
static void send_to_all(struct ec_io *io, struct ec_out *o)
{
	if (io->n == 1)
		return;
	if (io->off && ec_offload_prepare_to_all(io->off, o)) {
		send_one(io, o, &io->peers[io->carrier]);
		return;
	}
	for (unsigned i = 0; i < io->n; i++)
		if (i != io->self)
			send_one(io, o, &io->peers[i]);
}

/* Log what the core says happened: it logs nothing itself. */
static void log_event(const struct ec_event *ev)
{
	const struct ec_core_state *s = &ev->state;

	switch (ev->kind) {
	case EC_EV_STATUS:
		pr_info("view %u (leader %u), status %s, op %llu, commit %llu",
			s->view, s->leader, ec_status_name(s->status),
			(unsigned long long)s->op, (unsigned long long)s->commit);
		break;
	case EC_EV_RECOVERED:
		pr_info("recovered: normal in view %u, op %llu, commit %llu",
			s->view, (unsigned long long)s->op,
			(unsigned long long)s->commit);
		break;
	case EC_EV_SNAPSHOT_INSTALLED:
		pr_info("installed the checkpoint at op %llu from replica %u",
			(unsigned long long)ev->op, ev->replica);
		break;
	case EC_EV_SNAPSHOT_REFUSED:
		pr_warn("refusing the checkpoint at op %llu from replica %u: "
			"taken with --max-keys %llu --max-bytes %llu, ours are "
			"%llu and %llu (every replica needs the same)",
			(unsigned long long)ev->op, ev->replica,
			(unsigned long long)ev->theirs.max_keys,
			(unsigned long long)ev->theirs.max_bytes,
			(unsigned long long)ev->ours.max_keys,
			(unsigned long long)ev->ours.max_bytes);
		break;
	case EC_EV_CHECKPOINT:
		pr_debug("checkpoint at op %llu, %llu bytes",
			 (unsigned long long)ev->op,
			 (unsigned long long)ev->bytes);
		break;
	case EC_EV_CHECKPOINT_FAILED:
		pr_warn("the checkpoint at op %llu failed: the previous one "
			"and the log after it stay", (unsigned long long)ev->op);
		break;
	case EC_EV_MAX: /* a count, not a kind */
		break;
	}
}

/* The core's turn is over: bring the kernel's view of the replica in
 * line with the core's state, send every datagram it queued (one
 * sendmmsg), log what happened, and let the core start the next turn. */
static void finish_turn(struct ec_io *io)
{
	struct ec_ready rd;
	struct sockaddr_in to;

	ec_core_ready(io->core, &rd);
	if (io->off)
		ec_offload_sync(io->off, &rd.state);
	for (size_t i = 0; i < rd.n_out; i++) {
		struct ec_out *o = &rd.out[i];

		switch (o->dest) {
		case EC_TO_REPLICA:
			if (o->replica >= io->n || o->replica == io->self) {
				io->stats.tx_errors++;
				pr_warn("core queued %s for replica %u of %u",
					ec_msg_type_name(o->type), o->replica,
					io->n);
				break;
			}
			send_one(io, o, &io->peers[o->replica]);
			break;
		case EC_TO_ALL:
			send_to_all(io, o);
			break;
		case EC_TO_CLIENT:
			memset(&to, 0, sizeof(to));
			to.sin_family = AF_INET;
			to.sin_addr.s_addr = o->client.ip;
			to.sin_port = o->client.port;
			send_one(io, o, &to);
			break;
		}
	}
	send_queued(io);
	for (size_t i = 0; i < rd.n_events; i++)
		log_event(&rd.events[i]);
	ec_core_advance(io->core);
}

/*
 * Begin a turn of the core, returning the time it runs at: one clock
 * reading for the whole turn (it is short next to the core's timeouts,
 * and comes after the previous turn's, so the core's clock never goes
 * back).  With the offloads, the core first learns whether the kernel's
 * EC_F_QUORUM stands for a quorum, and absorbs every PREPARE the kernel
 * acknowledged so far: those come before anything the socket holds now.
 */
static uint64_t start_turn(struct ec_io *io)
{
	uint64_t now = ec_boot_us();
	const struct ec_dgram *acked;
	size_t n;

	if (!io->off)
		return now;
	ec_core_trust_quorum_flag(io->core,
				  ec_offload_counts_quorum(io->off));
	n = ec_offload_acked(io->off, &acked);
	for (size_t i = 0; i < n; i++)
		ec_core_absorb(io->core, acked[i].buf, acked[i].len, now);
	return now;
}

/* Remember a peer we just heard from as the broadcast carrier. */
static void note_peer(struct ec_io *io, const struct sockaddr_in *from)
{
	for (unsigned i = 0; i < io->n; i++)
		if (i != io->self &&
		    io->peers[i].sin_addr.s_addr == from->sin_addr.s_addr &&
		    io->peers[i].sin_port == from->sin_port) {
			io->carrier = i;
			return;
		}
}

/* Receive one recvmmsg batch and hand it to the core.  Returns the number
 * of datagrams, 0 when the socket is empty or on error. */
static int receive_batch(struct ec_io *io)
{
	uint64_t now;
	int got;

	io->stats.rx_syscalls++;
	got = recvmmsg(io->fd, io->msgs, IO_BATCH, MSG_DONTWAIT, NULL);
	if (got < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			io->stats.rx_errors++;
			pr_debug("recvmmsg: %s", strerror(errno));
		}
		return 0;
	}
	/* Entries the kernel acknowledged before these datagrams reached the
	 * socket go to the core first (read the socket, then the ring). */
	now = start_turn(io);
	for (int i = 0; i < got; i++) {
		struct ec_addr from = {
			.ip = io->from[i].sin_addr.s_addr,
			.port = io->from[i].sin_port,
		};

		note_peer(io, &io->from[i]);
		ec_core_receive(io->core, io->iov[i].iov_base,
				io->msgs[i].msg_len, &from, now);
		/* the one field recvmmsg changes that it also reads */
		io->msgs[i].msg_hdr.msg_namelen = sizeof(io->from[i]);
	}
	/* that is all there is for now: the leader closes its batch */
	ec_core_input_done(io->core);
	io->stats.rx_datagrams += (uint64_t)got;
	return got;
}

/* libevent: the socket is readable.  Read a few batches, sending what the
 * core queued after each, so replies leave before the next batch is read. */
static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct ec_io *io = arg;

	io->stats.wakeups++;
	for (int b = 0; b < IO_BATCHES_PER_EVENT; b++) {
		int got = receive_batch(io);

		finish_turn(io);
		/* a short batch means the socket is empty: skip the
		 * recvmmsg that would only say EAGAIN */
		if (got < IO_BATCH)
			return;
		io->stats.rx_batches_full++;
	}
}

/* libevent: periodic timer. */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct ec_io *io = arg;

	io->stats.ticks++;
	io->stats.wakeups++;
	ec_core_tick(io->core, start_turn(io));
	finish_turn(io);
}

/* libevent: the fast-ack ring buffer has entries (the kernel wakes us only
 * when it is half full; ticks and received datagrams read it too). */
static void on_ring(evutil_socket_t fd, short what, void *arg)
{
	struct ec_io *io = arg;

	io->stats.wakeups++;
	start_turn(io);
	finish_turn(io);
}

struct ec_io *ec_io_new(struct event_base *base, const struct ec_config *cfg,
			unsigned self, struct ec_core *core,
			struct ec_offload *off, uint64_t tick_us)
{
	struct timeval tv = { .tv_sec = (time_t)(tick_us / 1000000u),
			      .tv_usec = (suseconds_t)(tick_us % 1000000u) };
	struct ec_io *io = calloc(1, sizeof(*io));
	char ip[INET_ADDRSTRLEN];

	if (!io) {
		pr_warn("out of memory");
		return NULL;
	}
	io->fd = -1;
	io->core = core;
	io->off = off;
	io->n = cfg->n;
	io->self = self;
	io->carrier = self == 0 ? 1 : 0;
	for (unsigned i = 0; i < cfg->n; i++)
		ec_peer_sockaddr(&cfg->peers[i], &io->peers[i]);
	inet_ntop(AF_INET, &io->peers[self].sin_addr, ip, sizeof(ip));

	io->bufs = malloc((size_t)IO_BATCH * IO_RXBUF);
	if (!io->bufs) {
		pr_warn("out of memory");
		goto err;
	}
	for (int i = 0; i < IO_BATCH; i++) {
		struct msghdr *h = &io->msgs[i].msg_hdr;

		io->iov[i].iov_base = io->bufs + (size_t)i * IO_RXBUF;
		io->iov[i].iov_len = IO_RXBUF;
		h->msg_name = &io->from[i];
		h->msg_namelen = sizeof(io->from[i]);
		h->msg_iov = &io->iov[i];
		h->msg_iovlen = 1;
	}
	if (open_socket(io, ip, cfg->peers[self].port) < 0)
		goto err;
	io->rx_ev = event_new(base, io->fd, EV_READ | EV_PERSIST, on_readable,
			      io);
	io->tick_ev = event_new(base, -1, EV_PERSIST, on_tick, io);
	if (!io->rx_ev || !io->tick_ev || event_add(io->rx_ev, NULL) < 0 ||
	    event_add(io->tick_ev, &tv) < 0) {
		pr_warn("cannot register the UDP socket with libevent");
		goto err;
	}
	if (off) {
		io->ring_ev = event_new(base, ec_offload_ring_fd(off),
					EV_READ | EV_PERSIST, on_ring, io);
		if (!io->ring_ev || event_add(io->ring_ev, NULL) < 0) {
			pr_warn("cannot register the fast-ack ring with libevent");
			goto err;
		}
	}
	pr_info("listening on udp %s:%u", ip, cfg->peers[self].port);
	return io;
err:
	ec_io_free(io);
	return NULL;
}

void ec_io_free(struct ec_io *io)
{
	if (!io)
		return;
	if (io->rx_ev)
		event_free(io->rx_ev);
	if (io->tick_ev)
		event_free(io->tick_ev);
	if (io->ring_ev)
		event_free(io->ring_ev);
	if (io->fd >= 0)
		close(io->fd);
	free(io->bufs);
	free(io);
}

const struct ec_io_stats *ec_io_stats(const struct ec_io *io)
{
	return &io->stats;
}
