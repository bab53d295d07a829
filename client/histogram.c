/* histogram.c - see histogram.h. */
#include "histogram.h"

#include <math.h>
#include <string.h>

/* Bucket holding value v. */
static unsigned bucket_of(uint64_t v)
{
	unsigned shift;

	if (v < EC_HIST_EXACT)
		return (unsigned)v;
	/* v has its top bit at 63 - clz >= 7; keep the top 7 bits. */
	shift = 63 - (unsigned)__builtin_clzll(v) - EC_HIST_SUB_BITS;
	return shift * EC_HIST_SUB + (unsigned)(v >> shift);
}

/* The value standing for bucket i: the middle of its range. */
static uint64_t bucket_value(unsigned i)
{
	unsigned shift;
	uint64_t lower, width;

	if (i < EC_HIST_EXACT)
		return i;
	shift = i / EC_HIST_SUB - 1;
	lower = (uint64_t)(i - shift * EC_HIST_SUB) << shift;
	width = 1ull << shift;
	return lower + (width - 1) / 2;
}

void ec_hist_reset(struct ec_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

void ec_hist_record(struct ec_hist *h, uint64_t us)
{
	h->buckets[bucket_of(us)]++;
	h->count++;
	h->sum += us;
	if (us < h->min)
		h->min = us;
	if (us > h->max)
		h->max = us;
}

void ec_hist_merge(struct ec_hist *dst, const struct ec_hist *src)
{
	for (unsigned i = 0; i < EC_HIST_BUCKETS; i++)
		dst->buckets[i] += src->buckets[i];
	dst->count += src->count;
	dst->sum += src->sum;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

uint64_t ec_hist_count(const struct ec_hist *h)
{
	return h->count;
}

double ec_hist_mean(const struct ec_hist *h)
{
	return h->count ? (double)h->sum / (double)h->count : 0.0;
}

uint64_t ec_hist_percentile(const struct ec_hist *h, double p)
{
	uint64_t rank, seen = 0, v;
	double r;

	if (h->count == 0)
		return 0;
	if (p <= 0)
		return h->min;
	if (p >= 100)
		return h->max;
	/* Smallest rank covering p percent; the epsilon keeps 99.9% of 1000
	 * at rank 999 despite rounding in the product. */
	r = ceil(p / 100.0 * (double)h->count - 1e-9);
	rank = r < 1 ? 1 : (uint64_t)r;
	for (unsigned i = 0; i < EC_HIST_BUCKETS; i++) {
		seen += h->buckets[i];
		if (seen < rank)
			continue;
		v = bucket_value(i);
		if (v < h->min)
			return h->min;
		return v > h->max ? h->max : v;
	}
	return h->max;
}
