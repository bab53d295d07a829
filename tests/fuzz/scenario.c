/* scenario.c - see scenario.h. */
#include "scenario.h"

#include <stdio.h>

#define MS 1000ULL

/* Four ops from two clients, committed and executed everywhere. */
static void some_ops(struct sim *s)
{
	char key[8];

	for (unsigned i = 1; i <= 4; i++) {
		snprintf(key, sizeof(key), "k%u", i);
		sim_put(s, i % 2, 0, i, key, "v");
		sim_run(s, 5 * MS, MS);
	}
	sim_run(s, 30 * MS, MS); /* a heartbeat carries the last commit */
	/* a GET: a READ where the clients send them (the read offload's
	 * model answers it in the kernel), else a REQUEST */
	sim_request(s, 1, 0, 5, EC__OP_KIND__OP_GET, "k1", NULL, NULL);
	sim_run(s, 5 * MS, MS);
}

struct sim *fz_scenario(enum fz_scenario which)
{
	struct sim *s = which == FZ_OFFLOAD ?
				sim_new_reads(FZ_N, 1, true, true) :
				sim_new(FZ_N, 1);

	if (which == FZ_OFFLOAD)
		sim_set_reads(s, EC_READS_LEASE);

	some_ops(s);
	switch (which) {
	case FZ_VIEW_CHANGE:
		sim_hook_view_timeout(s, 1);
		break;
	case FZ_RECOVERING:
		sim_crash(s, 2);
		sim_restart(s, 2);
		break;
	default:
		break;
	}
	return s;
}
