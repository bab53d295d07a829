/*
 * test_bpf_broadcast.c - the TC broadcast program (bpf/ec_broadcast.bpf.c).
 *
 * Every test runs in a network namespace of its own (the checked fixture
 * unshares one in the forked test process, so it vanishes with it) with a
 * veth pair: the program runs for "tx" and its clones really leave through
 * it, and an AF_PACKET socket on "rx" captures what comes out.  Most tests
 * run the program once with BPF_PROG_TEST_RUN on a crafted frame; the
 * last ones attach it to tx's egress and send from a real UDP socket, so
 * that the clones re-enter the hook and the kernel's own partial UDP
 * checksum goes through the rewrite.  Needs root.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <check.h>
#include <endian.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/udp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ec_offload.h"
/* After ec_offload.h: the skeleton uses its types. */
#include "ec_broadcast.skel.h"
#include "offload_switch.h"

#define TX_DEV "ec-tx"
#define RX_DEV "ec-rx"
#define FRAME_MAX 2048
#define CAPTURE_MAX 16
/* How long to wait for an expected frame, and how long after the last
 * expected one to keep listening for a frame too many. */
#define CAPTURE_DEADLINE_MS 1000
#define CAPTURE_QUIET_MS 100
/* IPv4 frag_off bits (host order). */
#define IP_DF 0x4000
#define IP_MF 0x2000

static int tx_ifindex;
static int rx_fd = -1;

struct frame {
	__u8 b[FRAME_MAX];
	size_t len;
	__u8 pkttype; /* sockaddr_ll.sll_pkttype */
	__u32 status; /* tpacket_auxdata.tp_status */
};

static struct frame frames[CAPTURE_MAX];

/* What a crafted frame carries: source and destination are replica ids
 * (their test addresses), the rest goes into the headers. */
struct frame_spec {
	int from;
	int to;
	__u8 flags;
	int udp_csum; /* 1: a computed UDP checksum; 0: none (0) */
	size_t body_len;
};

/* Test address of replica i: distinct MAC, IP and port per replica, so
 * that every rewritten field shows. */
static struct ec_bpf_peer test_peer(int i)
{
	struct ec_bpf_peer p = {
		.ip = htonl((198u << 24) | (18u << 16) | (200u << 8) | (10u + i)),
		.port = htons(7000 + i),
		.mac = { 0x02, 0xec, 0xc8, 0x00, 0x00, 10 + i },
		.valid = 1,
	};

	return p;
}

/* One's complement sum of len bytes, read as 16-bit words in memory order,
 * added to sum; the folded result is in the same order as the data. */
static __u32 csum_add(const void *p, size_t len, __u32 sum)
{
	const __u8 *b = p;
	__u16 w;

	for (; len > 1; b += 2, len -= 2) {
		memcpy(&w, b, 2);
		sum += w;
	}
	if (len) {
		__u8 last[2] = { b[0], 0 };

		memcpy(&w, last, 2);
		sum += w;
	}
	return sum;
}

/* Fold a 32-bit sum to 16 bits, not complemented. */
static __u16 csum_fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

/* Sum of the UDP pseudo-header of the datagram in ip. */
static __u32 pseudo_sum(const struct iphdr *ip, const struct udphdr *udp)
{
	__u16 proto = htons(IPPROTO_UDP);
	__u32 sum = 0;

	sum = csum_add(&ip->saddr, 4, sum);
	sum = csum_add(&ip->daddr, 4, sum);
	sum = csum_add(&proto, 2, sum);
	return csum_add(&udp->len, 2, sum);
}

/* 1 if the UDP checksum of the datagram in ip verifies. */
static int udp_csum_ok(const struct iphdr *ip, const struct udphdr *udp)
{
	__u32 sum = pseudo_sum(ip, udp);

	return csum_fold(csum_add(udp, ntohs(udp->len), sum)) == 0xffff;
}

/*
 * Build an Ethernet/IPv4/UDP/electrode-c PREPARE frame as the sender's
 * kernel would put it on the wire: valid IP checksum, UDP checksum as
 * asked.  Returns its length.
 */
