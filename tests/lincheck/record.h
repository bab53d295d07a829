/*
 * record.h - one line of a history: the JSON object
 *
 *   {"process": P, "type": T, "f": F, "key": K, "value": V, "time": NS}
 *
 * parsed strictly (all six fields, each once, nothing else; P and NS
 * non-negative integers; V null, a string, or a 2-array whose first
 * element is a string or null and whose second is a string or null) and
 * written back in the same shape.  Only the JSON syntax and the field
 * types are checked here; whether V suits F and T is history.c's call.
 */
#ifndef EC_LINCHECK_RECORD_H
#define EC_LINCHECK_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum lc_type { LC_INVOKE, LC_OK, LC_FAIL, LC_INFO };
enum lc_f { LC_GET, LC_PUT, LC_DELETE, LC_CAS };

/* A decoded JSON string; s is NULL for JSON null. */
struct lc_str {
	const char *s;
	size_t len;
};

enum lc_value_kind { LC_V_NULL, LC_V_STRING, LC_V_PAIR };

struct lc_record {
	uint64_t process;
	uint64_t time;
	enum lc_type type;
	enum lc_f f;
	struct lc_str key;
	enum lc_value_kind vkind;
	struct lc_str v[2];   /* v[0] for a string; v[0], v[1] for a pair */
};

extern const char *const lc_type_names[];
extern const char *const lc_f_names[];

/*
 * Parse line[0..len) into r.  Decoded strings point into scratch, which
 * must hold len bytes (decoding never lengthens a string) and must live
 * as long as r is used.  Returns 0, or -1 with a reason in why[0..whylen).
 */
int lc_record_parse(const char *line, size_t len, char *scratch,
		    struct lc_record *r, char *why, size_t whylen);

/* Write s as a JSON string (null when s->s is NULL). */
void lc_json_string(FILE *out, struct lc_str s);

/* Write r as one line, fields in the order shown above. */
void lc_record_write(FILE *out, const struct lc_record *r);

#endif /* EC_LINCHECK_RECORD_H */
