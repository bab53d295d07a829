/*
 * ec-port - attach, configure and inspect the bridge-port programs
 * (bpf/bridge_port.bpf.c) on the bridge-side veth ends of a local cluster,
 * and run the delay line that delayed frames pass through.
 *
 * One instance of the object per port: its XDP program (loss) and its TC
 * ingress program (duplication, delay) share that instance's maps, which
 * hold every setting; nothing about the topology is compiled in.  Both
 * are attached through netlink, so they stay attached after this process
 * exits and go away with their interface; later commands find the
 * attached instance again through port.c, and the delay line is
 * delay_line.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bridge_port.skel.h"
#include "common/config.h"
#include "delay_line.h"
#include "port.h"
#include "port_log.h"

/* Longest delay or jitter a rule may ask for, microseconds. */
#define MAX_DELAY_US 10000000ull
/* Exit status when the kernel or driver lacks what we need. */
#define EXIT_UNSUPPORTED 3

static int verbose;

/* libbpf's log goes to stderr with -v, nowhere otherwise. */
static int libbpf_log(enum libbpf_print_level level, const char *fmt,
		      va_list ap)
{
	return verbose ? vfprintf(stderr, fmt, ap) : 0;
}

/* Print the help text to f. */
static void usage(FILE *f)
{
	fprintf(f,
		"usage: ec-port [-v] attach IFNAME... [--drop-permille N]\n"
		"       ec-port [-v] set IFNAME... --drop-permille N\n"
		"       ec-port [-v] rule IFNAME dst IPV4 [loss P] [dup P] [delay US] [jitter US]\n"
		"       ec-port [-v] rules IFNAME...\n"
		"       ec-port [-v] clear IFNAME...\n"
		"       ec-port [-v] stats IFNAME...\n"
		"       ec-port [-v] delay-line BRIDGE IFNAME...\n"
		"       ec-port [-v] detach IFNAME...\n"
		"\n"
		"Manage the bridge-port programs on interfaces of the current\n"
		"network namespace (run it under `ip netns exec`).  A port's\n"
		"programs see the frames its node SENDS; a rule is for the link\n"
		"from that node to one IPv4 destination.\n"
		"\n"
		"  attach      load one instance per interface, attach its XDP\n"
		"              program in native (driver) mode and its TC program\n"
		"              on clsact ingress, replacing ours or any other XDP\n"
		"              program; they stay attached after ec-port exits\n"
		"  set         change the drop rate of every frame the port gets\n"
		"  rule        set the rule for frames to IPV4 (omitted values are\n"
		"              0; all 0 removes it): loss P and dup P per mille\n"
		"              (0..1000), delay US plus a uniform random 0..jitter\n"
		"              US (each 0..%llu; jitter reorders frames)\n"
		"  rules       print 'IFNAME dst IPV4 loss P dup P delay US jitter US'\n"
		"              per rule\n"
		"  clear       remove every rule and set the drop rate to 0\n"
		"  stats       print 'IFNAME passed N dropped N drop_permille N'\n"
		"              then the other counters by name, the number of\n"
		"              rules and whether a delay line runs\n"
		"  delay-line  until SIGINT or SIGTERM: take the frames the ports'\n"
		"              rules delay and send each into BRIDGE (the bridge\n"
		"              device) when it is due; on exit, send what it holds\n"
		"              at once.  Without it a delay rule delays nothing.\n"
		"  detach      remove the programs; an interface without is fine\n"
		"\n"
		"  --drop-permille N  drop N of every 1000 frames the interface\n"
		"                     receives (0..1000, default 0 = pass all)\n"
		"  -v, --verbose      show libbpf's log\n"
		"  -h, --help         this text\n"
		"\n"
		"Exit status: 0 ok, 1 error, 2 usage, %d native XDP unsupported.\n",
		MAX_DELAY_US, EXIT_UNSUPPORTED);
}

/* Whether a negative errno from the kernel means "not supported here". */
static int unsupported(int err)
{
	return err == -EOPNOTSUPP || err == -524 /* ENOTSUPP */ ||
	       err == -ENOSYS;
}

/* Attach the TC program of skel to idx's clsact ingress (creating the
 * clsact qdisc if needed); returns 0 or a negative errno. */
