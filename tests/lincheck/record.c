/*
 * record.c - see record.h.
 *
 * A cursor over one line: each parse_* skips leading whitespace, checks,
 * advances, and on error leaves a reason in the cursor and returns -1.
 * The shape is fixed, so there is no general JSON value tree: the object
 * parser knows the six field names and what each may hold.
 */
#include "record.h"

#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

const char *const lc_type_names[] = { "invoke", "ok", "fail", "info" };
const char *const lc_f_names[] = { "get", "put", "delete", "cas" };

enum field { F_PROCESS, F_TYPE, F_F, F_KEY, F_VALUE, F_TIME, NFIELDS };
static const char *const field_names[NFIELDS] = {
	"process", "type", "f", "key", "value", "time",
};

struct cursor {
	const char *p, *end;
	char *out;            /* where the next decoded string goes */
	char *why;
	size_t whylen;
};

static int fail(struct cursor *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct cursor *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->why, c->whylen, fmt, ap);
	va_end(ap);
	return -1;
}

static void skip_ws(struct cursor *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' ||
				 *c->p == '\r' || *c->p == '\n'))
		c->p++;
}

/* What is at the cursor, for error messages. */
static const char *here(const struct cursor *c)
{
	return c->p < c->end ? "unexpected character" : "unexpected end of line";
}

static int expect(struct cursor *c, char ch)
{
	skip_ws(c);
	if (c->p >= c->end || *c->p != ch)
		return fail(c, "bad JSON: %s, expected '%c'", here(c), ch);
	c->p++;
	return 0;
}

/* Whether the next non-blank character is ch (not consumed). */
static bool peek(struct cursor *c, char ch)
{
	skip_ws(c);
	return c->p < c->end && *c->p == ch;
}

static int hex4(struct cursor *c, unsigned *v)
{
	*v = 0;
	if (c->end - c->p < 4)
		return fail(c, "bad JSON: short \\u escape");
	for (int i = 0; i < 4; i++) {
		char h = *c->p++;

		*v <<= 4;
		if (h >= '0' && h <= '9')
			*v |= (unsigned)(h - '0');
		else if (h >= 'a' && h <= 'f')
			*v |= (unsigned)(h - 'a' + 10);
		else if (h >= 'A' && h <= 'F')
			*v |= (unsigned)(h - 'A' + 10);
		else
			return fail(c, "bad JSON: bad hex digit in \\u escape");
	}
	return 0;
}

static void put_utf8(struct cursor *c, unsigned cp)
{
	if (cp < 0x80) {
		*c->out++ = (char)cp;
	} else if (cp < 0x800) {
		*c->out++ = (char)(0xc0 | cp >> 6);
		*c->out++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*c->out++ = (char)(0xe0 | cp >> 12);
		*c->out++ = (char)(0x80 | (cp >> 6 & 0x3f));
		*c->out++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*c->out++ = (char)(0xf0 | cp >> 18);
		*c->out++ = (char)(0x80 | (cp >> 12 & 0x3f));
		*c->out++ = (char)(0x80 | (cp >> 6 & 0x3f));
		*c->out++ = (char)(0x80 | (cp & 0x3f));
	}
}

/* \uXXXX (the "\u" already read), a surrogate pair taken whole. */
static int parse_u_escape(struct cursor *c)
{
	unsigned cp, lo;

	if (hex4(c, &cp) < 0)
		return -1;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return fail(c, "bad JSON: lone low surrogate \\u%04x", cp);
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (c->end - c->p < 2 || c->p[0] != '\\' || c->p[1] != 'u')
			return fail(c, "bad JSON: high surrogate \\u%04x without its low half", cp);
		c->p += 2;
		if (hex4(c, &lo) < 0)
			return -1;
		if (lo < 0xdc00 || lo > 0xdfff)
			return fail(c, "bad JSON: high surrogate \\u%04x without its low half", cp);
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	put_utf8(c, cp);
	return 0;
}