static size_t build_frame(__u8 *buf, const struct frame_spec *s)
{
	struct ec_bpf_peer src = test_peer(s->from), dst = test_peer(s->to);
	struct ethhdr *eth = (void *)buf;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);
	struct ec_hdr *h = (void *)(udp + 1);
	__u8 *body = (void *)(h + 1);
	size_t ulen = sizeof(*udp) + sizeof(*h) + s->body_len;

	ck_assert_uint_le(sizeof(*eth) + sizeof(*ip) + ulen, FRAME_MAX);
	memset(buf, 0, sizeof(*eth) + sizeof(*ip) + ulen);
	memcpy(eth->h_dest, dst.mac, ETH_ALEN);
	memcpy(eth->h_source, src.mac, ETH_ALEN);
	eth->h_proto = htons(ETH_P_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->tot_len = htons(sizeof(*ip) + ulen);
	ip->id = htons(0x1234);
	ip->frag_off = htons(IP_DF);
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->saddr = src.ip;
	ip->daddr = dst.ip;
	ip->check = ~csum_fold(csum_add(ip, sizeof(*ip), 0));
	udp->source = src.port;
	udp->dest = dst.port;
	udp->len = htons(ulen);
	h->magic = htonl(EC_MAGIC);
	h->version = EC_VERSION;
	h->type = EC_MSG_PREPARE;
	h->flags = s->flags;
	h->sender = s->from;
	h->view = htonl(3);
	h->body_len = htonl(s->body_len);
	h->op = htobe64(42);
	h->commit = htobe64(41);
	for (size_t i = 0; i < s->body_len; i++)
		body[i] = i * 7 + 1;
	if (s->udp_csum) {
		udp->check = ~csum_fold(csum_add(udp, ulen, pseudo_sum(ip, udp)));
		if (!udp->check)
			udp->check = 0xffff;
	}
	return sizeof(*eth) + sizeof(*ip) + ulen;
}

/* Run a shell command; the test fails if it does. */
static void sh(const char *cmd)
{
	int rc = system(cmd);

	ck_assert_msg(rc == 0, "'%s' failed (status %d)", cmd, rc);
}

/* Checked fixture: a private network namespace with the veth pair up and
 * a capture socket on rx. */
static void net_setup(void)
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
static void net_teardown(void)
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
static int capture(int want)
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

/* Open and load the program for replica self of an n-replica cluster;
 * replicas whose bit is set in invalid are left out of the peer table. */
static struct ec_broadcast *load_prog(int n, int self, unsigned invalid)
{
	struct ec_broadcast *skel = ec_broadcast__open();
	int err;

	ck_assert_msg(skel, "ec_broadcast__open: %s", strerror(errno));
	for (int i = 0; i < n; i++)
		if (!(invalid & (1u << i)))
			skel->rodata->ec_peers[i] = test_peer(i);
	skel->rodata->ec_self = self;
	skel->rodata->ec_n = n;
	err = ec_broadcast__load(skel);
	ck_assert_msg(!err, "ec_broadcast__load: %s", strerror(-err));
	return skel;
}

/* Run the program once on the frame pkt as if leaving tx with the given
 * mark; the frame it leaves behind goes to out.  Returns the verdict. */
