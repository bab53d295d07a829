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
	const char *csv_kinds;
	const char *verify_log;
	const char *history;
	uint64_t seed;
	unsigned pin_replica;             /* --pin I:K: replica I ... */
	unsigned pin_clients;             /* ... for clients 0..K-1 (0: none) */
	unsigned pin_mix[K_MAX];          /* --pin-mix: their op mix */
	bool has_pin_mix;                 /* (else they use mix) */
	bool read_msg;                    /* --read-msg: GETs as READs */
	bool verbose;
};

/* Results of one point.  ops and the histograms cover the measured
 * period (kind_*: the requests of each op kind; kind_lease: the answers
 * the leader's lease gave; kind_kernel: those of them the leader's XDP
 * program gave, READ_REPLYs); retries, timeouts, errors and stale replies
 * (answers from older state than one the client saw, not accepted)
 * everything after warmup.  The histograms are last: bench.c zeroes the
 * fields before them and resets them, rather than clearing their 30 KiB
 * each twice. */
struct bench_point {
	uint64_t ops, retries, timeouts, errors;
	uint64_t last_done;  /* last measured completion, for max_stall */
	uint64_t max_stall;
	uint64_t measured_us;
	uint64_t kind_ops[K_MAX], kind_lease[K_MAX], kind_stale[K_MAX];
	uint64_t kind_kernel[K_MAX];
	struct ec_hist hist;
	struct ec_hist kind_hist[K_MAX];
};

/* Parse the command line into *o.  Returns 0; or prints --help and exits
 * 0; or prints the problem and returns -1. */
int bench_parse_opts(int argc, char **argv, struct bench_opts *o);

/* Print the run's parameters, and the table header in sweep mode. */
void bench_print_header(const struct bench_opts *o, unsigned replicas);

/* Print point p, run with clients clients: a table row in sweep mode,
 * else a detail line; then a line per op kind in --mix; the summary line
 * last, outside --sweep.  Appends the row to --csv and the kinds' rows to
 * --csv-kinds if given.  Returns 0, or -1 if a CSV file could not be
 * written (with a message). */
int bench_print_point(const struct bench_opts *o, unsigned replicas,
		      unsigned clients, const struct bench_point *p);

#endif /* EC_CLIENT_BENCH_H */
