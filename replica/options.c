/*
 * options.c - ec-replica's options: the table, and the parser and --help
 * made from it.  See options.h.
 */
#include "options.h"

#include <getopt.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "app/kv.h"
#include "common/config.h"

/* The longest timeout an option takes, milliseconds. */
#define MAX_TIMEOUT_MS 600000
/* --help: the column the option texts start in. */
#define HELP_INDENT 24

/* What an option's argument is, and so how it is stored. */
enum opt_kind {
	OPT_STRING,  /* const char *: the argument itself */
	OPT_FLAG,    /* bool, set when the option is given */
	OPT_UINT,    /* unsigned: a decimal number in min..max */
	OPT_U64,     /* uint64_t: a decimal number in min..max, times scale */
	OPT_INT,     /* int64_t: a decimal number in -max..max */
	OPT_READS,   /* enum ec_reads: "log" or "lease" (def: the default) */
	OPT_OFFLOAD, /* struct ec_switches: a list ec_switches_apply reads */
	OPT_HELP,    /* print --help and stop */
};

struct opt {
	const char *name;       /* long name, without the dashes */
	char short_name;        /* e.g. 'v' for -v, or 0 */
	const char *arg;        /* the argument in --help; NULL: takes none */
	enum opt_kind kind;
	size_t off;             /* the field in struct ec_replica_opts */
	/* Numbers, in the option's own unit: the range and the default
	 * (the field's value when the option is not given). */
	unsigned long long min, max, def;
	unsigned long long scale; /* the field's unit in the option's (ms to
				   * us: 1000); 0 is 1 */
	bool required;          /* --help and the parser say so */
	/* --help's text, one string per line (--help indents them);
	 * {default}, {default_mib}, {min} and {max} stand for the numbers
	 * above (the default in MiB: def >> 20). */
	const char *help;
};

/* The offset of field f of struct ec_replica_opts, which must have type
 * t (a compile error otherwise). */
#define AT(f, t)                                                         \
	.off = _Generic(((struct ec_replica_opts *)0)->f,               \
			t: offsetof(struct ec_replica_opts, f))
#define STRING(f) .kind = OPT_STRING, AT(f, const char *)
#define FLAG(f) .kind = OPT_FLAG, AT(f, bool)
#define UINT(f) .kind = OPT_UINT, AT(f, unsigned)
#define U64(f) .kind = OPT_U64, AT(f, uint64_t)
#define INT(f) .kind = OPT_INT, AT(f, int64_t)

