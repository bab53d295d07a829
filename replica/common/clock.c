/* clock.c - see clock.h. */
#include "clock.h"

/* The skew: t' = origin + (t - origin) * (1 + ppm / 1e6), in ns. */
static int64_t skew_ppm;
static uint64_t skew_origin_ns;

static uint64_t boot_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ns (after the origin) as the skewed clock reads it. */
static uint64_t skewed(uint64_t ns)
{
	int64_t d;

	if (!skew_ppm || ns < skew_origin_ns)
		return ns;
	d = (int64_t)(ns - skew_origin_ns);
	return ns + (uint64_t)(d / 1000000 * skew_ppm +
			       d % 1000000 * skew_ppm / 1000000);
}

uint64_t ec_boot_us(void)
{
	return skewed(boot_ns()) / 1000u;
}

uint64_t ec_boot_from_kernel_ns(uint64_t ns)
{
	return ns ? skewed(ns) / 1000u : 0;
}

void ec_boot_set_skew_ppm(int64_t ppm)
{
	skew_origin_ns = boot_ns();
	skew_ppm = ppm;
}
