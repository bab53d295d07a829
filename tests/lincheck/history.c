/*
 * history.c - see history.h.
 *
 * One pass over the lines.  A small hash map from process id to that
 * process's state (idle, outstanding op, or ended by info) enforces the
 * one-op-at-a-time rule as the lines arrive, so each error is reported
 * on the line that breaks it.
 */
#include "history.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* A process's state: PROC_IDLE, PROC_ENDED, or its outstanding op's index. */
#define PROC_IDLE  ((size_t)-1)
#define PROC_ENDED ((size_t)-2)

struct proc_map {
	uint64_t *id;
	size_t *state;
	bool *used;
	size_t nslots, count;
};

static size_t proc_slot(const struct proc_map *m, uint64_t id)
{
	size_t mask = m->nslots - 1;
	size_t i = (size_t)(id * 0x9e3779b97f4a7c15ULL >> 20) & mask;

	while (m->used[i] && m->id[i] != id)
		i = (i + 1) & mask;
	return i;
}

static void proc_map_init(struct proc_map *m, size_t nslots)
{
	m->nslots = nslots;
	m->count = 0;
	m->id = lc_xcalloc(nslots, sizeof(*m->id));
	m->state = lc_xcalloc(nslots, sizeof(*m->state));
	m->used = lc_xcalloc(nslots, sizeof(*m->used));
}

static void proc_map_free(struct proc_map *m)
{
	free(m->id);
	free(m->state);
	free(m->used);
}

/* The state of process id, created idle if new. */
static size_t *proc_state(struct proc_map *m, uint64_t id)
{
	size_t i = proc_slot(m, id);

	if (!m->used[i]) {
		if ((m->count + 1) * 2 > m->nslots) {
			struct proc_map bigger;

			proc_map_init(&bigger, m->nslots * 2);
			for (size_t j = 0; j < m->nslots; j++) {
				size_t k;

				if (!m->used[j])
					continue;
				k = proc_slot(&bigger, m->id[j]);
				bigger.used[k] = true;
				bigger.id[k] = m->id[j];
				bigger.state[k] = m->state[j];
			}
			bigger.count = m->count;
			proc_map_free(m);
			*m = bigger;
			i = proc_slot(m, id);
		}
		m->used[i] = true;
		m->id[i] = id;
		m->state[i] = PROC_IDLE;
		m->count++;
	}
	return &m->state[i];
}

struct reader {
	struct lc_history *h;
	struct proc_map procs;
	size_t cap;           /* room in h->ops */
	uint64_t last_time;
	uint32_t line;
	char *err;
	size_t errlen;
	const char *name;
};