/* In --help's order. */
static const struct opt opts[] = {
	{ "config", 0, "FILE", STRING(config), .required = true,
	  .help = "cluster configuration" },
	{ "id", 0, "N", UINT(id), .min = 0, .max = EC_MAX_REPLICAS - 1,
	  .required = true,
	  .help = "this replica's id in FILE" },
	{ "control", 0, "PATH", STRING(control),
	  .help = "serve the control socket at PATH (commands status,\n"
		  "stats, dump, batch, reads, offload (an error with\n"
		  "--no-bpf), help; query it with ec-ctl)" },
	{ "recover", 0, NULL, FLAG(core.recovering),
	  .help = "this replica restarted and lost its state: recover\n"
		  "it from the other replicas before taking part" },
	{ "heartbeat-ms", 0, "MS", U64(core.heartbeat_us), .min = 1,
	  .max = MAX_TIMEOUT_MS, .def = EC_DEFAULT_HEARTBEAT_US / 1000,
	  .scale = 1000,
	  .help = "the leader sends a COMMIT after MS idle (default {default})" },
	{ "view-timeout-ms", 0, "MS", U64(core.view_timeout_us), .min = 1,
	  .max = MAX_TIMEOUT_MS, .def = EC_DEFAULT_VIEW_TIMEOUT_US / 1000,
	  .scale = 1000,
	  .help = "a follower starts a view change after MS without\n"
		  "hearing from the leader (default {default})" },
	{ "retransmit-ms", 0, "MS", U64(core.retransmit_us), .min = 1,
	  .max = MAX_TIMEOUT_MS, .def = EC_DEFAULT_RETRANSMIT_US / 1000,
	  .scale = 1000,
	  .help = "resend unacknowledged PREPAREs, and retry state\n"
		  "transfer and view change messages, after MS\n"
		  "(default {default})" },
	{ "window", 0, "N", UINT(core.window), .min = 1,
	  .max = EC_MAX_WINDOW, .def = EC_DEFAULT_WINDOW,
	  .help = "most ops prepared but not yet committed, {min}..{max}\n"
		  "(default {default})" },
	{ "batch", 0, "N", UINT(core.batch), .min = 1, .max = EC_MAX_BATCH,
	  .def = EC_DEFAULT_BATCH,
	  .help = "most client requests one op carries, {min}..{max}; 1\n"
		  "turns batching off (default {default}).  A batch closes\n"
		  "when nothing more is waiting, never on a timer;\n"
		  "`ec-ctl SOCKET batch N` changes it at run time" },
	{ "checkpoint-ops", 0, "K", U64(core.checkpoint_ops), .min = 0,
	  .max = LONG_MAX, .def = EC_DEFAULT_CHECKPOINT_OPS,
	  .help = "checkpoint the state once K ops were executed since\n"
		  "the last checkpoint, and keep the log only from\n"
		  "the previous checkpoint on; a replica further\n"
		  "behind (or restarted) fetches the latest\n"
		  "checkpoint, then the log after it (default {default};\n"
		  "0: no bound by ops)" },
	{ "checkpoint-bytes", 0, "B", U64(core.checkpoint_bytes), .min = 0,
	  .max = LONG_MAX, .def = EC_DEFAULT_CHECKPOINT_BYTES,
	  .help = "or once the ops executed since the last one carry\n"
		  "B bytes of requests, whichever comes first: this\n"
		  "bounds the log a restarted replica fetches after\n"
		  "the checkpoint (and the log held) when batches are\n"
		  "large (default {default} = {default_mib} MiB; 0: no bound by\n"
		  "bytes; with both 0 the log is kept whole).  Must\n"
		  "be the same on every replica, so that all take\n"
		  "their checkpoints at the same ops" },
	{ "client-expiry-ops", 0, "N", U64(core.client_expiry_ops), .min = 0,
	  .max = LONG_MAX, .def = EC_DEFAULT_CLIENT_EXPIRY_OPS,
	  .help = "forget a client that has had nothing executed for\n"
		  "N ops (default {default}; 0: never, the client table\n"
		  "grows with every client id); its late retries are\n"
		  "answered SESSION_EXPIRED, never executed twice.\n"
		  "Must be the same on every replica" },
	{ "max-keys", 0, "N", U64(core.kv_limits.max_keys), .min = 0,
	  .max = LONG_MAX, .def = EC_KV_DEFAULT_MAX_KEYS,
	  .help = "the store holds at most N keys (default {default};\n"
		  "0: no bound)" },
	{ "max-bytes", 0, "B", U64(core.kv_limits.max_bytes), .min = 0,
	  .max = LONG_MAX, .def = EC_KV_DEFAULT_MAX_BYTES,
	  .help = "and at most B bytes of keys plus values (default\n"
		  "{default} = {default_mib} MiB; 0: no bound).  A PUT or CAS that\n"
		  "would take the store past either bound is answered\n"
		  "STORE_FULL and changes nothing; replacing a value\n"
		  "with one no larger, DELETE and GET always work.\n"
		  "Every replica of a cluster must be given the same\n"
		  "bounds, or they answer writes differently; a\n"
		  "checkpoint records them, and a replica refuses\n"
		  "(and logs) one taken with other bounds" },
	{ "reads", 0, "MODE", .kind = OPT_READS, AT(core.reads, enum ec_reads),
	  .def = EC_READS_LEASE,
	  .help = "log or lease: how the leader answers a GET, through\n"
		  "the log like a write, or from its executed state\n"
		  "while it holds a lease from a quorum (else through\n"
		  "the log) (default {default}; `ec-ctl SOCKET reads MODE`\n"
		  "changes it at run time)" },
	{ "offload", 0, "SPEC", .kind = OPT_OFFLOAD,
	  AT(offload, struct ec_switches),
	  .help = "BPF offloads to turn on at start, comma-separated:\n"
		  "all, none, broadcast, fastack, quorum, read, or one\n"
		  "message type of one, e.g. broadcast.commit\n"
		  "(default none; `ec-ctl SOCKET offload` shows and\n"
		  "changes them at run time)" },
	{ "read-cache-slots", 0, "N", UINT(read_cache_slots), .min = 1,
	  .max = EC_READ_MAX_SLOTS, .def = EC_READ_DEFAULT_SLOTS,
	  .help = "slots of the read offload's cache of executed values,\n"
		  "a power of two up to {max} (default {default}: 21 MiB\n"
		  "of kernel memory at 336 bytes a slot); one key per\n"
		  "slot, a key whose slot another holds is not cached,\n"
		  "nor a value over 256 bytes: their reads go up to\n"
		  "user space.  Kept on every replica, so that a new\n"
		  "leader starts warm" },
	{ "no-bpf", 0, NULL, FLAG(no_bpf),
	  .help = "do not load the BPF programs at all (no root or\n"
		  "BPF needed; offloads cannot be turned on)" },
	{ "clock-skew-ppm", 0, "PPM", INT(clock_skew_ppm), .max = 500000,
	  .help = "TEST ONLY: this replica's clock runs PPM parts per\n"
		  "million fast (negative: slow), at most {max}; its\n"
		  "timeouts and leases with it.  Leases are safe for\n"
		  "clocks within 1000 ppm of each other (default 0)" },
	{ "test-lease-ignore-clock", 0, NULL, FLAG(core.test_lease_ignore_clock),
	  .help = "TEST ONLY, NEVER IN PRODUCTION: a leader's lease\n"
		  "never runs out, so a deposed leader answers stale\n"
		  "reads (the stale-read test's negative control)" },
	{ "test-xdp-ignore-lease", 0, NULL, FLAG(test_xdp_ignore_lease),
	  .help = "TEST ONLY, NEVER IN PRODUCTION: the XDP read path\n"
		  "answers reads whatever the lease says (user space\n"
		  "still checks it): the negative control of the\n"
		  "stale-read test with the read offload on" },
	{ "verbose", 'v', NULL, FLAG(verbose), .help = "debug logging" },
	{ "help", 'h', NULL, .kind = OPT_HELP, .help = "show this help" },
};

