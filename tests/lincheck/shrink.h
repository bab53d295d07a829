/*
 * shrink.h - cut a non-linearizable key history down to a small
 * sub-history that is still not linearizable, for a person to read.
 *
 * Operations are removed whole (invoke with its completion), by delta
 * debugging (Zeller's ddmin), while the rest stays non-linearizable.
 * Removing a write can create a violation of its own: drop the put of
 * "x" and a get that read "x" reads a value never written.  So a
 * candidate counts only if it is also closed: for every value some op
 * in it observes (a get's result, a successful or info cas's expected
 * value; "absent" for null), every op of the full history that writes
 * that value (deletes, for "absent") is still in it.
 *
 * This rules out the common false explanations, not all: with a failed
 * cas, removing a write can still leave the register holding the value
 * the cas failed against.  The verdict on the key always comes from the
 * full history; the sub-history is an aid to reading it.
 */
#ifndef EC_LINCHECK_SHRINK_H
#define EC_LINCHECK_SHRINK_H

#include <stdbool.h>
#include <stddef.h>

#include "wgl.h"

/*
 * Shrink ops[0..n) (one key, not linearizable) in place, keeping the
 * order; values are ids up to nvalues.  Ops the check ignores (see
 * lc_op_ignored) are dropped first.  Gives up after budget seconds
 * (0: no limit).  Returns the new count; *minimal tells whether no
 * single op can be removed any more (false when the budget ran out).
 */
size_t lc_shrink(const struct lc_op **ops, size_t n, uint32_t nvalues,
		 const struct lc_limits *lim, double budget, bool *minimal);

#endif /* EC_LINCHECK_SHRINK_H */
