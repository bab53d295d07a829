/* client_table.c - see client_table.h.  Open addressing on client_id. */
#include "client_table.h"

#include <stdlib.h>

struct ec_client_table {
	struct ec_client_rec **slot; /* NULL = empty; records leave only by
				      * a rebuild (ec_ct_expire) */
	size_t cap;                  /* power of two */
	size_t count;
};

static size_t hash_id(uint64_t id)
{
	id ^= id >> 33;
	id *= 0xff51afd7ed558ccdULL;
	id ^= id >> 33;
	return (size_t)id;
}

struct ec_client_table *ec_ct_new(void)
{
	struct ec_client_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->cap = 256;
	t->slot = calloc(t->cap, sizeof(*t->slot));
	if (!t->slot) {
		free(t);
		return NULL;
	}
	return t;
}

void ec_ct_free(struct ec_client_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->cap; i++) {
		if (t->slot[i]) {
			free(t->slot[i]->reply);
			free(t->slot[i]);
		}
	}
	free(t->slot);
	free(t);
}

/* Index of id's slot: where it is, or the empty slot where it would go. */
static size_t find(const struct ec_client_table *t, uint64_t id)
{
	size_t i = hash_id(id) & (t->cap - 1);

	while (t->slot[i] && t->slot[i]->client_id != id)
		i = (i + 1) & (t->cap - 1);
	return i;
}

static int grow(struct ec_client_table *t)
{
	struct ec_client_table bigger = { .cap = t->cap * 2 };

	bigger.slot = calloc(bigger.cap, sizeof(*bigger.slot));
	if (!bigger.slot)
		return -1;
	for (size_t i = 0; i < t->cap; i++)
		if (t->slot[i])
			bigger.slot[find(&bigger, t->slot[i]->client_id)] =
				t->slot[i];
	free(t->slot);
	t->slot = bigger.slot;
	t->cap = bigger.cap;
	return 0;
}

struct ec_client_rec *ec_ct_get(struct ec_client_table *t, uint64_t client_id,
				bool create)
{
	size_t i = find(t, client_id);
	struct ec_client_rec *rec;

	if (t->slot[i] || !create)
		return t->slot[i];
	if ((t->count + 1) * 2 > t->cap) {
		if (grow(t) < 0)
			return NULL;
		i = find(t, client_id);
	}
	rec = calloc(1, sizeof(*rec));
	if (!rec)
		return NULL;
	rec->client_id = client_id;
	t->slot[i] = rec;
	t->count++;
	return rec;
}

size_t ec_ct_expire(struct ec_client_table *t, uint64_t horizon)
{
	struct ec_client_table kept = { .cap = t->cap };
	size_t dropped = 0;

	kept.slot = calloc(kept.cap, sizeof(*kept.slot));
	if (!kept.slot)
		return 0; /* the next scan tries again: nothing is lost */
	for (size_t i = 0; i < t->cap; i++) {
		struct ec_client_rec *rec = t->slot[i];

		if (!rec)
			continue;
		if (rec->last_op < horizon) {
			free(rec->reply);
			free(rec);
			dropped++;
		} else {
			kept.slot[find(&kept, rec->client_id)] = rec;
			kept.count++;
		}
	}
	free(t->slot);
	t->slot = kept.slot;
	t->count = kept.count;
	return dropped;
}

size_t ec_ct_count(const struct ec_client_table *t)
{
	return t->count;
}

void ec_ct_set_reply(struct ec_client_rec *rec, uint8_t *buf, size_t len)
{
	free(rec->reply);
	rec->reply = buf;
	rec->reply_len = len;
}

void ec_ct_reset_prepared(struct ec_client_table *t)
{
	for (size_t i = 0; i < t->cap; i++)
		if (t->slot[i])
			t->slot[i]->prepared_req = t->slot[i]->executed_req;
}

void ec_ct_foreach(const struct ec_client_table *t, ec_ct_visit_fn *fn,
		   void *arg)
{
	for (size_t i = 0; i < t->cap; i++)
		if (t->slot[i])
			fn(t->slot[i], arg);
}
