/*
 * options.h - ec-replica's command line, each option declared once.
 *
 * Every option is one row of the table in options.c: its name, its
 * argument, its range, its default, its --help text and the field of
 * struct ec_replica_opts it sets.  The parser (getopt_long's table
 * too), --help and the defaults all come from the rows, so an option
 * cannot accept one range and print another, nor default to a value
 * --help does not show.  README.md lists the options; make unit-test
 * checks that list against --help (tests/docs/test_replica_options.sh).
 */
#ifndef EC_REPLICA_OPTIONS_H
#define EC_REPLICA_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/core.h"
#include "offload/switches.h"

struct ec_replica_opts {
	const char *config;        /* --config FILE */
	const char *control;       /* --control PATH, or NULL */
	unsigned id;               /* --id N */
	bool no_bpf;
	bool verbose;
	int64_t clock_skew_ppm;    /* TEST ONLY: --clock-skew-ppm */
	struct ec_switches offload; /* switched on at start */
	unsigned read_cache_slots; /* --read-cache-slots */
	bool test_xdp_ignore_lease; /* TEST ONLY: --test-xdp-ignore-lease */
	/* The protocol's settings: the options' values (recovering is
	 * --recover) over the core's defaults.  n, self and members are
	 * the cluster configuration's, for the caller to fill. */
	struct ec_core_opts core;
};

/*
 * Fill *o from argv.  Returns 0; 1 if --help was printed (on stdout); -1
 * on a usage error, printed on stderr.
 */
int ec_replica_opts_parse(int argc, char **argv, struct ec_replica_opts *o);

/*
 * The range of the numeric option name (without the dashes) into *min
 * and *max: for a run-time command that changes the same setting
 * (`batch`) and must take the same numbers.  Returns 0, or -1 if there
 * is no such option.
 */
int ec_replica_opts_range(const char *name, unsigned long long *min,
			  unsigned long long *max);

#endif /* EC_REPLICA_OPTIONS_H */
