/*
 * main.c - ec-replica: one replica of an electrode-c cluster.
 *
 * Composes the layers: reads the options (options.c) and the cluster
 * config, creates the protocol core, the BPF offloads, the checkpointer,
 * the UDP socket and timer (io/io.c) and the control socket
 * (control/server.c) on one libevent loop, hands each the others it
 * calls back into (the core's quiesce and checkpoint hooks, the control
 * commands' core and socket), and runs the loop until SIGINT or SIGTERM.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "common/clock.h"
#include "common/config.h"
#include "common/diag.h"
#include "control/offload_cmds.h"
#include "control/replica_cmds.h"
#include "control/server.h"
#include "core/core.h"
#include "io/checkpointer.h"
#include "io/io.h"
#include "offload/offload.h"
#include "options.h"

enum ec_diag_level ec_diag_max = EC_DIAG_INFO;
char ec_diag_tag[16] = "ec-replica";

/* Timer period: a fraction of the shortest protocol timeout, so that
 * timeouts fire within a few percent of their setting. */
#define TICK_DIVISOR 5
#define TICK_MIN_US 500
#define TICK_MAX_US 10000

/* A random nonzero recovery nonce.  Returns 0, or -1 after logging. */
static int make_nonce(uint64_t *nonce)
{
	do {
		if (getrandom(nonce, sizeof(*nonce), 0) != sizeof(*nonce)) {
			pr_warn("getrandom: %s", strerror(errno));
			return -1;
		}
	} while (*nonce == 0);
	return 0;
}

static uint64_t tick_period_us(const struct ec_core_opts *co)
{
	uint64_t t = co->heartbeat_us;

	if (co->retransmit_us < t)
		t = co->retransmit_us;
	t /= TICK_DIVISOR;
	if (t < TICK_MIN_US)
		t = TICK_MIN_US;
	if (t > TICK_MAX_US)
		t = TICK_MAX_US;
	return t;
}

/* ec_core_opts.clock: the clock the glue hands the core's times from. */
static uint64_t boot_clock(void *arg)
{
	return ec_boot_us();
}

/* ec_core_opts.fatal: the core cannot go on (a restart with --recover
 * can). */
static void on_core_fatal(void *arg, const char *msg)
{
	pr_warn("%s", msg);
	abort();
}

/* libevent: SIGINT or SIGTERM. */
static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	pr_info("%s: shutting down", strsignal((int)sig));
	event_base_loopbreak(arg);
}

