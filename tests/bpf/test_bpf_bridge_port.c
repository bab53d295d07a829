/*
 * test_bpf_bridge_port.c - the bridge-port programs (bpf/bridge_port.bpf.c):
 * every verdict of the XDP program (port loss, link loss, pass) and of the
 * TC program (pass, duplicate, copy, delay into the ring, delay without a
 * delay line) on crafted frames with BPF_PROG_TEST_RUN.
 *
 * Each test runs in a network namespace of its own with the veth pair of
 * tc_harness.c: the TC program's copies really go into "tx" (ingress) and
 * a packet socket on tx catches them.  Needs root.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <linux/pkt_cls.h>
#include <net/if.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "tc_harness.h"
#include "ec_port.h"
#include "bridge_port.skel.h"

static struct bridge_port *bp;
static __u8 frame[FRAME_MAX], out_buf[FRAME_MAX];
static size_t frame_len;

/* Fixture: namespace and veth (tc_harness), a loaded instance, and a
 * PREPARE from test replica 0 to replica 1 in frame. */
static void setup(void)
{
	struct frame_spec s = { .from = 0, .to = 1, .body_len = 40 };

	net_setup();
	bp = bridge_port__open_and_load();
	ck_assert_msg(bp, "bridge_port__open_and_load: %s", strerror(errno));
	frame_len = build_frame(frame, &s);
}

static void teardown(void)
{
	bridge_port__destroy(bp);
	bp = NULL;
	net_teardown();
}

/* Readdress frame to test replica to. */
static void frame_to(int to)
{
	struct frame_spec s = { .from = 0, .to = to, .body_len = 40 };

	frame_len = build_frame(frame, &s);
}

static void set_cfg_key(__u32 key, __u32 val)
{
	ck_assert(bpf_map_update_elem(bpf_map__fd(bp->maps.port_cfg), &key,
				      &val, BPF_ANY) == 0);
}

/* The rule for frames to test replica to. */
static void set_rule(int to, __u32 loss, __u32 dup, __u32 delay,
		     __u32 jitter)
{
	struct ec_port_link l = { loss, dup, delay, jitter };
	__be32 ip = test_peer(to).ip;

	ck_assert(bpf_map_update_elem(bpf_map__fd(bp->maps.port_links), &ip,
				      &l, BPF_ANY) == 0);
}

/* Counter v summed over CPUs. */
static unsigned long long counter(unsigned v)
{
	uint64_t sums[EC_PORT_VERDICT_MAX];

	percpu_sums(bpf_map__fd(bp->maps.port_stats), EC_PORT_VERDICT_MAX,
		    sums);
	return sums[v];
}

/* Run the XDP program repeat times on frame; returns the last verdict. */
static int run_xdp(unsigned repeat)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame,
		    .data_size_in = frame_len, .data_out = out_buf,
		    .data_size_out = sizeof(out_buf), .repeat = repeat);

	ck_assert(bpf_prog_test_run_opts(
			  bpf_program__fd(bp->progs.bridge_port), &opts) == 0);
	return opts.retval;
}

/* Run the TC program once on frame as received by tx with mark. */
static int run_tc(__u32 mark)
{
	struct __sk_buff ctx = { .ifindex = tx_ifindex, .mark = mark };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame,
		    .data_size_in = frame_len, .data_out = out_buf,
		    .data_size_out = sizeof(out_buf), .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);

	ck_assert_msg(bpf_prog_test_run_opts(
			      bpf_program__fd(bp->progs.bridge_port_tc),
			      &opts) == 0,
		      "test run: %s", strerror(errno));
	return opts.retval;
}

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

START_TEST(xdp_passes_without_rules)
{
	ck_assert_int_eq(run_xdp(1), XDP_PASS);
	ck_assert_uint_eq(counter(EC_PORT_PASSED), 1);
	ck_assert_uint_eq(counter(EC_PORT_DROPPED), 0);
	ck_assert_uint_eq(counter(EC_PORT_LINK_DROPPED), 0);
}
END_TEST

START_TEST(xdp_port_loss_drops_every_frame_at_1000)
{
	set_cfg_key(EC_PORT_CFG_DROP_PERMILLE, 1000);
	ck_assert_int_eq(run_xdp(50), XDP_DROP);
	ck_assert_uint_eq(counter(EC_PORT_DROPPED), 50);
	ck_assert_uint_eq(counter(EC_PORT_PASSED), 0);
}
END_TEST

