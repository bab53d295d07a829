/* quorum.c - see quorum.h. */
#include "quorum.h"

#include "ec_wire.h"

unsigned ec_quorum(unsigned n)
{
	return n / 2 + 1;
}

unsigned ec_quorum_followers(unsigned n)
{
	return n ? ec_quorum(n) - 1 : 0;
}

unsigned ec_quorum_recovery(unsigned n)
{
	return n - ec_quorum(n) + 1;
}

bool ec_quorum_has(unsigned n, uint32_t mask)
{
	return (unsigned)__builtin_popcount(mask) >= ec_quorum(n);
}

uint64_t ec_quorum_committed(const uint64_t *acked, unsigned n)
{
	uint64_t v[EC_MAX_REPLICAS];
	unsigned q;

	if (n == 0 || n > EC_MAX_REPLICAS)
		return 0;
	q = ec_quorum(n);
	for (unsigned i = 0; i < n; i++)
		v[i] = acked[i];
	/* the q-th largest: partial selection sort, n <= EC_MAX_REPLICAS */
	for (unsigned i = 0; i < q; i++)
		for (unsigned j = i + 1; j < n; j++)
			if (v[j] > v[i]) {
				uint64_t t = v[i];

				v[i] = v[j];
				v[j] = t;
			}
	return v[q - 1];
}
