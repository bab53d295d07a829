/*
 * tc_harness.c - network namespace, veth pair, capture, frames, loading,
 * runs and counters for the TC broadcast program tests.  The checked
 * fixture unshares a network namespace in the forked test process, so it
 * vanishes with it.  Needs root.
 */
#define _GNU_SOURCE /* unshare */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "offload/switches.h"
#include "tc_harness.h"

/* How long to wait for an expected frame, and how long after the last
 * expected one to keep listening for a frame too many. */
#define CAPTURE_DEADLINE_MS 1000
#define CAPTURE_QUIET_MS 100

int tx_ifindex;
static int rx_fd = -1;
struct frame frames[CAPTURE_MAX];

/* Test address of replica i: distinct MAC, IP and port per replica, so
 * that every rewritten field shows. */
struct ec_bpf_peer test_peer(int i)
{
	struct ec_bpf_peer p = {
		.ip = htonl((198u << 24) | (18u << 16) | (200u << 8) | (10u + i)),
		.port = htons(7000 + i),
		.mac = { 0x02, 0xec, 0xc8, 0x00, 0x00, 10 + i },
	};

	return p;
}

/*
 * Build an Ethernet/IPv4/UDP/electrode-c PREPARE frame as the sender's
 * kernel would put it on the wire: valid IP checksum, UDP checksum as
 * asked.  Returns its length.
 */
size_t build_frame(__u8 *buf, const struct frame_spec *s)
{
	struct hdr_spec h = { .src = test_peer(s->from),
			      .dst = test_peer(s->to), .ttl = 64,
			      .type = EC_MSG_PREPARE, .flags = s->flags,
			      .sender = s->from, .view = 3, .op = 42,
			      .body_len = s->body_len };
	__u8 *body = (__u8 *)(ec_of(buf) + 1);
	size_t len;

	ck_assert_uint_le(L2L4_LEN + sizeof(struct ec_hdr) + s->body_len,
			  FRAME_MAX);
	len = write_hdrs(buf, &h);
	for (size_t i = 0; i < s->body_len; i++)
		body[i] = i * 7 + 1;
	if (s->udp_csum)
		set_udp_csum(buf);
	return len;
}

/* Run a shell command; the test fails if it does. */
void sh(const char *cmd)
{
	int rc = system(cmd);

	ck_assert_msg(rc == 0, "'%s' failed (status %d)", cmd, rc);
}

/* Checked fixture: a private network namespace with the veth pair up and
 * a capture socket on rx. */
void net_setup(void)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(ETH_P_ALL) };
	int one = 1;

	ck_assert_msg(unshare(CLONE_NEWNET) == 0,
		      "unshare(CLONE_NEWNET): %s (these tests need root)",
		      strerror(errno));
	sh("ip link set lo up && "
	   "ip link add " TX_DEV " type veth peer name " RX_DEV " && "
	   "ip link set " TX_DEV " up && ip link set " RX_DEV " up");
	tx_ifindex = if_nametoindex(TX_DEV);
	sll.sll_ifindex = if_nametoindex(RX_DEV);
	ck_assert(tx_ifindex > 0 && sll.sll_ifindex > 0);
	rx_fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK, htons(ETH_P_ALL));
	ck_assert_msg(rx_fd >= 0, "AF_PACKET socket: %s", strerror(errno));
	ck_assert(bind(rx_fd, (struct sockaddr *)&sll, sizeof(sll)) == 0);
	ck_assert(setsockopt(rx_fd, SOL_PACKET, PACKET_AUXDATA, &one,
			     sizeof(one)) == 0);
}

/* The namespace goes with the last reference to it: the capture socket. */
void net_teardown(void)
{
	if (rx_fd >= 0)
		close(rx_fd);
	rx_fd = -1;
}

/* Milliseconds on the monotonic clock. */
static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* 1 if the frame arrived at rx and is an electrode-c datagram (other
 * traffic on the veth, such as IPv6 neighbour discovery, is ignored). */
static int is_ec_frame(const struct frame *f)
{
	const struct ethhdr *eth = (const void *)f->b;
	const struct iphdr *ip = (const void *)(eth + 1);
	const struct ec_hdr *h = (const void *)((const __u8 *)(ip + 1) +
						sizeof(struct udphdr));

	return f->pkttype != PACKET_OUTGOING &&
	       f->len >= (size_t)((const __u8 *)(h + 1) - f->b) &&
	       eth->h_proto == htons(ETH_P_IP) &&
	       ip->protocol == IPPROTO_UDP && h->magic == htonl(EC_MAGIC);
}

