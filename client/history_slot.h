/*
 * history_slot.h - one client slot of ec-bench --history: which process it
 * runs, which op it sends next, and what an answer means for the history.
 *
 * Processes.  A slot runs one process at a time, and a process is one
 * client id (id_base + process).  When an op's outcome is unknown ("info":
 * given up, or an answer the client cannot read) the process ends for
 * good: a checker must treat it as possibly still running.  The slot goes
 * on as process + slots, so process numbers are unique in the run, and
 * with a new client id, so the replicas' exactly-once table can never take
 * the new process's requests for the old one's.
 *
 * Ops.  Keys are "h<run>-<k>", k < keys, where run is random per ec-bench
 * run: every history starts from an empty key space.  put and cas write
 * "p<process>-<n>", n counting the process's writes, so every value
 * written in the run is unique and a read names its write.  A cas targets
 * the last key the slot saw an answer about and expects what it saw there
 * (read-modify-write), or expects the key absent (cas-absent) when it saw
 * it absent or has seen nothing yet.
 *
 * Outcomes.  ok: OK; NOT_FOUND to a get (value null) or a delete (the key
 * is absent either way).  fail, only where the op certainly took no
 * effect: CAS_FAILED to a cas; BAD_REQUEST (refused before ordering).
 * Anything else is info.  NOT_LEADER never completes an op (the session
 * retries it elsewhere).
 *
 * Pure: no I/O, no clock, no randomness of its own; the caller passes a
 * random number in, so a --seed reproduces the ops.
 */
#ifndef EC_CLIENT_HISTORY_SLOT_H
#define EC_CLIENT_HISTORY_SLOT_H

#include <stdbool.h>
#include <stdint.h>

#include "ec.pb-c.h"
#include "history.h"
#include "ec_wire.h"
#include "session.h"

/* "p" + two 20-digit numbers + "-" + NUL. */
#define EC_HSLOT_VALUE_MAX 48

struct ec_hslot {
	uint64_t process;  /* current process */
	unsigned slots;    /* slots in the run: the step between processes */
	uint64_t writes;   /* values the current process has written */
	uint32_t run;      /* key tag of this run */
	unsigned keys;

	/* The op in flight (or last sent), and the bytes it points to. */
	Ec__KvOp op;
	unsigned key_index;
	char key[EC_MAX_KEY + 1];
	char value[EC_HSLOT_VALUE_MAX];
	uint8_t expected[EC_MAX_VALUE];

	/* What the slot last saw of a key, for the next cas. */
	bool seen;
	unsigned seen_key;
	bool seen_present;
	size_t seen_len;
	uint8_t seen_value[EC_MAX_VALUE];
};

/* Set up slot number `slot` of `slots` (it starts as process `slot`), for
 * keys keys (>= 1) tagged with run. */
void ec_hslot_init(struct ec_hslot *h, unsigned slot, unsigned slots,
		   uint32_t run, unsigned keys);

/* The slot's next op, of the given kind; r picks the key.  The op and its
 * bytes stay in h until the next call. */
const Ec__KvOp *ec_hslot_next(struct ec_hslot *h, Ec__OpKind kind,
			      uint64_t r);

/* The history type of the answer res to h's op (see the top of this
 * file); remembers what it showed of the key for the next cas. */
enum ec_history_type ec_hslot_done(struct ec_hslot *h,
				   const struct ec_session_result *res);

/* h's op ended with info: move h to its next process and s (idle) to that
 * process's client id, id_base + process.  Returns -1 if s is busy. */
int ec_hslot_retire(struct ec_hslot *h, struct ec_session *s,
		    uint64_t id_base);

#endif /* EC_CLIENT_HISTORY_SLOT_H */
