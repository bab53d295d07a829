// SPDX-License-Identifier: GPL-2.0
/*
 * ec_broadcast.bpf.c - TC egress on a replica's interface: user space sends
 * a "to all" datagram once, this program sends one copy to every peer.
 *
 * A datagram is ours to broadcast when it leaves from our own IP and UDP
 * port (ec_peers[ec_self]) and its electrode-c header has EC_F_TO_ALL.
 * For each peer (id below ec_n) other than ourselves the program rewrites
 * the frame in place to that peer (destination MAC, IP, UDP port,
 * checksums) and sends a copy with bpf_clone_redirect to the egress of the
 * same device.
 * The clones carry TO_ALL cleared (what a peer receives is not for it to
 * broadcast again; here it is a second guard against re-cloning).  The
 * original is then dropped, so each peer gets exactly one copy, including
 * the peer user space addressed the original to.
 *
 * Every clone passes through this hook again.  The original is marked
 * EC_CLONE_MARK before the first clone, the clones inherit the mark, and a
 * marked packet passes untouched, so a clone is never cloned again and the
 * kernel's transmit recursion limit is never approached, whatever n is.
 *
 * The TO_ALL flag decides, not the broadcast switch.  User space sets the
 * flag only while its switch is on; a packet built with the flag just
 * before the switch turns off is still broadcast here, because passing it
 * to the single address in it would leave every other peer without a
 * copy.  So the broadcast switch lives in user space only.
 *
 * What user space must do for a "to all" datagram: send it from its own
 * bound address, with TO_ALL set, to any peer's address that is routed
 * out of this interface (never to itself: that would go through lo), and
 * only if it fits in one frame (the program skips IP fragments, so a
 * fragmented datagram would reach only that one peer).
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "ec_offload.h"
#include "parse.h"

/* Offsets in the frame of what is rewritten per peer.  parse_ec_pkt
 * accepts IPv4 without options only, so they are constant. */
#define IP_OFF sizeof(struct ethhdr)
#define UDP_OFF (IP_OFF + sizeof(struct iphdr))
#define ETH_DEST_OFF __builtin_offsetof(struct ethhdr, h_dest)
#define IP_CSUM_OFF (IP_OFF + __builtin_offsetof(struct iphdr, check))
#define IP_DADDR_OFF (IP_OFF + __builtin_offsetof(struct iphdr, daddr))
#define UDP_DEST_OFF (UDP_OFF + __builtin_offsetof(struct udphdr, dest))
#define UDP_CSUM_OFF (UDP_OFF + __builtin_offsetof(struct udphdr, check))
#define EC_FLAGS_OFF (EC_L2L4_LEN + __builtin_offsetof(struct ec_hdr, flags))

/* Topology, set by the loader before load. */
const volatile struct ec_bpf_peer ec_peers[EC_MAX_REPLICAS] = {};
const volatile __u32 ec_self = 0;
const volatile __u32 ec_n = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, EC_TC_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* Where the frame is addressed right now.  Kept in registers so that no
 * packet pointer is needed after the first helper call. */
struct ec_dst {
	__be32 ip;
	__be16 port;
};

/*
 * Clear TO_ALL in the frame, whose flags/sender word is fw (as stored),
 * and, if it has a UDP checksum (csum), fix it for the changed word.
 * Returns 0 or a negative error from the helpers.
 */
static __always_inline int clear_to_all(struct __sk_buff *skb, __u16 fw,
					bool csum)
{
	__u16 nfw = fw;
	int err;

	/* The flags byte comes first in the word, whatever the host order. */
	((__u8 *)&nfw)[0] &= ~EC_F_TO_ALL;
	err = bpf_skb_store_bytes(skb, EC_FLAGS_OFF, &nfw, sizeof(nfw), 0);
	if (err || !csum)
		return err;
	return bpf_l4_csum_replace(skb, UDP_CSUM_OFF, fw, nfw,
				   BPF_F_MARK_MANGLED_0 | sizeof(nfw));
}

