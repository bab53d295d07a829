/*
 * history.h - ec-bench --history: every operation of a run as JSON lines,
 * in the shape Jepsen's checkers read, one event per line:
 *
 *   {"process":3,"type":"invoke","f":"cas","key":"h62895401-2",
 *    "value":[null,"p3-7"],"time":1356189043997}
 *
 * (on one line).
 *
 * An operation is an "invoke" line when it is sent and one completion line
 * for the same process later: "ok" (it took effect, with that result),
 * "fail" (it certainly did not take effect) or "info" (unknown).  What a
 * status means is decided by the caller (history_slot.h); this file only
 * writes.  The value of each f:
 *
 *   get     null on invoke; on ok the value read, null if the key is absent
 *   put     the value written
 *   delete  null
 *   cas     [expected, new]; expected null means "the key is absent"
 *
 * Keys and values are byte strings: '"' and '\' are escaped, and every
 * byte outside 0x20..0x7e is written as \u00XX, so the file is ASCII and
 * a byte maps to one code point whatever it held.  Time is CLOCK_MONOTONIC
 * in nanoseconds, read as the line is written: non-decreasing in file
 * order.
 */
#ifndef EC_CLIENT_HISTORY_H
#define EC_CLIENT_HISTORY_H

#include <stdint.h>
#include <stdio.h>

#include "ec.pb-c.h"

enum ec_history_type {
	EC_HISTORY_INVOKE,
	EC_HISTORY_OK,
	EC_HISTORY_FAIL,
	EC_HISTORY_INFO,
};

/*
 * Write one event line to f: process's op (as sent), of the given type, at
 * time_ns.  read is the value a get read, used only on a get's ok line
 * (NULL: the key was absent).  Returns 0, or -1 if stdio reported an error
 * (the error also stays set on f).
 */
int ec_history_write(FILE *f, uint64_t time_ns, uint64_t process,
		     enum ec_history_type type, const Ec__KvOp *op,
		     const ProtobufCBinaryData *read);

/* A history file being written, with its own large buffer so that a line
 * costs a copy, not a system call. */
struct ec_history {
	FILE *f;
	const char *path;
	char *buf;
	int err;  /* errno of the first failed write, 0 if none */
};

/* Create (truncate) path for writing.  Returns 0, or -1 with a message. */
int ec_history_open(struct ec_history *h, const char *path);

/* Write one event stamped with the current time (see ec_history_write).
 * A write error is kept and reported by ec_history_close. */
void ec_history_record(struct ec_history *h, uint64_t process,
		       enum ec_history_type type, const Ec__KvOp *op,
		       const ProtobufCBinaryData *read);

/* Flush and close h.  Returns 0, or -1 with a message if any write failed
 * (the file is then incomplete). */
int ec_history_close(struct ec_history *h);

#endif /* EC_CLIENT_HISTORY_H */
