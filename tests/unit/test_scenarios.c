/*
 * test_scenarios.c - the simulated cluster (sim.c) driven by scenario
 * files, tests/unit/scenarios/NAME.txt, the way etcd-io/raft's
 * interaction_test.go walks testdata/NAME.txt: a file is a readable script
 * of requests, deliveries, drops, partitions, crashes and time, with
 * the expected output of each command that prints right below it.  A
 * protocol bug report becomes a short file.
 *
 * A file is lines.  A line whose first word starts with '#' is a
 * comment, a blank line separates; any other line is a command, and " #"
 * starts a comment on it.  A command that prints is followed by its
 * expected output:
 *
 *   state
 *   ----
 *   0: normal view 0 op 1 commit 1 executed 1 leader
 *   ...
 *   (a blank line or the end of the file ends it)
 *
 * Commands (R a replica id; E an endpoint: R, or cC for client C):
 *   cluster N [seed=S] [fastack] [quorum] [batch=B] [checkpoint-ops=K]
 *                        first: N replicas (offloads modelled when named)
 *   put KEY=VALUE, get KEY, delete KEY, cas KEY=VALUE if=EXPECTED
 *                        a request of client C (client=C, default 0) to
 *                        replica R (to=R, default the leader), put on
 *                        the network; each new request takes the next id
 *   retry [client=C] [to=R]   client C sends its last request again
 *   load N [client=C] [to=R]  N PUTs of new keys, each delivered before
 *                        the next
 *   deliver [TYPE] [from=E] [to=E]
 *                        deliver the packets that match (no filter: all)
 *                        until none that does is due; the others wait
 *   drop [TYPE] [from=E] [to=E]   drop what matches, from now until heal
 *   partition R... | R... [| ...] replicas in different groups (one named
 *                        in none: alone) hear nothing from each other,
 *                        until heal
 *   heal                 no drop rule, no partition
 *   crash R, restart R   stop replica R / start it again, empty, in
 *                        recovery
 *   run T                T (e.g. 30ms, 2s) of time in 1 ms ticks, every
 *                        tick delivering what is due
 * and those that print:
 *   state                per replica: status, view, op, commit,
 *                        executed (with checkpoint-ops: log base and
 *                        checkpoint too), "leader" for a normal leader
 *   reply [C...]         the latest reply of each client (all by default)
 *   net                  the packets on the network, in order
 *   stats R NAME...      counters of replica R (names: `counters` below)
 * After every command the replicas' logs and stores must agree
 * (sim_check_agreement).
 *
 * EC_SCENARIO_REWRITE=1 writes what the core does now into the expected
 * blocks instead of comparing (after a change of behaviour on purpose:
 * review the diff), like raft's -rewrite.  EC_SCENARIOS names another
 * folder of scenarios.
 */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sim.h"
#include "../run_suite.h"

#define MS 1000ULL
#define MAX_ARGS 16
#define MAX_RULES 16
#define MAX_CLIENTS 64

/* Packets to drop or to deliver: -1 in a field is any. */
struct match {
	int type;
	int from, to; /* sim endpoints */
};

/* A client's last request, for retry. */
struct request {
	uint64_t rid;
	int kind;
	char key[64], value[256], expected[256];
	bool has_value, has_expected;
};

/* One scenario file being run. */
struct run {
	struct sim *s;
	struct match rules[MAX_RULES];
	unsigned n_rules;
	bool partitioned;
	int group[EC_MAX_REPLICAS];
	bool checkpoints;         /* state shows base and checkpoint */
	unsigned loaded;          /* keys written by load so far */
	struct request client[MAX_CLIENTS];
	FILE *out;                /* the current command's output */
	char why[256];            /* a command's error */
};

