/*
 * harness_common.c - frame headers, checksums, counter sums and the suite
 * runner shared by the XDP and TC test harnesses.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <linux/in.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "harness_common.h"

/*
 * Write into f the Ethernet, IPv4, UDP and electrode-c headers of s, for
 * a datagram of s->body_len body bytes (the body itself is left to the
 * caller).  Returns the frame length, body included.
 */
size_t write_hdrs(uint8_t *f, const struct hdr_spec *s)
{
	struct ethhdr *eth = eth_of(f);
	struct iphdr *ip = ip_of(f);
	struct udphdr *udp = udp_of(f);
	struct ec_hdr *h = ec_of(f);
	size_t len = L2L4_LEN + sizeof(*h) + s->body_len;

	memcpy(eth->h_dest, s->dst.mac, ETH_ALEN);
	memcpy(eth->h_source, s->src.mac, ETH_ALEN);
	eth->h_proto = htons(ETH_P_IP);
	memset(ip, 0, sizeof(*ip));
	ip->version = 4;
	ip->ihl = 5;
	ip->tot_len = htons((uint16_t)(len - sizeof(*eth)));
	ip->id = htons(0x1234);
	ip->frag_off = htons(IP_DF);
	ip->ttl = s->ttl;
	ip->protocol = IPPROTO_UDP;
	ip->saddr = s->src.ip;
	ip->daddr = s->dst.ip;
	fix_ip_csum(f);
	udp->source = s->src.port;
	udp->dest = s->dst.port;
	udp->len = htons((uint16_t)(len - sizeof(*eth) - sizeof(*ip)));
	udp->check = 0;
	h->magic = htonl(EC_MAGIC);
	h->version = EC_VERSION;
	h->type = s->type;
	h->flags = s->flags;
	h->sender = s->sender;
	h->view = htonl(s->view);
	h->body_len = htonl(s->body_len);
	h->op = htobe64(s->op);
	h->commit = htobe64(s->op - 1);
	return len;
}

/* One's complement sum of len bytes, read as 16-bit words in memory order,
 * added to sum; the folded result is in the same order as the data. */
uint32_t csum_add(const void *p, size_t len, uint32_t sum)
{
	const uint8_t *b = p;
	uint16_t w;

	for (; len > 1; b += 2, len -= 2) {
		memcpy(&w, b, 2);
		sum += w;
	}
	if (len) {
		uint8_t last[2] = { b[0], 0 };

		memcpy(&w, last, 2);
		sum += w;
	}
	return sum;
}

/* Fold a 32-bit sum to 16 bits, not complemented. */
uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Recompute the IPv4 header checksum of frame f. */
void fix_ip_csum(uint8_t *f)
{
	struct iphdr *ip = ip_of(f);

	ip->check = 0;
	ip->check = (uint16_t)~csum_fold(csum_add(ip, sizeof(*ip), 0));
}

/* True if the IPv4 header checksum of frame f verifies. */
bool ip_csum_ok(const uint8_t *f)
{
	return csum_fold(csum_add(ip_of(f), sizeof(struct iphdr), 0)) == 0xffff;
}

/* Unfolded sum of the UDP pseudo-header of frame f's datagram. */
uint32_t pseudo_sum(const uint8_t *f)
{
	const struct iphdr *ip = ip_of(f);
	const struct udphdr *udp = udp_of(f);
	uint16_t proto = htons(IPPROTO_UDP);
	uint32_t sum = 0;

	sum = csum_add(&ip->saddr, 4, sum);
	sum = csum_add(&ip->daddr, 4, sum);
	sum = csum_add(&proto, 2, sum);
	return csum_add(&udp->len, 2, sum);
}

/* Give frame f a real UDP checksum, as a stack without SO_NO_CHECK would
 * (a computed 0 goes out as 0xffff). */
void set_udp_csum(uint8_t *f)
{
	struct udphdr *udp = udp_of(f);
	uint16_t c;

	udp->check = 0;
	c = (uint16_t)~csum_fold(csum_add(udp, ntohs(udp->len), pseudo_sum(f)));
	udp->check = c ? c : 0xffff;
}

/* True if frame f carries a UDP checksum that verifies (0, no checksum,
 * does not). */
bool udp_csum_valid(const uint8_t *f)
{
	const struct udphdr *udp = udp_of(f);

	return csum_fold(csum_add(udp, ntohs(udp->len), pseudo_sum(f))) ==
	       0xffff;
}

/* Sum each of the keys 0..nkeys-1 of the per-CPU array map_fd over all
 * possible CPUs into sums[]. */
void percpu_sums(int map_fd, uint32_t nkeys, uint64_t *sums)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t vals[ncpu > 0 ? ncpu : 1];

	ck_assert_int_gt(ncpu, 0);
	for (uint32_t k = 0; k < nkeys; k++) {
		ck_assert_int_eq(bpf_map_lookup_elem(map_fd, &k, vals), 0);
		sums[k] = 0;
		for (int i = 0; i < ncpu; i++)
			sums[k] += vals[i];
	}
}
