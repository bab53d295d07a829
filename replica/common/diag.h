/*
 * diag.h - the replica daemon's log lines, on stderr.
 *
 * pr_warn and pr_info always print; pr_debug only with -v.  Every line is
 * prefixed with the tag set by ec_log_init (e.g. "r1"), so the logs of a
 * cluster can be merged and still read.
 */
#ifndef EC_REPLICA_COMMON_DIAG_H
#define EC_REPLICA_COMMON_DIAG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

enum ec_log_level {
	EC_LOG_WARN,
	EC_LOG_INFO,
	EC_LOG_DEBUG,
};

/* Defined in main.c. */
extern enum ec_log_level ec_log_max;
extern char ec_log_tag[16];

static inline void ec_log(enum ec_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Print one line (fmt has no trailing newline) if level is enabled. */
static inline void ec_log(enum ec_log_level level, const char *fmt, ...)
{
	static const char *const names[] = { "warn", "info", "debug" };
	va_list ap;

	if (level > ec_log_max)
		return;
	fprintf(stderr, "%s %s: ", ec_log_tag, names[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static inline bool ec_log_enabled(enum ec_log_level level)
{
	return level <= ec_log_max;
}

#define pr_warn(...) ec_log(EC_LOG_WARN, __VA_ARGS__)
#define pr_info(...) ec_log(EC_LOG_INFO, __VA_ARGS__)
#define pr_debug(...) ec_log(EC_LOG_DEBUG, __VA_ARGS__)

#endif /* EC_REPLICA_COMMON_DIAG_H */
