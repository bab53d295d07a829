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
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <linux/pkt_cls.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "tc_harness.h"

/* Zero both checksum fields of a frame, for comparing the rest. */
static void zero_csums(__u8 *b)
{
	ip_of(b)->check = 0;
	udp_of(b)->check = 0;
}

/*
 * Check that a clone is exactly the original readdressed to its peer with
 * TO_ALL cleared, with a valid IP checksum and a valid UDP checksum (or 0
 * if the original had none).  Returns the peer id.
 */
static int check_test_run_clone(const struct frame *f,
				const struct frame_spec *orig, int n)
{
	const struct iphdr *ip = ip_of(f->b);
	const struct udphdr *udp = udp_of(f->b);
	static __u8 want[FRAME_MAX], got[FRAME_MAX];
	struct frame_spec s = *orig;
	size_t len;
	int peer;

	for (peer = 0; peer < EC_MAX_REPLICAS; peer++)
		if (test_peer(peer).ip == ip->daddr)
			break;
	ck_assert_msg(peer < EC_MAX_REPLICAS, "clone to an unknown address");
	ck_assert_msg(peer < n, "clone to %d, not in the cluster of %d", peer,
		      n);
	s.to = peer;
	s.flags &= ~EC_F_TO_ALL;
	len = build_frame(want, &s);
	ck_assert_uint_eq(f->len, len);
	ck_assert_msg(ip_csum_ok(f->b), "clone to %d: bad IP checksum", peer);
	if (orig->udp_csum)
		ck_assert_msg(udp_csum_valid(f->b),
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
 * outcome: one exact copy per peer but self, none to self or any other
 * address, the original dropped, counters matching.
 */
static void check_broadcast(int n, int self, const struct frame_spec *s)
{
	struct ec_broadcast *skel = load_prog(n, self);
	static __u8 pkt[FRAME_MAX], out[FRAME_MAX];
	long long want[EC_TC_MAX] = { 0 };
	unsigned seen = 0;
	int peers = 0, got;
	__u32 out_len;
	size_t len;

	for (int i = 0; i < n; i++)
		if (i != self)
			peers++;
	len = build_frame(pkt, s);
	ck_assert_int_eq(run(skel, pkt, len, 0, out, &out_len), TC_ACT_SHOT);
	got = capture(peers);
	ck_assert_msg(got == peers, "%d clones, want %d", got, peers);
	for (int i = 0; i < got; i++) {
		int peer = check_test_run_clone(&frames[i], s, n);

		ck_assert_msg(peer != self, "clone sent to ourselves");
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

	check_broadcast(3, 0, &s);
}
END_TEST

START_TEST(to_all_reaches_each_other_peer_once_n5_no_udp_csum)
{
	struct frame_spec s = { .from = 2, .to = 4, .flags = EC_F_TO_ALL,
				.udp_csum = 0, .body_len = 200 };

	check_broadcast(5, 2, &s);
}
END_TEST

/* Other flag bits survive; odd body length exercises the checksum tail. */
START_TEST(to_all_reaches_each_other_peer_once_n9)
{
	struct frame_spec s = { .from = 8, .to = 0,
				.flags = EC_F_TO_ALL | EC_F_QUORUM,
				.udp_csum = 1, .body_len = 1001 };

	check_broadcast(9, 8, &s);
}
END_TEST

/* The peer table has addresses past n (load_prog fills all of it): the
 * ids from n up get nothing. */
START_TEST(to_all_skips_ids_past_n)
{
	struct frame_spec s = { .from = 0, .to = 1, .flags = EC_F_TO_ALL,
				.udp_csum = 1, .body_len = 16 };

	check_broadcast(4, 0, &s);
}
END_TEST

/* Make tx unable to send: every clone fails, is counted, and the original
 * is still dropped (never sent to the one address it carries). */
START_TEST(failed_clones_are_counted_and_original_dropped)
{
	struct frame_spec s = { .from = 0, .to = 1, .flags = EC_F_TO_ALL,
				.udp_csum = 1, .body_len = 16 };
	struct ec_broadcast *skel = load_prog(5, 0);
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
	struct ec_broadcast *skel = load_prog(n, self);
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

	ip_of(pkt)->protocol = IPPROTO_TCP;
	check_passes(5, 0, pkt, len, 0, EC_TC_PASS_NOT_EC);
}
END_TEST

/* The program skips fragments: user space must not send a to-all
 * datagram larger than one frame. */
START_TEST(ip_fragment_passes_untouched)
{
	static __u8 pkt[FRAME_MAX];
	size_t len = to_all_frame(pkt);

	ip_of(pkt)->frag_off = htons(IP_MF);
	check_passes(5, 0, pkt, len, 0, EC_TC_PASS_NOT_EC);
}
END_TEST

START_TEST(other_source_port_passes_untouched)
{
	static __u8 pkt[FRAME_MAX];
	size_t len = to_all_frame(pkt);

	udp_of(pkt)->source = htons(7100);
	check_passes(5, 0, pkt, len, 0, EC_TC_PASS_NOT_EC);
}
END_TEST

/* Same port, another replica's address: not sent by us. */
START_TEST(other_source_ip_passes_untouched)
{
	static __u8 pkt[FRAME_MAX];
	size_t len = to_all_frame(pkt);

	ip_of(pkt)->saddr = test_peer(2).ip;
	check_passes(5, 0, pkt, len, 0, EC_TC_PASS_NOT_EC);
}
END_TEST

START_TEST(bad_magic_passes_untouched)
{
	static __u8 pkt[FRAME_MAX];
	size_t len = to_all_frame(pkt);

	ec_of(pkt)->magic = htonl(EC_MAGIC ^ 1);
	check_passes(5, 0, pkt, len, 0, EC_TC_PASS_NOT_EC);
}
END_TEST

/* A UDP payload one byte shorter than the electrode-c header. */
START_TEST(truncated_header_passes_untouched)
{
	static __u8 pkt[FRAME_MAX];
	size_t len = (__u8 *)(ec_of(pkt) + 1) - pkt - 1;

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
	struct ec_broadcast *skel = load_prog(n, 0);
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
	size_t hdrs = L2L4_LEN;
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

	ec_of(pkt)->flags &= ~EC_F_TO_ALL; /* what each copy must carry */
	got = capture(n - 1);
	ck_assert_msg(got == n - 1, "%d copies, want %d", got, n - 1);
	for (int i = 0; i < got; i++) {
		const struct frame *f = &frames[i];
		const struct ethhdr *eth = (const void *)f->b;
		const struct iphdr *ip = (const void *)(eth + 1);
		const struct udphdr *udp = (const void *)(ip + 1);
		int peer;

		for (peer = 1; peer < EC_MAX_REPLICAS; peer++)
			if (test_peer(peer).ip == ip->daddr)
				break;
		ck_assert_msg(peer < EC_MAX_REPLICAS,
			      "copy to an unknown address");
		ck_assert_msg(peer < n, "copy to %d, not in the cluster of %d",
			      peer, n);
		ck_assert_msg(!(seen & (1u << peer)), "two copies to %d", peer);
		seen |= 1u << peer;
		ck_assert(memcmp(eth->h_dest, test_peer(peer).mac, ETH_ALEN) ==
			  0);
		ck_assert(ip->saddr == self.ip && udp->source == self.port);
		ck_assert(udp->dest == test_peer(peer).port);
		ck_assert_uint_eq(f->len, len);
		ck_assert_msg(ip_csum_ok(f->b), "copy to %d: bad IP checksum",
			      peer);
		ck_assert_msg(memcmp(f->b + hdrs, pkt + hdrs, len - hdrs) == 0,
			      "copy to %d: payload differs", peer);
		if (!udp_csum) {
			ck_assert_uint_eq(udp->check, 0);
		} else if (f->status & TP_STATUS_CSUMNOTREADY) {
			ck_assert_msg(udp->check ==
				      csum_fold(pseudo_sum(f->b)),
				      "copy to %d: partial checksum not updated",
				      peer);
			partial++;
		} else {
			ck_assert_msg(udp_csum_valid(f->b),
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
	tcase_add_test(t, to_all_skips_ids_past_n);
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
	return run_suite(broadcast_suite());
}
