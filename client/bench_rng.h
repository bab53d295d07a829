/*
 * bench_rng.h - ec-bench's seeded generator (splitmix64), shared by the
 * load loop (bench.c) and the lost-write check (bench_verify.c): the same
 * --seed draws the same ops.
 */
#ifndef EC_CLIENT_BENCH_RNG_H
#define EC_CLIENT_BENCH_RNG_H

#include <stdint.h>

/* The next number of the generator whose state is *state. */
static inline uint64_t bench_rnd(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

#endif /* EC_CLIENT_BENCH_RNG_H */