/* Read one frame seen on rx into f; 1 if there was one, 0 if not. */
static int read_frame(struct frame *f)
{
	struct sockaddr_ll from;
	char cbuf[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
	struct iovec iov = { .iov_base = f->b, .iov_len = sizeof(f->b) };
	struct msghdr msg = { .msg_name = &from, .msg_namelen = sizeof(from),
			      .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	ssize_t n = recvmsg(rx_fd, &msg, 0);

	if (n < 0) {
		ck_assert_msg(errno == EAGAIN, "recvmsg: %s", strerror(errno));
		return 0;
	}
	f->len = n;
	f->pkttype = from.sll_pkttype;
	f->status = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c;
	     c = CMSG_NXTHDR(&msg, c)) {
		struct tpacket_auxdata aux;

		if (c->cmsg_level != SOL_PACKET ||
		    c->cmsg_type != PACKET_AUXDATA)
			continue;
		memcpy(&aux, CMSG_DATA(c), sizeof(aux));
		f->status = aux.tp_status;
	}
	return 1;
}

/*
 * Capture the electrode-c frames coming out of the veth into frames[]:
 * wait up to the deadline for want of them, then listen a little longer
 * for any extra.  Returns how many arrived.
 */
int capture(int want)
{
	long long deadline = now_ms() + CAPTURE_DEADLINE_MS;
	int got = 0;

	for (;;) {
		struct pollfd pfd = { .fd = rx_fd, .events = POLLIN };
		long long left = deadline - now_ms();

		if (got >= want && left > CAPTURE_QUIET_MS) {
			deadline = now_ms() + CAPTURE_QUIET_MS;
			left = CAPTURE_QUIET_MS;
		}
		if (left <= 0)
			return got;
		if (poll(&pfd, 1, left) <= 0)
			continue;
		while (got < CAPTURE_MAX && read_frame(&frames[got]))
			if (is_ec_frame(&frames[got]))
				got++;
		if (got == CAPTURE_MAX)
			return got;
	}
}

/* Open and load the program for replica self of an n-replica cluster.
 * The peer table holds an address for every id, past n too, so that a
 * copy to an id outside the cluster would show. */
struct ec_broadcast *load_prog(int n, int self)
{
	struct ec_broadcast *skel = ec_broadcast__open();
	int err;

	ck_assert_msg(skel, "ec_broadcast__open: %s", strerror(errno));
	for (int i = 0; i < EC_MAX_REPLICAS; i++)
		skel->rodata->ec_peers[i] = test_peer(i);
	skel->rodata->ec_self = self;
	skel->rodata->ec_n = n;
	err = ec_broadcast__load(skel);
	ck_assert_msg(!err, "ec_broadcast__load: %s", strerror(-err));
	return skel;
}

/* Run the program once on the frame pkt as if leaving tx with the given
 * mark; the frame it leaves behind goes to out.  Returns the verdict. */
int run(struct ec_broadcast *skel, const __u8 *pkt, size_t len,
	__u32 mark, __u8 *out, __u32 *out_len)
{
	struct __sk_buff ctx = { .ifindex = tx_ifindex, .mark = mark };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt,
		    .data_size_in = len, .data_out = out,
		    .data_size_out = FRAME_MAX, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);
	int err = bpf_prog_test_run_opts(
		bpf_program__fd(skel->progs.ec_broadcast), &opts);

	ck_assert_msg(!err, "bpf_prog_test_run_opts: %s", strerror(errno));
	*out_len = opts.data_size_out;
	return opts.retval;
}

/* Check every counter (summed over CPUs) against want; a negative want
 * means "any value". */
void expect_counters(struct ec_broadcast *skel,
		     const long long want[EC_TC_MAX])
{
	uint64_t sums[EC_TC_MAX];

	percpu_sums(bpf_map__fd(skel->maps.counters), EC_TC_MAX, sums);
	for (unsigned v = 0; v < EC_TC_MAX; v++)
		if (want[v] >= 0)
			ck_assert_msg((long long)sums[v] == want[v],
				      "counter %s: %lld, want %lld",
				      ec_tc_verdict_name(v),
				      (long long)sums[v], want[v]);
}
