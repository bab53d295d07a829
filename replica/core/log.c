/*
 * log.c - see log.h.
 *
 * The held entries sit at the front of one array: compaction moves the
 * survivors down (at most one checkpoint interval of them, once per
 * checkpoint) and gives memory back when the array is mostly empty, so a
 * replica that runs for days holds O(interval) entries, not O(ops).
 */
#include "log.h"

#include <stdlib.h>
#include <string.h>

#define LOG_MIN_CAP 1024

void ec_log_init(struct ec_log *l)
{
	memset(l, 0, sizeof(*l));
}

/* Free what entry e owns. */
static void free_entry(struct ec_entry *e)
{
	ec_batch_free(e->batch);
	e->batch = NULL;
	free(e->body);
	e->body = NULL;
}

void ec_log_free(struct ec_log *l)
{
	ec_log_reset(l, 0);
	free(l->slot);
	memset(l, 0, sizeof(*l));
}

static struct ec_entry *slot_of(const struct ec_log *l, uint64_t op)
{
	if (op <= l->base || op > l->last)
		return NULL;
	return &l->slot[op - l->base - 1];
}

uint64_t ec_log_append(struct ec_log *l, uint32_t view, const uint8_t *body,
		       size_t len, struct ec_batch *batch)
{
	struct ec_entry *e;
	uint8_t *copy;

	if (ec_log_held(l) == l->cap) {
		uint64_t cap = l->cap ? l->cap * 2 : LOG_MIN_CAP;
		struct ec_entry *s = realloc(l->slot, cap * sizeof(*s));

		if (!s)
			goto oom;
		l->slot = s;
		l->cap = cap;
	}
	copy = malloc(len ? len : 1);
	if (!copy)
		goto oom;
	if (len) /* an empty body may come as NULL: no memcpy from it */
		memcpy(copy, body, len);
	e = &l->slot[ec_log_held(l)];
	e->view = view;
	e->len = len;
	e->body = copy;
	e->batch = batch;
	return ++l->last;
oom:
	ec_batch_free(batch);
	return 0;
}

const struct ec_entry *ec_log_at(const struct ec_log *l, uint64_t op)
{
	return slot_of(l, op);
}

const struct ec_batch *ec_log_batch(struct ec_log *l, uint64_t op)
{
	struct ec_entry *e = slot_of(l, op);

	if (!e)
		return NULL;
	if (!e->batch)
		e->batch = ec_batch_decode(e->body, e->len);
	return e->batch;
}

void ec_log_release(struct ec_log *l, uint64_t op)
{
	struct ec_entry *e = slot_of(l, op);

	if (!e)
		return;
	ec_batch_free(e->batch);
	e->batch = NULL;
}

void ec_log_truncate(struct ec_log *l, uint64_t last)
{
	while (l->last > last && l->last > l->base) {
		free_entry(slot_of(l, l->last));
		l->last--;
	}
}

/* Give memory back when at most a quarter of the array is in use (never
 * below LOG_MIN_CAP).  A failed shrink keeps the larger array. */
static void maybe_shrink(struct ec_log *l)
{
	uint64_t cap = l->cap;
	struct ec_entry *s;

	while (cap > LOG_MIN_CAP && ec_log_held(l) <= cap / 4)
		cap /= 2;
	if (cap == l->cap)
		return;
	s = realloc(l->slot, cap * sizeof(*s));
	if (s) {
		l->slot = s;
		l->cap = cap;
	}
}

void ec_log_compact(struct ec_log *l, uint64_t upto)
{
	uint64_t n;

	if (upto > l->last)
		upto = l->last;
	if (upto <= l->base)
		return;
	n = upto - l->base;
	for (uint64_t i = 0; i < n; i++)
		free_entry(&l->slot[i]);
	memmove(l->slot, l->slot + n, (l->last - upto) * sizeof(*l->slot));
	l->base = upto;
	maybe_shrink(l);
}

void ec_log_reset(struct ec_log *l, uint64_t base)
{
	ec_log_truncate(l, l->base);
	l->base = l->last = base;
	maybe_shrink(l);
}

int ec_log_same(const struct ec_log *l, uint64_t op, uint32_t view,
		const uint8_t *body, size_t len)
{
	const struct ec_entry *e = ec_log_at(l, op);

	return e && e->view == view && e->len == len &&
	       memcmp(e->body, body, len) == 0;
}