#define N_OPTS (sizeof(opts) / sizeof(opts[0]))

/* The field opt o sets in r. */
static void *field(struct ec_replica_opts *r, const struct opt *o)
{
	return (char *)r + o->off;
}

/* Store v, a number in o's range, in o's field of r. */
static void set_number(struct ec_replica_opts *r, const struct opt *o,
		       unsigned long long v)
{
	if (o->kind == OPT_UINT)
		*(unsigned *)field(r, o) = (unsigned)v;
	else
		*(uint64_t *)field(r, o) = v * (o->scale ? o->scale : 1);
}

/* Whether p starts with one of o's placeholders (see struct opt): if so
 * its number into *v and its length into *len. */
static bool placeholder(const struct opt *o, const char *p,
			unsigned long long *v, size_t *len)
{
	static const char *const names[] = { "{default}", "{default_mib}",
					     "{min}", "{max}" };
	const unsigned long long vals[] = { o->def, o->def >> 20, o->min,
					    o->max };

	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		*len = strlen(names[i]);
		if (!strncmp(p, names[i], *len)) {
			*v = vals[i];
			return true;
		}
	}
	return false;
}

/* Print o's help text to f, its lines after the first indented to
 * column HELP_INDENT, its placeholders replaced by their numbers. */
static void print_help_text(FILE *f, const struct opt *o)
{
	const char *p = o->help;

	while (*p) {
		size_t len = strcspn(p, "{\n");
		unsigned long long v;

		fwrite(p, 1, len, f);
		p += len;
		if (*p == '\n') {
			fprintf(f, "\n%*s", HELP_INDENT, "");
			p++;
		} else if (*p && placeholder(o, p, &v, &len)) {
			if (o->kind == OPT_READS)
				fputs(ec_reads_name((enum ec_reads)v), f);
			else
				fprintf(f, "%llu", v);
			p += len;
		} else if (*p) {
			fputc(*p++, f); /* a brace of the text's own */
		}
	}
	if (o->required)
		fputs(" (required)", f);
	fputc('\n', f);
}

