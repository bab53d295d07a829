/*
 * histogram.h - latency histogram in microseconds.
 *
 * Log-linear buckets: values below 128 us are counted exactly; above that
 * every power of two is split into 64 equal buckets, so a bucket is at most
 * 1/64 of its lower bound wide and a reported percentile (the bucket's
 * midpoint, clamped to the recorded min and max) is within 0.8% of a
 * recorded value.  Any uint64_t fits; a histogram is about 30 KiB and
 * needs no allocation.
 */
#ifndef EC_CLIENT_HISTOGRAM_H
#define EC_CLIENT_HISTOGRAM_H

#include <stdint.h>

/* Sub-buckets per power of two (above the exact range). */
#define EC_HIST_SUB_BITS 6
#define EC_HIST_SUB (1u << EC_HIST_SUB_BITS)
/* Values below this are their own bucket. */
#define EC_HIST_EXACT (2u * EC_HIST_SUB)
/* Enough buckets for every uint64_t. */
#define EC_HIST_BUCKETS ((64 - EC_HIST_SUB_BITS) * EC_HIST_SUB + EC_HIST_SUB)

struct ec_hist {
	uint64_t count;
	uint64_t sum;   /* of recorded values, for the mean */
	uint64_t min;   /* UINT64_MAX when empty */
	uint64_t max;
	uint64_t buckets[EC_HIST_BUCKETS];
};

/* Empty h (also the way to initialise one). */
void ec_hist_reset(struct ec_hist *h);

/* Count one value. */
void ec_hist_record(struct ec_hist *h, uint64_t us);

/* Add every value counted in src to dst. */
void ec_hist_merge(struct ec_hist *dst, const struct ec_hist *src);

/* Number of values counted. */
uint64_t ec_hist_count(const struct ec_hist *h);

/* Mean of the values counted, 0 when empty. */
double ec_hist_mean(const struct ec_hist *h);

/*
 * The value below or at which p percent of the counted values lie
 * (p in [0, 100], e.g. 99.9), within the bucket error; 0 when empty.
 */
uint64_t ec_hist_percentile(const struct ec_hist *h, double p);

#endif /* EC_CLIENT_HISTOGRAM_H */
