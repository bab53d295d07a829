/* test_config.c - the cluster configuration parser: good files and every
 * error, each with a message that says where. */
#include <arpa/inet.h>
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/wire.h"
#include "../run_suite.h"

static const char good[] =
	"# replica <id> <ipv4> <udp-port> <mac> <interface>\n"
	"\n"
	"replica 0 198.18.0.10 7000 02:ec:00:00:00:0a eth0\n"
	"   # indented comment\n"
	"\treplica 2 198.18.0.12 7002 02:EC:00:00:00:0C veth-r2\n"
	"replica 1 198.18.0.11 7001 02:ec:00:00:00:0b eth0";

static struct ec_config cfg;
static char err[256];

/* Parse text as file "t.conf"; expect failure with a message containing
 * every one of the given fragments (NULL-terminated). */
static void expect_error(const char *text, ...)
{
	va_list ap;
	const char *frag;

	err[0] = '\0';
	ck_assert_int_eq(ec_config_parse(text, "t.conf", &cfg, err,
					 sizeof(err)), -1);
	va_start(ap, text);
	while ((frag = va_arg(ap, const char *)))
		ck_assert_msg(strstr(err, frag), "'%s' not in error '%s'", frag,
			      err);
	va_end(ap);
}

START_TEST(good_file)
{
	struct in_addr a;

	ck_assert_int_eq(ec_config_parse(good, "t.conf", &cfg, err, sizeof(err)),
			 0);
	ck_assert_uint_eq(cfg.n, 3);
	for (unsigned i = 0; i < 3; i++) {
		ck_assert_uint_eq(cfg.peers[i].id, i);
		ck_assert_uint_eq(cfg.peers[i].port, 7000 + i);
		ck_assert_uint_eq(cfg.peers[i].mac[0], 0x02);
		ck_assert_uint_eq(cfg.peers[i].mac[1], 0xec);
		ck_assert_uint_eq(cfg.peers[i].mac[5], 0x0a + i);
		inet_pton(AF_INET, "198.18.0.10", &a);
		ck_assert_uint_eq(ntohl(cfg.peers[i].ip), ntohl(a.s_addr) + i);
	}
	ck_assert_str_eq(cfg.peers[0].ifname, "eth0");
	ck_assert_str_eq(cfg.peers[2].ifname, "veth-r2");
	ck_assert_uint_eq(ec_view_leader(0, cfg.n), 0);
	ck_assert_uint_eq(ec_view_leader(5, cfg.n), 2);
}
END_TEST

START_TEST(crlf_and_single_replica)
{
	ck_assert_int_eq(ec_config_parse("replica 0 127.0.0.1 9 0:0:0:0:0:1 lo\r\n",
					 "t.conf", &cfg, err, sizeof(err)), 0);
	ck_assert_uint_eq(cfg.n, 1);
	ck_assert_uint_eq(cfg.peers[0].mac[5], 1);
}
END_TEST

START_TEST(load_file)
{
	char path[] = "/tmp/test_config.XXXXXX";
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, good, strlen(good)), (ssize_t)strlen(good));
	close(fd);
	ck_assert_int_eq(ec_config_load(path, &cfg, err, sizeof(err)), 0);
	ck_assert_uint_eq(cfg.n, 3);
	unlink(path);
	ck_assert_int_eq(ec_config_load(path, &cfg, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, path) && strstr(err, "No such file"),
		      "error '%s'", err);
}
END_TEST

START_TEST(bad_ip)
{
	expect_error("replica 0 10.0.0.1 7000 02:00:00:00:00:01 eth0\n"
		     "replica 1 10.0.0.300 7000 02:00:00:00:00:02 eth0\n",
		     "t.conf:2:", "bad IPv4 address '10.0.0.300'", NULL);
}
END_TEST

START_TEST(bad_mac)
{
	expect_error("replica 0 10.0.0.1 7000 02:00:00:00:00 eth0\n",
		     "t.conf:1:", "bad MAC address", NULL);
	expect_error("replica 0 10.0.0.1 7000 02:00:00:00:00:100 eth0\n",
		     "t.conf:1:", "bad MAC address", NULL);
	expect_error("replica 0 10.0.0.1 7000 02:00:00:00:00:01x eth0\n",
		     "t.conf:1:", "bad MAC address", NULL);
}
END_TEST

