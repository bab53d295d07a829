/* bench_opts.c - ec-bench's command line and result output; see bench.h. */
#include "bench.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "ec_wire.h"
#include "session.h"

static const char *const kind_names[K_MAX] = {
	[K_GET] = "get", [K_PUT] = "put", [K_CAS] = "cas", [K_DELETE] = "delete",
};

static void usage(FILE *f)
{
	fprintf(f,
"usage: ec-bench --config FILE [options]\n"
"\n"
"Closed-loop load generator for an electrode-c cluster.  Each logical\n"
"client keeps exactly one request outstanding and starts the next as soon as\n"
"the answer arrives.  A point runs a warmup (not measured), the measured\n"
"duration, then up to 2 s of grace in which no request starts and the\n"
"outstanding ones may finish (those that do not count as timeouts).\n"
"\n"
"  --config FILE       cluster configuration (replica addresses), required\n"
"  --clients C         concurrent logical clients (default 1, max %d)\n"
"  --sweep LIST        comma-separated client counts, e.g. 1,2,4,8: one point\n"
"                      and one table row each (instead of --clients)\n"
"  --duration S        measured seconds per point (default 5)\n"
"  --warmup S          unmeasured seconds before each point (default 1)\n"
"  --mix SPEC          op percentages summing to 100, e.g.\n"
"                      get=50,put=40,cas=5,delete=5; unnamed kinds are 0\n"
"                      (default get=50,put=50).  CAS expects the value PUT\n"
"                      writes, so it succeeds on keys a PUT wrote\n"
"  --keys K            key space: keys k0..k<K-1>, uniform (default 1000,\n"
"                      8 with --history)\n"
"  --value-size B      bytes per PUT/CAS value (default 64, max %d)\n"
"  --timeout-ms T      resend an unanswered request to every replica after\n"
"                      T ms, same request id (default 100)\n"
"  --give-up-ms G      abandon a request G ms after its first send and count\n"
"                      a timeout (default 5000)\n"
"  --csv FILE          append one row per point (header line first if the\n"
"                      file is new): clients,ops,seconds,ops_per_s,mean_us,\n"
"                      p50_us,p90_us,p99_us,p999_us,retries,timeouts\n"
"  --csv-kinds FILE    append one row per op kind in --mix per point (header\n"
"                      first if the file is new): clients,kind,ops,mean_us,\n"
"                      p50_us,p90_us,p99_us,p999_us,lease,stale_replies,\n"
"                      kernel\n"
"  --verify-log FILE   lost-write check mode: client c PUTs only its own keys\n"
"                      v<c>-<k>, k < K / (largest client count), with value\n"
"                      \"<seq>\" (strictly increasing per client, starting\n"
"                      from the wall clock in microseconds, padded as\n"
"                      \"<seq>:xxx\" to the value size); GETs read any such\n"
"                      key.  Only get and put are allowed in --mix.  At exit\n"
"                      FILE gets \"KEY ACKED_SEQ SENT_SEQ\" per key written:\n"
"                      the seq of the last PUT answered OK (0 if none) and\n"
"                      of the last PUT sent\n"
"  --history FILE      record every operation in FILE as JSON lines for a\n"
"                      linearizability checker, one event per line:\n"
"                      {\"process\":P,\"type\":T,\"f\":F,\"key\":K,\"value\":V,\n"
"                      \"time\":NS}, T invoke when sent, then ok (took effect),\n"
"                      fail (certainly did not: cas CAS_FAILED, BAD_REQUEST,\n"
"                      put or cas STORE_FULL) or info (unknown: given up or\n"
"                      SESSION_EXPIRED); F get (V null, on ok the value\n"
"                      read or null), put (V the value), delete (null) or\n"
"                      cas (V [expected or null for absent, new]); NS\n"
"                      CLOCK_MONOTONIC nanoseconds.  A process is one client\n"
"                      id; after info the client goes on as a new process\n"
"                      with a new client id.  Keys are h<run>-<k>, run random\n"
"                      per invocation so each history starts empty; put and\n"
"                      cas write unique values p<process>-<n>; a cas expects\n"
"                      what its client last saw of the key it last touched\n"
"                      (absent: cas-absent).  Unless given, --keys 8 and\n"
"                      --mix get=40,put=30,cas=20,delete=10; any mix works,\n"
"                      e.g. get=90,put=10 for mostly reads the leader answers\n"
"                      under its lease.  Not with --verify-log or\n"
"                      --value-size.  Covers warmup and grace too; a write\n"
"                      error makes the exit status 1\n"
"  --pin I:K           the first K clients send every request first to\n"
"                      replica I instead of the leader they believe in; a\n"
"                      request goes on as usual after a NOT_LEADER from I or\n"
"                      a timeout, and the next one goes to I again (clients\n"
"                      that keep reaching one replica, e.g. a deposed leader)\n"
"  --pin-mix SPEC      the op mix of the pinned clients, as --mix (default:\n"
"                      --mix); e.g. get=100 for readers that keep asking a\n"
"                      deposed leader while the others write\n"
"  --read-msg on|off   on (the default): every GET goes out as a READ, the\n"
"                      fixed-layout message the leader's XDP program can\n"
"                      answer itself (READ_REPLY) and user space answers as\n"
"                      the GET it stands for; off: GETs go out as REQUESTs\n"
"                      like every other op, as before READs, for comparison\n"
"  --seed N            seed of the op/key choices (default 1); client ids\n"
"                      are random whatever the seed\n"
"  -v, --verbose       progress every second and diagnostics on stderr\n"
"  -h, --help          this text\n"
"\n"
"Output: a line with the parameters; per point either a table row (--sweep)\n"
"or a detail line (ops, mean, retries, timeouts, errors, \"max stall X ms\",\n"
"the longest measured interval with no completion, \"stale replies N\"), then\n"
"one line per op kind in --mix with the latencies of its requests alone\n"
"(\"get: N ops, mean N us, p50 N us, p90 N us, p99 N us, p99.9 N us\"; the\n"
"get line ends \", lease N (P%%), kernel N (P%%)\": the gets the leader\n"
"answered under its lease, without the log, and of those the ones its XDP\n"
"program answered in the kernel, with a READ_REPLY; P is of the line's ops),\n"
"and outside --sweep, as the last line,\n"
"\"summary: ... N ops/s, p50 N us, p90 N us, p99 N us, p99.9 N us\".\n"
"Retries count every resend (timeouts and NOT_LEADER redirects) after\n"
"warmup; errors count requests the cluster answered with a refusal\n"
"(BAD_REQUEST, or STORE_FULL: the replicas' --max-keys/--max-bytes bound\n"
"was reached), which are not in ops or the latencies.  Every request\n"
"carries the highest op its client saw an answer reflect; stale replies\n"
"(the table's stale) count answers from older state, which are not\n"
"accepted (the request is resent).  SIGINT/SIGTERM ends the measurement\n"
"early and still reports (and writes --history whole); a second one also\n"
"cuts the grace period.  Exit status 1 if a point completed no op or on\n"
"error, else 0.\n",
		BENCH_MAX_CLIENTS, EC_MAX_VALUE);
}

