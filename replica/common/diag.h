/*
 * diag.h - the replica daemon's diagnostics: its log lines, on stderr.
 * (ec_diag_*, so that "log" keeps meaning the replicated log, core/log.h.)
 *
 * pr_warn and pr_info always print; pr_debug only with -v.  Every line is
 * prefixed with ec_diag_tag, which main.c sets (e.g. "r1"), so the logs
 * of a cluster can be merged and still read.
 */
#ifndef EC_REPLICA_COMMON_DIAG_H
#define EC_REPLICA_COMMON_DIAG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

enum ec_diag_level {
	EC_DIAG_WARN,
	EC_DIAG_INFO,
	EC_DIAG_DEBUG,
};

/* Defined in main.c. */
extern enum ec_diag_level ec_diag_max;
extern char ec_diag_tag[16];

static inline void ec_diag(enum ec_diag_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Print one line (fmt has no trailing newline) if level is enabled. */
static inline void ec_diag(enum ec_diag_level level, const char *fmt, ...)
{
	static const char *const names[] = { "warn", "info", "debug" };
	va_list ap;

	if (level > ec_diag_max)
		return;
	fprintf(stderr, "%s %s: ", ec_diag_tag, names[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static inline bool ec_diag_enabled(enum ec_diag_level level)
{
	return level <= ec_diag_max;
}

#define pr_warn(...) ec_diag(EC_DIAG_WARN, __VA_ARGS__)
#define pr_info(...) ec_diag(EC_DIAG_INFO, __VA_ARGS__)
#define pr_debug(...) ec_diag(EC_DIAG_DEBUG, __VA_ARGS__)

#endif /* EC_REPLICA_COMMON_DIAG_H */