/* A JSON string, decoded into c->out.  Bytes >= 0x80 pass unchanged. */
static int parse_string(struct cursor *c, struct lc_str *s)
{
	if (expect(c, '"') < 0)
		return -1;
	s->s = c->out;
	for (;;) {
		unsigned char ch;

		if (c->p >= c->end)
			return fail(c, "bad JSON: unterminated string");
		ch = (unsigned char)*c->p++;
		if (ch == '"')
			break;
		if (ch < 0x20)
			return fail(c, "bad JSON: raw control character 0x%02x in string", ch);
		if (ch != '\\') {
			*c->out++ = (char)ch;
			continue;
		}
		if (c->p >= c->end)
			return fail(c, "bad JSON: unterminated string");
		switch (*c->p++) {
		case '"': *c->out++ = '"'; break;
		case '\\': *c->out++ = '\\'; break;
		case '/': *c->out++ = '/'; break;
		case 'b': *c->out++ = '\b'; break;
		case 'f': *c->out++ = '\f'; break;
		case 'n': *c->out++ = '\n'; break;
		case 'r': *c->out++ = '\r'; break;
		case 't': *c->out++ = '\t'; break;
		case 'u':
			if (parse_u_escape(c) < 0)
				return -1;
			break;
		default:
			return fail(c, "bad JSON: unknown escape \\%c", c->p[-1]);
		}
	}
	s->len = (size_t)(c->out - s->s);
	return 0;
}

/* A non-negative integer: digits only, no sign, fraction or exponent. */
static int parse_uint(struct cursor *c, const char *field, uint64_t *v)
{
	const char *start;

	skip_ws(c);
	start = c->p;
	*v = 0;
	while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
		unsigned d = (unsigned)(*c->p - '0');

		if (*v > (UINT64_MAX - d) / 10)
			return fail(c, "\"%s\" does not fit in 64 bits", field);
		*v = *v * 10 + d;
		c->p++;
	}
	if (c->p == start || (c->p < c->end && strchr("-+.eE", *c->p)))
		return fail(c, "\"%s\" must be a non-negative integer", field);
	if (c->p - start > 1 && *start == '0')
		return fail(c, "bad JSON: leading zero in \"%s\"", field);
	return 0;
}

static int parse_null(struct cursor *c)
{
	skip_ws(c);
	if (c->end - c->p < 4 || memcmp(c->p, "null", 4) != 0)
		return -1;
	c->p += 4;
	return 0;
}

/* A string or null. */
static int parse_nullable(struct cursor *c, struct lc_str *s)
{
	s->s = NULL;
	s->len = 0;
	if (parse_null(c) == 0)
		return 0;
	if (!peek(c, '"'))
		return fail(c, "\"value\" must be null, a string or [a, b] of strings or nulls");
	return parse_string(c, s);
}

static int parse_value(struct cursor *c, struct lc_record *r)
{
	if (!peek(c, '[')) {
		if (parse_nullable(c, &r->v[0]) < 0)
			return -1;
		r->vkind = r->v[0].s ? LC_V_STRING : LC_V_NULL;
		return 0;
	}
	c->p++;
	r->vkind = LC_V_PAIR;
	if (parse_nullable(c, &r->v[0]) < 0 || expect(c, ',') < 0 ||
	    parse_nullable(c, &r->v[1]) < 0)
		return -1;
	if (!peek(c, ']'))
		return fail(c, "\"value\" array must have exactly 2 elements");
	c->p++;
	return 0;
}

/* A string field that must be one of names[0..n). */
static int parse_enum(struct cursor *c, const char *field,
		      const char *const *names, int n, int *out)
{
	struct lc_str s;

	if (!peek(c, '"'))
		return fail(c, "\"%s\" must be a string", field);
	if (parse_string(c, &s) < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		if (strlen(names[i]) == s.len && memcmp(names[i], s.s, s.len) == 0) {
			*out = i;
			return 0;
		}
	}
	return fail(c, "unknown \"%s\" \"%.*s\"", field, (int)s.len, s.s);
}