/* Parse a whole unsigned decimal in [min, max] into *v.  Returns 0, or -1
 * after naming the option. */
static int parse_uint(const char *s, const char *name, unsigned long long min,
		      unsigned long long max, unsigned long long *v)
{
	if (ec_parse_uint(s, min, max, v) < 0) {
		fprintf(stderr, "ec-bench: %s: expected an integer in %llu..%llu, got '%s'\n",
			name, min, max, s);
		return -1;
	}
	return 0;
}

/* Parse non-negative seconds (decimals allowed) into microseconds. */
static int parse_seconds(const char *s, const char *name, uint64_t *us)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0) || v > 1e6) {
		fprintf(stderr, "ec-bench: %s: expected seconds, got '%s'\n",
			name, s);
		return -1;
	}
	*us = (uint64_t)(v * 1e6 + 0.5);
	return 0;
}

/* Parse "get=G,put=P,..." into mix[]; unnamed kinds are 0. */
static int parse_mix(const char *spec, unsigned mix[K_MAX])
{
	char buf[128], *item, *save = NULL;
	unsigned sum = 0;

	if (strlen(spec) >= sizeof(buf))
		goto bad;
	strcpy(buf, spec);
	memset(mix, 0, K_MAX * sizeof(mix[0]));
	for (item = strtok_r(buf, ",", &save); item;
	     item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '=');
		unsigned long long v;
		unsigned k;

		if (!eq)
			goto bad;
		*eq = '\0';
		for (k = 0; k < K_MAX && strcmp(item, kind_names[k]); k++)
			;
		if (k == K_MAX || parse_uint(eq + 1, "--mix", 0, 100, &v) < 0)
			goto bad;
		mix[k] = (unsigned)v;
		sum += (unsigned)v;
	}
	if (sum != 100)
		goto bad;
	return 0;
