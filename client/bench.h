/*
 * bench.h - ec-bench's options and result output (bench_opts.c) and a
 * point's results; the load loop itself is in bench.c, the lost-write
 * check in bench_verify.c.
 */
#ifndef EC_CLIENT_BENCH_H
#define EC_CLIENT_BENCH_H

#include <stdbool.h>
#include <stdint.h>

#include "histogram.h"

#define BENCH_MAX_CLIENTS 10000
#define BENCH_MAX_SWEEP 64

/* Op kinds in --mix order. */
enum bench_kind { K_GET, K_PUT, K_CAS, K_DELETE, K_MAX };

struct bench_opts {
	const char *config;
	unsigned clients;                 /* single point */
	unsigned sweep[BENCH_MAX_SWEEP];  /* client counts, one point each */
	unsigned n_sweep;                 /* 0: single point */
	unsigned max_clients;             /* largest point */
	uint64_t duration_us;
	uint64_t warmup_us;
	unsigned mix[K_MAX];              /* percentages, sum 100 */
	unsigned keys;
	unsigned value_size;
	uint64_t timeout_us;
	uint64_t give_up_us;
	const char *csv;
	const char *verify_log;
	const char *history;
	uint64_t seed;
	unsigned pin_replica;             /* --pin I:K: replica I ... */
	unsigned pin_clients;             /* ... for clients 0..K-1 (0: none) */
	bool verbose;
};

/* Results of one point.  ops and the histogram cover the measured period;
 * retries, timeouts and errors everything after warmup.  The histogram is
 * last: bench.c zeroes the fields before it and resets it, rather than
 * clearing its 30 KiB twice. */
struct bench_point {
	uint64_t ops, retries, timeouts, errors;
	uint64_t last_done;  /* last measured completion, for max_stall */
	uint64_t max_stall;
	uint64_t measured_us;
	struct ec_hist hist;
};

/* Parse the command line into *o.  Returns 0; or prints --help and exits
 * 0; or prints the problem and returns -1. */
int bench_parse_opts(int argc, char **argv, struct bench_opts *o);

/* Print the run's parameters, and the table header in sweep mode. */
void bench_print_header(const struct bench_opts *o, unsigned replicas);

/* Print point p, run with clients clients: a table row in sweep mode,
 * else a detail line and the summary line.  Appends the row to --csv if
 * given.  Returns 0, or -1 if the CSV file could not be written (with a
 * message). */
int bench_print_point(const struct bench_opts *o, unsigned replicas,
		      unsigned clients, const struct bench_point *p);

#endif /* EC_CLIENT_BENCH_H */
