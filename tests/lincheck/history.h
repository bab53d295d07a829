/*
 * history.h - a client history read whole into operations, grouped by key.
 *
 * The input is JSON lines (record.h), one event per line, in time order.
 * Each process has at most one operation outstanding: an invoke, then a
 * completion (ok, fail or info) with the same f and key, then the next
 * invoke.  A process whose operation ended in info is never used again.
 * Reading pairs the two events of each operation into one struct lc_op
 * and rejects, with "FILE:LINE: reason", any line that breaks these
 * rules, the JSON shape, or the value each f and type must carry:
 *
 *   f       invoke        ok               fail / info
 *   get     null          string or null   null
 *   put     string        the invoke's value
 *   delete  null          null
 *   cas     [exp, new]    the invoke's value (exp string or null, new string)
 *
 * An operation still outstanding at the end of the input is kept as an
 * info whose completion never came (ret_line 0).
 */
#ifndef EC_LINCHECK_HISTORY_H
#define EC_LINCHECK_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "intern.h"
#include "record.h"

struct lc_op {
	uint64_t call;        /* invoke time, ns */
	uint64_t ret;         /* completion time, ns, as recorded */
	uint64_t process;
	uint32_t key;         /* id in keys */
	uint32_t arg;         /* put: value; cas: new value; else 0 (ids in values) */
	uint32_t obs;         /* get ok: value read; cas: expected; 0 means null */
	uint32_t call_line;
	uint32_t ret_line;    /* 0: no completion in the input */
	uint8_t f;            /* enum lc_f */
	uint8_t type;         /* completion: LC_OK, LC_FAIL or LC_INFO */
};

struct lc_history {
	struct lc_op *ops;    /* in invoke order */
	size_t nops;
	struct lc_intern keys, values;
	uint32_t *by_key;     /* op indexes grouped by key, invoke order within */
	size_t *key_start;    /* key k's ops: by_key[key_start[k-1] .. key_start[k]) */
	size_t nopen;         /* ops with no completion at the end */
};

/*
 * Read all of in.  name is the file name used in errors.  Returns 0, or
 * -1 with "name:LINE: reason" in err (and h freed).
 */
int lc_history_read(struct lc_history *h, FILE *in, const char *name,
		    char *err, size_t errlen);
void lc_history_free(struct lc_history *h);

static inline uint32_t lc_history_nkeys(const struct lc_history *h)
{
	return h->keys.count;
}

/* Write op's invoke line, or its completion line (op->ret_line != 0). */
void lc_op_write(FILE *out, const struct lc_history *h, const struct lc_op *op,
		 bool completion);

#endif /* EC_LINCHECK_HISTORY_H */
