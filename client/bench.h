/*
 * bench.h - ec-bench's options and result output (bench_opts.c); the load
 * loop itself is in bench.c.
 */
#ifndef EC_CLIENT_BENCH_H
#define EC_CLIENT_BENCH_H

#include <stdbool.h>
#include <stdint.h>

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
	bool verbose;
};

/* The results of one point, as printed and written to --csv. */
struct bench_row {
	unsigned clients;
	uint64_t ops;
	double seconds;
	double ops_per_s;
	double mean_us;
	uint64_t p50_us, p90_us, p99_us, p999_us;
	uint64_t retries;
	uint64_t timeouts;
	uint64_t errors;
	double max_stall_ms;
};

/* Parse the command line into *o.  Returns 0; or prints --help and exits
 * 0; or prints the problem and returns -1. */
int bench_parse_opts(int argc, char **argv, struct bench_opts *o);

/* Print the run's parameters, and the table header in sweep mode. */
void bench_print_header(const struct bench_opts *o, unsigned replicas);

/* Print one point: a table row in sweep mode, else a detail line and the
 * summary line.  Appends the row to --csv if given.  Returns 0, or -1 if
 * the CSV file could not be written (with a message). */
int bench_print_row(const struct bench_opts *o, unsigned replicas,
		    const struct bench_row *r);

#endif /* EC_CLIENT_BENCH_H */
