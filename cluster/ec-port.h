/*
 * ec-port.h - what the two parts of ec-port share: the commands on the
 * attached instances (ec-port.c) and the delay line (ec-port-delay.c).
 */
#ifndef EC_PORT_TOOL_H
#define EC_PORT_TOOL_H

#include <linux/types.h>

#include "ec_port.h"

/* Exit status when the kernel or driver lacks what we need. */
#define EXIT_UNSUPPORTED 3

/* The maps of the instance attached to one port (descriptors, -1 when
 * closed). */
struct port_maps {
	int cfg;   /* port_cfg */
	int stats; /* port_stats */
	int links; /* port_links */
	int ring;  /* port_delay */
};

extern int verbose;

void pr_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
unsigned ifindex_of(const char *name);
int open_port_maps(const char *ifname, struct port_maps *m);
void close_port_maps(struct port_maps *m);
int set_cfg(int cfg_fd, const char *ifname, __u32 key, __u32 val);

/* Run the delay line for the ports ifnames[0..n) until SIGINT or SIGTERM,
 * sending frames into the bridge device bridge; returns the exit status. */
int delay_line_run(const char *bridge, int n, char **ifnames);

#endif