static void set_error(struct run *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_error(struct run *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
}

/* A command's error, said in r->why: false, for `return refuse(...)`. */
#define refuse(r, ...) (set_error(r, __VA_ARGS__), false)

static bool matches(const struct match *m, const struct sim_pkt *p)
{
	return (m->type < 0 || p->type == m->type) &&
	       (m->from < 0 || p->from == (unsigned)m->from) &&
	       (m->to < 0 || p->to == (unsigned)m->to);
}

/* sim.filter: the drop rules and the partition. */
static bool scenario_filter(struct sim *s, const struct sim_pkt *p, void *arg)
{
	const struct run *r = arg;

	for (unsigned k = 0; k < r->n_rules; k++)
		if (matches(&r->rules[k], p))
			return true;
	return r->partitioned && p->from < s->n && p->to < s->n &&
	       r->group[p->from] != r->group[p->to];
}

static bool deliver_match(const struct sim_pkt *p, void *arg)
{
	return matches(arg, p);
}

/* "value" of "name=value" in argv[from..], or NULL. */
static const char *option(int argc, char **argv, int from, const char *name)
{
	size_t n = strlen(name);

	for (int k = from; k < argc; k++)
		if (strncmp(argv[k], name, n) == 0 && argv[k][n] == '=')
			return argv[k] + n + 1;
	return NULL;
}

/* Whether every word of argv[from..] is one of names ("name=" for an
 * option with a value, "name" for a flag). */
static bool known_words(struct run *r, int argc, char **argv, int from,
			const char *const *names)
{
	for (int k = from; k < argc; k++) {
		const char *const *n = names;

		while (*n && !(strncmp(argv[k], *n, strlen(*n)) == 0 &&
			       ((*n)[strlen(*n) - 1] == '=' ||
				argv[k][strlen(*n)] == '\0')))
			n++;
		if (!*n)
			return refuse(r, "'%s': not known to %s", argv[k],
				    argv[0]);
	}
	return true;
}

static bool number(struct run *r, const char *s, uint64_t max, uint64_t *v)
{
	char *end;

	*v = strtoull(s, &end, 10);
	if (end == s || *end || *v > max)
		return refuse(r, "'%s': not a number up to %llu", s,
			    (unsigned long long)max);
	return true;
}

static bool replica(struct run *r, const char *s, unsigned *i)
{
	uint64_t v;

	if (!number(r, s, r->s->n - 1, &v))
		return refuse(r, "'%s': no such replica", s);
	*i = (unsigned)v;
	return true;
}

/* An endpoint: a replica id, or cC for client C. */
static bool endpoint(struct run *r, const char *s, int *e)
{
	uint64_t v;
	unsigned i;

	if (s[0] == 'c') {
		if (!number(r, s + 1, MAX_CLIENTS - 1, &v))
			return false;
		*e = SIM_CLIENT + (int)v;
		return true;
	}
	if (!replica(r, s, &i))
		return false;
	*e = (int)i;
	return true;
}

static void print_endpoint(FILE *f, unsigned e)
{
	if (e >= SIM_CLIENT)
		fprintf(f, "c%u", e - SIM_CLIENT);
	else
		fprintf(f, "%u", e);
}

static int msg_type(const char *name)
{
	for (unsigned t = 1; t < EC_MSG_TYPE_MAX; t++)
		if (strcasecmp(ec_msg_type_name(t), name) == 0)
			return (int)t;
	return -1;
}

/* [TYPE] [from=E] [to=E] from argv[1]. */
static bool parse_match(struct run *r, int argc, char **argv, struct match *m)
{
	m->type = m->from = m->to = -1;
	for (int k = 1; k < argc; k++) {
		if (strncmp(argv[k], "from=", 5) == 0) {
			if (!endpoint(r, argv[k] + 5, &m->from))
				return false;
		} else if (strncmp(argv[k], "to=", 3) == 0) {
			if (!endpoint(r, argv[k] + 3, &m->to))
				return false;
		} else if ((m->type = msg_type(argv[k])) < 0) {
			return refuse(r, "'%s': no such message type", argv[k]);
		}
	}
	return true;
}

static bool cmd_cluster(struct run *r, int argc, char **argv)
{
	static const char *const words[] = { "seed=", "batch=",
		"checkpoint-ops=", "fastack", "quorum", NULL };
	const char *seed = option(argc, argv, 2, "seed");
	const char *batch = option(argc, argv, 2, "batch");
	const char *ckpt = option(argc, argv, 2, "checkpoint-ops");
	bool fastack = false, quorum = false;
	uint64_t n, v = 1; /* the seed unless one is given */

	if (r->s)
		return refuse(r, "one cluster per scenario");
	if (!known_words(r, argc, argv, 2, words))
		return false;
	if (argc < 2 || !number(r, argv[1], EC_MAX_REPLICAS, &n) || n == 0)
		return refuse(r, "cluster N, 1 <= N <= %d", EC_MAX_REPLICAS);
	for (int k = 2; k < argc; k++) {
		fastack |= strcmp(argv[k], "fastack") == 0;
		quorum |= strcmp(argv[k], "quorum") == 0;
	}
	if (seed && !number(r, seed, UINT64_MAX, &v))
		return false;
	r->s = sim_new_offload((unsigned)n, v, fastack, quorum);
	r->s->filter = scenario_filter;
	r->s->filter_arg = r;
	if (batch) {
		if (!number(r, batch, EC_MAX_BATCH, &v) || v == 0)
			return refuse(r, "batch=1..%d", EC_MAX_BATCH);
		sim_set_batch(r->s, (unsigned)v);
	}
	if (ckpt) {
		if (!number(r, ckpt, UINT64_MAX, &v))
			return false;
		sim_set_checkpoint_ops(r->s, v);
		r->checkpoints = true;
	}
	return true;
}

/* client=C and to=R of a request command (from argv[from]; a cas also
 * takes if=). */
static bool sender(struct run *r, int argc, char **argv, int from,
		   unsigned *c, unsigned *to)
{
	static const char *const words[] = { "client=", "to=", NULL };
	static const char *const cas_words[] = { "client=", "to=", "if=",
						 NULL };
	const char *cs = option(argc, argv, from, "client");
	const char *ts = option(argc, argv, from, "to");
	uint64_t v = 0;
	int leader;

	if (!known_words(r, argc, argv, from,
			 strcmp(argv[0], "cas") == 0 ? cas_words : words))
		return false;
	if (cs && !number(r, cs, MAX_CLIENTS - 1, &v))
		return false;
	*c = (unsigned)v;
	if (ts)
		return replica(r, ts, to);
	leader = sim_leader(r->s);
	if (leader < 0)
		return refuse(r, "no leader to send to: say to=R");
	*to = (unsigned)leader;
	return true;
}

static void send_request(struct run *r, unsigned c, unsigned to)
{
	const struct request *q = &r->client[c];

	sim_request(r->s, c, to, q->rid, q->kind, q->key,
		    q->has_value ? q->value : NULL,
		    q->has_expected ? q->expected : NULL);
}

/* put, get, delete, cas: a new request of its client. */
static bool cmd_request(struct run *r, int argc, char **argv)
{
	static const struct {
		const char *name;
		int kind;
		bool value;
	} kinds[] = {
		{ "put", EC__OP_KIND__OP_PUT, true },
		{ "get", EC__OP_KIND__OP_GET, false },
		{ "delete", EC__OP_KIND__OP_DELETE, false },
		{ "cas", EC__OP_KIND__OP_CAS, true },
	};
	struct request q = { 0 };
	const char *expected = option(argc, argv, 2, "if");
	unsigned c, to, k = 0;
	char *eq;

	while (strcmp(kinds[k].name, argv[0]) != 0)
		k++;
	if (argc < 2)
		return refuse(r, "%s needs a key", argv[0]);
	eq = strchr(argv[1], '=');
	if (kinds[k].value != (eq != NULL))
		return refuse(r, kinds[k].value ? "%s KEY=VALUE" : "%s KEY",
			    argv[0]);
	if (!sender(r, argc, argv, 2, &c, &to))
		return false;
	q.kind = kinds[k].kind;
	snprintf(q.key, sizeof(q.key), "%.*s",
		 (int)(eq ? (size_t)(eq - argv[1]) : strlen(argv[1])), argv[1]);
	if (eq) {
		q.has_value = true;
		snprintf(q.value, sizeof(q.value), "%s", eq + 1);
	}
	if (q.kind == EC__OP_KIND__OP_CAS) {
		q.has_expected = true;
		snprintf(q.expected, sizeof(q.expected), "%s",
			 expected ? expected : "");
	}
	q.rid = r->client[c].rid + 1;
	r->client[c] = q;
	send_request(r, c, to);
	return true;
}

static bool cmd_retry(struct run *r, int argc, char **argv)
{
	unsigned c, to;

	if (!sender(r, argc, argv, 1, &c, &to))
		return false;
	if (r->client[c].rid == 0)
		return refuse(r, "client %u sent nothing yet", c);
	send_request(r, c, to);
	return true;
}

static bool cmd_load(struct run *r, int argc, char **argv)
{
	struct request *q;
	unsigned c, to;
	uint64_t n;

	if (argc < 2 || !number(r, argv[1], 100000, &n))
		return refuse(r, "load N");
	if (!sender(r, argc, argv, 2, &c, &to))
		return false;
	q = &r->client[c];
	for (uint64_t k = 0; k < n; k++) {
		r->loaded++;
		q->rid++;
		q->kind = EC__OP_KIND__OP_PUT;
		q->has_value = true;
		q->has_expected = false;
		snprintf(q->key, sizeof(q->key), "k%u", r->loaded);
		snprintf(q->value, sizeof(q->value), "v%u", r->loaded);
		send_request(r, c, to);
		sim_deliver(r->s);
	}
	return true;
}

static bool cmd_deliver(struct run *r, int argc, char **argv)
{
	struct match m;

	if (!parse_match(r, argc, argv, &m))
		return false;
	sim_deliver_matching(r->s, deliver_match, &m);
	return true;
}

static bool cmd_drop(struct run *r, int argc, char **argv)
{
	if (r->n_rules == MAX_RULES)
		return refuse(r, "at most %d drop rules", MAX_RULES);
	if (!parse_match(r, argc, argv, &r->rules[r->n_rules]))
		return false;
	r->n_rules++;
	return true;
}

static bool cmd_partition(struct run *r, int argc, char **argv)
{
	int g = 0;

	/* named in no group: a group of its own */
	for (unsigned i = 0; i < r->s->n; i++)
		r->group[i] = -1 - (int)i;
	for (int k = 1; k < argc; k++) {
		unsigned i;

		if (strcmp(argv[k], "|") == 0) {
			g++;
			continue;
		}
		if (!replica(r, argv[k], &i))
			return false;
		r->group[i] = g;
	}
	r->partitioned = true;
	return true;
}

static bool cmd_heal(struct run *r, int argc, char **argv)
{
	r->n_rules = 0;
	r->partitioned = false;
	return true;
}

static bool cmd_crash(struct run *r, int argc, char **argv)
{
	unsigned i;

	if (argc != 2)
		return refuse(r, "%s R", argv[0]);
	if (!replica(r, argv[1], &i))
		return false;
	if (strcmp(argv[0], "crash") == 0)
		sim_crash(r->s, i);
	else
		sim_restart(r->s, i);
	return true;
}

static bool cmd_run(struct run *r, int argc, char **argv)
{
	char *unit;
	uint64_t t = argc == 2 ? strtoull(argv[1], &unit, 10) : 0;

	if (t == 0 || !(strcmp(unit, "ms") == 0 || strcmp(unit, "s") == 0))
		return refuse(r, "run T: T in ms or s, e.g. 30ms");
	sim_run(r->s, t * (strcmp(unit, "s") == 0 ? 1000 : 1) * MS, MS);
	return true;
}

static bool cmd_state(struct run *r, int argc, char **argv)
{
	for (unsigned i = 0; i < r->s->n; i++) {
		struct ec_core_state st = sim_st(r->s, i);

		if (r->s->down[i]) {
			fprintf(r->out, "%u: down\n", i);
			continue;
		}
		fprintf(r->out,
			"%u: %s view %u op %llu commit %llu executed %llu", i,
			ec_status_name(st.status), st.view,
			(unsigned long long)st.op,
			(unsigned long long)st.commit,
			(unsigned long long)st.executed);
		if (r->checkpoints)
			fprintf(r->out, " base %llu checkpoint %llu",
				(unsigned long long)st.log_base,
				(unsigned long long)st.checkpoint);
		fprintf(r->out, "%s\n", st.status == EC_ST_NORMAL &&
			st.leader == i ? " leader" : "");
	}
	return true;
}

static void print_reply(struct run *r, unsigned c)
{
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
		&ec__status__descriptor, r->s->reply[c].status);
	const char *name = v ? v->name : "?";

	if (strncmp(name, "ST_", 3) == 0)
		name += 3;
	fprintf(r->out, "c%u: request %llu %s", c,
		(unsigned long long)r->s->reply[c].request_id, name);
	if (r->s->reply[c].value[0])
		fprintf(r->out, " value=%s", r->s->reply[c].value);
	fprintf(r->out, " view %u\n", r->s->reply[c].view);
}

