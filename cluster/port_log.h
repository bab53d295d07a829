/*
 * port_log.h - ec-port's error lines: "ec-port: MESSAGE" on stderr, from
 * its commands (ec-port.c), the instance lookup (port.c) and the delay
 * line (delay_line.c) alike.
 */
#ifndef EC_CLUSTER_PORT_LOG_H
#define EC_CLUSTER_PORT_LOG_H

#include <stdarg.h>
#include <stdio.h>

static inline void pr_err(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* Print an error message prefixed with the program name. */
static inline void pr_err(const char *fmt, ...)
{
	va_list ap;

	fputs("ec-port: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

#endif /* EC_CLUSTER_PORT_LOG_H */
