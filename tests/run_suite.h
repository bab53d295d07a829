/*
 * run_suite.h - the main() of every Check test binary, unit and BPF:
 * run suite s with the normal report and turn failures into the exit
 * status tests/run-unit.sh counts.
 */
#ifndef EC_TESTS_RUN_SUITE_H
#define EC_TESTS_RUN_SUITE_H

#include <check.h>
#include <stdlib.h>

static inline int run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif /* EC_TESTS_RUN_SUITE_H */
