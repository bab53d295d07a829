/* batch.c - see batch.h. */
#include "batch.h"

#include <stdlib.h>
#include <string.h>

#include "common/wire.h"

/* Field 1 of Batch, length-delimited (wire type 2). */
#define BATCH_TAG ((1u << 3) | 2u)

size_t ec_batch_cost(size_t len)
{
	return 1 + ec_varint_len(len) + len;
}

bool ec_batch_fits(size_t n, size_t bytes, size_t len, size_t max)
{
	return n < max && n < EC_MAX_BATCH &&
	       bytes + ec_batch_cost(len) <= EC_MAX_ENTRY_BODY;
}

void ec_batch_add(struct ec_batch_builder *b, const uint8_t *body,
		  size_t len, Ec__Request *req)
{
	uint8_t *p;

	if (b->n == 0)
		b->bytes = 0; /* the last batch taken is done with */
	p = b->buf + b->bytes;

	*p++ = BATCH_TAG;
	p += ec_varint_put(p, len);
	memcpy(p, body, len);
	b->bytes = (size_t)(p + len - b->buf);
	b->req[b->n++] = req;
}

bool ec_batch_take(struct ec_batch_builder *b, struct ec_batch **out)
{
	struct ec_batch *x = malloc(sizeof(*x) + b->n * sizeof(x->req[0]));

	if (!x)
		return false;
	x->n = b->n;
	x->malformed = false;
	memcpy(x->req, b->req, b->n * sizeof(x->req[0]));
	b->n = 0;
	*out = x;
	return true;
}

void ec_batch_clear(struct ec_batch_builder *b)
{
	for (size_t i = 0; i < b->n; i++)
		ec__request__free_unpacked(b->req[i], NULL);
	b->n = 0;
	b->bytes = 0;
}

struct ec_batch *ec_batch_decode(const uint8_t *body, size_t len)
{
	Ec__Batch *wire = ec__batch__unpack(NULL, len, body);
	size_t n = wire ? wire->n_requests : 0;
	struct ec_batch *b = calloc(1, sizeof(*b) + n * sizeof(b->req[0]));

	if (!b)
		goto out;
	b->malformed = !wire || n == 0;
	for (size_t i = 0; i < n && !b->malformed; i++) {
		b->req[i] = ec__request__unpack(NULL, wire->requests[i].len,
						wire->requests[i].data);
		if (!b->req[i])
			b->malformed = true;
		else
			b->n++;
	}
	if (b->malformed) {
		for (size_t i = 0; i < b->n; i++)
			ec__request__free_unpacked(b->req[i], NULL);
		b->n = 0;
	}
out:
	if (wire)
		ec__batch__free_unpacked(wire, NULL);
	return b;
}

void ec_batch_free(struct ec_batch *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n; i++)
		ec__request__free_unpacked(b->req[i], NULL);
	free(b);
}
