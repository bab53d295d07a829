/* test_offload_switch.c - the offload switch table and its text form. */
#include <check.h>
#include <string.h>

#include "offload/switches.h"
#include "../run_suite.h"

static bool on(const struct ec_switches *sw, unsigned kind, unsigned type)
{
	return ec_switch_on(sw, kind, type);
}

START_TEST(all_and_none)
{
	struct ec_switches sw = { 0 };
	char err[200];

	ck_assert_int_eq(ec_switches_apply(&sw, "all", true, err, sizeof(err)), 0);
	ck_assert(on(&sw, EC_OFFLOAD_BROADCAST, EC_MSG_PREPARE));
	ck_assert(on(&sw, EC_OFFLOAD_BROADCAST, EC_MSG_START_VIEW_CHANGE));
	ck_assert(on(&sw, EC_OFFLOAD_FASTACK, EC_MSG_PREPARE));
	ck_assert(on(&sw, EC_OFFLOAD_FASTACK, EC_MSG_COMMIT));
	ck_assert(on(&sw, EC_OFFLOAD_QUORUM, EC_MSG_PREPARE_OK));
	/* an offload never covers a type it does not handle */
	ck_assert(!on(&sw, EC_OFFLOAD_FASTACK, EC_MSG_PREPARE_OK));
	ck_assert(!on(&sw, EC_OFFLOAD_QUORUM, EC_MSG_HEARTBEAT_OK));
	ck_assert(!on(&sw, EC_OFFLOAD_BROADCAST, EC_MSG_PREPARE_OK));
	ck_assert_int_eq(ec_switches_apply(&sw, "none", true, err, sizeof(err)), 0);
	for (unsigned k = 0; k < EC_OFFLOAD_MAX; k++)
		ck_assert_uint_eq(sw.on[k], 0);
}
END_TEST

START_TEST(one_offload_and_one_type)
{
	struct ec_switches sw = { 0 };
	char err[200];

	ck_assert_int_eq(ec_switches_apply(&sw, "broadcast.commit,quorum", true,
					   err, sizeof(err)), 0);
	ck_assert(on(&sw, EC_OFFLOAD_BROADCAST, EC_MSG_COMMIT));
	ck_assert(!on(&sw, EC_OFFLOAD_BROADCAST, EC_MSG_PREPARE));
	ck_assert(on(&sw, EC_OFFLOAD_QUORUM, EC_MSG_PREPARE_OK));
	ck_assert(!on(&sw, EC_OFFLOAD_FASTACK, EC_MSG_PREPARE));
	ck_assert_int_eq(ec_switches_apply(&sw, "broadcast", true, err,
					   sizeof(err)), 0);
	ck_assert_int_eq(ec_switches_apply(&sw, "broadcast.prepare", false, err,
					   sizeof(err)), 0);
	ck_assert(!on(&sw, EC_OFFLOAD_BROADCAST, EC_MSG_PREPARE));
	ck_assert(on(&sw, EC_OFFLOAD_BROADCAST, EC_MSG_COMMIT));
	ck_assert(on(&sw, EC_OFFLOAD_QUORUM, EC_MSG_PREPARE_OK));
}
END_TEST

START_TEST(bad_items_change_nothing)
{
	static const char *const bad[] = {
		"", "bogus", "fastack.prepare_ok", "broadcast.",
		"broadcast,,quorum",
		"quorum.prepare", "all,", "broadcast.prepare_ok",
	};
	struct ec_switches sw = { .on = { 1u << EC_MSG_COMMIT } };
	char err[200];

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ec_switches before = sw;

		err[0] = '\0';
		ck_assert_msg(ec_switches_apply(&sw, bad[i], true, err,
						sizeof(err)) < 0, "'%s'", bad[i]);
		ck_assert(strlen(err) > 0);
		ck_assert(memcmp(&before, &sw, sizeof(sw)) == 0);
	}
	/* a good item before a bad one is not applied either */
	ck_assert_int_lt(ec_switches_apply(&sw, "quorum,bogus", true, err,
					   sizeof(err)), 0);
	ck_assert(!on(&sw, EC_OFFLOAD_QUORUM, EC_MSG_PREPARE_OK));
	ck_assert(strstr(err, "bogus") != NULL);
}
END_TEST

static void collect(const char *name, bool on_, void *arg)
{
	char *buf = arg;

	strcat(buf, name);
	strcat(buf, on_ ? "=on " : "=off ");
}

START_TEST(every_switch_is_listed_once)
{
	struct ec_switches sw = { 0 };
	char buf[1024] = "", err[200];

	ec_switches_apply(&sw, "fastack", true, err, sizeof(err));
	ec_switches_foreach(&sw, collect, buf);
	ck_assert_str_eq(buf,
			 "broadcast.prepare=off broadcast.commit=off "
			 "broadcast.start_view_change=off broadcast.start_view=off "
			 "broadcast.recovery=off fastack.prepare=on "
			 "fastack.commit=on quorum.prepare_ok=off read.read=off ");
}
END_TEST

START_TEST(verdict_names)
{
	for (unsigned v = 0; v < EC_TC_MAX; v++)
		ck_assert_str_ne(ec_tc_verdict_name(v), "?");
	for (unsigned v = 0; v < EC_XDP_MAX; v++)
		ck_assert_str_ne(ec_xdp_verdict_name(v), "?");
	ck_assert_str_eq(ec_tc_verdict_name(EC_TC_MAX), "?");
	ck_assert_str_eq(ec_xdp_verdict_name(EC_XDP_MAX), "?");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("offload_switch");
	TCase *t = tcase_create("offload_switch");

	tcase_add_test(t, all_and_none);
	tcase_add_test(t, one_offload_and_one_type);
	tcase_add_test(t, bad_items_change_nothing);
	tcase_add_test(t, every_switch_is_listed_once);
	tcase_add_test(t, verdict_names);
	suite_add_tcase(s, t);
	return run_suite(s);
}
