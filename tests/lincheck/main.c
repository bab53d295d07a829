/*
 * main.c - ec-lincheck: is a client history of the key-value store
 * linearizable?  Reads the history (history.h), checks each key alone
 * (wgl.h), and for the first key that fails prints a small failing
 * sub-history (shrink.h).  Exit status: 0 linearizable, 1 not, 2 bad
 * usage or malformed history, 3 undecided (a search limit was hit).
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "history.h"
#include "shrink.h"
#include "util.h"
#include "wgl.h"

enum { EXIT_LINEARIZABLE, EXIT_VIOLATION, EXIT_BAD_INPUT, EXIT_UNDECIDED };

struct opts {
	struct lc_limits lim;
	double shrink_time;
	bool verbose;
	const char *file;     /* NULL: stdin */
};

static const char usage[] =
"usage: ec-lincheck [OPTIONS] [FILE]\n"
"\n"
"Check that a client history of the key-value store is linearizable for a\n"
"register per key (put, get, delete, cas).  FILE (or stdin, or -) holds\n"
"JSON lines, one event each, in time order:\n"
"  {\"process\": P, \"type\": \"invoke\"|\"ok\"|\"fail\"|\"info\",\n"
"   \"f\": \"get\"|\"put\"|\"delete\"|\"cas\", \"key\": K, \"value\": V, \"time\": NS}\n"
"V: put: the string written; get: null, and in the ok the value read or\n"
"null; delete: null; cas: [expected, new], expected null for \"absent\".\n"
"ok: took effect with that result.  fail: did not take effect (a failed\n"
"cas is still checked as a read that saw something other than expected).\n"
"info: unknown, may take effect at any time after the invoke, or never.\n"
"Events with equal times are taken as concurrent.  Ops left outstanding\n"
"at the end of the input are taken as info.\n"
"\n"
"Each key is checked alone (Wing-Gong-Lowe search with memoisation).\n"
"For the first key that is not linearizable, a failing sub-history is\n"
"shrunk and printed as JSON lines (grep '^{' to feed it back).\n"
"\n"
"options:\n"
"  -s, --max-states N    give up on a key after N memoised configurations\n"
"                        (32-64 bytes each; default 10000000, 0: no limit)\n"
"  -t, --timeout SEC     give up on a key after SEC seconds (default 300,\n"
"                        0: no limit)\n"
"  -S, --shrink-time SEC stop shrinking after SEC seconds and print what is\n"
"                        left (default 60, 0: no limit)\n"
"  -v, --verbose         a line per key\n"
"  -h, --help            this text\n"
"\n"
"exit status: 0 linearizable; 1 not linearizable; 2 bad usage or\n"
"malformed history (FILE:LINE: reason); 3 undecided: a key hit a search\n"
"limit, or memory ran out.\n";

