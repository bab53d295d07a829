/*
 * ec_port.h - the interface between cluster/ec-port and its BPF object
 * bpf/bridge_port.bpf.c (the local cluster's bridge ports and fault
 * injector).  Shared by user space and BPF, so the layouts are fixed:
 * explicit widths, sizes pinned below.  Nothing here belongs to the
 * replica's wire protocol; the bridge ports treat every frame alike.
 */
#ifndef EC_PORT_H
#define EC_PORT_H

#include <linux/types.h>

/* Keys of the port_cfg array. */
enum ec_port_cfg_key {
	EC_PORT_CFG_DROP_PERMILLE = 0, /* frames of any kind dropped per
					* 1000, 0..1000 (the port's loss) */
	EC_PORT_CFG_DELAY_LINE = 1,    /* 1 while an `ec-port delay-line`
					* drains port_delay; 0: a frame a
					* rule would delay passes at once */
	EC_PORT_CFG_MAX,
};

/*
 * A rule for one link: frames this port receives (= frames its node
 * sends) whose IPv4 destination is the key of port_links.  All zero
 * means no rule (ec-port deletes such entries).
 */
struct ec_port_link {
	__u32 loss_permille;  /* dropped per 1000 (XDP) */
	__u32 dup_permille;   /* sent twice per 1000 (TC) */
	__u32 delay_us;       /* held at least this long (TC + delay line) */
	__u32 jitter_us;      /* plus a uniform random 0..jitter_us */
};
_Static_assert(sizeof(struct ec_port_link) == 16, "ec_port_link layout");

/* Rules per port; more than one per node of the largest cluster. */
#define EC_PORT_MAX_LINKS 64

/*
 * One counter per event, summed over CPUs in port_stats.  The XDP program
 * gives each frame exactly one of the first three; the TC program, which
 * sees the frames XDP passed, counts what it did: a frame that is both
 * duplicated and delayed counts under both.
 */
enum ec_port_verdict {
	EC_PORT_PASSED = 0,       /* XDP: passed on to the bridge */
	EC_PORT_DROPPED = 1,      /* XDP: dropped by the port's loss */
	EC_PORT_LINK_DROPPED = 2, /* XDP: dropped by its link's loss */
	EC_PORT_TC_PASSED,        /* TC: no duplicate, no delay */
	EC_PORT_DUPLICATED,       /* TC: a copy was sent into the port */
	EC_PORT_DUP_FAILED,       /* TC: bpf_clone_redirect failed */
	EC_PORT_COPY,             /* TC: a marked copy came back in */
	EC_PORT_DELAYED,          /* TC: moved to the delay line */
	EC_PORT_DELAY_FULL,       /* TC: delay line full, passed at once */
	EC_PORT_DELAY_OFF,        /* TC: no delay line runs, passed at once */
	EC_PORT_VERDICT_MAX,
};

/* skb->mark of the copies the TC program makes: a marked frame is never
 * copied again (bpf_clone_redirect into the same port re-enters the same
 * hook).  The mark does not leave the bridge's namespace. */
#define EC_PORT_COPY_MARK 0xec0d0b1eu

/* A frame on its way through the delay line (ring buffer port_delay):
 * user space sends data[0..len) into the bridge at due_ns
 * (CLOCK_MONOTONIC, the clock of bpf_ktime_get_ns). */
#define EC_PORT_FRAME_MAX 1536
struct ec_port_delayed {
	__u64 due_ns;
	__u32 len;
	__u32 pad;
	__u8 data[EC_PORT_FRAME_MAX];
};
_Static_assert(sizeof(struct ec_port_delayed) == 16 + EC_PORT_FRAME_MAX,
	       "ec_port_delayed layout");

/* Bytes of port_delay: room for about 1300 frames in flight per port. */
#define EC_PORT_DELAY_RING_BYTES (2u << 20)

#endif /* EC_PORT_H */
