/*
 * main.c - ec-replica: one replica of an electrode-c cluster.
 *
 * Reads options and the cluster config, creates the protocol core, the UDP
 * socket and timer (io/io.c) and the control socket (control/server.c) on one
 * libevent loop, and runs it until SIGINT or SIGTERM.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "common/config.h"
#include "control/replica_cmds.h"
#include "control/server.h"
#include "core/core.h"
#include "common/clock.h"
#include "io/io.h"
#include "common/diag.h"
#include "io/checkpointer.h"
#include "offload/offload.h"
#include "control/offload_cmds.h"

enum ec_diag_level ec_diag_max = EC_DIAG_INFO;
char ec_diag_tag[16] = "ec-replica";

/* Timer period: a fraction of the shortest protocol timeout, so that
 * timeouts fire within a few percent of their setting. */
#define TICK_DIVISOR 5
#define TICK_MIN_US 500
#define TICK_MAX_US 10000
#define MAX_TIMEOUT_MS 600000

struct options {
	const char *config;
	const char *control;
	long id;
	bool recover;
	bool no_bpf;
	struct ec_switches offload;
	long heartbeat_ms, view_timeout_ms, retransmit_ms, window, batch;
	long checkpoint_ops, checkpoint_bytes, client_expiry_ops;
	long max_keys, max_bytes;
};

enum {
	OPT_CONFIG = 256,
	OPT_ID,
	OPT_CONTROL,
	OPT_RECOVER,
	OPT_HEARTBEAT,
	OPT_VIEW_TIMEOUT,
	OPT_RETRANSMIT,
	OPT_WINDOW,
	OPT_BATCH,
	OPT_CHECKPOINT_OPS,
	OPT_CHECKPOINT_BYTES,
	OPT_CLIENT_EXPIRY_OPS,
	OPT_MAX_KEYS,
	OPT_MAX_BYTES,
	OPT_OFFLOAD,
	OPT_NO_BPF,
};

