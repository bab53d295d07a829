/* test_histogram.c - the client's latency histogram on known distributions. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "histogram.h"
#include "../run_suite.h"

/* The histograms are 30 KiB each: keep them off the test's stack. */
static struct ec_hist a, b, c;

/* |got - want| is within the histogram's promised relative error. */
static void ck_near(uint64_t got, uint64_t want)
{
	double err = (double)(got > want ? got - want : want - got);

	ck_assert_msg(err <= (double)want / 128.0 + 0.5,
		      "got %llu, want %llu (+-0.8%%)", (unsigned long long)got,
		      (unsigned long long)want);
}

START_TEST(empty_is_zero)
{
	ec_hist_reset(&a);
	ck_assert_uint_eq(ec_hist_count(&a), 0);
	ck_assert_uint_eq(ec_hist_percentile(&a, 50), 0);
	ck_assert_uint_eq(ec_hist_percentile(&a, 99.9), 0);
	ck_assert(ec_hist_mean(&a) == 0.0);
}
END_TEST

START_TEST(small_values_are_exact)
{
	ec_hist_reset(&a);
	for (uint64_t v = 1; v <= 100; v++)
		ec_hist_record(&a, v);
	ck_assert_uint_eq(ec_hist_count(&a), 100);
	ck_assert_uint_eq(ec_hist_percentile(&a, 50), 50);
	ck_assert_uint_eq(ec_hist_percentile(&a, 90), 90);
	ck_assert_uint_eq(ec_hist_percentile(&a, 99), 99);
	ck_assert_uint_eq(ec_hist_percentile(&a, 99.9), 100);
	ck_assert_uint_eq(ec_hist_percentile(&a, 100), 100);
	ck_assert_uint_eq(ec_hist_percentile(&a, 0), 1);
	ck_assert_double_eq_tol(ec_hist_mean(&a), 50.5, 1e-9);
}
END_TEST

START_TEST(uniform_percentiles_within_one_percent)
{
	ec_hist_reset(&a);
	for (uint64_t v = 1; v <= 100000; v++)
		ec_hist_record(&a, v);
	ck_near(ec_hist_percentile(&a, 50), 50000);
	ck_near(ec_hist_percentile(&a, 90), 90000);
	ck_near(ec_hist_percentile(&a, 99), 99000);
	ck_near(ec_hist_percentile(&a, 99.9), 99900);
	ck_assert_double_eq_tol(ec_hist_mean(&a), 50000.5, 1e-6);
}
END_TEST

START_TEST(rank_rounding_at_p999)
{
	/* 99.9% of 1000 values is rank 999, not 1000. */
	ec_hist_reset(&a);
	for (uint64_t v = 1; v <= 999; v++)
		ec_hist_record(&a, 10);
	ec_hist_record(&a, 1000000);
	ck_assert_uint_eq(ec_hist_percentile(&a, 99.9), 10);
	ck_assert_uint_eq(ec_hist_percentile(&a, 99.95), 1000000);
}
END_TEST

START_TEST(bimodal)
{
	ec_hist_reset(&a);
	for (int i = 0; i < 900; i++)
		ec_hist_record(&a, 100);
	for (int i = 0; i < 100; i++)
		ec_hist_record(&a, 10000);
	ck_assert_uint_eq(ec_hist_percentile(&a, 50), 100);
	ck_assert_uint_eq(ec_hist_percentile(&a, 90), 100);
	ck_near(ec_hist_percentile(&a, 91), 10000);
	ck_assert_uint_eq(ec_hist_percentile(&a, 99), 10000); /* clamped to max */
	ck_assert_double_eq_tol(ec_hist_mean(&a), 1090.0, 1e-9);
}
END_TEST

START_TEST(relative_error_is_bounded_everywhere)
{
	/* With 0 and UINT64_MAX around it, the median is v's bucket. */
	uint64_t seed = 0x9e3779b97f4a7c15ull;

	for (int i = 0; i < 20000; i++) {
		uint64_t v;

		if (i < 64 * 3) /* powers of two and their neighbours */
			v = (1ull << (i / 3)) + (uint64_t)(i % 3) - 1;
		else {
			seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
			v = seed >> (seed % 64);
		}
		ec_hist_reset(&a);
		ec_hist_record(&a, 0);
		ec_hist_record(&a, v);
		ec_hist_record(&a, UINT64_MAX);
		ck_near(ec_hist_percentile(&a, 50), v);
	}
}
END_TEST

START_TEST(merge_equals_recording_together)
{
	ec_hist_reset(&a);
	ec_hist_reset(&b);
	ec_hist_reset(&c);
	for (uint64_t v = 1; v <= 5000; v++) {
		ec_hist_record(v % 2 ? &a : &b, v * 3);
		ec_hist_record(&c, v * 3);
	}
	ec_hist_merge(&a, &b);
	ck_assert_uint_eq(ec_hist_count(&a), ec_hist_count(&c));
	ck_assert_double_eq_tol(ec_hist_mean(&a), ec_hist_mean(&c), 1e-9);
	ck_assert_uint_eq(a.min, c.min);
	ck_assert_uint_eq(a.max, c.max);
	for (double p = 0; p <= 100; p += 0.5)
		ck_assert_uint_eq(ec_hist_percentile(&a, p),
				  ec_hist_percentile(&c, p));
}
END_TEST

START_TEST(merge_into_empty_and_reset)
{
	ec_hist_reset(&a);
	ec_hist_reset(&b);
	ec_hist_record(&b, 700);
	ec_hist_merge(&a, &b);
	ck_assert_uint_eq(ec_hist_count(&a), 1);
	ck_assert_uint_eq(ec_hist_percentile(&a, 50), 700);
	ec_hist_reset(&a);
	ck_assert_uint_eq(ec_hist_count(&a), 0);
	ck_assert_uint_eq(ec_hist_percentile(&a, 50), 0);
}
END_TEST

START_TEST(percentiles_are_monotonic)
{
	uint64_t prev = 0, seed = 12345;

	ec_hist_reset(&a);
	for (int i = 0; i < 10000; i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		ec_hist_record(&a, (seed >> 33) % 50000);
	}
	for (double p = 0; p <= 100; p += 0.1) {
		uint64_t v = ec_hist_percentile(&a, p);

		ck_assert_uint_ge(v, prev);
		prev = v;
	}
}
END_TEST

static Suite *histogram_suite(void)
{
	Suite *s = suite_create("histogram");
	TCase *tc = tcase_create("histogram");

	tcase_add_test(tc, empty_is_zero);
	tcase_add_test(tc, small_values_are_exact);
	tcase_add_test(tc, uniform_percentiles_within_one_percent);
	tcase_add_test(tc, rank_rounding_at_p999);
	tcase_add_test(tc, bimodal);
	tcase_add_test(tc, relative_error_is_bounded_everywhere);
	tcase_add_test(tc, merge_equals_recording_together);
	tcase_add_test(tc, merge_into_empty_and_reset);
	tcase_add_test(tc, percentiles_are_monotonic);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return run_suite(histogram_suite());
}