bad:
	fprintf(stderr, "ec-bench: --mix: expected get=G,put=P,cas=C,delete=D summing to 100, got '%s'\n",
		spec);
	return -1;
}

/* Parse "1,2,4" into o->sweep. */
static int parse_sweep(const char *list, struct bench_opts *o)
{
	char buf[512], *item, *save = NULL;
	unsigned long long v;

	if (strlen(list) >= sizeof(buf)) {
		fprintf(stderr, "ec-bench: --sweep: list too long\n");
		return -1;
	}
	strcpy(buf, list);
	o->n_sweep = 0;
	for (item = strtok_r(buf, ",", &save); item;
	     item = strtok_r(NULL, ",", &save)) {
		if (o->n_sweep == BENCH_MAX_SWEEP) {
			fprintf(stderr, "ec-bench: --sweep: at most %d points\n",
				BENCH_MAX_SWEEP);
			return -1;
		}
		if (parse_uint(item, "--sweep", 1, BENCH_MAX_CLIENTS, &v) < 0)
			return -1;
		o->sweep[o->n_sweep++] = (unsigned)v;
	}
	if (o->n_sweep == 0) {
		fprintf(stderr, "ec-bench: --sweep: empty list\n");
		return -1;
	}
	return 0;
}

/* Parse --pin "I:K" into o. */
static int parse_pin(const char *spec, struct bench_opts *o)
{
	char buf[32], *colon;
	unsigned long long v;

	colon = strchr(spec, ':');
	if (strlen(spec) >= sizeof(buf) || !colon) {
		fprintf(stderr, "ec-bench: --pin: expected REPLICA:CLIENTS, got '%s'\n",
			spec);
		return -1;
	}
	strcpy(buf, spec);
	buf[colon - spec] = '\0';
	if (parse_uint(buf, "--pin replica", 0, EC_MAX_REPLICAS - 1, &v) < 0)
		return -1;
	o->pin_replica = (unsigned)v;
	if (parse_uint(buf + (colon - spec) + 1, "--pin clients", 1,
		       BENCH_MAX_CLIENTS, &v) < 0)
		return -1;
	o->pin_clients = (unsigned)v;
	return 0;
}

/* Options given on the command line, for defaults that depend on them. */
struct given {
	bool clients, mix, keys, value_size;
};

/* --history: its defaults, and what it cannot be combined with.  Its own
 * keys and values replace --verify-log's and --value-size's. */
static int history_opts(struct bench_opts *o, const struct given *g)
{
	if (o->verify_log) {
		fprintf(stderr, "ec-bench: --history and --verify-log choose keys and values each their own way; use one\n");
		return -1;
	}
	if (g->value_size) {
		fprintf(stderr, "ec-bench: --history writes its own values (p<process>-<n>); drop --value-size\n");
		return -1;
	}
	if (!g->keys)
		o->keys = 8;
	if (!g->mix) {
		o->mix[K_GET] = 40;
		o->mix[K_PUT] = 30;
		o->mix[K_CAS] = 20;
		o->mix[K_DELETE] = 10;
	}
	return 0;
}

