/* bench_verify.c - ec-bench --verify-log; see bench_verify.h. */
#include "bench_verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_rng.h"
#include "ec_wire.h"

int bench_verify_init(struct bench_verify *v, unsigned clients,
		      unsigned keys, unsigned value_size,
		      const uint8_t *filler)
{
	struct timespec wall;
	uint64_t seq_base;

	*v = (struct bench_verify){
		.clients = clients,
		.keys_per_client = keys / clients,
		.filler = filler,
		.value_size = value_size,
	};
	v->keys = calloc((size_t)clients * v->keys_per_client,
			 sizeof(*v->keys));
	v->cl = calloc(clients, sizeof(*v->cl));
	if (!v->keys || !v->cl)
		return -1;
	/* Seqs start at the wall clock in microseconds, so a later run's
	 * writes always carry larger seqs than an earlier run's. */
	clock_gettime(CLOCK_REALTIME, &wall);
	seq_base = (uint64_t)wall.tv_sec * 1000000 +
		   (uint64_t)wall.tv_nsec / 1000;
	for (unsigned i = 0; i < clients; i++)
		v->cl[i].seq = seq_base;
	return 0;
}

void bench_verify_free(struct bench_verify *v)
{
	free(v->keys);
	free(v->cl);
}

void bench_verify_op(const struct bench_verify *v, unsigned ci, bool put,
		     uint64_t *rng, Ec__KvOp *op, char *key, char *val,
		     unsigned *k)
{
	unsigned owner = ci;
	int klen, vlen;

	*k = (unsigned)(bench_rnd(rng) % v->keys_per_client);
	if (put) {
		/* "<seq>", padded to --value-size as "<seq>:xxxx". */
		vlen = snprintf(val, EC_MAX_VALUE + 1, "%llu",
				(unsigned long long)(v->cl[ci].seq + 1));
		if ((unsigned)vlen + 1 < v->value_size) {
			val[vlen] = ':';
			memcpy(val + vlen + 1, v->filler,
			       v->value_size - (unsigned)vlen - 1);
			vlen = (int)v->value_size;
		}
		op->value.data = (uint8_t *)val;
		op->value.len = (size_t)vlen;
	} else {
		/* Reads may go to any client's keys. */
		owner = (unsigned)(bench_rnd(rng) % v->clients);
	}
	klen = snprintf(key, EC_MAX_KEY + 1, "v%u-%u", owner, *k);
	op->key.data = (uint8_t *)key;
	op->key.len = (size_t)klen;
}

void bench_verify_sent(struct bench_verify *v, unsigned ci, bool put,
		       unsigned k)
{
	struct bench_verify_client *c = &v->cl[ci];

	c->put_pending = put;
	if (!put)
		return;
	c->seq++;
	c->put_key = k;
	v->keys[(size_t)ci * v->keys_per_client + k].sent = c->seq;
}

void bench_verify_done(struct bench_verify *v, unsigned ci,
		       Ec__Status status)
{
	struct bench_verify_client *c = &v->cl[ci];

	if (c->put_pending && status == EC__STATUS__ST_OK)
		v->keys[(size_t)ci * v->keys_per_client + c->put_key].acked =
			c->seq;
	c->put_pending = false;
}

void bench_verify_forget(struct bench_verify *v, unsigned ci)
{
	v->cl[ci].put_pending = false;
}

int bench_verify_write(const struct bench_verify *v, const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	for (unsigned c = 0; c < v->clients; c++)
		for (unsigned k = 0; k < v->keys_per_client; k++) {
			const struct bench_verify_key *vk =
				&v->keys[(size_t)c * v->keys_per_client + k];

			if (vk->sent)
				fprintf(f, "v%u-%u %llu %llu\n", c, k,
					(unsigned long long)vk->acked,
					(unsigned long long)vk->sent);
		}
	return fclose(f) == 0 ? 0 : -1;
}