/*
 * Readdress the frame, now addressed to *cur, to peer: destination MAC,
 * IP and UDP port, with the IP checksum and, if the frame has one (csum),
 * the UDP checksum fixed.  Updates *cur.  Returns 0 or a negative error
 * from the helpers, after which the frame may be half rewritten.
 */
static __always_inline int readdress(struct __sk_buff *skb,
				     struct ec_dst *cur,
				     const volatile struct ec_bpf_peer *peer,
				     bool csum)
{
	__be32 ip = peer->ip;
	__be16 port = peer->port;
	int err;

	err = bpf_skb_store_bytes(skb, ETH_DEST_OFF, (void *)peer->mac,
				  sizeof(peer->mac), 0);
	if (err)
		return err;
	if (ip != cur->ip) {
		err = bpf_skb_store_bytes(skb, IP_DADDR_OFF, &ip, sizeof(ip), 0);
		if (!err)
			err = bpf_l3_csum_replace(skb, IP_CSUM_OFF, cur->ip, ip,
						  sizeof(ip));
		if (!err && csum)
			err = bpf_l4_csum_replace(skb, UDP_CSUM_OFF, cur->ip, ip,
						  BPF_F_PSEUDO_HDR |
						  BPF_F_MARK_MANGLED_0 |
						  sizeof(ip));
		if (err)
			return err;
		cur->ip = ip;
	}
	if (port != cur->port) {
		err = bpf_skb_store_bytes(skb, UDP_DEST_OFF, &port, sizeof(port),
					  0);
		if (!err && csum)
			err = bpf_l4_csum_replace(skb, UDP_CSUM_OFF, cur->port,
						  port, BPF_F_MARK_MANGLED_0 |
						  sizeof(port));
		if (err)
			return err;
		cur->port = port;
	}
	return 0;
}

/*
 * Broadcast a "to all" datagram of ours to every other peer and drop the
 * original (TC_ACT_SHOT); pass anything else untouched (TC_ACT_OK).  Each
 * outcome is counted under its ec_tc_verdict.
 */
SEC("tc")
int ec_broadcast(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	__u32 self = ec_self;
	struct ec_pkt p;
	struct ec_dst cur;
	bool csum;
	__u16 fw;
	int ok;

	if (skb->mark == EC_CLONE_MARK) {
		count(&counters, EC_TC_PASS_CLONE);
		return TC_ACT_OK;
	}
	if (self >= EC_MAX_REPLICAS || parse_ec_pkt(data, data_end, &p) < 0 ||
	    p.ip->saddr != ec_peers[self].ip ||
	    p.udp->source != ec_peers[self].port) {
		count(&counters, EC_TC_PASS_NOT_EC);
		return TC_ACT_OK;
	}
	if (!(p.ec->flags & EC_F_TO_ALL)) {
		count(&counters, EC_TC_PASS_NOT_TO_ALL);
		return TC_ACT_OK;
	}
	cur.ip = p.ip->daddr;
	cur.port = p.udp->dest;
	__builtin_memcpy(&fw, &p.ec->flags, sizeof(fw));
	/* A UDP checksum of 0 means none in IPv4 and must stay 0.  The
	 * replica sends that way (SO_NO_CHECK): skip the updates here
	 * instead of calling the helpers per clone to find that out. */
	csum = p.udp->check != 0;
	/* No packet pointer is used below: the helpers may move the data. */

	skb->mark = EC_CLONE_MARK;
	ok = clear_to_all(skb, fw, csum) == 0;
	for (__u32 i = 0; i < EC_MAX_REPLICAS; i++) {
		if (i >= ec_n)
			break;
		if (i == self)
			continue;
		/* After a failed rewrite the frame is in an unknown state:
		 * send nothing more, but count every peer left out. */
		if (ok)
			ok = readdress(skb, &cur, &ec_peers[i], csum) == 0;
		/* Any non-zero return is a lost clone: a negative error, or
		 * a positive NET_XMIT_* code from a qdisc that dropped it. */
		if (ok && bpf_clone_redirect(skb, skb->ifindex, 0) == 0)
			count(&counters, EC_TC_CLONED);
		else
			count(&counters, EC_TC_CLONE_FAILED);
	}
	count(&counters, EC_TC_BROADCAST);
	return TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "GPL";