/* Cross-option checks once everything is parsed. */
static int check_opts(struct bench_opts *o, const struct given *g)
{
	if (!o->config) {
		fprintf(stderr, "ec-bench: --config FILE is required (see --help)\n");
		return -1;
	}
	if (g->clients && o->n_sweep) {
		fprintf(stderr, "ec-bench: use either --clients or --sweep\n");
		return -1;
	}
	o->max_clients = o->clients;
	for (unsigned i = 0; i < o->n_sweep; i++)
		if (i == 0 || o->sweep[i] > o->max_clients)
			o->max_clients = o->sweep[i];
	if (o->duration_us == 0) {
		fprintf(stderr, "ec-bench: --duration must be positive\n");
		return -1;
	}
	if (o->has_pin_mix && !o->pin_clients) {
		fprintf(stderr, "ec-bench: --pin-mix needs --pin\n");
		return -1;
	}
	if (o->verify_log && o->has_pin_mix &&
	    (o->pin_mix[K_CAS] || o->pin_mix[K_DELETE])) {
		fprintf(stderr, "ec-bench: --verify-log allows only get and put in --pin-mix\n");
		return -1;
	}
	if (o->pin_clients > o->max_clients) {
		fprintf(stderr, "ec-bench: --pin: %u clients pinned, but at most %u run\n",
			o->pin_clients, o->max_clients);
		return -1;
	}
	if (o->give_up_us < o->timeout_us) {
		fprintf(stderr, "ec-bench: --give-up-ms must be at least --timeout-ms\n");
		return -1;
	}
	if (o->history && history_opts(o, g) < 0)
		return -1;
	if (o->verify_log && (o->mix[K_CAS] || o->mix[K_DELETE])) {
		fprintf(stderr, "ec-bench: --verify-log allows only get and put in --mix\n");
		return -1;
	}
	if (o->verify_log && o->keys < o->max_clients) {
		fprintf(stderr, "ec-bench: --verify-log needs --keys >= clients (%u) so every client owns a key\n",
			o->max_clients);
		return -1;
	}
	return 0;
}