static int attach_tc(const char *ifname, unsigned idx,
		     struct bridge_port *skel)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)idx,
		    .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = PORT_TC_HANDLE,
		    .priority = PORT_TC_PRIO, .flags = BPF_TC_F_REPLACE,
		    .prog_fd = bpf_program__fd(skel->progs.bridge_port_tc));
	int err = bpf_tc_hook_create(&hook);

	if (err && err != -EEXIST) {
		pr_err("%s: creating the clsact qdisc failed: %s", ifname,
		       strerror(-err));
		return err;
	}
	err = bpf_tc_attach(&hook, &opts);
	if (err)
		pr_err("%s: attaching the TC ingress program failed: %s",
		       ifname, strerror(-err));
	return err;
}

/* Remove our TC filter from idx's clsact ingress, if there; 0 or 1. */
static int detach_tc(const char *ifname, unsigned idx)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)idx,
		    .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = PORT_TC_HANDLE,
		    .priority = PORT_TC_PRIO);
	int err = bpf_tc_detach(&hook, &opts);

	if (err && err != -ENOENT && err != -EINVAL) {
		pr_err("%s: detaching the TC program failed: %s", ifname,
		       strerror(-err));
		return 1;
	}
	return 0;
}

/*
 * Load a fresh instance, set its drop rate, attach its XDP program to
 * ifname in driver mode and its TC program on ingress.  Returns 0, 1 on
 * error or EXIT_UNSUPPORTED.
 */
static int attach_one(const char *ifname, unsigned permille)
{
	struct bridge_port *skel;
	unsigned idx = port_ifindex(ifname);
	int err, rc = 1;

	if (!idx)
		return 1;
	skel = bridge_port__open_and_load();
	if (!skel) {
		err = -errno;
		pr_err("loading the bridge-port programs failed: %s%s",
		       strerror(-err), verbose ? "" : " (-v shows libbpf's log)");
		return unsupported(err) ? EXIT_UNSUPPORTED : 1;
	}
	if (port_set_cfg(bpf_map__fd(skel->maps.port_cfg), ifname,
		    EC_PORT_CFG_DROP_PERMILLE, permille))
		goto out;
	err = bpf_xdp_attach((int)idx, bpf_program__fd(skel->progs.bridge_port),
			     XDP_FLAGS_DRV_MODE, NULL);
	if (err) {
		pr_err("%s: attaching XDP in native (driver) mode failed: %s%s",
		       ifname, strerror(-err),
		       unsupported(err) ? " (the driver lacks native XDP)" : "");
		rc = unsupported(err) ? EXIT_UNSUPPORTED : 1;
		goto out;
	}
	if (attach_tc(ifname, idx, skel)) {
		bpf_xdp_detach((int)idx, XDP_FLAGS_DRV_MODE, NULL);
		goto out;
	}
	rc = 0;
out:
	/* Closing our descriptors leaves the netlink attachments in place. */
	bridge_port__destroy(skel);
	return rc;
}

/* Sum every per-CPU counter of a port_stats map into sums[]; returns 0
 * or -1 with errno set. */
static int read_counters(int fd, unsigned long long sums[EC_PORT_VERDICT_MAX])
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 *vals;

	if (ncpu <= 0) {
		errno = -ncpu;
		return -1;
	}
	vals = calloc((size_t)ncpu, sizeof(*vals));
	if (!vals)
		return -1;
	for (__u32 key = 0; key < EC_PORT_VERDICT_MAX; key++) {
		if (bpf_map_lookup_elem(fd, &key, vals) < 0) {
			free(vals);
			return -1;
		}
		sums[key] = 0;
		for (int i = 0; i < ncpu; i++)
			sums[key] += vals[i];
	}
	free(vals);
	return 0;
}

/* Number of rules in a port_links map. */
static unsigned count_rules(int fd)
{
	__be32 key, next;
	unsigned n = 0;
	void *prev = NULL;

	while (n < EC_PORT_MAX_LINKS &&
	       bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		n++;
	}
	return n;
}

/* Print the counters, drop rate, rule count and delay-line state of
 * ifname; returns 0 or 1.  The first six fields keep their places. */
