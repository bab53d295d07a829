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

uint64_t ec_boot_to_kernel_ns(uint64_t us)
{
	uint64_t ns = us * 1000u;
	int64_t d;

	if (!us || !skew_ppm || ns < skew_origin_ns)
		return ns;
	/* invert skewed(): d' = d (1 + ppm/1e6), so d = d' 1e6 / (1e6 +
	 * ppm); in 128 bits, as d' 1e6 overflows 64 after five hours */
	d = (int64_t)(ns - skew_origin_ns);
	return skew_origin_ns +
	       (uint64_t)((__int128)d * 1000000 / (1000000 + skew_ppm));
}

void ec_boot_set_skew_ppm(int64_t ppm)
{
	skew_origin_ns = boot_ns();
	skew_ppm = ppm;
}
