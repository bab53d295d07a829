/*
 * port.h - the bridge-port programs' instance on one interface, found
 * again by later commands.  Nothing is pinned (bpffs is not mounted
 * under `ip netns exec`): the maps are reached through the interface's
 * XDP program id and the map ids the kernel reports for that program,
 * and the TC program's must be the same instance.  ec-port's commands
 * (ec-port.c) and the delay line (delay_line.c) use it; it knows
 * neither.  Errors are printed (port_log.h).
 */
#ifndef EC_CLUSTER_PORT_H
#define EC_CLUSTER_PORT_H

#include <linux/types.h>

#include "ec_port.h"

/* The TC filter ec-port owns on each port's clsact ingress. */
#define PORT_TC_HANDLE 1
#define PORT_TC_PRIO 1

/* The maps of the instance attached to one port (descriptors, -1 when
 * closed). */
struct port_maps {
	int cfg;   /* port_cfg */
	int stats; /* port_stats */
	int links; /* port_links */
	int ring;  /* port_delay */
};

/* Interface index of name, or 0 after printing an error. */
unsigned port_ifindex(const char *name);

/*
 * Id of the program attached to idx in driver mode: 0 with *id = 0 when
 * there is none, -1 after printing an error.
 */
int port_attached_id(const char *ifname, unsigned idx, __u32 *id);

/*
 * Open the maps of our programs attached to ifname into *m (the caller
 * closes them with port_maps_close): those of the XDP program, and the
 * ring only the TC program uses, after checking both are one instance.
 * Returns 0, or -1 after printing an error when nothing or something
 * else is attached.
 */
int port_maps_open(const char *ifname, struct port_maps *m);

/* Close the descriptors of m and mark them closed. */
void port_maps_close(struct port_maps *m);

/* Write value at key of a port_cfg map; returns 0 or -1 after an error. */
int port_set_cfg(int cfg_fd, const char *ifname, __u32 key, __u32 val);

#endif /* EC_CLUSTER_PORT_H */