static int run(struct ec_broadcast *skel, const __u8 *pkt, size_t len,
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
static void expect_counters(struct ec_broadcast *skel,
			    const long long want[EC_TC_MAX])
{
	int ncpu = libbpf_num_possible_cpus();
	int fd = bpf_map__fd(skel->maps.counters);
	__u64 vals[ncpu];

	ck_assert_int_gt(ncpu, 0);
	for (__u32 v = 0; v < EC_TC_MAX; v++) {
		long long sum = 0;

		ck_assert(bpf_map_lookup_elem(fd, &v, vals) == 0);
		for (int c = 0; c < ncpu; c++)
			sum += vals[c];
		if (want[v] >= 0)
			ck_assert_msg(sum == want[v], "counter %s: %lld, want %lld",
				      ec_tc_verdict_name(v), sum, want[v]);
	}
}

/* Zero both checksum fields of a frame, for comparing the rest. */
static void zero_csums(__u8 *b)
{
	struct iphdr *ip = (void *)(b + sizeof(struct ethhdr));
	struct udphdr *udp = (void *)(ip + 1);

	ip->check = 0;
	udp->check = 0;
}

/*
 * Check that a clone is exactly the original readdressed to its peer with
 * TO_ALL cleared, with a valid IP checksum and a valid UDP checksum (or 0
 * if the original had none).  Returns the peer id.
 */
static int check_test_run_clone(const struct frame *f,
				const struct frame_spec *orig, int n)
{
	const struct iphdr *ip = (const void *)(f->b + sizeof(struct ethhdr));
	const struct udphdr *udp = (const void *)(ip + 1);
	static __u8 want[FRAME_MAX], got[FRAME_MAX];
	struct frame_spec s = *orig;
	size_t len;
	int peer;

	for (peer = 0; peer < n; peer++)
		if (test_peer(peer).ip == ip->daddr)
			break;
	ck_assert_msg(peer < n, "clone to an unknown address");
	s.to = peer;
	s.flags &= ~EC_F_TO_ALL;
	len = build_frame(want, &s);
	ck_assert_uint_eq(f->len, len);
	ck_assert_msg(csum_fold(csum_add(ip, sizeof(*ip), 0)) == 0xffff,
		      "clone to %d: bad IP checksum", peer);
	if (orig->udp_csum)
		ck_assert_msg(udp_csum_ok(ip, udp),
			      "clone to %d: bad UDP checksum", peer);
	else
		ck_assert_msg(udp->check == 0, "clone to %d: UDP checksum %#x",
			      peer, udp->check);
	memcpy(got, f->b, len);
	zero_csums(got);
	zero_csums(want);
	ck_assert_msg(memcmp(got, want, len) == 0,
		      "clone to %d differs from the expected frame", peer);
	return peer;
}

/*
 * Broadcast one PREPARE by test run in an n-replica cluster and check the
 * outcome: one exact copy per valid peer but self, none to self or any
 * other address, the original dropped, counters matching.
 */
static void check_broadcast(int n, int self, unsigned invalid,
			    const struct frame_spec *s)
{
	struct ec_broadcast *skel = load_prog(n, self, invalid);
	static __u8 pkt[FRAME_MAX], out[FRAME_MAX];
	long long want[EC_TC_MAX] = { 0 };
	unsigned seen = 0;
	int peers = 0, got;
	__u32 out_len;
	size_t len;

	for (int i = 0; i < n; i++)
		if (i != self && !(invalid & (1u << i)))
			peers++;
	len = build_frame(pkt, s);
	ck_assert_int_eq(run(skel, pkt, len, 0, out, &out_len), TC_ACT_SHOT);
	got = capture(peers);
	ck_assert_msg(got == peers, "%d clones, want %d", got, peers);
	for (int i = 0; i < got; i++) {
		int peer = check_test_run_clone(&frames[i], s, n);

		ck_assert_msg(peer != self, "clone sent to ourselves");
		ck_assert_msg(!(invalid & (1u << peer)),
			      "clone sent to invalid peer %d", peer);
		ck_assert_msg(!(seen & (1u << peer)), "two clones to %d", peer);
		seen |= 1u << peer;
	}
	want[EC_TC_CLONED] = peers;
	want[EC_TC_BROADCAST] = 1;
	expect_counters(skel, want);
	ec_broadcast__destroy(skel);
}

START_TEST(to_all_reaches_each_other_peer_once_n3)
{
	struct frame_spec s = { .from = 0, .to = 1, .flags = EC_F_TO_ALL,
				.udp_csum = 1, .body_len = 64 };

	check_broadcast(3, 0, 0, &s);
}
END_TEST

START_TEST(to_all_reaches_each_other_peer_once_n5_no_udp_csum)
{
	struct frame_spec s = { .from = 2, .to = 4, .flags = EC_F_TO_ALL,
				.udp_csum = 0, .body_len = 200 };

	check_broadcast(5, 2, 0, &s);
}
END_TEST

/* Other flag bits survive; odd body length exercises the checksum tail. */
START_TEST(to_all_reaches_each_other_peer_once_n9)
{
	struct frame_spec s = { .from = 8, .to = 0,
				.flags = EC_F_TO_ALL | EC_F_QUORUM,
				.udp_csum = 1, .body_len = 1001 };

	check_broadcast(9, 8, 0, &s);
}
END_TEST

START_TEST(to_all_skips_invalid_peers)
{
	struct frame_spec s = { .from = 0, .to = 1, .flags = EC_F_TO_ALL,
				.udp_csum = 1, .body_len = 16 };

	check_broadcast(5, 0, 1u << 3, &s);
}
END_TEST

/* Make tx unable to send: every clone fails, is counted, and the original
 * is still dropped (never sent to the one address it carries). */
START_TEST(failed_clones_are_counted_and_original_dropped)
{
	struct frame_spec s = { .from = 0, .to = 1, .flags = EC_F_TO_ALL,
				.udp_csum = 1, .body_len = 16 };
	struct ec_broadcast *skel = load_prog(5, 0, 0);
	static __u8 pkt[FRAME_MAX], out[FRAME_MAX];
	long long want[EC_TC_MAX] = { [EC_TC_CLONE_FAILED] = 4,
				      [EC_TC_BROADCAST] = 1 };
	__u32 out_len;
	size_t len = build_frame(pkt, &s);

	sh("ip link set " TX_DEV " down");
	ck_assert_int_eq(run(skel, pkt, len, 0, out, &out_len), TC_ACT_SHOT);
	ck_assert_int_eq(capture(0), 0);
	expect_counters(skel, want);
	ec_broadcast__destroy(skel);
}
END_TEST

/*
 * Run the program on pkt (mark as given) and check that it passes the
 * frame untouched, sends nothing, and counts it under verdict v only.
 */
static void check_passes(int n, int self, const __u8 *pkt, size_t len,
			 __u32 mark, enum ec_tc_verdict v)
{
	struct ec_broadcast *skel = load_prog(n, self, 0);
	static __u8 out[FRAME_MAX];
	long long want[EC_TC_MAX] = { 0 };
	__u32 out_len;

	ck_assert_int_eq(run(skel, pkt, len, mark, out, &out_len), TC_ACT_OK);
	ck_assert_uint_eq(out_len, len);
	ck_assert_msg(memcmp(out, pkt, len) == 0, "frame was modified");
	ck_assert_int_eq(capture(0), 0);
	want[v] = 1;
	expect_counters(skel, want);
	ec_broadcast__destroy(skel);
}

/* A to-all frame of replica 0 in a 5-replica cluster, into pkt. */
static size_t to_all_frame(__u8 *pkt)
{
	struct frame_spec s = { .from = 0, .to = 1, .flags = EC_F_TO_ALL,
				.udp_csum = 1, .body_len = 16 };

	return build_frame(pkt, &s);
}

#define IP_OF(pkt) ((struct iphdr *)((pkt) + sizeof(struct ethhdr)))
#define UDP_OF(pkt) ((struct udphdr *)(IP_OF(pkt) + 1))
#define EC_OF(pkt) ((struct ec_hdr *)(UDP_OF(pkt) + 1))

START_TEST(clone_reentering_passes_untouched)
{
	static __u8 pkt[FRAME_MAX];
	size_t len = to_all_frame(pkt);

	check_passes(5, 0, pkt, len, EC_CLONE_MARK, EC_TC_PASS_CLONE);
}
END_TEST

START_TEST(ours_without_to_all_passes_untouched)
{
	struct frame_spec s = { .from = 0, .to = 1, .flags = EC_F_FAST_ACK,
				.udp_csum = 1, .body_len = 16 };
	static __u8 pkt[FRAME_MAX];
	size_t len = build_frame(pkt, &s);

	check_passes(5, 0, pkt, len, 0, EC_TC_PASS_NOT_TO_ALL);
}
END_TEST

START_TEST(non_ip_passes_untouched)
{
	static __u8 pkt[FRAME_MAX];
	size_t len = to_all_frame(pkt);

	((struct ethhdr *)pkt)->h_proto = htons(ETH_P_ARP);
	check_passes(5, 0, pkt, len, 0, EC_TC_PASS_NOT_EC);
}
END_TEST

START_TEST(non_udp_passes_untouched)
{
	static __u8 pkt[FRAME_MAX];
	size_t len = to_all_frame(pkt);

	IP_OF(pkt)->protocol = IPPROTO_TCP;
	check_passes(5, 0, pkt, len, 0, EC_TC_PASS_NOT_EC);
}
END_TEST

/* The program skips fragments: user space must not send a to-all
 * datagram larger than one frame. */
START_TEST(ip_fragment_passes_untouched)
{
	static __u8 pkt[FRAME_MAX];
	size_t len = to_all_frame(pkt);

	IP_OF(pkt)->frag_off = htons(IP_MF);
	check_passes(5, 0, pkt, len, 0, EC_TC_PASS_NOT_EC);
}
END_TEST

START_TEST(other_source_port_passes_untouched)
{
	static __u8 pkt[FRAME_MAX];
	size_t len = to_all_frame(pkt);

	UDP_OF(pkt)->source = htons(7100);
	check_passes(5, 0, pkt, len, 0, EC_TC_PASS_NOT_EC);
}
END_TEST

/* Same port, another replica's address: not sent by us. */
START_TEST(other_source_ip_passes_untouched)
{
	static __u8 pkt[FRAME_MAX];
	size_t len = to_all_frame(pkt);

	IP_OF(pkt)->saddr = test_peer(2).ip;
	check_passes(5, 0, pkt, len, 0, EC_TC_PASS_NOT_EC);
}
END_TEST

START_TEST(bad_magic_passes_untouched)
{
	static __u8 pkt[FRAME_MAX];
	size_t len = to_all_frame(pkt);

	EC_OF(pkt)->magic = htonl(EC_MAGIC ^ 1);
	check_passes(5, 0, pkt, len, 0, EC_TC_PASS_NOT_EC);
}
END_TEST

/* A UDP payload one byte shorter than the electrode-c header. */
START_TEST(truncated_header_passes_untouched)
{
	static __u8 pkt[FRAME_MAX];
	size_t len = (__u8 *)(EC_OF(pkt) + 1) - pkt - 1;

	to_all_frame(pkt);
	check_passes(5, 0, pkt, len, 0, EC_TC_PASS_NOT_EC);
}
END_TEST

/*
 * Attach the program to tx's egress for replica 0 of n, give tx replica
 * 0's address, and send one to-all PREPARE from a real UDP socket bound
 * there, addressed to replica 1 (with or without a UDP checksum).  Check
 * that exactly one copy reaches each peer, that every clone re-entered
 * the hook once and passed, and the checksums: a clone whose checksum the
 * kernel has not filled in yet (CHECKSUM_PARTIAL) must carry the
 * pseudo-header sum of its new addresses.
 */
static void check_attached(int n, int udp_csum)
{
	struct ec_broadcast *skel = load_prog(n, 0, 0);
	struct ec_bpf_peer self = test_peer(0), first = test_peer(1);
	struct sockaddr_in src = { .sin_family = AF_INET,
				   .sin_addr.s_addr = self.ip,
				   .sin_port = self.port };
	struct sockaddr_in dst = { .sin_family = AF_INET,
				   .sin_addr.s_addr = first.ip,
				   .sin_port = first.port };
	/* Only its UDP payload is used: the kernel builds the headers. */
	struct frame_spec s = { .from = 0, .to = 1, .flags = EC_F_TO_ALL,
				.body_len = 100 };
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = tx_ifindex,
		    .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, tc,
		    .prog_fd = bpf_program__fd(skel->progs.ec_broadcast));
	long long want[EC_TC_MAX] = { [EC_TC_CLONED] = n - 1,
				      [EC_TC_BROADCAST] = 1,
				      [EC_TC_PASS_NOT_EC] = -1,
				      [EC_TC_PASS_CLONE] = n - 1 };
	static __u8 pkt[FRAME_MAX];
	size_t hdrs = sizeof(struct ethhdr) + sizeof(struct iphdr) +
		      sizeof(struct udphdr);
	size_t len = build_frame(pkt, &s);
	char cmd[256], ipstr[INET_ADDRSTRLEN];
	int no_check = !udp_csum, fd, got, partial = 0;
	unsigned seen = 0;

	inet_ntop(AF_INET, &self.ip, ipstr, sizeof(ipstr));
	snprintf(cmd, sizeof(cmd), "ip addr add %s/24 dev " TX_DEV, ipstr);
	sh(cmd);
	/* The original needs its next hop resolved to leave at all. */
	inet_ntop(AF_INET, &first.ip, ipstr, sizeof(ipstr));
	snprintf(cmd, sizeof(cmd),
		 "ip neigh add %s lladdr %02x:%02x:%02x:%02x:%02x:%02x "
		 "nud permanent dev " TX_DEV, ipstr, first.mac[0], first.mac[1],
		 first.mac[2], first.mac[3], first.mac[4], first.mac[5]);
	sh(cmd);
	ck_assert_int_eq(bpf_tc_hook_create(&hook), 0);
	ck_assert_int_eq(bpf_tc_attach(&hook, &tc), 0);

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	ck_assert(fd >= 0);
	ck_assert(setsockopt(fd, SOL_SOCKET, SO_NO_CHECK, &no_check,
			     sizeof(no_check)) == 0);
	ck_assert_msg(bind(fd, (struct sockaddr *)&src, sizeof(src)) == 0,
		      "bind: %s", strerror(errno));
	ck_assert(sendto(fd, pkt + hdrs, len - hdrs, 0,
			 (struct sockaddr *)&dst, sizeof(dst)) ==
		  (ssize_t)(len - hdrs));
	close(fd);

	EC_OF(pkt)->flags &= ~EC_F_TO_ALL; /* what each copy must carry */
	got = capture(n - 1);
	ck_assert_msg(got == n - 1, "%d copies, want %d", got, n - 1);
	for (int i = 0; i < got; i++) {
		const struct frame *f = &frames[i];
		const struct ethhdr *eth = (const void *)f->b;
		const struct iphdr *ip = (const void *)(eth + 1);
		const struct udphdr *udp = (const void *)(ip + 1);
		int peer;

		for (peer = 1; peer < n; peer++)
			if (test_peer(peer).ip == ip->daddr)
				break;
		ck_assert_msg(peer < n, "copy to an unknown address");
		ck_assert_msg(!(seen & (1u << peer)), "two copies to %d", peer);
		seen |= 1u << peer;
		ck_assert(memcmp(eth->h_dest, test_peer(peer).mac, ETH_ALEN) ==
			  0);
		ck_assert(ip->saddr == self.ip && udp->source == self.port);
		ck_assert(udp->dest == test_peer(peer).port);
		ck_assert_uint_eq(f->len, len);
		ck_assert_msg(csum_fold(csum_add(ip, sizeof(*ip), 0)) == 0xffff,
			      "copy to %d: bad IP checksum", peer);
		ck_assert_msg(memcmp(f->b + hdrs, pkt + hdrs, len - hdrs) == 0,
			      "copy to %d: payload differs", peer);
		if (!udp_csum) {
			ck_assert_uint_eq(udp->check, 0);
		} else if (f->status & TP_STATUS_CSUMNOTREADY) {
			ck_assert_msg(udp->check ==
				      csum_fold(pseudo_sum(ip, udp)),
				      "copy to %d: partial checksum not updated",
				      peer);
			partial++;
		} else {
			ck_assert_msg(udp_csum_ok(ip, udp),
				      "copy to %d: bad UDP checksum", peer);
		}
	}
	if (udp_csum)
		printf("attached n=%d: %d of %d copies with a partial checksum\n",
		       n, partial, got);
	expect_counters(skel, want);
	ec_broadcast__destroy(skel);
}

