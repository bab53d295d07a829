/*
 * shrink.c - see shrink.h.
 *
 * ddmin with complements only: split the ops into gran chunks and try
 * the history without each chunk in turn; on success keep the smaller
 * history and continue with one chunk fewer, otherwise split finer.
 * Once the chunks are single ops and none can go, the result is
 * 1-minimal.  Non-linearizable sub-histories of a long history usually
 * sit in one place, so the halving finds them in a few dozen checks.
 */
#include "shrink.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

struct shrinker {
	struct lc_limits lim;
	double deadline;      /* 0: none */
	uint32_t *writers;    /* per value: writers in the full history */
	uint32_t *left;       /* per value: scratch, writers in a candidate */
};

/* The value op writes, or -1 if it writes nothing. */
static int64_t written(const struct lc_op *op)
{
	if (op->f == LC_DELETE)
		return 0;
	if (op->f == LC_PUT || (op->f == LC_CAS && op->type != LC_FAIL))
		return op->arg;
	return -1;
}

/* The value op needs to have been written, or -1 if none. */
static int64_t observed(const struct lc_op *op)
{
	if (op->f == LC_GET || (op->f == LC_CAS && op->type != LC_FAIL))
		return op->obs;
	return -1;
}

static bool closed(struct shrinker *s, const struct lc_op **ops, size_t n)
{
	bool ok = true;
	int64_t v;

	for (size_t i = 0; i < n; i++)
		if ((v = written(ops[i])) >= 0)
			s->left[v]++;
	for (size_t i = 0; i < n && ok; i++)
		if ((v = observed(ops[i])) >= 0)
			ok = s->left[v] == s->writers[v];
	for (size_t i = 0; i < n; i++)
		if ((v = written(ops[i])) >= 0)
			s->left[v] = 0;
	return ok;
}

static bool out_of_time(const struct shrinker *s)
{
	return s->deadline && lc_now() > s->deadline;
}

/* Whether ops[0..n) is a closed, non-linearizable candidate. */
static bool still_fails(struct shrinker *s, const struct lc_op **ops, size_t n)
{
	struct lc_limits lim = s->lim;

	if (!closed(s, ops, n))
		return false;
	if (s->deadline) {
		double rest = s->deadline - lc_now();

		if (rest <= 0)
			return false;
		if (!lim.timeout || lim.timeout > rest)
			lim.timeout = rest;
	}
	return lc_check((const struct lc_op *const *)ops, n, &lim, NULL) ==
	       LC_VIOLATION;
}

size_t lc_shrink(const struct lc_op **ops, size_t n, uint32_t nvalues,
		 const struct lc_limits *lim, double budget, bool *minimal)
{
	struct shrinker s = {
		.lim = *lim,
		.deadline = budget > 0 ? lc_now() + budget : 0,
		.writers = lc_xcalloc((size_t)nvalues + 1, sizeof(uint32_t)),
		.left = lc_xcalloc((size_t)nvalues + 1, sizeof(uint32_t)),
	};
	const struct lc_op **cand = lc_xcalloc(n, sizeof(*cand));
	size_t gran = 2, m = 0;
	int64_t v;

	/* Ops the check leaves out can never matter: drop them first. */
	for (size_t i = 0; i < n; i++)
		if (!lc_op_ignored(ops[i]))
			ops[m++] = ops[i];
	n = m;
	for (size_t i = 0; i < n; i++)
		if ((v = written(ops[i])) >= 0)
			s.writers[v]++;
	*minimal = false;
	while (n >= 2 && !out_of_time(&s)) {
		size_t chunk = (n + gran - 1) / gran;
		bool reduced = false;

		for (size_t start = 0; start < n && !reduced; start += chunk) {
			size_t end = start + chunk < n ? start + chunk : n;

			memcpy(cand, ops, start * sizeof(*cand));
			memcpy(cand + start, ops + end, (n - end) * sizeof(*cand));
			m = n - (end - start);
			if (m && still_fails(&s, cand, m)) {
				memcpy(ops, cand, m * sizeof(*ops));
				n = m;
				gran = gran > 2 ? gran - 1 : 2;
				reduced = true;
			}
		}
		if (reduced)
			continue;
		if (out_of_time(&s))
			break;  /* the last candidates were refused for want of time */
		if (gran >= n) {
			*minimal = true;
			break;
		}
		gran = gran * 2 < n ? gran * 2 : n;
	}
	if (n < 2)
		*minimal = true;   /* one op alone: nothing left to remove */
	free(cand);
	free(s.writers);
	free(s.left);
	return n;
}
