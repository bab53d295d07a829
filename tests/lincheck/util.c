/* util.c - see util.h. */
#include "util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Exit status 3 is "could not decide", as for a search limit. */
static void out_of_memory(size_t n, size_t size)
{
	fprintf(stderr, "ec-lincheck: out of memory (%zu x %zu bytes)\n",
		n, size);
	exit(3);
}

void *lc_xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (!p)
		out_of_memory(1, size);
	return p;
}

void *lc_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		out_of_memory(n, size);
	return p;
}

/* realloc of n elements of size bytes, with the product checked. */
void *lc_xrealloc(void *p, size_t n, size_t size)
{
	size_t bytes;
	void *q;

	if (size && n > SIZE_MAX / size)
		out_of_memory(n, size);
	bytes = n * size;
	q = realloc(p, bytes ? bytes : 1);
	if (!q)
		out_of_memory(n, size);
	return q;
}

double lc_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