static bool cmd_reply(struct run *r, int argc, char **argv)
{
	uint64_t c;

	for (int k = 1; k < argc; k++) {
		if (!number(r, argv[k], MAX_CLIENTS - 1, &c))
			return false;
		if (!r->s->reply[c].have)
			fprintf(r->out, "c%llu: none\n", (unsigned long long)c);
		else
			print_reply(r, (unsigned)c);
	}
	for (c = 0; argc == 1 && c < MAX_CLIENTS; c++)
		if (r->s->reply[c].have)
			print_reply(r, (unsigned)c);
	return true;
}

static bool cmd_net(struct run *r, int argc, char **argv)
{
	for (unsigned i = 0; i < r->s->n; i++)
		sim_collect(r->s, i);
	for (size_t k = 0; k < r->s->q_len; k++) {
		const struct sim_pkt *p = &r->s->q[k];
		struct ec_msg m;

		print_endpoint(r->out, p->from);
		fputs("->", r->out);
		print_endpoint(r->out, p->to);
		fprintf(r->out, " %s", ec_msg_type_name(p->type));
		if (p->from < SIM_CLIENT && ec_msg_parse(p->buf, p->len,
				r->s->n, &m, NULL) == EC_PARSE_OK)
			fprintf(r->out, " view %u op %llu commit %llu", m.view,
				(unsigned long long)m.op,
				(unsigned long long)m.commit);
		if (p->due > r->s->now)
			fprintf(r->out, " in %llums", (unsigned long long)
				((p->due - r->s->now) / MS));
		fputc('\n', r->out);
	}
	return true;
}

