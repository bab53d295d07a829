/* log.c - see log.h. */
#include "log.h"

#include <stdlib.h>
#include <string.h>

void ec_log_init(struct ec_log *l)
{
	memset(l, 0, sizeof(*l));
}

void ec_log_free(struct ec_log *l)
{
	ec_log_truncate(l, 0);
	free(l->slot);
	memset(l, 0, sizeof(*l));
}

uint64_t ec_log_append(struct ec_log *l, uint32_t view, const uint8_t *body,
		       size_t len, struct ec_batch *batch)
{
	struct ec_entry *e;
	uint8_t *copy;

	if (l->last == l->cap) {
		uint64_t cap = l->cap ? l->cap * 2 : 1024;
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
	e = &l->slot[l->last];
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
	if (op == 0 || op > l->last)
		return NULL;
	return &l->slot[op - 1];
}

const struct ec_batch *ec_log_batch(struct ec_log *l, uint64_t op)
{
	struct ec_entry *e;

	if (op == 0 || op > l->last)
		return NULL;
	e = &l->slot[op - 1];
	if (!e->batch)
		e->batch = ec_batch_decode(e->body, e->len);
	return e->batch;
}

void ec_log_release(struct ec_log *l, uint64_t op)
{
	struct ec_entry *e;

	if (op == 0 || op > l->last)
		return;
	e = &l->slot[op - 1];
	ec_batch_free(e->batch);
	e->batch = NULL;
}

void ec_log_truncate(struct ec_log *l, uint64_t last)
{
	while (l->last > last) {
		ec_log_release(l, l->last);
		free(l->slot[l->last - 1].body);
		l->last--;
	}
}

int ec_log_same(const struct ec_log *l, uint64_t op, uint32_t view,
		const uint8_t *body, size_t len)
{
	const struct ec_entry *e = ec_log_at(l, op);

	return e && e->view == view && e->len == len &&
	       memcmp(e->body, body, len) == 0;
}
