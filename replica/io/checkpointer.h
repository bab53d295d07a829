/*
 * checkpointer.h - taking the core's checkpoints in a forked child, so
 * that the event loop stops only for the fork, not for serializing the
 * whole state (about 100 ms of CPU per 100,000 keys).
 *
 * At a checkpoint op the core calls ec_checkpointer_start (its
 * checkpoint_async hook).  The child, a copy-on-write image of the
 * replica at exactly that op, closes every descriptor but the pipe to
 * its parent (so the XDP link and the sockets stay the parent's alone: a
 * dead replica's kernel program must not go on acknowledging while a
 * child lives), serializes the state with ec_core_snapshot_take, writes
 * it into the pipe and exits.  The parent reads the pipe from its event
 * loop and hands the checkpoint to ec_core_checkpoint_done; a child that
 * fails or dies hands over nothing, and the previous checkpoint stays.
 */
#ifndef EC_REPLICA_IO_CHECKPOINTER_H
#define EC_REPLICA_IO_CHECKPOINTER_H

#include <stdint.h>

struct event_base;
struct ec_core;
struct ec_checkpointer;

/* A checkpointer on base.  NULL (logged) when out of memory. */
struct ec_checkpointer *ec_checkpointer_new(struct event_base *base);

/* The core it serves; must be set before the core's first checkpoint. */
void ec_checkpointer_set_core(struct ec_checkpointer *k, struct ec_core *core);

/* ec_core_opts.checkpoint_async: fork a child for the checkpoint of op.
 * 0 when the child runs, -1 (logged) when the core should take it. */
int ec_checkpointer_start(void *arg, uint64_t op, uint32_t view);

/* Stop a running child (killed and reaped) and free k.  NULL is fine. */
void ec_checkpointer_free(struct ec_checkpointer *k);

#endif /* EC_REPLICA_IO_CHECKPOINTER_H */