START_TEST(attached_socket_datagram_reaches_each_peer_once_n9)
{
	check_attached(9, 1);
}
END_TEST

START_TEST(attached_socket_datagram_without_udp_csum_n5)
{
	check_attached(5, 0);
}
END_TEST

static Suite *broadcast_suite(void)
{
	Suite *s = suite_create("bpf_broadcast");
	TCase *t = tcase_create("test_run");
	TCase *a = tcase_create("attached");

	tcase_add_checked_fixture(t, net_setup, net_teardown);
	tcase_add_test(t, to_all_reaches_each_other_peer_once_n3);
	tcase_add_test(t, to_all_reaches_each_other_peer_once_n5_no_udp_csum);
	tcase_add_test(t, to_all_reaches_each_other_peer_once_n9);
	tcase_add_test(t, to_all_skips_invalid_peers);
	tcase_add_test(t, failed_clones_are_counted_and_original_dropped);
	tcase_add_test(t, clone_reentering_passes_untouched);
	tcase_add_test(t, ours_without_to_all_passes_untouched);
	tcase_add_test(t, non_ip_passes_untouched);
	tcase_add_test(t, non_udp_passes_untouched);
	tcase_add_test(t, ip_fragment_passes_untouched);
	tcase_add_test(t, other_source_port_passes_untouched);
	tcase_add_test(t, other_source_ip_passes_untouched);
	tcase_add_test(t, bad_magic_passes_untouched);
	tcase_add_test(t, truncated_header_passes_untouched);
	suite_add_tcase(s, t);

	tcase_add_checked_fixture(a, net_setup, net_teardown);
	tcase_add_test(a, attached_socket_datagram_reaches_each_peer_once_n9);
	tcase_add_test(a, attached_socket_datagram_without_udp_csum_n5);
	suite_add_tcase(s, a);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(broadcast_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