static int bad(struct reader *rd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int bad(struct reader *rd, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(rd->err, rd->errlen, "%s:%u: %s", rd->name, rd->line, why);
	return -1;
}

/* The id of a nullable string: 0 for null. */
static uint32_t value_id(struct lc_history *h, struct lc_str s)
{
	return s.s ? lc_intern(&h->values, s.s, s.len) : 0;
}

/* Whether s is the value with id (0: null), without interning s. */
static bool value_is(const struct lc_history *h, struct lc_str s, uint32_t id)
{
	if (!s.s)
		return id == 0;
	return id != 0 && lc_intern_find(&h->values, s.s, s.len) == id;
}

/* Check an invoke's value against its f and fill op's arguments. */
static int invoke_value(struct reader *rd, const struct lc_record *r,
			struct lc_op *op)
{
	switch (r->f) {
	case LC_GET:
	case LC_DELETE:
		if (r->vkind != LC_V_NULL)
			return bad(rd, "%s invoke: \"value\" must be null", lc_f_names[r->f]);
		return 0;
	case LC_PUT:
		if (r->vkind != LC_V_STRING)
			return bad(rd, "put invoke: \"value\" must be a string");
		op->arg = value_id(rd->h, r->v[0]);
		return 0;
	case LC_CAS:
		if (r->vkind != LC_V_PAIR || !r->v[1].s)
			return bad(rd, "cas: \"value\" must be [expected, new], expected a string or null, new a string");
		op->obs = value_id(rd->h, r->v[0]);
		op->arg = value_id(rd->h, r->v[1]);
		return 0;
	}
	return bad(rd, "internal error: f %d", (int)r->f);
}

/* Check a completion's value against its invoke's (op) and fill it in. */
static int completion_value(struct reader *rd, const struct lc_record *r,
			    struct lc_op *op)
{
	const struct lc_history *h = rd->h;

	switch (r->f) {
	case LC_GET:
		if (r->type == LC_OK) {
			if (r->vkind == LC_V_PAIR)
				return bad(rd, "get ok: \"value\" must be the string read or null");
			op->obs = value_id(rd->h, r->v[0]);
		} else if (r->vkind != LC_V_NULL) {
			return bad(rd, "get %s: \"value\" must be null", lc_type_names[r->type]);
		}
		return 0;
	case LC_DELETE:
		if (r->vkind != LC_V_NULL)
			return bad(rd, "delete %s: \"value\" must be null", lc_type_names[r->type]);
		return 0;
	case LC_PUT:
		if (r->vkind != LC_V_STRING || !value_is(h, r->v[0], op->arg))
			return bad(rd, "put %s: \"value\" must repeat the invoke's (line %u)",
				   lc_type_names[r->type], op->call_line);
		return 0;
	case LC_CAS:
		if (r->vkind != LC_V_PAIR || !value_is(h, r->v[0], op->obs) ||
		    !value_is(h, r->v[1], op->arg))
			return bad(rd, "cas %s: \"value\" must repeat the invoke's (line %u)",
				   lc_type_names[r->type], op->call_line);
		return 0;
	}
	return bad(rd, "internal error: f %d", (int)r->f);
}

static int on_invoke(struct reader *rd, const struct lc_record *r, size_t *ps)
{
	struct lc_history *h = rd->h;
	struct lc_op *op;

	if (*ps == PROC_ENDED)
		return bad(rd, "process %llu invokes again after an info completion",
			   (unsigned long long)r->process);
	if (*ps != PROC_IDLE)
		return bad(rd, "process %llu invokes while its op from line %u is outstanding",
			   (unsigned long long)r->process, h->ops[*ps].call_line);
	if (h->nops == rd->cap) {
		rd->cap = rd->cap ? rd->cap * 2 : 4096;
		h->ops = lc_xrealloc(h->ops, rd->cap, sizeof(*h->ops));
	}
	op = &h->ops[h->nops];
	memset(op, 0, sizeof(*op));
	op->call = r->time;
	op->process = r->process;
	op->key = lc_intern(&h->keys, r->key.s, r->key.len);
	op->call_line = rd->line;
	op->f = (uint8_t)r->f;
	op->type = LC_INFO;
	if (invoke_value(rd, r, op) < 0)
		return -1;
	*ps = h->nops++;
	return 0;
}

static int on_completion(struct reader *rd, const struct lc_record *r,
			 size_t *ps)
{
	struct lc_history *h = rd->h;
	struct lc_op *op;

	if (*ps == PROC_IDLE || *ps == PROC_ENDED)
		return bad(rd, "%s for process %llu, which has no op outstanding",
			   lc_type_names[r->type], (unsigned long long)r->process);
	op = &h->ops[*ps];
	if (r->f != op->f || lc_intern_find(&h->keys, r->key.s, r->key.len) != op->key)
		return bad(rd, "completion's f or key differs from its invoke's (line %u)",
			   op->call_line);
	if (completion_value(rd, r, op) < 0)
		return -1;
	op->ret = r->time;
	op->ret_line = rd->line;
	op->type = (uint8_t)r->type;
	*ps = r->type == LC_INFO ? PROC_ENDED : PROC_IDLE;
	return 0;
}

static int on_line(struct reader *rd, const char *line, size_t len,
		   char *scratch)
{
	struct lc_record r;
	char why[200];
	size_t *ps;

	if (lc_record_parse(line, len, scratch, &r, why, sizeof(why)) < 0)
		return bad(rd, "%s", why);
	if (r.time < rd->last_time)
		return bad(rd, "time goes backwards (%llu after %llu)",
			   (unsigned long long)r.time,
			   (unsigned long long)rd->last_time);
	rd->last_time = r.time;
	ps = proc_state(&rd->procs, r.process);
	if (r.type == LC_INVOKE)
		return on_invoke(rd, &r, ps);
	return on_completion(rd, &r, ps);
}

/* Group op indexes by key (a counting sort, stable in invoke order). */
static void group_by_key(struct lc_history *h)
{
	uint32_t nkeys = h->keys.count;
	size_t *next;

	h->key_start = lc_xcalloc((size_t)nkeys + 1, sizeof(*h->key_start));
	h->by_key = lc_xcalloc(h->nops, sizeof(*h->by_key));
	for (size_t i = 0; i < h->nops; i++)
		h->key_start[h->ops[i].key]++;
	for (uint32_t k = 1; k <= nkeys; k++)
		h->key_start[k] += h->key_start[k - 1];
	next = lc_xcalloc((size_t)nkeys + 1, sizeof(*next));
	for (uint32_t k = 1; k <= nkeys; k++)
		next[k] = h->key_start[k - 1];
	for (size_t i = 0; i < h->nops; i++)
		h->by_key[next[h->ops[i].key]++] = (uint32_t)i;
	free(next);
}

int lc_history_read(struct lc_history *h, FILE *in, const char *name,
		    char *err, size_t errlen)
{
	struct reader rd = { .h = h, .err = err, .errlen = errlen, .name = name };
	char *line = NULL, *scratch = NULL;
	size_t linecap = 0, scratchcap = 0;
	ssize_t n;
	int rc = 0;

	memset(h, 0, sizeof(*h));
	lc_intern_init(&h->keys);
	lc_intern_init(&h->values);
	proc_map_init(&rd.procs, 64);
	while ((n = getline(&line, &linecap, in)) >= 0) {
		size_t len = (size_t)n;
		size_t i = 0;

		rd.line++;
		if (rd.line == UINT32_MAX || h->nops == UINT32_MAX) {
			rc = bad(&rd, "history too long (at most 2^32 lines)");
			break;
		}
		while (i < len && (line[i] == ' ' || line[i] == '\t' ||
				   line[i] == '\r' || line[i] == '\n'))
			i++;
		if (i == len)
			continue;       /* a blank line */
		if (scratchcap < len) {
			scratchcap = linecap;
			scratch = lc_xrealloc(scratch, scratchcap, 1);
		}
		if (on_line(&rd, line, len, scratch) < 0) {
			rc = -1;
			break;
		}
	}
	if (rc == 0 && ferror(in)) {
		snprintf(err, errlen, "%s: read error", name);
		rc = -1;
	}
	free(line);
	free(scratch);
	proc_map_free(&rd.procs);
	if (rc < 0) {
		lc_history_free(h);
		return -1;
	}
	for (size_t i = 0; i < h->nops; i++)
		h->nopen += h->ops[i].ret_line == 0;
	if (h->nops == 0)
		return 0;
	h->ops = lc_xrealloc(h->ops, h->nops, sizeof(*h->ops));
	group_by_key(h);
	return 0;
}

void lc_history_free(struct lc_history *h)
{
	free(h->ops);
	free(h->by_key);
	free(h->key_start);
	lc_intern_free(&h->keys);
	lc_intern_free(&h->values);
	memset(h, 0, sizeof(*h));
}

static struct lc_str value_str(const struct lc_history *h, uint32_t id)
{
	struct lc_str s = { NULL, 0 };

	if (id) {
		s.s = h->values.str[id];
		s.len = h->values.len[id];
	}
	return s;
}

/* The value field an event of op carries (see the table in history.h). */
static void fill_value(const struct lc_history *h, const struct lc_op *op,
		       enum lc_type type, struct lc_record *r)
{
	r->vkind = LC_V_NULL;
	if (op->f == LC_PUT) {
		r->vkind = LC_V_STRING;
		r->v[0] = value_str(h, op->arg);
	} else if (op->f == LC_CAS) {
		r->vkind = LC_V_PAIR;
		r->v[0] = value_str(h, op->obs);
		r->v[1] = value_str(h, op->arg);
	} else if (op->f == LC_GET && type == LC_OK && op->obs) {
		r->vkind = LC_V_STRING;
		r->v[0] = value_str(h, op->obs);
	}
}

void lc_op_write(FILE *out, const struct lc_history *h, const struct lc_op *op,
		 bool completion)
{
	struct lc_record r = {
		.process = op->process,
		.type = completion ? (enum lc_type)op->type : LC_INVOKE,
		.time = completion ? op->ret : op->call,
		.f = (enum lc_f)op->f,
		.key = { h->keys.str[op->key], h->keys.len[op->key] },
	};

	fill_value(h, op, r.type, &r);
	lc_record_write(out, &r);
}