static int parse_field(struct cursor *c, enum field f, struct lc_record *r)
{
	int v;

	switch (f) {
	case F_PROCESS:
		return parse_uint(c, "process", &r->process);
	case F_TIME:
		return parse_uint(c, "time", &r->time);
	case F_TYPE:
		if (parse_enum(c, "type", lc_type_names, 4, &v) < 0)
			return -1;
		r->type = (enum lc_type)v;
		return 0;
	case F_F:
		if (parse_enum(c, "f", lc_f_names, 4, &v) < 0)
			return -1;
		r->f = (enum lc_f)v;
		return 0;
	case F_KEY:
		if (!peek(c, '"'))
			return fail(c, "\"key\" must be a string");
		return parse_string(c, &r->key);
	case F_VALUE:
		return parse_value(c, r);
	default:
		return fail(c, "internal error: field %d", (int)f);
	}
}

int lc_record_parse(const char *line, size_t len, char *scratch,
		    struct lc_record *r, char *why, size_t whylen)
{
	struct cursor c = { line, line + len, scratch, why, whylen };
	unsigned seen = 0;

	memset(r, 0, sizeof(*r));
	if (expect(&c, '{') < 0)
		return -1;
	while (!peek(&c, '}')) {
		struct lc_str name;
		int f;

		if (seen && expect(&c, ',') < 0)
			return -1;
		if (!peek(&c, '"'))
			return fail(&c, "bad JSON: %s, expected a field name", here(&c));
		if (parse_string(&c, &name) < 0)
			return -1;
		for (f = 0; f < NFIELDS; f++)
			if (strlen(field_names[f]) == name.len &&
			    memcmp(field_names[f], name.s, name.len) == 0)
				break;
		if (f == NFIELDS)
			return fail(&c, "unknown field \"%.*s\"", (int)name.len, name.s);
		if (seen & 1u << f)
			return fail(&c, "field \"%s\" given twice", field_names[f]);
		seen |= 1u << f;
		if (expect(&c, ':') < 0 || parse_field(&c, (enum field)f, r) < 0)
			return -1;
	}
	c.p++;
	skip_ws(&c);
	if (c.p != c.end)
		return fail(&c, "bad JSON: text after the object");
	for (int f = 0; f < NFIELDS; f++)
		if (!(seen & 1u << f))
			return fail(&c, "missing field \"%s\"", field_names[f]);
	return 0;
}

void lc_json_string(FILE *out, struct lc_str s)
{
	if (!s.s) {
		fputs("null", out);
		return;
	}
	putc('"', out);
	for (size_t i = 0; i < s.len; i++) {
		unsigned char ch = (unsigned char)s.s[i];

		switch (ch) {
		case '"': fputs("\\\"", out); break;
		case '\\': fputs("\\\\", out); break;
		case '\n': fputs("\\n", out); break;
		case '\r': fputs("\\r", out); break;
		case '\t': fputs("\\t", out); break;
		default:
			if (ch < 0x20)
				fprintf(out, "\\u%04x", ch);
			else
				putc(ch, out);
		}
	}
	putc('"', out);
}

void lc_record_write(FILE *out, const struct lc_record *r)
{
	fprintf(out, "{\"process\":%llu,\"type\":\"%s\",\"f\":\"%s\",\"key\":",
		(unsigned long long)r->process, lc_type_names[r->type],
		lc_f_names[r->f]);
	lc_json_string(out, r->key);
	fputs(",\"value\":", out);
	if (r->vkind == LC_V_PAIR) {
		putc('[', out);
		lc_json_string(out, r->v[0]);
		putc(',', out);
		lc_json_string(out, r->v[1]);
		putc(']', out);
	} else {
		lc_json_string(out, r->v[0]);
	}
	fprintf(out, ",\"time\":%llu}\n", (unsigned long long)r->time);
}
