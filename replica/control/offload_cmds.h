/*
 * offload_cmds.h - the `offload` control command:
 *
 *   offload                 every switch, then the BPF programs' counters
 *                           per verdict and the in-kernel fractions
 *   offload SPEC on|off     turn switches on or off (SPEC as for
 *                           --offload: all, none, broadcast, fastack,
 *                           quorum, or e.g. broadcast.commit, comma-separated)
 */
#ifndef EC_REPLICA_CONTROL_OFFLOAD_CMDS_H
#define EC_REPLICA_CONTROL_OFFLOAD_CMDS_H

struct ec_control;
struct ec_offload;

/* Register the command; o may be NULL (BPF disabled). Returns 0 or -1. */
int ec_offload_cmds_add(struct ec_control *ctl, struct ec_offload *o);

#endif /* EC_REPLICA_CONTROL_OFFLOAD_CMDS_H */
