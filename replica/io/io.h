/*
 * io.h - the replica's UDP socket and timer, glued to the protocol core.
 *
 * One non-blocking UDP socket bound to the replica's own address from the
 * config, watched by a libevent loop.  Received datagrams go to
 * ec_core_receive in batches; a periodic timer calls ec_core_tick; after
 * each batch and each tick every datagram the core queued is sent.
 */
#ifndef EC_REPLICA_IO_H
#define EC_REPLICA_IO_H

#include <stdint.h>

#include "common/config.h"

struct event_base;
struct ec_core;
struct ec_io;
struct ec_offload;

/*
 * Socket-level counters.  Syscalls are counted so that the cost of one
 * committed op can be compared with and without the BPF offloads.
 */
struct ec_io_stats {
	uint64_t rx_datagrams;  /* handed to the core */
	uint64_t rx_syscalls;   /* recvmmsg calls */
	uint64_t rx_errors;     /* recvmmsg failures other than EAGAIN */
	uint64_t rx_batches_full;/* recvmmsg calls that filled the batch */
	uint64_t tx_datagrams;  /* sent successfully */
	uint64_t tx_syscalls;   /* sendmmsg calls */
	uint64_t tx_eagain;     /* dropped: socket buffer full */
	uint64_t tx_enobufs;    /* dropped: no buffer space in the stack */
	uint64_t tx_errors;     /* dropped: any other error */
	uint64_t ticks;         /* timer callbacks */
	uint64_t wakeups;       /* event loop callbacks of this io: socket
				 * readable, fast-ack ring, timer */
};

/*
 * Bind replica self's address from cfg and register the socket and a timer
 * firing every tick_us with base.  With off (may be NULL), datagrams to
 * all go through the broadcast offload when it is on, and the fast-ack
 * log is absorbed before the core sees anything newer.  The core and off
 * must outlive the io.  Returns NULL after logging the reason.
 */
struct ec_io *ec_io_new(struct event_base *base, const struct ec_config *cfg,
			unsigned self, struct ec_core *core,
			struct ec_offload *off, uint64_t tick_us);

/* Unregister and close the socket.  NULL is fine. */
void ec_io_free(struct ec_io *io);

const struct ec_io_stats *ec_io_stats(const struct ec_io *io);

#endif /* EC_REPLICA_IO_H */
