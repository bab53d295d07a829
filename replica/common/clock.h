/*
 * clock.h - the clocks of electrode-c, in microseconds.
 *
 * ec_clock_us, CLOCK_MONOTONIC, is the clients': their retry timers and
 * the times of a history (ec-lincheck, the fault report) are on it.
 *
 * ec_boot_us, CLOCK_BOOTTIME, is the replica's: every time its core is
 * handed, timers and leases alike (core/lease.h).  BOOTTIME goes on
 * through a suspend, which MONOTONIC does not, and it is the clock the
 * XDP programs read (bpf_ktime_get_boot_ns), so a time the kernel stamps
 * and one user space reads compare.  Both are slewed by NTP (at most 500
 * ppm); the lease allows for 1000 ppm.  For tests, ec_boot_set_skew_ppm
 * makes the replica's time run faster or slower than real time (from the
 * moment it is called), kernel stamps converted alike.
 */
#ifndef EC_REPLICA_COMMON_CLOCK_H
#define EC_REPLICA_COMMON_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Monotonic time in microseconds. */
static inline uint64_t ec_clock_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* The replica's time in microseconds: CLOCK_BOOTTIME, skewed as set. */
uint64_t ec_boot_us(void);

/* The same for a CLOCK_BOOTTIME reading in nanoseconds taken elsewhere
 * (by an XDP program); 0 stays 0 ("never"). */
uint64_t ec_boot_from_kernel_ns(uint64_t ns);

/* The other way: the CLOCK_BOOTTIME reading in nanoseconds, as an XDP
 * program reads it, at which the replica's time reads us (0 stays 0):
 * so that a time the replica publishes to the kernel (its lease's end)
 * means in the kernel what it means to the replica, skewed or not. */
uint64_t ec_boot_to_kernel_ns(uint64_t us);
/* TEST ONLY: from now on the replica's time runs ppm parts per million
 * faster (negative: slower) than CLOCK_BOOTTIME.  0 undoes it. */
void ec_boot_set_skew_ppm(int64_t ppm);

#endif /* EC_REPLICA_COMMON_CLOCK_H */
