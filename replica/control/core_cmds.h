/*
 * core_cmds.h - between the control socket server (server.c) and its
 * built-in commands (core_cmds.c); not for other modules, which use
 * server.h.
 *
 * The built-ins are ordinary table entries added with ec_control_add, like
 * the offload command; they only need the table walk below for help.
 */
#ifndef EC_REPLICA_CONTROL_CORE_CMDS_H
#define EC_REPLICA_CONTROL_CORE_CMDS_H

struct ec_control;
struct ec_core;
struct ec_io;

/* What the built-in commands answer about: replica self, its core and its
 * sockets.  Lives inside struct ec_control, as long as the table. */
struct ec_control_cmds {
	struct ec_control *ctl;
	unsigned self;
	struct ec_core *core;
	struct ec_io *io;
};

/* Add status, stats, dump, batch and help to cmds->ctl, each with cmds as its
 * argument.  Returns 0, or -1 if the table refused one. */
int ec_control_cmds_add(struct ec_control_cmds *cmds);

/* Called with each command's name, argument synopsis (or NULL) and help
 * line. */
typedef void ec_ctl_cmd_cb(const char *name, const char *args,
			   const char *help, void *arg);

/* Call cb for every command of ctl, in the order they were added. */
void ec_control_foreach_cmd(const struct ec_control *ctl, ec_ctl_cmd_cb *cb,
			    void *arg);

#endif /* EC_REPLICA_CONTROL_CORE_CMDS_H */
