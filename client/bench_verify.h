/*
 * bench_verify.h - ec-bench --verify-log, the lost-write check.
 *
 * Client c PUTs only its own keys "v<c>-<k>", k below the keys per
 * client (--keys over the largest client count), with the value "<seq>",
 * padded to --value-size as "<seq>:xxx".  Seqs grow strictly per client
 * and start from the wall clock in microseconds, so a later run's writes
 * always carry larger seqs than an earlier run's.  GETs read any
 * client's keys.  The table keeps, per key, the seq of the last PUT sent
 * and of the last PUT answered OK (requests of one client are
 * sequential, so that is its newest acknowledged write); at exit it is
 * written out, one line "KEY ACKED_SEQ SENT_SEQ" per key written, for a
 * cluster test to compare with what the store holds.
 *
 * No I/O but the file, no clock but the start of the seqs; the caller's
 * seeded generator picks the keys.
 */
#ifndef EC_CLIENT_BENCH_VERIFY_H
#define EC_CLIENT_BENCH_VERIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "ec.pb-c.h"

struct bench_verify_key {
	uint64_t acked;
	uint64_t sent;
};

struct bench_verify_client {
	bool put_pending;  /* the outstanding request is a PUT */
	unsigned put_key;  /* its key index among this client's keys */
	uint64_t seq;      /* last seq this client sent */
};

struct bench_verify {
	unsigned clients, keys_per_client;
	const uint8_t *filler;  /* value_size bytes of padding */
	unsigned value_size;
	struct bench_verify_key *keys;  /* clients * keys_per_client */
	struct bench_verify_client *cl; /* clients */
};

/*
 * Set up v for clients clients sharing keys keys (at least one each),
 * with values of value_size bytes padded from filler (which must outlive
 * v).  Returns 0, or -1 if out of memory (bench_verify_free cleans up
 * either way).
 */
int bench_verify_init(struct bench_verify *v, unsigned clients,
		      unsigned keys, unsigned value_size,
		      const uint8_t *filler);
void bench_verify_free(struct bench_verify *v);

/*
 * Fill op (its key and value pointing into key, of EC_MAX_KEY + 1 bytes,
 * and val, of EC_MAX_VALUE + 1) with client ci's next request: with put,
 * a PUT of one of its own keys (its index in *k) with its next seq; else
 * a GET of any client's key.  Draws from the generator at *rng.
 */
void bench_verify_op(const struct bench_verify *v, unsigned ci, bool put,
		     uint64_t *rng, Ec__KvOp *op, char *key, char *val,
		     unsigned *k);

/* The request bench_verify_op made for client ci went out (put, and key
 * k, as it was asked for and gave). */
void bench_verify_sent(struct bench_verify *v, unsigned ci, bool put,
		       unsigned k);

/* Client ci's outstanding request was answered with status. */
void bench_verify_done(struct bench_verify *v, unsigned ci,
		       Ec__Status status);

/* Client ci's outstanding request will never be answered (given up or
 * abandoned): a PUT stays sent, never acknowledged. */
void bench_verify_forget(struct bench_verify *v, unsigned ci);

/* Write the file at path.  Returns 0, or -1 with errno set. */
int bench_verify_write(const struct bench_verify *v, const char *path);

#endif /* EC_CLIENT_BENCH_VERIFY_H */