/* The counters `stats` shows, by name. */
static const struct {
	const char *name;
	size_t at;
} counters[] = {
#define COUNTER(f) { #f, offsetof(struct ec_core_stats, f) }
	COUNTER(view_changes), COUNTER(retransmits), COUNTER(gap_requests),
	COUNTER(duplicate_requests), COUNTER(queued_requests),
	COUNTER(batches), COUNTER(absorbed), COUNTER(quorum_commits),
	COUNTER(checkpoints), COUNTER(log_compacted),
	COUNTER(snapshot_chunks_sent), COUNTER(snapshot_chunks_received),
	COUNTER(snapshots_installed),
#undef COUNTER
};

static bool cmd_stats(struct run *r, int argc, char **argv)
{
	const struct ec_core_stats *cs;
	unsigned i;

	if (argc < 3)
		return refuse(r, "stats R NAME...");
	if (!replica(r, argv[1], &i))
		return false;
	cs = sim_stats(r->s, i);
	fprintf(r->out, "%u:", i);
	for (int k = 2; k < argc; k++) {
		size_t c = 0;

		while (c < sizeof(counters) / sizeof(counters[0]) &&
		       strcmp(counters[c].name, argv[k]) != 0)
			c++;
		if (c == sizeof(counters) / sizeof(counters[0]))
			return refuse(r, "'%s': no such counter", argv[k]);
		fprintf(r->out, " %s %llu", argv[k], (unsigned long long)
			*(const uint64_t *)((const char *)cs + counters[c].at));
	}
	fputc('\n', r->out);
	return true;
}

