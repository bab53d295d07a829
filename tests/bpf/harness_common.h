/*
 * harness_common.h - what the XDP and TC test harnesses share: views of a
 * crafted Ethernet/IPv4/UDP/electrode-c frame, the header writer, IPv4 and
 * UDP checksums and per-CPU counter sums; with run_suite.h for main().
 *
 * A frame here always starts with its Ethernet header and carries an IPv4
 * header without options.
 */
#ifndef HARNESS_COMMON_H
#define HARNESS_COMMON_H

#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../run_suite.h"
#include "ec_offload.h"

/* Bytes before the electrode-c header. */
#define L2L4_LEN (sizeof(struct ethhdr) + sizeof(struct iphdr) + \
		  sizeof(struct udphdr))
/* IPv4 frag_off bits (host order). */
#define IP_DF 0x4000
#define IP_MF 0x2000

/* The Ethernet header of frame f.  Like strchr(), these views do not keep
 * f's const: callers holding a const frame only read through them. */
static inline struct ethhdr *eth_of(const void *f)
{
	return (struct ethhdr *)f;
}

/* The IPv4 header of frame f. */
static inline struct iphdr *ip_of(const void *f)
{
	return (struct iphdr *)((const uint8_t *)f + sizeof(struct ethhdr));
}

/* The UDP header of frame f. */
static inline struct udphdr *udp_of(const void *f)
{
	return (struct udphdr *)((const uint8_t *)f + sizeof(struct ethhdr) +
				 sizeof(struct iphdr));
}

/* The electrode-c header of frame f. */
static inline struct ec_hdr *ec_of(const void *f)
{
	return (struct ec_hdr *)((const uint8_t *)f + L2L4_LEN);
}

/* The headers of a crafted frame, from src to dst.  The IPv4 header has id
 * 0x1234, DF and a valid checksum; the UDP checksum is 0; the electrode-c
 * header has commit = op - 1. */
struct hdr_spec {
	struct ec_bpf_peer src;
	struct ec_bpf_peer dst;
	uint8_t ttl;
	uint8_t type;
	uint8_t flags;
	uint8_t sender;
	uint32_t view;
	uint64_t op;
	uint32_t body_len;
};

size_t write_hdrs(uint8_t *f, const struct hdr_spec *s);

uint32_t csum_add(const void *p, size_t len, uint32_t sum);
uint16_t csum_fold(uint32_t sum);
void fix_ip_csum(uint8_t *f);
bool ip_csum_ok(const uint8_t *f);
uint32_t pseudo_sum(const uint8_t *f);
void set_udp_csum(uint8_t *f);
bool udp_csum_valid(const uint8_t *f);

void percpu_sums(int map_fd, uint32_t nkeys, uint64_t *sums);

#endif
