/*
 * delay_line.c - the delay line: `ec-port delay-line BRIDGE IFNAME...`.
 *
 * The TC program of each port copies a frame its rule delays into the
 * port's ring buffer (port_delay) with a due time on CLOCK_MONOTONIC, and
 * drops it (see bpf/bridge_port.bpf.c for why the kernel here cannot hold
 * it).  This process takes the records from every port's ring, keeps them
 * in a heap ordered by due time (then by arrival, so equal due times keep
 * their order and only jitter reorders), and sends each, when due, through
 * an AF_PACKET socket on the bridge device: the bridge forwards it by its
 * destination MAC (static FDB entries), as it would have at once.  Sent
 * through the bridge device, a frame meets no port program again.
 *
 * A frame from a local socket usually leaves with a partial UDP or TCP
 * checksum (CHECKSUM_PARTIAL: only the pseudo-header sum, the device or
 * the stack completes it); the bytes the ring holds are the frame as it
 * was, so the delay line computes the full checksum before it sends.
 *
 * While it runs, port_cfg[EC_PORT_CFG_DELAY_LINE] is 1 on its ports; on
 * SIGINT or SIGTERM it sets it back to 0 (new frames pass at once), takes
 * what is left in the rings and sends everything it holds at once, so
 * ending the delay line delays no frame for ever.
 */
#define _GNU_SOURCE /* ppoll */
#include <errno.h>
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "delay_line.h"
#include "port.h"
#include "port_log.h"

/* Frames held at most; past it a frame is sent at once (counted). */
#define MAX_HELD 65536
#define MAX_PORTS 16

/* A frame held until due. */
struct held {
	__u64 due_ns;
	__u64 seq; /* arrival order, for ties */
	__u32 len;
	__u8 data[EC_PORT_FRAME_MAX];
};

/* The delay line's state; one per process. */
static struct {
	struct held *heap[MAX_HELD]; /* min-heap by (due_ns, seq) */
	size_t n;
	__u64 seq;
	int sock;
	unsigned bridge;
	/* what it did, reported at exit */
	unsigned long long taken, sent, send_errors, overflow, bad, late_1ms;
	__u64 max_late_ns;
} dl;

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

/* Now on CLOCK_MONOTONIC, nanoseconds (bpf_ktime_get_ns's clock). */
static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

/* Whether held frame a is due before b. */
static int before(const struct held *a, const struct held *b)
{
	return a->due_ns < b->due_ns ||
	       (a->due_ns == b->due_ns && a->seq < b->seq);
}

static void heap_swap(size_t i, size_t j)
{
	struct held *t = dl.heap[i];

	dl.heap[i] = dl.heap[j];
	dl.heap[j] = t;
}