START_TEST(duplicate_id)
{
	expect_error("replica 0 10.0.0.1 7000 02:00:00:00:00:01 eth0\n"
		     "# comment\n"
		     "replica 0 10.0.0.2 7000 02:00:00:00:00:02 eth0\n",
		     "t.conf:3:", "replica 0 listed twice", NULL);
}
END_TEST

START_TEST(gap_in_ids)
{
	expect_error("replica 0 10.0.0.1 7000 02:00:00:00:00:01 eth0\n"
		     "replica 2 10.0.0.3 7000 02:00:00:00:00:03 eth0\n",
		     "t.conf", "0..1 with no gap", NULL);
}
END_TEST

START_TEST(id_out_of_range)
{
	expect_error("replica 9 10.0.0.1 7000 02:00:00:00:00:01 eth0\n",
		     "t.conf:1:", "out of range", NULL);
}
END_TEST

START_TEST(too_many_fields)
{
	expect_error("replica 0 10.0.0.1 7000 02:00:00:00:00:01 eth0 extra\n",
		     "t.conf:1:", "expected 'replica", NULL);
}
END_TEST

START_TEST(too_few_fields)
{
	expect_error("\n\nreplica 0 10.0.0.1 7000 02:00:00:00:00:01\n",
		     "t.conf:3:", "expected 'replica", NULL);
}
END_TEST

START_TEST(unknown_keyword)
{
	expect_error("node 0 10.0.0.1 7000 02:00:00:00:00:01 eth0\n",
		     "t.conf:1:", "expected 'replica", NULL);
}
END_TEST

START_TEST(bad_port)
{
	expect_error("replica 0 10.0.0.1 0 02:00:00:00:00:01 eth0\n",
		     "t.conf:1:", "bad port 0", NULL);
	expect_error("replica 0 10.0.0.1 65536 02:00:00:00:00:01 eth0\n",
		     "t.conf:1:", "bad port 65536", NULL);
}
END_TEST

START_TEST(shared_address)
{
	expect_error("replica 0 10.0.0.1 7000 02:00:00:00:00:01 eth0\n"
		     "replica 1 10.0.0.2 7000 02:00:00:00:00:02 eth0\n"
		     "replica 2 10.0.0.1 7000 02:00:00:00:00:03 eth0\n",
		     "t.conf", "replicas 0 and 2 share an address", NULL);
	/* same IP, different ports is fine (one host, several replicas) */
	ck_assert_int_eq(ec_config_parse(
		"replica 0 127.0.0.1 7000 02:00:00:00:00:01 lo\n"
		"replica 1 127.0.0.1 7001 02:00:00:00:00:02 lo\n",
		"t.conf", &cfg, err, sizeof(err)), 0);
}
END_TEST

START_TEST(long_interface_name)
{
	expect_error("replica 0 10.0.0.1 7000 02:00:00:00:00:01 "
		     "abcdefghijklmnopq\n",
		     "t.conf:1:", "too long", NULL);
}
END_TEST

START_TEST(empty_file)
{
	expect_error("", "t.conf", "no replicas", NULL);
	expect_error("# only a comment\n\n", "t.conf", "no replicas", NULL);
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");

	tcase_add_test(tc, good_file);
	tcase_add_test(tc, crlf_and_single_replica);
	tcase_add_test(tc, load_file);
	tcase_add_test(tc, bad_ip);
	tcase_add_test(tc, bad_mac);
	tcase_add_test(tc, duplicate_id);
	tcase_add_test(tc, gap_in_ids);
	tcase_add_test(tc, id_out_of_range);
	tcase_add_test(tc, too_many_fields);
	tcase_add_test(tc, too_few_fields);
	tcase_add_test(tc, unknown_keyword);
	tcase_add_test(tc, bad_port);
	tcase_add_test(tc, shared_address);
	tcase_add_test(tc, long_interface_name);
	tcase_add_test(tc, empty_file);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return run_suite(config_suite());
}