static int stats_one(const char *ifname)
{
	static const char *const names[EC_PORT_VERDICT_MAX] = {
		[EC_PORT_PASSED] = "passed",
		[EC_PORT_DROPPED] = "dropped",
		[EC_PORT_LINK_DROPPED] = "link_dropped",
		[EC_PORT_TC_PASSED] = "tc_passed",
		[EC_PORT_DUPLICATED] = "duplicated",
		[EC_PORT_DUP_FAILED] = "dup_failed",
		[EC_PORT_COPY] = "copies",
		[EC_PORT_DELAYED] = "delayed",
		[EC_PORT_DELAY_FULL] = "delay_full",
		[EC_PORT_DELAY_OFF] = "delay_off",
	};
	unsigned long long c[EC_PORT_VERDICT_MAX];
	__u32 key = EC_PORT_CFG_DROP_PERMILLE, permille, line;
	struct port_maps m;
	int rc = 1;

	if (port_maps_open(ifname, &m))
		return 1;
	if (read_counters(m.stats, c) ||
	    bpf_map_lookup_elem(m.cfg, &key, &permille) < 0 ||
	    bpf_map_lookup_elem(m.cfg, &(__u32){ EC_PORT_CFG_DELAY_LINE },
				&line) < 0) {
		pr_err("%s: reading the maps failed: %s", ifname,
		       strerror(errno));
		goto out;
	}
	printf("%s passed %llu dropped %llu drop_permille %u", ifname,
	       c[EC_PORT_PASSED], c[EC_PORT_DROPPED], permille);
	for (unsigned v = EC_PORT_LINK_DROPPED; v < EC_PORT_VERDICT_MAX; v++)
		printf(" %s %llu", names[v], c[v]);
	printf(" rules %u delay_line %s\n", count_rules(m.links),
	       line ? "on" : "off");
	rc = 0;
out:
	port_maps_close(&m);
	return rc;
}

/* Change the drop rate of the instance attached to ifname; returns 0 or 1. */
static int set_one(const char *ifname, unsigned permille)
{
	struct port_maps m;
	int rc;

	if (port_maps_open(ifname, &m))
		return 1;
	rc = port_set_cfg(m.cfg, ifname, EC_PORT_CFG_DROP_PERMILLE, permille) ? 1 : 0;
	port_maps_close(&m);
	return rc;
}

/* Print every rule of ifname; returns 0 or 1. */
static int rules_one(const char *ifname)
{
	struct ec_port_link l;
	struct port_maps m;
	__be32 key, next;
	void *prev = NULL;
	char ip[INET_ADDRSTRLEN];

	if (port_maps_open(ifname, &m))
		return 1;
	while (bpf_map_get_next_key(m.links, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(m.links, &key, &l) < 0)
			continue; /* removed meanwhile */
		inet_ntop(AF_INET, &key, ip, sizeof(ip));
		printf("%s dst %s loss %u dup %u delay %u jitter %u\n", ifname,
		       ip, l.loss_permille, l.dup_permille, l.delay_us,
		       l.jitter_us);
	}
	port_maps_close(&m);
	return 0;
}

/* Remove every rule of ifname and set its drop rate to 0; 0 or 1. */
static int clear_one(const char *ifname)
{
	struct port_maps m;
	__be32 key;
	int rc = 0;

	if (port_maps_open(ifname, &m))
		return 1;
	/* Deleting while iterating: always take the first key again. */
	for (unsigned i = 0; i <= EC_PORT_MAX_LINKS &&
			     bpf_map_get_next_key(m.links, NULL, &key) == 0;
	     i++)
		if (bpf_map_delete_elem(m.links, &key) < 0 && errno != ENOENT) {
			pr_err("%s: removing a rule failed: %s", ifname,
			       strerror(errno));
			rc = 1;
			break;
		}
	if (port_set_cfg(m.cfg, ifname, EC_PORT_CFG_DROP_PERMILLE, 0))
		rc = 1;
	port_maps_close(&m);
	return rc;
}

/* Parse "KEYWORD VALUE" pairs of a rule from argv[0..argc) into *l;
 * returns 0 or -1 after an error. */
static int parse_rule(int argc, char **argv, struct ec_port_link *l)
{
	memset(l, 0, sizeof(*l));
	for (int i = 0; i < argc; i += 2) {
		unsigned long long max = 1000, v;
		__u32 *field;

		if (!strcmp(argv[i], "loss"))
			field = &l->loss_permille;
		else if (!strcmp(argv[i], "dup"))
			field = &l->dup_permille;
		else if (!strcmp(argv[i], "delay"))
			field = &l->delay_us, max = MAX_DELAY_US;
		else if (!strcmp(argv[i], "jitter"))
			field = &l->jitter_us, max = MAX_DELAY_US;
		else {
			pr_err("rule: unknown setting '%s' (loss, dup, delay, "
			       "jitter)", argv[i]);
			return -1;
		}
		if (i + 1 >= argc || ec_parse_uint(argv[i + 1], 0, max, &v) < 0) {
			pr_err("rule: %s wants a number in 0..%llu", argv[i],
			       max);
			return -1;
		}
		*field = (__u32)v;
	}
	return 0;
}

/* ec-port rule IFNAME dst IPV4 SETTINGS...: argv starts at IFNAME.
 * Returns the exit status. */