static void heap_push(struct held *h)
{
	size_t i = dl.n++;

	dl.heap[i] = h;
	while (i > 0 && before(dl.heap[i], dl.heap[(i - 1) / 2])) {
		heap_swap(i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static struct held *heap_pop(void)
{
	struct held *top = dl.heap[0];
	size_t i = 0;

	dl.heap[0] = dl.heap[--dl.n];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < dl.n && before(dl.heap[l], dl.heap[m]))
			m = l;
		if (r < dl.n && before(dl.heap[r], dl.heap[m]))
			m = r;
		if (m == i)
			break;
		heap_swap(i, m);
		i = m;
	}
	return top;
}

/* One's complement sum of len bytes at p added to sum. */
static __u32 csum_add(const __u8 *p, size_t len, __u32 sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (__u32)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (__u32)(p[len - 1] << 8);
	return sum;
}

/* Write the full UDP or TCP checksum of an IPv4 frame (a partial one
 * would be wrong by the time the frame leaves the bridge). */
static void fix_l4_csum(__u8 *data, __u32 len)
{
	const struct ether_header *eth = (const void *)data;
	const struct iphdr *ip = (const void *)(data + ETH_HLEN);
	__u8 pseudo[12], *l4;
	size_t ihl, l4len, off;
	__u32 sum;
	__u16 c;

	if (len < ETH_HLEN + sizeof(*ip) || eth->ether_type != htons(ETHERTYPE_IP))
		return;
	ihl = (size_t)ip->ihl * 4;
	if (ip->version != 4 || ihl < sizeof(*ip) ||
	    (ip->frag_off & htons(0x3fff)) ||
	    ETH_HLEN + (size_t)ntohs(ip->tot_len) > len ||
	    ntohs(ip->tot_len) < ihl)
		return;
	if (ip->protocol == IPPROTO_UDP)
		off = 6;
	else if (ip->protocol == IPPROTO_TCP)
		off = 16;
	else
		return;
	l4 = data + ETH_HLEN + ihl;
	l4len = ntohs(ip->tot_len) - ihl;
	if (l4len < off + 2)
		return;
	memcpy(pseudo, &ip->saddr, 4);
	memcpy(pseudo + 4, &ip->daddr, 4);
	pseudo[8] = 0;
	pseudo[9] = ip->protocol;
	pseudo[10] = (__u8)(l4len >> 8);
	pseudo[11] = (__u8)l4len;
	l4[off] = l4[off + 1] = 0;
	sum = csum_add(l4, l4len, csum_add(pseudo, sizeof(pseudo), 0));
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	c = (__u16)~sum;
	if (c == 0 && ip->protocol == IPPROTO_UDP)
		c = 0xffff; /* 0 would mean "no checksum" */
	l4[off] = (__u8)(c >> 8);
	l4[off + 1] = (__u8)c;
}

/* Send one frame into the bridge; counts the outcome. */
static void send_frame(const __u8 *data, __u32 len)
{
	struct sockaddr_ll to = { .sll_family = AF_PACKET,
				  .sll_ifindex = (int)dl.bridge,
				  .sll_halen = ETH_ALEN };
	const struct ether_header *eth = (const void *)data;

	memcpy(to.sll_addr, eth->ether_dhost, ETH_ALEN);
	to.sll_protocol = eth->ether_type;
	if (sendto(dl.sock, data, len, 0, (struct sockaddr *)&to,
		   sizeof(to)) < 0)
		dl.send_errors++;
	else
		dl.sent++;
}

/* Send every held frame due by now (all of them if now is ~0). */
static void send_due(__u64 now)
{
	while (dl.n > 0 && dl.heap[0]->due_ns <= now) {
		struct held *h = heap_pop();
		__u64 t = now_ns();

		if (t > h->due_ns + 1000000)
			dl.late_1ms++;
		if (t > h->due_ns && t - h->due_ns > dl.max_late_ns)
			dl.max_late_ns = t - h->due_ns;
		send_frame(h->data, h->len);
		free(h);
	}
}

/* Ring buffer callback: hold one record until it is due. */
static int on_record(void *ctx, void *data, size_t size)
{
	const struct ec_port_delayed *d = data;
	struct held *h;

	if (size < sizeof(*d) || d->len < ETH_HLEN ||
	    d->len > EC_PORT_FRAME_MAX) {
		dl.bad++;
		return 0;
	}
	dl.taken++;
	h = dl.n < MAX_HELD ? malloc(sizeof(*h)) : NULL;
	if (!h) {
		static __u8 buf[EC_PORT_FRAME_MAX];

		dl.overflow++;
		memcpy(buf, d->data, d->len);
		fix_l4_csum(buf, d->len);
		send_frame(buf, d->len);
		return 0;
	}
	h->due_ns = d->due_ns;
	h->seq = dl.seq++;
	h->len = d->len;
	memcpy(h->data, d->data, d->len);
	fix_l4_csum(h->data, h->len);
	heap_push(h);
	return 0;
}

/* Set port_cfg[EC_PORT_CFG_DELAY_LINE] to on for every open port. */
static void announce(struct port_maps *ports, int n, char **ifnames,
		     __u32 on)
{
	for (int i = 0; i < n; i++)
		if (ports[i].cfg >= 0)
			port_set_cfg(ports[i].cfg, ifnames[i],
				EC_PORT_CFG_DELAY_LINE, on);
}

int delay_line_run(const char *bridge, int n, char **ifnames)
{
	struct port_maps ports[MAX_PORTS];
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block, orig;
	struct ring_buffer *rb = NULL;
	int rc = 1, i;

	if (n < 1 || n > MAX_PORTS) {
		pr_err("delay-line wants a bridge and 1..%d ports", MAX_PORTS);
		return 2;
	}
	for (i = 0; i < n; i++)
		ports[i].cfg = ports[i].stats = ports[i].links =
			ports[i].ring = -1;
	dl.bridge = port_ifindex(bridge);
	if (!dl.bridge)
		return 1;
	dl.sock = socket(AF_PACKET, SOCK_RAW, 0); /* 0: send only */
	if (dl.sock < 0) {
		pr_err("AF_PACKET socket: %s", strerror(errno));
		return 1;
	}
	/* The signals arrive only inside ppoll, so none is missed. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &orig);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	for (i = 0; i < n; i++) {
		if (port_maps_open(ifnames[i], &ports[i]))
			goto out;
		if (!rb)
			rb = ring_buffer__new(ports[i].ring, on_record, NULL,
					      NULL);
		else if (ring_buffer__add(rb, ports[i].ring, on_record, NULL))
			goto rb_err;
		if (!rb)
			goto rb_err;
	}
	announce(ports, n, ifnames, 1);
	while (!stop) {
		struct pollfd pfd = { .fd = ring_buffer__epoll_fd(rb),
				      .events = POLLIN };
		__u64 now = now_ns(), wait = 1000000000ull;
		struct timespec ts;

		send_due(now);
		if (dl.n > 0 && dl.heap[0]->due_ns - now < wait)
			wait = dl.heap[0]->due_ns - now;
		ts.tv_sec = (time_t)(wait / 1000000000ull);
		ts.tv_nsec = (long)(wait % 1000000000ull);
		if (ppoll(&pfd, 1, &ts, &orig) < 0 && errno != EINTR) {
			pr_err("delay-line: ppoll: %s", strerror(errno));
			goto out;
		}
		if (ring_buffer__consume(rb) < 0) {
			pr_err("delay-line: reading the rings failed");
			goto out;
		}
	}
	rc = 0;
	goto out;
rb_err:
	pr_err("delay-line: opening the ring of %s failed: %s", ifnames[i],
	       strerror(errno));
out:
	announce(ports, n, ifnames, 0);
	if (rb) {
		ring_buffer__consume(rb);
		ring_buffer__free(rb);
	}
	send_due(~0ull);
	for (i = 0; i < n; i++)
		port_maps_close(&ports[i]);
	close(dl.sock);
	fprintf(stderr,
		"delay-line: %llu frames delayed, %llu sent, %llu send errors, "
		"%llu sent at once (too many held), %llu bad records, "
		"%llu sent more than 1 ms late, at worst %llu us late\n",
		dl.taken, dl.sent, dl.send_errors, dl.overflow, dl.bad,
		dl.late_1ms, (unsigned long long)(dl.max_late_ns / 1000));
	return rc;
}