static const struct option long_opts[] = {
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "id", required_argument, NULL, OPT_ID },
	{ "control", required_argument, NULL, OPT_CONTROL },
	{ "recover", no_argument, NULL, OPT_RECOVER },
	{ "heartbeat-ms", required_argument, NULL, OPT_HEARTBEAT },
	{ "view-timeout-ms", required_argument, NULL, OPT_VIEW_TIMEOUT },
	{ "retransmit-ms", required_argument, NULL, OPT_RETRANSMIT },
	{ "window", required_argument, NULL, OPT_WINDOW },
	{ "batch", required_argument, NULL, OPT_BATCH },
	{ "checkpoint-ops", required_argument, NULL, OPT_CHECKPOINT_OPS },
	{ "checkpoint-bytes", required_argument, NULL, OPT_CHECKPOINT_BYTES },
	{ "client-expiry-ops", required_argument, NULL, OPT_CLIENT_EXPIRY_OPS },
	{ "max-keys", required_argument, NULL, OPT_MAX_KEYS },
	{ "max-bytes", required_argument, NULL, OPT_MAX_BYTES },
	{ "offload", required_argument, NULL, OPT_OFFLOAD },
	{ "no-bpf", no_argument, NULL, OPT_NO_BPF },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
	fprintf(f,
"Usage: ec-replica --config FILE --id N [OPTIONS]\n"
"\n"
"Run replica N of the electrode-c cluster described in FILE (one line\n"
"'replica <id> <ipv4> <udp-port> <mac> <interface>' per replica).  The\n"
"replica binds UDP to its own address from FILE, logs to stderr and exits\n"
"with status 0 on SIGINT or SIGTERM.\n"
"\n"
"  --config FILE         cluster configuration (required)\n"
"  --id N                this replica's id in FILE (required)\n"
"  --control PATH        serve the control socket at PATH (commands status,\n"
"                        stats, dump, batch, offload (an error with\n"
"                        --no-bpf), help; query it with ec-ctl)\n"
"  --recover             this replica restarted and lost its state: recover\n"
"                        it from the other replicas before taking part\n"
"  --heartbeat-ms MS     the leader sends a COMMIT after MS idle (default %d)\n"
"  --view-timeout-ms MS  a follower starts a view change after MS without\n"
"                        hearing from the leader (default %d)\n"
"  --retransmit-ms MS    resend unacknowledged PREPAREs, and retry state\n"
"                        transfer and view change messages, after MS\n"
"                        (default %d)\n"
"  --window N            most ops prepared but not yet committed, 1..%d\n"
"                        (default %d)\n"
"  --batch N             most client requests one op carries, 1..%d; 1\n"
"                        turns batching off (default %d).  A batch closes\n"
"                        when nothing more is waiting, never on a timer;\n"
"                        `ec-ctl SOCKET batch N` changes it at run time\n"
"  --checkpoint-ops K    checkpoint the state once K ops were executed since\n"
"                        the last checkpoint, and keep the log only from\n"
"                        the previous checkpoint on; a replica further\n"
"                        behind (or restarted) fetches the latest\n"
"                        checkpoint, then the log after it (default %d;\n"
"                        0: no bound by ops)\n"
"  --checkpoint-bytes B  or once the ops executed since the last one carry\n"
"                        B bytes of requests, whichever comes first: this\n"
"                        bounds the log a restarted replica fetches after\n"
"                        the checkpoint (and the log held) when batches are\n"
"                        large (default %llu = %llu MiB; 0: no bound by\n"
"                        bytes; with both 0 the log is kept whole).  Must\n"
"                        be the same on every replica, so that all take\n"
"                        their checkpoints at the same ops\n"
"  --client-expiry-ops N forget a client that has had nothing executed for\n"
"                        N ops (default %d; 0: never, the client table\n"
"                        grows with every client id); its late retries are\n"
"                        answered SESSION_EXPIRED, never executed twice.\n"
"                        Must be the same on every replica\n"
"  --max-keys N          the store holds at most N keys (default %llu;\n"
"                        0: no bound)\n"
"  --max-bytes B         and at most B bytes of keys plus values (default\n"
"                        %llu = %llu MiB; 0: no bound).  A PUT or CAS that\n"
"                        would take the store past either bound is answered\n"
"                        STORE_FULL and changes nothing; replacing a value\n"
"                        with one no larger, DELETE and GET always work.\n"
"                        Every replica of a cluster must be given the same\n"
"                        bounds, or they answer writes differently; a\n"
"                        checkpoint records them, and a replica refuses\n"
"                        (and logs) one taken with other bounds\n"
"  --offload SPEC        BPF offloads to turn on at start, comma-separated:\n"
"                        all, none, broadcast, fastack, quorum, or one\n"
"                        message type of one, e.g. broadcast.commit\n"
"                        (default none; `ec-ctl SOCKET offload` shows and\n"
"                        changes them at run time)\n"
"  --no-bpf              do not load the BPF programs at all (no root or\n"
"                        BPF needed; offloads cannot be turned on)\n"
"  -v, --verbose         debug logging\n"
"  -h, --help            show this help\n",
		EC_DEFAULT_HEARTBEAT_US / 1000, EC_DEFAULT_VIEW_TIMEOUT_US / 1000,
		EC_DEFAULT_RETRANSMIT_US / 1000, EC_MAX_WINDOW,
		EC_DEFAULT_WINDOW, EC_MAX_BATCH, EC_DEFAULT_BATCH,
		EC_DEFAULT_CHECKPOINT_OPS,
		(unsigned long long)EC_DEFAULT_CHECKPOINT_BYTES,
		(unsigned long long)EC_DEFAULT_CHECKPOINT_BYTES >> 20,
		EC_DEFAULT_CLIENT_EXPIRY_OPS,
		EC_KV_DEFAULT_MAX_KEYS,
		EC_KV_DEFAULT_MAX_BYTES, EC_KV_DEFAULT_MAX_BYTES >> 20);
}

/* Whether sw turns on any offload for any message type. */
static bool any_offload_on(const struct ec_switches *sw)
{
	for (unsigned k = 0; k < EC_OFFLOAD_MAX; k++)
		if (sw->on[k])
			return true;
	return false;
}

/* Parse a decimal integer in [min, max] for option name into *v.  Returns
 * 0, or -1 after printing why. */
static int parse_num(const char *name, const char *s, long min, long max,
		     long *v)
{
	unsigned long long u;

	if (ec_parse_uint(s, (unsigned long long)min, (unsigned long long)max,
			  &u) < 0) {
		fprintf(stderr, "ec-replica: %s: '%s' is not a number in %ld..%ld\n",
			name, s, min, max);
		return -1;
	}
	*v = (long)u;
	return 0;
}

