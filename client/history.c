/* history.c - see history.h. */
#define _GNU_SOURCE /* putc_unlocked, fputs_unlocked */
#include "history.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One buffer flush per megabyte: about 10 000 lines. */
#define HISTORY_BUF (1 << 20)

static const char *const type_names[] = {
	[EC_HISTORY_INVOKE] = "invoke",
	[EC_HISTORY_OK] = "ok",
	[EC_HISTORY_FAIL] = "fail",
	[EC_HISTORY_INFO] = "info",
};

/* Names of the KvOp kinds as Jepsen's register and map models call them. */
static const char *f_name(Ec__OpKind kind)
{
	switch (kind) {
	case EC__OP_KIND__OP_GET:
		return "get";
	case EC__OP_KIND__OP_PUT:
		return "put";
	case EC__OP_KIND__OP_DELETE:
		return "delete";
	case EC__OP_KIND__OP_CAS:
		return "cas";
	default:
		return "unknown";
	}
}

/* Write b as a JSON string, or null when b is NULL.  The file is one
 * writer's (ec-bench is single-threaded), so the unlocked calls. */
static void put_string(FILE *f, const ProtobufCBinaryData *b)
{
	static const char hex[] = "0123456789abcdef";

	if (!b) {
		fputs_unlocked("null", f);
		return;
	}
	putc_unlocked('"', f);
	for (size_t i = 0; i < b->len; i++) {
		uint8_t c = b->data[i];

		if (c == '"' || c == '\\') {
			putc_unlocked('\\', f);
			putc_unlocked(c, f);
		} else if (c >= 0x20 && c < 0x7f) {
			putc_unlocked(c, f);
		} else {
			fputs_unlocked("\\u00", f);
			putc_unlocked(hex[c >> 4], f);
			putc_unlocked(hex[c & 15], f);
		}
	}
	putc_unlocked('"', f);
}

/* Write the "value" of op's event of the given type (see history.h). */
static void put_value(FILE *f, enum ec_history_type type, const Ec__KvOp *op,
		      const ProtobufCBinaryData *read)
{
	switch (op->kind) {
	case EC__OP_KIND__OP_GET:
		put_string(f, type == EC_HISTORY_OK ? read : NULL);
		break;
	case EC__OP_KIND__OP_PUT:
		put_string(f, &op->value);
		break;
	case EC__OP_KIND__OP_CAS:
		putc_unlocked('[', f);
		put_string(f, op->expect_absent ? NULL : &op->expected);
		putc_unlocked(',', f);
		put_string(f, &op->value);
		putc_unlocked(']', f);
		break;
	default:
		put_string(f, NULL);
		break;
	}
}

int ec_history_write(FILE *f, uint64_t time_ns, uint64_t process,
		     enum ec_history_type type, const Ec__KvOp *op,
		     const ProtobufCBinaryData *read)
{
	fprintf(f, "{\"process\":%llu,\"type\":\"%s\",\"f\":\"%s\",\"key\":",
		(unsigned long long)process, type_names[type], f_name(op->kind));
	put_string(f, &op->key);
	fputs_unlocked(",\"value\":", f);
	put_value(f, type, op, read);
	fprintf(f, ",\"time\":%llu}\n", (unsigned long long)time_ns);
	return ferror(f) ? -1 : 0;
}

int ec_history_open(struct ec_history *h, const char *path)
{
	h->path = path;
	h->err = 0;
	h->buf = malloc(HISTORY_BUF);
	h->f = h->buf ? fopen(path, "w") : NULL;
	if (!h->f) {
		fprintf(stderr, "ec-bench: %s: %s\n", path,
			h->buf ? strerror(errno) : "out of memory");
		free(h->buf);
		h->buf = NULL;
		return -1;
	}
	setvbuf(h->f, h->buf, _IOFBF, HISTORY_BUF);
	return 0;
}

void ec_history_record(struct ec_history *h, uint64_t process,
		       enum ec_history_type type, const Ec__KvOp *op,
		       const ProtobufCBinaryData *read)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (ec_history_write(h->f, (uint64_t)ts.tv_sec * 1000000000u +
			     (uint64_t)ts.tv_nsec, process, type, op, read) < 0 &&
	    !h->err)
		h->err = errno ? errno : EIO;
}

int ec_history_close(struct ec_history *h)
{
	if (fclose(h->f) != 0 && !h->err)
		h->err = errno;
	free(h->buf);
	h->f = NULL;
	h->buf = NULL;
	if (h->err) {
		fprintf(stderr, "ec-bench: %s: write failed, history incomplete: %s\n",
			h->path, strerror(h->err));
		return -1;
	}
	return 0;
}