int main(int argc, char **argv)
{
	struct event *sig_int = NULL, *sig_term = NULL;
	struct ec_control *ctl = NULL;
	struct ec_replica_cmds cmds;
	struct event_base *base = NULL;
	struct ec_offload *off = NULL;
	struct ec_checkpointer *ckp = NULL;
	struct ec_core *core = NULL;
	struct ec_io *io = NULL;
	struct ec_replica_opts o;
	struct ec_core_opts *co = &o.core;
	struct ec_config cfg;
	char err[256];
	int rc = 1;

	switch (ec_replica_opts_parse(argc, argv, &o)) {
	case 1:
		return 0;
	case -1:
		return 2;
	}
	if (o.verbose)
		ec_diag_max = EC_DIAG_DEBUG;
	if (ec_config_load(o.config, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "ec-replica: %s\n", err);
		return 1;
	}
	if (o.id >= cfg.n) {
		fprintf(stderr, "ec-replica: --id %u is not in %s (it lists "
			"replicas 0..%u)\n", o.id, o.config, cfg.n - 1);
		return 2;
	}
	snprintf(ec_diag_tag, sizeof(ec_diag_tag), "r%u", o.id);

	co->n = cfg.n;
	co->self = o.id;
	ec_members_from_config(&cfg, &co->members);
	if (o.clock_skew_ppm) {
		ec_boot_set_skew_ppm(o.clock_skew_ppm);
		pr_warn("TEST ONLY: this replica's clock runs %+lld ppm off",
			(long long)o.clock_skew_ppm);
	}
	if (co->test_lease_ignore_clock)
		pr_warn("TEST ONLY: leases never run out: stale reads will be "
			"answered");
	if (o.test_xdp_ignore_lease)
		pr_warn("TEST ONLY: the XDP read path ignores the lease: stale "
			"reads will be answered");
	co->clock = boot_clock;
	co->fatal = on_core_fatal;
	if (co->recovering && make_nonce(&co->nonce) < 0)
		goto out;

	/* a peer that went away must not kill us through a control write */
	signal(SIGPIPE, SIG_IGN);
	base = event_base_new();
	if (!base) {
		pr_warn("cannot create the libevent loop");
		goto out;
	}
	if (!o.no_bpf) {
		struct ec_offload_params op = {
			.sw = o.offload,
			.read_cache_slots = o.read_cache_slots,
			.test_ignore_lease = o.test_xdp_ignore_lease,
		};

		off = ec_offload_new(&cfg, o.id, &op);
		if (!off)
			goto out;
		co->quiesce = ec_offload_quiesce;
		co->quiesce_arg = off;
		co->store_observer = ec_offload_store_observer(off);
	}
	ckp = ec_checkpointer_new(base);
	if (!ckp)
		goto out;
	co->checkpoint_async = ec_checkpointer_start;
	co->checkpoint_arg = ckp;
	core = ec_core_new(co, ec_boot_us());
	if (!core) {
		pr_warn("cannot create the protocol core (bad options or out "
			"of memory)");
		goto out;
	}
	ec_checkpointer_set_core(ckp, core);
	io = ec_io_new(base, &cfg, o.id, core, off, tick_period_us(co));
	if (!io)
		goto out;
	if (o.control) {
		cmds = (struct ec_replica_cmds){ .self = o.id, .core = core,
						 .io = io };
		ctl = ec_control_new(base, o.control);
		/* `batch N` takes the numbers --batch takes */
		if (!ctl ||
		    ec_replica_opts_range("batch", &cmds.batch_min,
					  &cmds.batch_max) < 0 ||
		    ec_replica_cmds_add(ctl, &cmds) < 0 ||
		    ec_offload_cmds_add(ctl, off) < 0) {
			pr_warn("cannot register the control commands");
			goto out;
		}
	}
	sig_int = evsignal_new(base, SIGINT, on_signal, base);
	sig_term = evsignal_new(base, SIGTERM, on_signal, base);
	if (!sig_int || !sig_term || evsignal_add(sig_int, NULL) < 0 ||
	    evsignal_add(sig_term, NULL) < 0) {
		pr_warn("cannot register signal handlers");
		goto out;
	}
	pr_info("replica %u of %u%s, heartbeat %llu ms, view timeout %llu ms, "
		"retransmit %llu ms, window %u, batch %u, checkpoint every %llu "
		"ops or %llu bytes, max keys %llu, max bytes %llu, reads %s",
		o.id, cfg.n, co->recovering ? " (recovering)" : "",
		(unsigned long long)co->heartbeat_us / 1000,
		(unsigned long long)co->view_timeout_us / 1000,
		(unsigned long long)co->retransmit_us / 1000, co->window,
		co->batch, (unsigned long long)co->checkpoint_ops,
		(unsigned long long)co->checkpoint_bytes,
		(unsigned long long)co->kv_limits.max_keys,
		(unsigned long long)co->kv_limits.max_bytes,
		ec_reads_name(co->reads));
	if (event_base_dispatch(base) < 0) {
		pr_warn("event loop failed");
		goto out;
	}
	rc = 0;
out:
	if (sig_int)
		event_free(sig_int);
	if (sig_term)
		event_free(sig_term);
	ec_control_free(ctl);
	ec_io_free(io);
	/* detach before the core goes: the kernel must stop acking for it */
	ec_offload_free(off);
	ec_checkpointer_free(ckp);
	if (core)
		ec_core_free(core);
	if (base)
		event_base_free(base);
	return rc;
}