static int parse_number(const char *arg, const char *name, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(arg, &end);
	if (errno || end == arg || *end || *out < 0) {
		fprintf(stderr, "ec-lincheck: %s: not a non-negative number: %s\n",
			name, arg);
		return -1;
	}
	return 0;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "max-states", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ "shrink-time", required_argument, NULL, 'S' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	double x;
	int c;

	*o = (struct opts){ .lim = { 10000000, 300 }, .shrink_time = 60 };
	while ((c = getopt_long(argc, argv, "s:t:S:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (parse_number(optarg, "--max-states", &x) < 0)
				return -1;
			o->lim.max_states = (uint64_t)x;
			break;
		case 't':
			if (parse_number(optarg, "--timeout", &o->lim.timeout) < 0)
				return -1;
			break;
		case 'S':
			if (parse_number(optarg, "--shrink-time", &o->shrink_time) < 0)
				return -1;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			fputs(usage, stdout);
			exit(EXIT_LINEARIZABLE);
		default:
			fputs("ec-lincheck: try --help\n", stderr);
			return -1;
		}
	}
	if (argc - optind > 1) {
		fputs("ec-lincheck: at most one FILE\n", stderr);
		return -1;
	}
	if (optind < argc && strcmp(argv[optind], "-") != 0)
		o->file = argv[optind];
	return 0;
}

static void print_key(const struct lc_history *h, uint32_t key)
{
	struct lc_str s = { h->keys.str[key], h->keys.len[key] };

	lc_json_string(stdout, s);
}

/* Key k's ops, as pointers into h->ops; *n gets their count. */
static const struct lc_op **key_ops(const struct lc_history *h, uint32_t k,
				    const struct lc_op **buf, size_t *n)
{
	size_t from = h->key_start[k - 1];

	*n = h->key_start[k] - from;
	for (size_t i = 0; i < *n; i++)
		buf[i] = &h->ops[h->by_key[from + i]];
	return buf;
}

/* An event of the sub-history: op's invoke, or its completion. */
struct event {
	uint32_t line;
	bool completion;
	const struct lc_op *op;
};

static int event_cmp(const void *a, const void *b)
{
	const struct event *x = a, *y = b;

	return x->line < y->line ? -1 : x->line > y->line;
}

/*
 * Shrink key k's ops and print them as the history's own lines, in
 * their original order, so that the output (the lines starting with
 * '{') is again a valid history for this tool.
 */
static void shrink_and_print(const struct lc_history *h, uint32_t k,
			     const struct opts *o, const struct lc_op **buf)
{
	struct event *ev;
	size_t n, m, nev = 0;
	bool minimal;

	key_ops(h, k, buf, &n);
	m = lc_shrink(buf, n, h->values.count, &o->lim, o->shrink_time, &minimal);
	ev = lc_xcalloc(2 * m, sizeof(*ev));
	for (size_t i = 0; i < m; i++) {
		ev[nev++] = (struct event){ buf[i]->call_line, false, buf[i] };
		if (buf[i]->ret_line)
			ev[nev++] = (struct event){ buf[i]->ret_line, true, buf[i] };
	}
	qsort(ev, nev, sizeof(*ev), event_cmp);
	printf("%s failing sub-history of key ",
	       minimal ? "minimal" : "shrunk (not minimal: --shrink-time ran out)");
	print_key(h, k);
	printf(": %zu of %zu ops, lines", m, n);
	for (size_t i = 0; i < nev; i++)
		printf("%s %u", i ? "," : "", ev[i].line);
	printf(":\n");
	for (size_t i = 0; i < nev; i++)
		lc_op_write(stdout, h, ev[i].op, ev[i].completion);
	free(ev);
}

int main(int argc, char **argv)
{
	const char *name = "<stdin>";
	struct lc_history h;
	struct opts o;
	FILE *in = stdin;
	char err[512];
	const struct lc_op **buf;
	size_t maxn = 0, ninfo = 0, nfail = 0, biggest_n = 0;
	uint32_t nkeys, nbad = 0, nlimit = 0, first_bad = 0, biggest = 0;
	uint64_t states = 0, biggest_states = 0;
	double t0 = lc_now(), t_read, biggest_s = 0;

	if (parse_opts(argc, argv, &o) < 0)
		return EXIT_BAD_INPUT;
	if (o.file) {
		name = o.file;
		in = fopen(o.file, "r");
		if (!in) {
			fprintf(stderr, "ec-lincheck: %s: %s\n", o.file, strerror(errno));
			return EXIT_BAD_INPUT;
		}
	}
	if (lc_history_read(&h, in, name, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return EXIT_BAD_INPUT;
	}
	if (in != stdin)
		fclose(in);
	t_read = lc_now();
	nkeys = lc_history_nkeys(&h);
	for (uint32_t k = 1; k <= nkeys; k++)
		if (h.key_start[k] - h.key_start[k - 1] > maxn)
			maxn = h.key_start[k] - h.key_start[k - 1];
	for (size_t i = 0; i < h.nops; i++) {
		ninfo += h.ops[i].type == LC_INFO;
		nfail += h.ops[i].type == LC_FAIL;
	}
	buf = lc_xcalloc(maxn, sizeof(*buf));
	for (uint32_t k = 1; k <= nkeys; k++) {
		struct lc_search_stats st;
		enum lc_verdict v;
		size_t n;

		key_ops(&h, k, buf, &n);
		v = lc_check((const struct lc_op *const *)buf, n, &o.lim, &st);
		states += st.states;
		if (st.seconds >= biggest_s) {
			biggest = k;
			biggest_s = st.seconds;
			biggest_n = n;
			biggest_states = st.states;
		}
		if (v == LC_LINEARIZABLE && !o.verbose)
			continue;
		printf("key ");
		print_key(&h, k);
		if (v == LC_VIOLATION) {
			printf(": NOT linearizable (%zu ops)\n", n);
			if (!nbad++)
				first_bad = k;
		} else if (v == LC_LIMIT) {
			printf(": undecided, search limit hit after %llu states, %.1f s (%zu ops)\n",
			       (unsigned long long)st.states, st.seconds, n);
			nlimit++;
		} else {
			printf(": linearizable, %zu ops, %llu states, %.3f s\n", n,
			       (unsigned long long)st.states, st.seconds);
		}
	}
	printf("%s: %zu ops (%zu info, %zu fail, %zu without completion) on %u key%s: ",
	       name, h.nops, ninfo, nfail, h.nopen, nkeys, nkeys == 1 ? "" : "s");
	if (nbad)
		printf("%u key%s NOT linearizable", nbad, nbad > 1 ? "s" : "");
	else if (nlimit)
		printf("%u key%s undecided (search limit)", nlimit, nlimit > 1 ? "s" : "");
	else
		printf("linearizable");
	printf("\n  read %.2f s, search %.2f s, %llu states", t_read - t0,
	       lc_now() - t_read, (unsigned long long)states);
	if (biggest) {
		printf("; slowest key ");
		print_key(&h, biggest);
		printf(" (%zu ops, %llu states, %.3f s)", biggest_n,
		       (unsigned long long)biggest_states, biggest_s);
	}
	printf("\n");
	if (nbad)
		shrink_and_print(&h, first_bad, &o, buf);
	free(buf);
	lc_history_free(&h);
	if (nbad)
		return EXIT_VIOLATION;
	return nlimit ? EXIT_UNDECIDED : EXIT_LINEARIZABLE;
}
