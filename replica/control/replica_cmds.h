/*
 * replica_cmds.h - the control commands about the replica itself: status,
 * stats, dump and batch (their answers: server.h).  main.c registers them
 * on the control server like any module's commands.
 */
#ifndef EC_REPLICA_CONTROL_REPLICA_CMDS_H
#define EC_REPLICA_CONTROL_REPLICA_CMDS_H

struct ec_control;
struct ec_core;
struct ec_io;

/* What the commands answer about: replica self, its core and its sockets.
 * Must outlive the control server. */
struct ec_replica_cmds {
	unsigned self;
	struct ec_core *core;
	struct ec_io *io;
	/* What `batch N` takes: --batch's range, from the option table
	 * (main.c), so the command and the option agree. */
	unsigned long long batch_min, batch_max;
};

/* Add status, stats, dump and batch to ctl, each with cmds as its
 * argument.  Returns 0, or -1 if the table refused one. */
int ec_replica_cmds_add(struct ec_control *ctl, struct ec_replica_cmds *cmds);

#endif /* EC_REPLICA_CONTROL_REPLICA_CMDS_H */
