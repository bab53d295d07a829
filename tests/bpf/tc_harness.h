/*
 * tc_harness.h - running the TC broadcast program (bpf/ec_broadcast.bpf.c)
 * in a private network namespace: replica addresses and crafted frames,
 * the veth pair and the capture of what leaves it, skeleton loading,
 * program runs and counter checks.  Used by test_bpf_broadcast.c.
 */
#ifndef TC_HARNESS_H
#define TC_HARNESS_H

#include <linux/types.h>
#include <stddef.h>

#include "harness_common.h"
/* After ec_offload.h (from harness_common.h): the skeleton uses its types. */
#include "ec_broadcast.skel.h"

/* The veth pair: the program runs for tx, its clones are captured on rx. */
#define TX_DEV "ec-tx"
#define RX_DEV "ec-rx"
#define FRAME_MAX 2048
#define CAPTURE_MAX 16

/* A frame captured on rx. */
struct frame {
	__u8 b[FRAME_MAX];
	size_t len;
	__u8 pkttype; /* sockaddr_ll.sll_pkttype */
	__u32 status; /* tpacket_auxdata.tp_status */
};

/* What the last capture() caught, and tx's interface index. */
extern struct frame frames[CAPTURE_MAX];
extern int tx_ifindex;

/* What a crafted frame carries: source and destination are replica ids
 * (their test addresses), the rest goes into the headers. */
struct frame_spec {
	int from;
	int to;
	__u8 flags;
	int udp_csum; /* 1: a computed UDP checksum; 0: none (0) */
	size_t body_len;
};

struct ec_bpf_peer test_peer(int i);
size_t build_frame(__u8 *buf, const struct frame_spec *s);

void sh(const char *cmd);
void net_setup(void);
void net_teardown(void);
int capture(int want);

struct ec_broadcast *load_prog(int n, int self);
int run(struct ec_broadcast *skel, const __u8 *pkt, size_t len,
	__u32 mark, __u8 *out, __u32 *out_len);
void expect_counters(struct ec_broadcast *skel,
		     const long long want[EC_TC_MAX]);

#endif
