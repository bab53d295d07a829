/*
 * clock.h - the one clock of electrode-c: CLOCK_MONOTONIC in microseconds.
 *
 * The replica's core and the clients' sessions measure timeouts with it;
 * monotonic so that a wall-clock step never fires or stalls a timer.
 * Inline because it is read once per received batch and per tick.
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

#endif /* EC_REPLICA_COMMON_CLOCK_H */