/* --help, on f. */
static void usage(FILE *f)
{
	fputs("Usage: ec-replica", f);
	for (size_t i = 0; i < N_OPTS; i++)
		if (opts[i].required)
			fprintf(f, " --%s %s", opts[i].name, opts[i].arg);
	fputs(" [OPTIONS]\n"
	      "\n"
	      "Run replica N of the electrode-c cluster described in FILE (one line\n"
	      "'replica <id> <ipv4> <udp-port> <mac> <interface>' per replica).  The\n"
	      "replica binds UDP to its own address from FILE, logs to stderr and exits\n"
	      "with status 0 on SIGINT or SIGTERM.\n"
	      "\n", f);
	for (size_t i = 0; i < N_OPTS; i++) {
		const struct opt *o = &opts[i];
		char left[64];
		int n = 0;

		if (o->short_name)
			n = snprintf(left, sizeof(left), "-%c, ", o->short_name);
		snprintf(left + n, sizeof(left) - (size_t)n, "--%s%s%s", o->name,
			 o->arg ? " " : "", o->arg ? o->arg : "");
		if (strlen(left) > HELP_INDENT - 3)
			fprintf(f, "  %s\n%*s", left, HELP_INDENT, "");
		else
			fprintf(f, "  %-*s ", HELP_INDENT - 3, left);
		print_help_text(f, o);
	}
}

/* Set o from its argument arg (NULL for an option that takes none) in
 * r.  Returns 0, 1 if it was --help (printed), or -1 after printing a
 * usage error. */
static int apply(struct ec_replica_opts *r, const struct opt *o,
		 const char *arg)
{
	unsigned long long v;
	char err[200];

	switch (o->kind) {
	case OPT_STRING:
		*(const char **)field(r, o) = arg;
		return 0;
	case OPT_FLAG:
		*(bool *)field(r, o) = true;
		return 0;
	case OPT_UINT:
	case OPT_U64:
		if (ec_parse_uint(arg, o->min, o->max, &v) < 0) {
			fprintf(stderr, "ec-replica: --%s: '%s' is not a number "
				"in %llu..%llu\n", o->name, arg, o->min, o->max);
			return -1;
		}
		set_number(r, o, v);
		return 0;
	case OPT_INT: {
		bool neg = arg[0] == '-';

		if (ec_parse_uint(arg + neg, 0, o->max, &v) < 0) {
			fprintf(stderr, "ec-replica: --%s: '%s' is not a number "
				"in -%llu..%llu\n", o->name, arg, o->max, o->max);
			return -1;
		}
		*(int64_t *)field(r, o) = neg ? -(int64_t)v : (int64_t)v;
		return 0;
	}
	case OPT_READS:
		if (ec_reads_parse(arg, field(r, o)) < 0) {
			fprintf(stderr, "ec-replica: --%s: '%s' is neither log "
				"nor lease\n", o->name, arg);
			return -1;
		}
		return 0;
	case OPT_OFFLOAD:
		if (ec_switches_apply(field(r, o), arg, true, err,
				      sizeof(err)) < 0) {
			fprintf(stderr, "ec-replica: --%s: %s\n", o->name, err);
			return -1;
		}
		return 0;
	case OPT_HELP:
		usage(stdout);
		return 1;
	}
	return -1;
}

/* Whether sw turns on any offload for any message type. */
static bool any_offload_on(const struct ec_switches *sw)
{
	for (unsigned k = 0; k < EC_OFFLOAD_MAX; k++)
		if (sw->on[k])
			return true;
	return false;
}

