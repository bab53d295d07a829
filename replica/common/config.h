/*
 * config.h - the cluster configuration file.
 *
 * One line per replica, the same file on every replica and client:
 *
 *     # replica <id> <ipv4> <udp-port> <mac> <interface>
 *     replica 0 198.18.0.1 7000 02:ec:00:00:00:01 eth0
 *
 * Ids run from 0 to n-1 with no gap; the leader of view v is v mod n.
 * The MAC and interface are what the BPF offloads need to address peers and
 * attach; they are the same for namespaces on one host or real hosts.
 * Blank lines and lines starting with '#' are ignored.
 */
#ifndef EC_REPLICA_COMMON_CONFIG_H
#define EC_REPLICA_COMMON_CONFIG_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#include "ec_wire.h"

struct ec_peer {
	unsigned id;
	uint32_t ip;     /* network byte order */
	uint16_t port;   /* host byte order */
	uint8_t mac[6];
	char ifname[IF_NAMESIZE];
};

struct ec_config {
	unsigned n;
	struct ec_peer peers[EC_MAX_REPLICAS]; /* indexed by id */
};

/*
 * Parse the file at path into *cfg.  On error returns -1 and writes a
 * message naming the file and line into err.
 */
int ec_config_load(const char *path, struct ec_config *cfg, char *err,
		   size_t errlen);

/* Same, from a string (used by tests). */
int ec_config_parse(const char *text, const char *name, struct ec_config *cfg,
		    char *err, size_t errlen);

struct sockaddr_in;


/* Fill all of *sa with peer p's UDP address, for sendto or bind. */
void ec_peer_sockaddr(const struct ec_peer *p, struct sockaddr_in *sa);

/*
 * Parse s as an unsigned decimal in [min, max] into *v; a leading '-' or
 * anything after the digits is refused.  Returns 0, or -1 (*v is then
 * meaningless): the caller prints the message, naming the option and what
 * it expects.  Shared by the command lines of ec-bench, ec-cli and ec-port.
 */
int ec_parse_uint(const char *s, unsigned long long min,
		  unsigned long long max, unsigned long long *v);

#endif /* EC_REPLICA_COMMON_CONFIG_H */