static const struct {
	const char *name;
	bool (*fn)(struct run *r, int argc, char **argv);
} commands[] = {
	{ "cluster", cmd_cluster },
	{ "put", cmd_request }, { "get", cmd_request },
	{ "delete", cmd_request }, { "cas", cmd_request },
	{ "retry", cmd_retry }, { "load", cmd_load },
	{ "deliver", cmd_deliver }, { "drop", cmd_drop },
	{ "partition", cmd_partition }, { "heal", cmd_heal },
	{ "crash", cmd_crash }, { "restart", cmd_crash },
	{ "run", cmd_run },
	{ "state", cmd_state }, { "reply", cmd_reply }, { "net", cmd_net },
	{ "stats", cmd_stats },
};

/* Run one command line (its comment cut off); its output goes to r->out. */
static bool command(struct run *r, char *line)
{
	char *argv[MAX_ARGS + 1], *save;
	int argc = 0;

	for (char *t = strtok_r(line, " \t", &save); t;
	     t = strtok_r(NULL, " \t", &save)) {
		if (argc == MAX_ARGS)
			return refuse(r, "more than %d words", MAX_ARGS);
		argv[argc++] = t;
	}
	argv[argc] = NULL;
	for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++) {
		if (strcmp(commands[k].name, argv[0]) != 0)
			continue;
		if (!r->s && commands[k].fn != cmd_cluster)
			return refuse(r, "no cluster: start with 'cluster N'");
		return commands[k].fn(r, argc, argv);
	}
	return refuse(r, "'%s': no such command", argv[0]);
}

/* The file's lines, NUL-terminated in place; *n of them. */
static char **read_lines(const char *path, char **text, size_t *n)
{
	FILE *f = fopen(path, "r");
	size_t len = 0, cap = 0;
	char **lines = NULL;
	ssize_t got;
	char *p;

	ck_assert_msg(f != NULL, "%s: cannot open", path);
	got = getdelim(text, &len, '\0', f);
	ck_assert_msg(got >= 0 || feof(f), "%s: cannot read", path);
	fclose(f);
	*n = 0;
	for (p = got > 0 ? *text : NULL; p && *p;) {
		char *nl = strchr(p, '\n');

		if (*n == cap) {
			cap = cap ? 2 * cap : 64;
			lines = realloc(lines, cap * sizeof(*lines));
			ck_assert_ptr_nonnull(lines);
		}
		lines[(*n)++] = p;
		if (!nl)
			break;
		*nl = '\0';
		p = nl + 1;
	}
	return lines;
}