static int rule_cmd(int argc, char **argv)
{
	struct ec_port_link l;
	struct port_maps m;
	struct in_addr dst;
	int rc = 0;

	if (argc < 3 || strcmp(argv[1], "dst") != 0) {
		pr_err("usage: ec-port rule IFNAME dst IPV4 [loss P] [dup P] "
		       "[delay US] [jitter US]");
		return 2;
	}
	if (inet_pton(AF_INET, argv[2], &dst) != 1) {
		pr_err("rule: '%s' is not an IPv4 address", argv[2]);
		return 2;
	}
	if (parse_rule(argc - 3, argv + 3, &l))
		return 2;
	if (port_maps_open(argv[0], &m))
		return 1;
	if (!l.loss_permille && !l.dup_permille && !l.delay_us && !l.jitter_us) {
		if (bpf_map_delete_elem(m.links, &dst.s_addr) < 0 &&
		    errno != ENOENT)
			rc = 1;
	} else if (bpf_map_update_elem(m.links, &dst.s_addr, &l, BPF_ANY) < 0) {
		rc = 1;
	}
	if (rc)
		pr_err("%s: changing the rule for %s failed: %s%s", argv[0],
		       argv[2], strerror(errno),
		       errno == E2BIG ? " (too many rules)" : "");
	port_maps_close(&m);
	return rc;
}

/*
 * Detach our programs from ifname.  An interface with no driver-mode
 * program is left as it is; someone else's program is an error.
 * Returns 0 or 1.
 */
static int detach_one(const char *ifname)
{
	struct port_maps m;
	unsigned idx = port_ifindex(ifname);
	__u32 id = 0;
	int err;

	if (!idx || port_attached_id(ifname, idx, &id))
		return 1;
	if (!id)
		return detach_tc(ifname, idx);
	if (port_maps_open(ifname, &m))
		return 1;
	port_maps_close(&m);
	if (detach_tc(ifname, idx))
		return 1;
	err = bpf_xdp_detach((int)idx, XDP_FLAGS_DRV_MODE, NULL);
	if (err) {
		pr_err("%s: detaching XDP failed: %s", ifname, strerror(-err));
		return 1;
	}
	return 0;
}

/* Parse a drop rate 0..1000 into *out; returns 0 or -1 after an error. */
static int parse_permille(const char *s, unsigned *out)
{
	unsigned long long v;

	if (ec_parse_uint(s, 0, 1000, &v) < 0) {
		pr_err("--drop-permille wants a number in 0..1000, not '%s'", s);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

/* Parse the command line and run one command on each interface, stopping
 * at the first failure.  Returns the exit status described in usage(). */
int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "drop-permille", required_argument, NULL, 'd' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const cmds[] = { "attach", "set", "detach",
					    "stats", "rule", "rules",
					    "clear", "delay-line" };
	unsigned permille = 0, known = 0;
	int have_permille = 0, c, rc = 0;
	const char *cmd;

	/* Options may follow the names (GNU getopt permutes); no rule
	 * setting or interface name starts with '-'. */
	while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (parse_permille(optarg, &permille))
				return 2;
			have_permille = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind < 2) {
		usage(stderr);
		return 2;
	}
	cmd = argv[optind++];
	for (unsigned i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		known |= !strcmp(cmd, cmds[i]);
	if (!known) {
		pr_err("unknown command '%s' (see --help)", cmd);
		return 2;
	}
	if (have_permille && strcmp(cmd, "attach") && strcmp(cmd, "set")) {
		pr_err("--drop-permille goes with attach or set, not %s", cmd);
		return 2;
	}
	if (!strcmp(cmd, "set") && !have_permille) {
		pr_err("set needs --drop-permille N");
		return 2;
	}
	libbpf_set_print(libbpf_log);

	if (!strcmp(cmd, "rule"))
		return rule_cmd(argc - optind, argv + optind);
	if (!strcmp(cmd, "delay-line"))
		return delay_line_run(argv[optind], argc - optind - 1,
				      argv + optind + 1);
	for (int i = optind; i < argc && rc == 0; i++) {
		if (!strcmp(cmd, "attach"))
			rc = attach_one(argv[i], permille);
		else if (!strcmp(cmd, "set"))
			rc = set_one(argv[i], permille);
		else if (!strcmp(cmd, "detach"))
			rc = detach_one(argv[i]);
		else if (!strcmp(cmd, "rules"))
			rc = rules_one(argv[i]);
		else if (!strcmp(cmd, "clear"))
			rc = clear_one(argv[i]);
		else
			rc = stats_one(argv[i]);
	}
	return rc;
}
