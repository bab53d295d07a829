/* scenario.c - see scenario.h. */
#include "scenario.h"

#include <stdio.h>

#include "core/internal.h"

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
}

struct sim *fz_scenario(enum fz_scenario which)
{
	struct sim *s = which == FZ_OFFLOAD ?
				sim_new_offload(FZ_N, 1, true, true) :
				sim_new(FZ_N, 1);

	some_ops(s);
	switch (which) {
	case FZ_VIEW_CHANGE:
		/* what its view timeout would do; its START_VIEW_CHANGEs
		 * are on the network, not delivered yet */
		vc_start(s->r[1], 1);
		sim_collect(s, 1);
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