/*
 * Run the scenario at path.  Returns how many expected blocks differed
 * from the output; with rewrite, writes the file again with the output
 * instead.  A command that cannot run, or replicas that disagree, fail
 * the test at once.
 */
static unsigned run_file(const char *path, bool rewrite)
{
	struct run *r = calloc(1, sizeof(*r));
	char *text = NULL, *redone = NULL;
	size_t n, redone_len;
	char **lines = read_lines(path, &text, &n);
	FILE *out = open_memstream(&redone, &redone_len);
	unsigned differ = 0;

	ck_assert(r && out);
	for (size_t k = 0; k < n;) {
		char *line = lines[k], *cut, *got = NULL, *want = NULL;
		const char *word = line + strspn(line, " \t"), *bad;
		size_t got_len, want_len, first = ++k;
		FILE *w;

		fprintf(out, "%s\n", line);
		if (*word == '#' || *word == '\0')
			continue;
		cut = strstr(line, " #");
		if (cut)
			*cut = '\0';
		r->out = open_memstream(&got, &got_len);
		ck_assert_msg(command(r, line), "%s:%zu: %s", path, first,
			      r->why);
		fclose(r->out);
		bad = sim_check_agreement(r->s);
		ck_assert_msg(!bad, "%s:%zu: after '%s': %s", path, first,
			      line, bad);
		/* the expected block: "----", then lines up to a blank one */
		w = open_memstream(&want, &want_len);
		if (k < n && strcmp(lines[k], "----") == 0)
			for (k++; k < n && lines[k][0]; k++)
				fprintf(w, "%s\n", lines[k]);
		fclose(w);
		if (strcmp(got, want) != 0 && !rewrite) {
			fprintf(stderr,
				"%s:%zu: %s\n--- expected\n%s--- got\n%s",
				path, first, line, want, got);
			differ++;
		}
		if (got_len)
			fprintf(out, "----\n%s", got);
		/* keep one blank line after a block, none at the end */
		if ((got_len || want_len) && k < n && lines[k][0])
			fputc('\n', out);
		free(got);
		free(want);
	}
	fclose(out);
	if (rewrite) {
		FILE *f = fopen(path, "w");

		ck_assert_msg(f && fwrite(redone, 1, redone_len, f) ==
			      redone_len && fclose(f) == 0,
			      "%s: cannot rewrite", path);
	}
	if (r->s)
		sim_free(r->s);
	free(redone);
	free(lines);
	free(text);
	free(r);
	return differ;
}

static char **files;
static int n_files;

START_TEST(scenario)
{
	const char *e = getenv("EC_SCENARIO_REWRITE");
	bool rewrite = e && *e && strcmp(e, "0") != 0;

	ck_assert_msg(run_file(files[_i], rewrite) == 0,
		      "%s: output differs from the expected (above)",
		      files[_i]);
}
END_TEST

START_TEST(scenarios_found)
{
	ck_assert_msg(n_files > 0, "no scenarios (*.txt) found");
}
END_TEST

static int is_scenario(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return n > 4 && strcmp(d->d_name + n - 4, ".txt") == 0;
}

/* The scenario files of dir, in name order (before any test runs: no
 * Check assertion here). */
static void find_files(const char *dir)
{
	struct dirent **names;

	n_files = scandir(dir, &names, is_scenario, alphasort);
	if (n_files <= 0)
		return;
	files = calloc((size_t)n_files, sizeof(*files));
	for (int k = 0; k < n_files; k++) {
		if (!files || asprintf(&files[k], "%s/%s", dir,
				       names[k]->d_name) < 0) {
			perror("test_scenarios");
			exit(EXIT_FAILURE);
		}
		free(names[k]);
	}
	free(names);
}

static Suite *scenarios_suite(void)
{
	Suite *s = suite_create("scenarios");
	TCase *t = tcase_create("scenarios");
	const char *dir = getenv("EC_SCENARIOS");

	find_files(dir ? dir : "tests/unit/scenarios");
	tcase_add_test(t, scenarios_found);
	if (n_files > 0)
		tcase_add_loop_test(t, scenario, 0, n_files);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return run_suite(scenarios_suite());
}