START_TEST(xdp_port_loss_drops_about_its_rate)
{
	set_cfg_key(EC_PORT_CFG_DROP_PERMILLE, 200);
	run_xdp(5000);
	ck_assert_uint_ge(counter(EC_PORT_DROPPED), 800);
	ck_assert_uint_le(counter(EC_PORT_DROPPED), 1200);
	ck_assert_uint_eq(counter(EC_PORT_DROPPED) + counter(EC_PORT_PASSED),
			  5000);
}
END_TEST

START_TEST(xdp_link_loss_drops_only_its_destination)
{
	set_rule(1, 1000, 0, 0, 0);
	frame_to(1);
	ck_assert_int_eq(run_xdp(10), XDP_DROP);
	ck_assert_uint_eq(counter(EC_PORT_LINK_DROPPED), 10);
	frame_to(2);
	ck_assert_int_eq(run_xdp(10), XDP_PASS);
	ck_assert_uint_eq(counter(EC_PORT_PASSED), 10);
	ck_assert_uint_eq(counter(EC_PORT_LINK_DROPPED), 10);
}
END_TEST

START_TEST(xdp_link_loss_drops_about_its_rate)
{
	set_rule(1, 500, 0, 0, 0);
	run_xdp(4000);
	ck_assert_uint_ge(counter(EC_PORT_LINK_DROPPED), 1700);
	ck_assert_uint_le(counter(EC_PORT_LINK_DROPPED), 2300);
}
END_TEST

START_TEST(xdp_non_ipv4_meets_only_port_loss)
{
	eth_of(frame)->h_proto = htons(ETH_P_ARP);
	set_rule(1, 1000, 0, 0, 0);
	ck_assert_int_eq(run_xdp(5), XDP_PASS);
	set_cfg_key(EC_PORT_CFG_DROP_PERMILLE, 1000);
	ck_assert_int_eq(run_xdp(5), XDP_DROP);
	ck_assert_uint_eq(counter(EC_PORT_LINK_DROPPED), 0);
	ck_assert_uint_eq(counter(EC_PORT_DROPPED), 5);
}
END_TEST

START_TEST(tc_passes_without_rule)
{
	set_rule(2, 0, 1000, 1000, 0); /* another destination */
	ck_assert_int_eq(run_tc(0), TC_ACT_OK);
	ck_assert_uint_eq(counter(EC_PORT_TC_PASSED), 1);
	ck_assert_uint_eq(counter(EC_PORT_DUPLICATED), 0);
}
END_TEST

/* Copies of frame that came into tx (ingress), caught within 500 ms. */
static int copies_on_tx(int sock)
{
	int got = 0;

	for (;;) {
		struct pollfd p = { .fd = sock, .events = POLLIN };
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		__u8 b[FRAME_MAX];
		ssize_t n;

		if (poll(&p, 1, 500) <= 0)
			return got;
		n = recvfrom(sock, b, sizeof(b), 0, (struct sockaddr *)&from,
			     &fl);
		if (n == (ssize_t)frame_len && from.sll_pkttype != PACKET_OUTGOING &&
		    memcmp(b, frame, frame_len) == 0)
			got++;
	}
}

START_TEST(tc_dup_sends_one_copy_into_the_port)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(ETH_P_ALL),
				   .sll_ifindex = tx_ifindex };
	int sock = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));

	ck_assert(sock >= 0);
	ck_assert(bind(sock, (struct sockaddr *)&sll, sizeof(sll)) == 0);
	set_rule(1, 0, 1000, 0, 0);
	ck_assert_int_eq(run_tc(0), TC_ACT_OK); /* the original goes on */
	ck_assert_uint_eq(counter(EC_PORT_DUPLICATED), 1);
	ck_assert_uint_eq(counter(EC_PORT_DUP_FAILED), 0);
	ck_assert_uint_eq(counter(EC_PORT_TC_PASSED), 0);
	ck_assert_int_eq(copies_on_tx(sock), 1);
	close(sock);
}
END_TEST

START_TEST(tc_marked_copy_is_not_copied_again)
{
	set_rule(1, 0, 1000, 0, 0);
	ck_assert_int_eq(run_tc(EC_PORT_COPY_MARK), TC_ACT_OK);
	ck_assert_uint_eq(counter(EC_PORT_COPY), 1);
	ck_assert_uint_eq(counter(EC_PORT_DUPLICATED), 0);
}
END_TEST

