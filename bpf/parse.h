/* SPDX-License-Identifier: GPL-2.0 */
/*
 * parse.h - bounds-checked packet parsing for the electrode-c BPF programs,
 * and the per-verdict counting every program does.
 *
 * Each parse_* takes a cursor, checks the header fits before data_end,
 * returns a pointer to it (NULL if it does not fit or is not what we want)
 * and advances the cursor.  Callers must re-derive pointers after any
 * helper that can move packet data (bpf_xdp_adjust_tail, bpf_skb_store_bytes,
 * the checksum helpers, bpf_clone_redirect).
 */
#ifndef EC_BPF_PARSE_H
#define EC_BPF_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "ec_wire.h"

/* Bytes in front of the electrode-c header: parse_ec_pkt accepts IPv4
 * without options only, so this is constant. */
#define EC_L2L4_LEN \
	(sizeof(struct ethhdr) + sizeof(struct iphdr) + sizeof(struct udphdr))

/* Count one event under verdict v in map, a per-CPU array of __u64:
 * per CPU, so a plain add is race-free. */
static __always_inline void count(void *map, __u32 v)
{
	__u64 *n = bpf_map_lookup_elem(map, &v);

	if (n)
		*n += 1;
}

struct cursor {
	void *pos;
	void *end;
};

static __always_inline struct ethhdr *parse_eth(struct cursor *c)
{
	struct ethhdr *eth = c->pos;

	if ((void *)(eth + 1) > c->end || eth->h_proto != bpf_htons(ETH_P_IP))
		return NULL;
	c->pos = eth + 1;
	return eth;
}

/* IPv4 without options, not a fragment, carrying UDP. */
static __always_inline struct iphdr *parse_ipv4_udp(struct cursor *c)
{
	struct iphdr *ip = c->pos;

	if ((void *)(ip + 1) > c->end || ip->version != 4 || ip->ihl != 5 ||
	    ip->protocol != IPPROTO_UDP ||
	    (ip->frag_off & bpf_htons(0x3fff)) != 0)
		return NULL;
	c->pos = ip + 1;
	return ip;
}

static __always_inline struct udphdr *parse_udp(struct cursor *c)
{
	struct udphdr *udp = c->pos;

	if ((void *)(udp + 1) > c->end)
		return NULL;
	c->pos = udp + 1;
	return udp;
}

/* The electrode-c header: magic and version checked, type known. */
static __always_inline struct ec_hdr *parse_ec(struct cursor *c)
{
	struct ec_hdr *h = c->pos;

	if ((void *)(h + 1) > c->end || h->magic != bpf_htonl(EC_MAGIC) ||
	    h->version != EC_VERSION || h->type == 0 ||
	    h->type >= EC_MSG_TYPE_MAX)
		return NULL;
	c->pos = h + 1;
	return h;
}

/* Full parse of eth/ipv4/udp/ec; any NULL means "not ours". */
struct ec_pkt {
	struct ethhdr *eth;
	struct iphdr *ip;
	struct udphdr *udp;
	struct ec_hdr *ec;
};

static __always_inline int parse_ec_pkt(void *data, void *data_end,
					struct ec_pkt *p)
{
	struct cursor c = { .pos = data, .end = data_end };

	p->eth = parse_eth(&c);
	if (!p->eth)
		return -1;
	p->ip = parse_ipv4_udp(&c);
	if (!p->ip)
		return -1;
	p->udp = parse_udp(&c);
	if (!p->udp)
		return -1;
	p->ec = parse_ec(&c);
	if (!p->ec)
		return -1;
	return 0;
}

/* Fold a 32-bit one's complement sum to 16 bits. */
static __always_inline __u16 csum_fold32(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* Full IPv4 header checksum (no options). */
static __always_inline __u16 ipv4_csum(struct iphdr *ip)
{
	__u16 *w = (__u16 *)ip;
	__u32 sum = 0;

	ip->check = 0;
#pragma unroll
	for (int i = 0; i < (int)(sizeof(*ip) / 2); i++)
		sum += w[i];
	return csum_fold32(sum);
}

/* RFC 1624 incremental update of a 16-bit checksum field for a 16-bit
 * word changing from old to new (all in network byte order).  A UDP
 * checksum of 0 means "none" and stays 0. */
static __always_inline void csum_replace2(__sum16 *check, __be16 old,
					 __be16 new)
{
	__u32 sum;

	if (*check == 0)
		return;
	sum = (__u16)~*check + (__u16)~old + (__u16)new;
	*check = csum_fold32(sum);
	if (*check == 0)
		*check = 0xffff; /* UDP: 0 would mean "no checksum" */
}

#endif /* EC_BPF_PARSE_H */