/* Fill *o from argv.  Returns 0, 1 if --help was shown, -1 on a usage
 * error (printed). */
static int parse_options(int argc, char **argv, struct options *o)
{
	int c, rc = 0;

	*o = (struct options){
		.id = -1,
		.heartbeat_ms = EC_DEFAULT_HEARTBEAT_US / 1000,
		.view_timeout_ms = EC_DEFAULT_VIEW_TIMEOUT_US / 1000,
		.retransmit_ms = EC_DEFAULT_RETRANSMIT_US / 1000,
		.window = EC_DEFAULT_WINDOW,
		.batch = EC_DEFAULT_BATCH,
		.checkpoint_ops = EC_DEFAULT_CHECKPOINT_OPS,
		.checkpoint_bytes = (long)EC_DEFAULT_CHECKPOINT_BYTES,
		.client_expiry_ops = EC_DEFAULT_CLIENT_EXPIRY_OPS,
		.max_keys = (long)EC_KV_DEFAULT_MAX_KEYS,
		.max_bytes = (long)EC_KV_DEFAULT_MAX_BYTES,
	};
	while (rc == 0 &&
	       (c = getopt_long(argc, argv, "vh", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_CONFIG:
			o->config = optarg;
			break;
		case OPT_ID:
			rc = parse_num("--id", optarg, 0, EC_MAX_REPLICAS - 1,
				       &o->id);
			break;
		case OPT_CONTROL:
			o->control = optarg;
			break;
		case OPT_RECOVER:
			o->recover = true;
			break;
		case OPT_HEARTBEAT:
			rc = parse_num("--heartbeat-ms", optarg, 1,
				       MAX_TIMEOUT_MS, &o->heartbeat_ms);
			break;
		case OPT_VIEW_TIMEOUT:
			rc = parse_num("--view-timeout-ms", optarg, 1,
				       MAX_TIMEOUT_MS, &o->view_timeout_ms);
			break;
		case OPT_RETRANSMIT:
			rc = parse_num("--retransmit-ms", optarg, 1,
				       MAX_TIMEOUT_MS, &o->retransmit_ms);
			break;
		case OPT_WINDOW:
			rc = parse_num("--window", optarg, 1, EC_MAX_WINDOW,
				       &o->window);
			break;
		case OPT_BATCH:
			rc = parse_num("--batch", optarg, 1, EC_MAX_BATCH,
				       &o->batch);
			break;
		case OPT_CHECKPOINT_OPS:
			rc = parse_num("--checkpoint-ops", optarg, 0, LONG_MAX,
				       &o->checkpoint_ops);
			break;
		case OPT_CHECKPOINT_BYTES:
			rc = parse_num("--checkpoint-bytes", optarg, 0,
				       LONG_MAX, &o->checkpoint_bytes);
			break;
		case OPT_CLIENT_EXPIRY_OPS:
			rc = parse_num("--client-expiry-ops", optarg, 0,
				       LONG_MAX, &o->client_expiry_ops);
			break;
		case OPT_MAX_KEYS:
			rc = parse_num("--max-keys", optarg, 0, LONG_MAX,
				       &o->max_keys);
			break;
		case OPT_MAX_BYTES:
			rc = parse_num("--max-bytes", optarg, 0, LONG_MAX,
				       &o->max_bytes);
			break;
		case OPT_OFFLOAD: {
			char err[200];

			if (ec_switches_apply(&o->offload, optarg, true, err,
					      sizeof(err)) < 0) {
				fprintf(stderr, "ec-replica: --offload: %s\n", err);
				rc = -1;
			}
			break;
		}
		case OPT_NO_BPF:
			o->no_bpf = true;
			break;
		case 'v':
			ec_diag_max = EC_DIAG_DEBUG;
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			rc = -1;
			break;
		}
	}
	if (rc)
		goto usage_err;
	if (optind < argc) {
		fprintf(stderr, "ec-replica: unexpected argument '%s'\n",
			argv[optind]);
		goto usage_err;
	}
	if (!o->config || o->id < 0) {
		fprintf(stderr, "ec-replica: --config and --id are required\n");
		goto usage_err;
	}
	if (o->no_bpf && any_offload_on(&o->offload)) {
		fprintf(stderr, "ec-replica: --offload needs the BPF programs: "
			"drop --no-bpf\n");
		goto usage_err;
	}
	if (o->view_timeout_ms <= o->heartbeat_ms) {
		fprintf(stderr,
			"ec-replica: --view-timeout-ms (%ld) must be longer than "
			"--heartbeat-ms (%ld), or followers time out between "
			"heartbeats\n", o->view_timeout_ms, o->heartbeat_ms);
		goto usage_err;
	}
	return 0;
usage_err:
	fprintf(stderr, "Try 'ec-replica --help'.\n");
	return -1;
}

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
	struct ec_core_opts co;
	struct ec_config cfg;
	struct options o;
	char err[256];
	int rc = 1;

	switch (parse_options(argc, argv, &o)) {
	case 1:
		return 0;
	case -1:
		return 2;
	}
	if (ec_config_load(o.config, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "ec-replica: %s\n", err);
		return 1;
	}
	if ((unsigned long)o.id >= cfg.n) {
		fprintf(stderr, "ec-replica: --id %ld is not in %s (it lists "
			"replicas 0..%u)\n", o.id, o.config, cfg.n - 1);
		return 2;
	}
	snprintf(ec_diag_tag, sizeof(ec_diag_tag), "r%ld", o.id);

	ec_core_opts_default(&co, cfg.n, (unsigned)o.id);
	ec_members_from_config(&cfg, &co.members);
	co.heartbeat_us = (uint64_t)o.heartbeat_ms * 1000;
	co.view_timeout_us = (uint64_t)o.view_timeout_ms * 1000;
	co.retransmit_us = (uint64_t)o.retransmit_ms * 1000;
	co.window = (unsigned)o.window;
	co.batch = (unsigned)o.batch;
	co.checkpoint_ops = (uint64_t)o.checkpoint_ops;
	co.checkpoint_bytes = (uint64_t)o.checkpoint_bytes;
	co.client_expiry_ops = (uint64_t)o.client_expiry_ops;
	co.kv_limits.max_keys = (uint64_t)o.max_keys;
	co.kv_limits.max_bytes = (uint64_t)o.max_bytes;
	co.clock_us = ec_clock_us;
	co.fatal = on_core_fatal;
	co.recovering = o.recover;
	if (o.recover && make_nonce(&co.nonce) < 0)
		goto out;

	/* a peer that went away must not kill us through a control write */
	signal(SIGPIPE, SIG_IGN);
	base = event_base_new();
	if (!base) {
		pr_warn("cannot create the libevent loop");
		goto out;
	}
	if (!o.no_bpf) {
		off = ec_offload_new(&cfg, (unsigned)o.id, &o.offload);
		if (!off)
			goto out;
		co.quiesce = ec_offload_quiesce;
		co.quiesce_arg = off;
	}
	ckp = ec_checkpointer_new(base);
	if (!ckp)
		goto out;
	co.checkpoint_async = ec_checkpointer_start;
	co.checkpoint_arg = ckp;
	core = ec_core_new(&co, ec_clock_us());
	if (!core) {
		pr_warn("cannot create the protocol core (bad options or out "
			"of memory)");
		goto out;
	}
	ec_checkpointer_set_core(ckp, core);
	io = ec_io_new(base, &cfg, (unsigned)o.id, core, off,
		       tick_period_us(&co));
	if (!io)
		goto out;
	if (o.control) {
		cmds = (struct ec_replica_cmds){ (unsigned)o.id, core, io };
		ctl = ec_control_new(base, o.control);
		if (!ctl || ec_replica_cmds_add(ctl, &cmds) < 0 ||
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
	pr_info("replica %ld of %u%s, heartbeat %ld ms, view timeout %ld ms, "
		"retransmit %ld ms, window %ld, batch %ld, checkpoint every %ld ops "
		"or %ld bytes, max keys %ld, max bytes %ld",
		o.id, cfg.n, o.recover ? " (recovering)" : "", o.heartbeat_ms,
		o.view_timeout_ms, o.retransmit_ms, o.window, o.batch,
		o.checkpoint_ops, o.checkpoint_bytes, o.max_keys, o.max_bytes);
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