int bench_parse_opts(int argc, char **argv, struct bench_opts *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'f' },
		{ "clients", required_argument, NULL, 'c' },
		{ "sweep", required_argument, NULL, 'S' },
		{ "duration", required_argument, NULL, 'd' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "mix", required_argument, NULL, 'm' },
		{ "keys", required_argument, NULL, 'k' },
		{ "value-size", required_argument, NULL, 'b' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "give-up-ms", required_argument, NULL, 'g' },
		{ "csv", required_argument, NULL, 'C' },
		{ "csv-kinds", required_argument, NULL, 'K' },
		{ "verify-log", required_argument, NULL, 'V' },
		{ "history", required_argument, NULL, 'H' },
		{ "seed", required_argument, NULL, 's' },
		{ "pin", required_argument, NULL, 'P' },
		{ "pin-mix", required_argument, NULL, 'Q' },
		{ "read-msg", required_argument, NULL, 'R' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long long v;
	struct given g = { 0 };
	int opt;

	memset(o, 0, sizeof(*o));
	o->clients = 1;
	o->duration_us = 5000000;
	o->warmup_us = 1000000;
	o->mix[K_GET] = 50;
	o->mix[K_PUT] = 50;
	o->keys = 1000;
	o->value_size = 64;
	o->timeout_us = 100000;
	o->give_up_us = 5000000;
	o->seed = 1;
	o->read_msg = true;
	while ((opt = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			o->config = optarg;
			break;
		case 'c':
			if (parse_uint(optarg, "--clients", 1, BENCH_MAX_CLIENTS, &v) < 0)
				return -1;
			o->clients = (unsigned)v;
			g.clients = true;
			break;
		case 'S':
			if (parse_sweep(optarg, o) < 0)
				return -1;
			break;
		case 'd':
			if (parse_seconds(optarg, "--duration", &o->duration_us) < 0)
				return -1;
			break;
		case 'w':
			if (parse_seconds(optarg, "--warmup", &o->warmup_us) < 0)
				return -1;
			break;
		case 'm':
			if (parse_mix(optarg, o->mix) < 0)
				return -1;
			g.mix = true;
			break;
		case 'k':
			if (parse_uint(optarg, "--keys", 1, 100000000, &v) < 0)
				return -1;
			o->keys = (unsigned)v;
			g.keys = true;
			break;
		case 'b':
			if (parse_uint(optarg, "--value-size", 0, EC_MAX_VALUE, &v) < 0)
				return -1;
			o->value_size = (unsigned)v;
			g.value_size = true;
			break;
		case 't':
			if (parse_uint(optarg, "--timeout-ms", 1, 3600000, &v) < 0)
				return -1;
			o->timeout_us = v * 1000;
			break;
		case 'g':
			if (parse_uint(optarg, "--give-up-ms", 1, 3600000, &v) < 0)
				return -1;
			o->give_up_us = v * 1000;
			break;
		case 'C':
			o->csv = optarg;
			break;
		case 'K':
			o->csv_kinds = optarg;
			break;
		case 'V':
			o->verify_log = optarg;
			break;
		case 'H':
			o->history = optarg;
			break;
		case 's':
			if (parse_uint(optarg, "--seed", 0, UINT64_MAX, &v) < 0)
				return -1;
			o->seed = v;
			break;
		case 'P':
			if (parse_pin(optarg, o) < 0)
				return -1;
			break;
		case 'Q':
			if (parse_mix(optarg, o->pin_mix) < 0)
				return -1;
			o->has_pin_mix = true;
			break;
		case 'R':
			if (ec_session_parse_read_msg(optarg, &o->read_msg) < 0) {
				fprintf(stderr, "ec-bench: --read-msg: expected on or off, got '%s'\n",
					optarg);
				return -1;
			}
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			fprintf(stderr, "ec-bench: see --help\n");
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ec-bench: unexpected argument '%s' (see --help)\n",
			argv[optind]);
		return -1;
	}
	return check_opts(o, &g);
}

void bench_print_header(const struct bench_opts *o, unsigned replicas)
{
	printf("ec-bench: %u replicas, ", replicas);
	if (o->n_sweep) {
		printf("clients ");
		for (unsigned i = 0; i < o->n_sweep; i++)
			printf("%s%u", i ? "," : "", o->sweep[i]);
	} else {
		printf("%u clients", o->clients);
	}
	printf(", warmup %.1f s, duration %.1f s, mix get=%u,put=%u,cas=%u,delete=%u, %u keys, ",
	       (double)o->warmup_us / 1e6, (double)o->duration_us / 1e6,
	       o->mix[K_GET], o->mix[K_PUT], o->mix[K_CAS], o->mix[K_DELETE],
	       o->keys);
	if (o->history)
		printf("history values");
	else
		printf("%u-byte values", o->value_size);
	printf(", timeout %llu ms", (unsigned long long)(o->timeout_us / 1000));
	if (o->pin_clients)
		printf(", clients 0..%u pinned to replica %u",
		       o->pin_clients - 1, o->pin_replica);
	if (o->has_pin_mix)
		printf(" (mix get=%u,put=%u,cas=%u,delete=%u)",
		       o->pin_mix[K_GET], o->pin_mix[K_PUT], o->pin_mix[K_CAS],
		       o->pin_mix[K_DELETE]);
	printf("%s%s%s\n", o->verify_log ? ", verify log" : "",
	       o->history ? ", history" : "",
	       o->read_msg ? "" : ", gets as requests");
	if (o->n_sweep)
		printf("%7s %10s %10s %9s %8s %8s %8s %8s %8s %8s %9s %6s\n",
		       "clients", "ops", "ops/s", "mean_us", "p50_us", "p90_us",
		       "p99_us", "p999_us", "retries", "timeouts", "stall_ms",
		       "stale");
	fflush(stdout);
}

