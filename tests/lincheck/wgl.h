/*
 * wgl.h - is one key's history linearizable for a register?
 *
 * The register is absent or holds a string.  put v sets it to v; get
 * returns it (null when absent); delete makes it absent (and succeeds
 * whether or not it was present, as the client records it); cas [e, n]
 * sets n if the register holds e (e null: if it is absent).
 *
 * What each completion type claims:
 *   ok    the op took effect once, between invoke and completion, with
 *         the recorded result;
 *   fail  it did not take effect.  A failed cas is still checked as a
 *         read: at some point between invoke and completion the register
 *         did not hold e.  (The client must record fail for a cas only
 *         when the store answered "did not match"; a cas rejected for
 *         another reason belongs in the history as info.)  Failed gets,
 *         puts and deletes constrain nothing and are left out;
 *   info  the outcome is unknown: it took effect at some point after the
 *         invoke, or never.  Info gets are left out.
 * Equal times are taken as concurrent (an invoke and a completion with
 * the same time may be ordered either way).
 *
 * The search is Wing & Gong's, with Lowe's memoisation of (set of ops
 * linearized, register state): see wgl.c.  Each key is checked alone,
 * which is sound because linearizability is local (per object).
 */
#ifndef EC_LINCHECK_WGL_H
#define EC_LINCHECK_WGL_H

#include <stddef.h>
#include <stdint.h>

#include "history.h"

enum lc_verdict { LC_LINEARIZABLE, LC_VIOLATION, LC_LIMIT };

struct lc_limits {
	uint64_t max_states;  /* memoised configurations (32 to 64 bytes
				 each); 0 means none */
	double timeout;       /* seconds per check; 0 means none */
};

struct lc_search_stats {
	uint64_t states;      /* configurations memoised */
	double seconds;
};

/* Whether op is left out of the check (it constrains nothing). */
int lc_op_ignored(const struct lc_op *op);

/*
 * Check ops[0..n), all of one key, in invoke order.  Values are ids
 * (0: absent), so the strings are not needed.  st may be NULL.
 */
enum lc_verdict lc_check(const struct lc_op *const *ops, size_t n,
			 const struct lc_limits *lim,
			 struct lc_search_stats *st);

#endif /* EC_LINCHECK_WGL_H */