START_TEST(tc_delay_without_delay_line_passes_at_once)
{
	set_rule(1, 0, 0, 5000, 0);
	ck_assert_int_eq(run_tc(0), TC_ACT_OK);
	ck_assert_uint_eq(counter(EC_PORT_DELAY_OFF), 1);
	ck_assert_uint_eq(counter(EC_PORT_DELAYED), 0);
}
END_TEST

/* What the ring held after a run: due times and a check of the bytes. */
static struct {
	unsigned n;
	__u64 due[512];
} ring;

static int take(void *ctx, void *data, size_t size)
{
	const struct ec_port_delayed *d = data;

	ck_assert_uint_ge(size, sizeof(*d));
	ck_assert_uint_eq(d->len, frame_len);
	ck_assert(memcmp(d->data, frame, frame_len) == 0);
	if (ring.n < 512)
		ring.due[ring.n++] = d->due_ns;
	return 0;
}

static void drain_ring(void)
{
	struct ring_buffer *rb = ring_buffer__new(
		bpf_map__fd(bp->maps.port_delay), take, NULL, NULL);

	ck_assert(rb);
	ring.n = 0;
	ring_buffer__consume(rb);
	ring_buffer__free(rb);
}

START_TEST(tc_delay_moves_the_frame_to_the_ring_with_its_due_time)
{
	__u64 t0, t1;

	set_cfg_key(EC_PORT_CFG_DELAY_LINE, 1);
	set_rule(1, 0, 0, 5000, 1000);
	t0 = mono_ns();
	ck_assert_int_eq(run_tc(0), TC_ACT_SHOT);
	t1 = mono_ns();
	ck_assert_uint_eq(counter(EC_PORT_DELAYED), 1);
	drain_ring();
	ck_assert_uint_eq(ring.n, 1);
	ck_assert_uint_ge(ring.due[0], t0 + 5000000);
	ck_assert_uint_le(ring.due[0], t1 + 6000000);
}
END_TEST

START_TEST(tc_jitter_spreads_due_times)
{
	__u64 lo = ~0ull, hi = 0;

	set_cfg_key(EC_PORT_CFG_DELAY_LINE, 1);
	set_rule(1, 0, 0, 0, 10000);
	for (int i = 0; i < 200; i++)
		ck_assert_int_eq(run_tc(0), TC_ACT_SHOT);
	drain_ring();
	ck_assert_uint_eq(ring.n, 200);
	for (unsigned i = 0; i < ring.n; i++) {
		lo = ring.due[i] < lo ? ring.due[i] : lo;
		hi = ring.due[i] > hi ? ring.due[i] : hi;
	}
	/* frames sent later may be due earlier: that is the reordering */
	ck_assert_uint_ge(hi - lo, 5000000);
}
END_TEST

START_TEST(tc_dup_and_delay_together)
{
	set_cfg_key(EC_PORT_CFG_DELAY_LINE, 1);
	set_rule(1, 0, 1000, 2000, 0);
	ck_assert_int_eq(run_tc(0), TC_ACT_SHOT);
	ck_assert_uint_eq(counter(EC_PORT_DUPLICATED), 1);
	ck_assert_uint_eq(counter(EC_PORT_DELAYED), 1);
}
END_TEST

static Suite *bridge_port_suite(void)
{
	Suite *s = suite_create("bpf_bridge_port");
	TCase *x = tcase_create("xdp");
	TCase *t = tcase_create("tc");

	tcase_add_checked_fixture(x, setup, teardown);
	tcase_add_test(x, xdp_passes_without_rules);
	tcase_add_test(x, xdp_port_loss_drops_every_frame_at_1000);
	tcase_add_test(x, xdp_port_loss_drops_about_its_rate);
	tcase_add_test(x, xdp_link_loss_drops_only_its_destination);
	tcase_add_test(x, xdp_link_loss_drops_about_its_rate);
	tcase_add_test(x, xdp_non_ipv4_meets_only_port_loss);
	suite_add_tcase(s, x);

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, tc_passes_without_rule);
	tcase_add_test(t, tc_dup_sends_one_copy_into_the_port);
	tcase_add_test(t, tc_marked_copy_is_not_copied_again);
	tcase_add_test(t, tc_delay_without_delay_line_passes_at_once);
	tcase_add_test(t, tc_delay_moves_the_frame_to_the_ring_with_its_due_time);
	tcase_add_test(t, tc_jitter_spreads_due_times);
	tcase_add_test(t, tc_dup_and_delay_together);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return run_suite(bridge_port_suite());
}
