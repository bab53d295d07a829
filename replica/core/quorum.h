/*
 * quorum.h - every quorum size of the protocol, for n replicas
 * (1..EC_MAX_REPLICAS).  Pure: no state, no I/O.
 *
 * A quorum is a strict majority of the configured replicas, floor(n/2)+1,
 * counting the leader (or the replica that counts) itself.  Any two
 * quorums of the same n share a replica, for odd and even n alike: that
 * one shared replica is what keeps two halves of a partition from both
 * committing, and what carries every committed op into the next view.
 * An even n tolerates as many failures as n-1 does (n/2 - 1) and no more.
 *
 *   commit       the leader and ec_quorum_followers(n) followers hold op
 *   view change  ec_quorum(n) START_VIEW_CHANGEs before a DO_VIEW_CHANGE
 *                is sent, ec_quorum(n) DO_VIEW_CHANGEs (the new leader's
 *                own included) before the view starts
 *   recovery     ec_quorum_recovery(n) answers from the others (below)
 *
 * Nothing else in the replica, the XDP quorum offload's threshold
 * included, derives a count from n.
 */
#ifndef EC_REPLICA_CORE_QUORUM_H
#define EC_REPLICA_CORE_QUORUM_H

#include <stdbool.h>
#include <stdint.h>

/* floor(n/2)+1 replicas: a strict majority of n. */
unsigned ec_quorum(unsigned n);

/* Acknowledgements from followers a leader needs for a commit: a quorum
 * less the leader itself (0 for n = 1: the leader commits alone). */
unsigned ec_quorum_followers(unsigned n);

/*
 * Answers a recovering replica needs from the others (all in normal
 * status) before it trusts the highest view among them.  It has forgotten
 * what it promised, so it cannot stand for itself in any quorum: the
 * answers must meet every quorum in a replica other than itself, which
 * takes n - ec_quorum(n) + 1 of them (ceil(n/2): f+1 for n = 2f+1, n/2
 * for an even n).  For n = 1 that is 1 of no one: a lone replica cannot
 * recover.
 */
unsigned ec_quorum_recovery(unsigned n);

/* Whether the replicas in mask (bit i: replica i) make a quorum of n. */
bool ec_quorum_has(unsigned n, uint32_t mask);

/*
 * The highest op a quorum holds: acked[i] is the highest op replica i is
 * known to hold (the leader's own entry is its log's last op).  The
 * ec_quorum(n)-th largest of acked[0..n-1]; 0 if n is 0.
 */
uint64_t ec_quorum_committed(const uint64_t *acked, unsigned n);

#endif /* EC_REPLICA_CORE_QUORUM_H */
