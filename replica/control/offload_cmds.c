/* offload_cmds.c - see offload_cmds.h. */
#include "offload_cmds.h"

#include <string.h>

#include "server.h"
#include "offload/offload.h"

static void show_switch(const char *name, bool on, void *arg)
{
	fprintf(arg, "switch.%s %s\n", name, on ? "on" : "off");
}

/* num/den as a fraction with 3 decimals, "-" when nothing was counted. */
static void show_fraction(FILE *out, const char *name, uint64_t num,
			  uint64_t den)
{
	if (den)
		fprintf(out, "%s %.3f\n", name, (double)num / (double)den);
	else
		fprintf(out, "%s -\n", name);
}

/* What user space wrote into the read cache (read_cache.h). */
static void show_read_cache(FILE *out, const struct ec_read_cache *rc)
{
	fprintf(out, "read_cache.slots %u\n", rc->mask + 1);
	fprintf(out, "read_cache.writes %llu\n", (unsigned long long)rc->writes);
	fprintf(out, "read_cache.deletes %llu\n",
		(unsigned long long)rc->deletes);
	fprintf(out, "read_cache.evictions %llu\n",
		(unsigned long long)rc->evictions);
	fprintf(out, "read_cache.too_large %llu\n",
		(unsigned long long)rc->too_large);
	fprintf(out, "read_cache.clears %llu\n", (unsigned long long)rc->clears);
}

static int show(struct ec_control_req *r, struct ec_offload *o)
{
	struct ec_offload_counts c;
	uint64_t fa = 0, hb = 0, q = 0, qdrop = 0, rd = 0;

	ec_switches_foreach(ec_offload_switches(o), show_switch, r->out);
	if (ec_offload_counts(o, &c) < 0)
		return ec_control_fail(r, "cannot read the BPF counters");
	for (unsigned v = 0; v < EC_TC_MAX; v++)
		fprintf(r->out, "tc.%s %llu\n", ec_tc_verdict_name(v),
			(unsigned long long)c.tc[v]);
	for (unsigned v = 0; v < EC_XDP_MAX; v++)
		fprintf(r->out, "xdp.%s %llu\n", ec_xdp_verdict_name(v),
			(unsigned long long)c.xdp[v]);
	for (unsigned v = EC_XDP_FA_ACKED; v <= EC_XDP_FA_NO_CPU; v++)
		fa += c.xdp[v];
	for (unsigned v = EC_XDP_HB_ACKED; v <= EC_XDP_HB_NO_CPU; v++)
		hb += c.xdp[v];
	for (unsigned v = EC_XDP_Q_QUORUM; v <= EC_XDP_Q_EXTRA; v++) {
		q += c.xdp[v];
		if (ec_xdp_verdict_drops(v))
			qdrop += c.xdp[v];
	}
	for (unsigned v = EC_XDP_RD_ANSWERED; v <= EC_XDP_RD_MALFORMED; v++)
		rd += c.xdp[v];
	/* of the PREPAREs that reached this replica's XDP program */
	show_fraction(r->out, "fraction.prepare_acked_in_kernel",
		      c.xdp[EC_XDP_FA_ACKED], fa);
	/* of the heartbeats (COMMITs) that reached it */
	show_fraction(r->out, "fraction.heartbeat_acked_in_kernel",
		      c.xdp[EC_XDP_HB_ACKED], hb);
	/* of the PREPARE_OKs that reached it */
	show_fraction(r->out, "fraction.prepare_ok_dropped_in_kernel", qdrop, q);
	/* of the READs that reached it */
	show_fraction(r->out, "fraction.read_answered_in_kernel",
		      c.xdp[EC_XDP_RD_ANSWERED], rd);
	show_read_cache(r->out, ec_offload_read_cache(o));
	return 0;
}

static int offload_cmd(struct ec_control_req *r, void *arg)
{
	struct ec_offload *o = arg;
	struct ec_switches sw;
	char err[200];
	bool on;

	if (!o)
		return ec_control_fail(r, "BPF offloads are not loaded (replica "
				   "started with --no-bpf)");
	if (r->argc == 1)
		return show(r, o);
	if (r->argc != 3 ||
	    (strcmp(r->argv[2], "on") != 0 && strcmp(r->argv[2], "off") != 0))
		return ec_control_fail(r, "usage: offload [SPEC on|off]");
	on = strcmp(r->argv[2], "on") == 0;
	sw = *ec_offload_switches(o);
	if (ec_switches_apply(&sw, r->argv[1], on, err, sizeof(err)) < 0)
		return ec_control_fail(r, "%s", err);
	ec_offload_set_switches(o, &sw);
	ec_switches_foreach(&sw, show_switch, r->out);
	return 0;
}

int ec_offload_cmds_add(struct ec_control *ctl, struct ec_offload *o)
{
	return ec_control_add(ctl, "offload", "[SPEC on|off]",
			      "show offload switches and BPF counters, or set "
			      "switches (SPEC: all, none, broadcast, fastack, "
			      "quorum, read, or e.g. broadcast.commit; none turns "
			      "every switch off whatever on|off says)",
			      offload_cmd, o);
}
