/*
 * read_cache.h - user space's side of the read offload's cache: the
 * executed values, in the XDP program's read_cache array (proto/
 * ec_offload.h), mapped into the replica and written with plain stores,
 * no syscall per write.
 *
 * One writer: the event loop, as the store executes (the core's
 * store_observer, app/kv.h), so the cache holds the executed state in
 * execution order, before the replies of what executed are queued.  Each
 * slot is a seqlock: seq odd, the fields, seq even.  A key whose slot
 * holds another key takes it over (direct-mapped: the last write wins);
 * a DELETE empties the key's slot if it holds the key.  A value longer
 * than EC_READ_VALUE_MAX leaves the key marked EC_RS_TOO_LARGE, so that
 * XDP sends its reads up instead of answering from an older value.
 *
 * The read window: ec_xdp_state.read_word, nonzero while the kernel may
 * answer reads, with lease_until_ns and applied_op beside it.  The glue
 * syncs it after every turn of the core, before the turn's datagrams
 * leave, so a leader that gives up its view (its DO_VIEW_CHANGE goes out
 * in that turn) has closed it first; the core's quiesce, before it
 * leaves normal status, closes it too.
 */
#ifndef EC_REPLICA_OFFLOAD_READ_CACHE_H
#define EC_REPLICA_OFFLOAD_READ_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/kv.h"
#include "ec_offload.h"

struct ec_read_cache {
	struct ec_read_slot *slots; /* mapped: slots[0..mask] */
	struct ec_xdp_state *xs;    /* the read window beside it */
	uint32_t mask;
	size_t bytes;               /* of the mapping (0: not mapped) */
	uint32_t gen;               /* of the last read window opened */
	uint64_t writes, deletes, evictions, too_large, clears;
};

/* Map the array of map_fd (nslots, a power of two, of struct
 * ec_read_slot), with xs the program's state holding the read window.
 * 0, or -1 with errno. */
int ec_read_cache_map(struct ec_read_cache *rc, int map_fd, uint32_t nslots,
		      struct ec_xdp_state *xs);

/* Use slots[0..nslots) (a power of two) and xs, not mapped (for tests
 * and models).  0, or -1 if nslots is not a power of two. */
int ec_read_cache_init(struct ec_read_cache *rc, struct ec_read_slot *slots,
		       uint32_t nslots, struct ec_xdp_state *xs);
void ec_read_cache_unmap(struct ec_read_cache *rc);

/* key now holds value (present), or is gone. */
void ec_read_cache_set(struct ec_read_cache *rc, const uint8_t *key,
		       size_t key_len, const uint8_t *value, size_t value_len,
		       bool present);

/* Empty every slot. */
void ec_read_cache_clear(struct ec_read_cache *rc);

/* Publish applied_op (every write up to it is in the cache) and, if
 * open, the lease end and an open read window for view (a new generation
 * unless one is open for view already); else close the window. */
void ec_read_cache_sync(struct ec_read_cache *rc, bool open, uint32_t view,
			uint64_t lease_until_ns, uint64_t applied_op);

/* Close the read window now. */
void ec_read_cache_close(struct ec_read_cache *rc);

/* The store observer (ec_core_opts.store_observer) that keeps rc: each
 * change written through, a new store (a snapshot installed) closing the
 * window and emptying every slot before it is written in. */
struct ec_kv_observer ec_read_cache_observer(struct ec_read_cache *rc);

#endif /* EC_REPLICA_OFFLOAD_READ_CACHE_H */