/* The results of one point, as printed and written to --csv. */
struct bench_row {
	unsigned clients;
	uint64_t ops;
	double seconds;
	double ops_per_s;
	double mean_us;
	uint64_t p50_us, p90_us, p99_us, p999_us;
	uint64_t retries;
	uint64_t timeouts;
	uint64_t errors;
	double max_stall_ms;
};

/* The CSV file at path opened for appending, with header written first
 * if the file is empty; NULL with a message. */
static FILE *csv_open(const char *path, const char *header)
{
	FILE *f = fopen(path, "a");

	if (!f) {
		fprintf(stderr, "ec-bench: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) == 0 && ftell(f) == 0)
		fprintf(f, "%s\n", header);
	return f;
}

/* Close the CSV file f at path.  Returns 0, or -1 with a message if
 * anything written to it failed. */
static int csv_close(FILE *f, const char *path)
{
	if (ferror(f) | fclose(f)) {
		fprintf(stderr, "ec-bench: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Append r to the CSV file at path, with a header if the file is empty. */
static int csv_row(const char *path, const struct bench_row *r)
{
	FILE *f = csv_open(path, "clients,ops,seconds,ops_per_s,mean_us,p50_us,p90_us,p99_us,p999_us,retries,timeouts");

	if (!f)
		return -1;
	fprintf(f, "%u,%llu,%.3f,%.1f,%.1f,%llu,%llu,%llu,%llu,%llu,%llu\n",
		r->clients, (unsigned long long)r->ops, r->seconds, r->ops_per_s,
		r->mean_us, (unsigned long long)r->p50_us,
		(unsigned long long)r->p90_us, (unsigned long long)r->p99_us,
		(unsigned long long)r->p999_us, (unsigned long long)r->retries,
		(unsigned long long)r->timeouts);
	return csv_close(f, path);
}

/* Whether requests of kind k run: it is in --mix or --pin-mix. */
static bool kind_runs(const struct bench_opts *o, unsigned k)
{
	return o->mix[k] || (o->has_pin_mix && o->pin_mix[k]);
}

/* n as a percentage of total, 0 for none. */
static double share(uint64_t n, uint64_t total)
{
	return total ? 100.0 * (double)n / (double)total : 0.0;
}

/* Print one line per op kind in the mix, point p's requests of that kind
 * alone (indented under a --sweep row); the get line with the shares the
 * lease and the kernel answered (appended last, so that the fields
 * before stay where scripts look for them). */
static void print_kinds(const struct bench_opts *o,
			const struct bench_point *p)
{
	for (unsigned k = 0; k < K_MAX; k++) {
		const struct ec_hist *h = &p->kind_hist[k];

		if (!kind_runs(o, k))
			continue;
		printf("%s%s: %llu ops, mean %.1f us, p50 %llu us, p90 %llu us, p99 %llu us, p99.9 %llu us",
		       o->n_sweep ? "  " : "", kind_names[k],
		       (unsigned long long)p->kind_ops[k], ec_hist_mean(h),
		       (unsigned long long)ec_hist_percentile(h, 50),
		       (unsigned long long)ec_hist_percentile(h, 90),
		       (unsigned long long)ec_hist_percentile(h, 99),
		       (unsigned long long)ec_hist_percentile(h, 99.9));
		if (k == K_GET)
			printf(", lease %llu (%.1f%%), kernel %llu (%.1f%%)",
			       (unsigned long long)p->kind_lease[k],
			       share(p->kind_lease[k], p->kind_ops[k]),
			       (unsigned long long)p->kind_kernel[k],
			       share(p->kind_kernel[k], p->kind_ops[k]));
		printf("\n");
	}
}

/* Append point p's rows, one per op kind in the mix, to the CSV file at
 * path (header first if the file is empty). */
static int csv_kind_rows(const char *path, const struct bench_opts *o,
			 unsigned clients, const struct bench_point *p)
{
	FILE *f = csv_open(path, "clients,kind,ops,mean_us,p50_us,p90_us,p99_us,p999_us,lease,stale_replies,kernel");

	if (!f)
		return -1;
	for (unsigned k = 0; k < K_MAX; k++) {
		const struct ec_hist *h = &p->kind_hist[k];

		if (!kind_runs(o, k))
			continue;
		fprintf(f, "%u,%s,%llu,%.1f,%llu,%llu,%llu,%llu,%llu,%llu,%llu\n",
			clients, kind_names[k],
			(unsigned long long)p->kind_ops[k], ec_hist_mean(h),
			(unsigned long long)ec_hist_percentile(h, 50),
			(unsigned long long)ec_hist_percentile(h, 90),
			(unsigned long long)ec_hist_percentile(h, 99),
			(unsigned long long)ec_hist_percentile(h, 99.9),
			(unsigned long long)p->kind_lease[k],
			(unsigned long long)p->kind_stale[k],
			(unsigned long long)p->kind_kernel[k]);
	}
	return csv_close(f, path);
}

int bench_print_point(const struct bench_opts *o, unsigned replicas,
		      unsigned clients, const struct bench_point *p)
{
	struct bench_row row = {
		.clients = clients,
		.ops = p->ops,
		.seconds = (double)p->measured_us / 1e6,
		.mean_us = ec_hist_mean(&p->hist),
		.p50_us = ec_hist_percentile(&p->hist, 50),
		.p90_us = ec_hist_percentile(&p->hist, 90),
		.p99_us = ec_hist_percentile(&p->hist, 99),
		.p999_us = ec_hist_percentile(&p->hist, 99.9),
		.retries = p->retries,
		.timeouts = p->timeouts,
		.errors = p->errors,
		.max_stall_ms = (double)p->max_stall / 1e3,
	};
	const struct bench_row *r = &row;
	uint64_t stale = 0;

	for (unsigned k = 0; k < K_MAX; k++)
		stale += p->kind_stale[k];
	if (row.seconds > 0)
		row.ops_per_s = (double)row.ops / row.seconds;
	if (o->n_sweep) {
		printf("%7u %10llu %10.0f %9.1f %8llu %8llu %8llu %8llu %8llu %8llu %9.1f %6llu\n",
		       r->clients, (unsigned long long)r->ops, r->ops_per_s,
		       r->mean_us, (unsigned long long)r->p50_us,
		       (unsigned long long)r->p90_us,
		       (unsigned long long)r->p99_us,
		       (unsigned long long)r->p999_us,
		       (unsigned long long)r->retries,
		       (unsigned long long)r->timeouts, r->max_stall_ms,
		       (unsigned long long)stale);
		print_kinds(o, p);
	} else {
		printf("%llu ops, mean %.1f us, retries %llu, timeouts %llu, errors %llu, max stall %.1f ms, stale replies %llu\n",
		       (unsigned long long)r->ops, r->mean_us,
		       (unsigned long long)r->retries,
		       (unsigned long long)r->timeouts,
		       (unsigned long long)r->errors, r->max_stall_ms,
		       (unsigned long long)stale);
		print_kinds(o, p);
		printf("summary: %u replicas, %u clients, %.1f s: %.0f ops/s, p50 %llu us, p90 %llu us, p99 %llu us, p99.9 %llu us\n",
		       replicas, r->clients, r->seconds, r->ops_per_s,
		       (unsigned long long)r->p50_us,
		       (unsigned long long)r->p90_us,
		       (unsigned long long)r->p99_us,
		       (unsigned long long)r->p999_us);
	}
	fflush(stdout);
	if (o->csv && csv_row(o->csv, r) < 0)
		return -1;
	return o->csv_kinds ? csv_kind_rows(o->csv_kinds, o, clients, p) : 0;
}
