/*
 * util.h - what every part of ec-lincheck needs: allocation that never
 * returns NULL, and a monotonic clock.
 *
 * The checker is a batch tool: when memory runs out there is no partial
 * answer worth giving, so an allocation failure prints why and exits
 * with status 3 ("could not decide"), never 0 or 1.
 */
#ifndef EC_LINCHECK_UTIL_H
#define EC_LINCHECK_UTIL_H

#include <stddef.h>

void *lc_xmalloc(size_t size);
void *lc_xcalloc(size_t n, size_t size);
void *lc_xrealloc(void *p, size_t n, size_t size);

/* Seconds on the monotonic clock, for time limits and reports. */
double lc_now(void);

#endif /* EC_LINCHECK_UTIL_H */