/* Print "--a, --b and --c are required" for the required options, to
 * stderr. */
static void print_required(void)
{
	size_t n = 0, k = 0;

	for (size_t i = 0; i < N_OPTS; i++)
		n += opts[i].required;
	fputs("ec-replica: ", stderr);
	for (size_t i = 0; i < N_OPTS; i++) {
		if (!opts[i].required)
			continue;
		k++;
		fprintf(stderr, "%s--%s", k == 1 ? "" : k == n ? " and " : ", ",
			opts[i].name);
	}
	fputs(" are required\n", stderr);
}

int ec_replica_opts_parse(int argc, char **argv, struct ec_replica_opts *r)
{
	struct option long_opts[N_OPTS + 1];
	char short_opts[2 * N_OPTS + 1], *s = short_opts;
	bool given[N_OPTS] = { false };
	int c, rc = 0;

	*r = (struct ec_replica_opts){ 0 };
	ec_core_opts_default(&r->core, 0, 0);
	for (size_t i = 0; i < N_OPTS; i++) {
		const struct opt *o = &opts[i];

		if (o->kind == OPT_UINT || o->kind == OPT_U64)
			set_number(r, o, o->def);
		else if (o->kind == OPT_READS)
			*(enum ec_reads *)field(r, o) = (enum ec_reads)o->def;
		/* a long-only option is told by its index past every char */
		long_opts[i] = (struct option){
			o->name, o->arg ? required_argument : no_argument, NULL,
			o->short_name ? o->short_name : (int)(256 + i) };
		if (o->short_name) {
			*s++ = o->short_name;
			if (o->arg)
				*s++ = ':';
		}
	}
	long_opts[N_OPTS] = (struct option){ NULL, 0, NULL, 0 };
	*s = '\0';
	while (rc == 0 &&
	       (c = getopt_long(argc, argv, short_opts, long_opts, NULL)) != -1) {
		size_t i = 0;

		while (i < N_OPTS && long_opts[i].val != c)
			i++;
		if (i == N_OPTS) {
			rc = -1; /* getopt_long printed why */
			break;
		}
		given[i] = true;
		rc = apply(r, &opts[i], optarg);
		if (rc == 1)
			return 1;
	}
	if (rc)
		goto usage_err;
	if (optind < argc) {
		fprintf(stderr, "ec-replica: unexpected argument '%s'\n",
			argv[optind]);
		goto usage_err;
	}
	for (size_t i = 0; i < N_OPTS; i++)
		if (opts[i].required && !given[i]) {
			print_required();
			goto usage_err;
		}
	if (r->no_bpf && any_offload_on(&r->offload)) {
		fprintf(stderr, "ec-replica: --offload needs the BPF programs: "
			"drop --no-bpf\n");
		goto usage_err;
	}
	if (r->read_cache_slots & (r->read_cache_slots - 1)) {
		fprintf(stderr, "ec-replica: --read-cache-slots %u is not a "
			"power of two\n", r->read_cache_slots);
		goto usage_err;
	}
	if (r->core.view_timeout_us <= r->core.heartbeat_us) {
		fprintf(stderr,
			"ec-replica: --view-timeout-ms (%llu) must be longer than "
			"--heartbeat-ms (%llu), or followers time out between "
			"heartbeats\n",
			(unsigned long long)r->core.view_timeout_us / 1000,
			(unsigned long long)r->core.heartbeat_us / 1000);
		goto usage_err;
	}
	return 0;
usage_err:
	fprintf(stderr, "Try 'ec-replica --help'.\n");
	return -1;
}

int ec_replica_opts_range(const char *name, unsigned long long *min,
			  unsigned long long *max)
{
	for (size_t i = 0; i < N_OPTS; i++)
		if ((opts[i].kind == OPT_UINT || opts[i].kind == OPT_U64) &&
		    !strcmp(opts[i].name, name)) {
			*min = opts[i].min;
			*max = opts[i].max;
			return 0;
		}
	return -1;
}
