/*
 * ec-port - attach, configure and inspect the bridge-port XDP program
 * (bpf/bridge_port.bpf.c) on the bridge-side veth ends of a local cluster.
 *
 * The program is attached through netlink, so it stays attached after this
 * process exits and goes away with its interface.  Nothing is pinned (bpffs
 * is not mounted under `ip netns exec`): later commands find the attached
 * instance through the interface's XDP program id and the map ids the
 * kernel reports for that program.
 */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bridge_port.skel.h"
#include "config.h"

/* Map keys; the same numbers as in bpf/bridge_port.bpf.c. */
enum { PORT_CFG_DROP_PERMILLE = 0 };
enum { PORT_PASSED = 0, PORT_DROPPED = 1 };

#define PROG_NAME "bridge_port"
/* Exit status when the kernel or driver lacks what we need. */
#define EXIT_UNSUPPORTED 3

static int verbose;

static void pr_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print an error message prefixed with the program name. */
static void pr_err(const char *fmt, ...)
{
	va_list ap;

	fputs("ec-port: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

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
		"       ec-port [-v] detach IFNAME...\n"
		"       ec-port [-v] stats IFNAME...\n"
		"\n"
		"Manage the bridge-port XDP program on interfaces of the current\n"
		"network namespace (run it under `ip netns exec`).\n"
		"\n"
		"  attach   load one instance per interface and attach it in native\n"
		"           (driver) mode, replacing any program there; it stays\n"
		"           attached after ec-port exits\n"
		"  set      change the drop rate of the attached instances\n"
		"  detach   remove the program; an interface without one is fine\n"
		"  stats    print 'IFNAME passed N dropped N drop_permille N'\n"
		"\n"
		"  --drop-permille N  drop N of every 1000 frames the interface\n"
		"                     receives (0..1000, default 0 = pass all)\n"
		"  -v, --verbose      show libbpf's log\n"
		"  -h, --help         this text\n"
		"\n"
		"Exit status: 0 ok, 1 error, 2 usage, %d native XDP unsupported.\n",
		EXIT_UNSUPPORTED);
}

/* Interface index of name, or 0 after printing an error. */
static unsigned ifindex_of(const char *name)
{
	unsigned idx = if_nametoindex(name);

	if (!idx)
		pr_err("%s: no such interface in this network namespace", name);
	return idx;
}

/* Whether a negative errno from the kernel means "not supported here". */
static int unsupported(int err)
{
	return err == -EOPNOTSUPP || err == -524 /* ENOTSUPP */ ||
	       err == -ENOSYS;
}

/* Write the drop rate into a port_cfg map; returns 0 or -1. */
static int set_permille(int cfg_fd, const char *ifname, unsigned permille)
{
	__u32 key = PORT_CFG_DROP_PERMILLE, val = permille;

	if (bpf_map_update_elem(cfg_fd, &key, &val, BPF_ANY) < 0) {
		pr_err("%s: setting the drop rate failed: %s", ifname,
		       strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Load a fresh instance, set its drop rate and attach it to ifname in
 * driver mode.  Returns 0, 1 on error or EXIT_UNSUPPORTED.
 */
static int attach_one(const char *ifname, unsigned permille)
{
	struct bridge_port *skel;
	unsigned idx = ifindex_of(ifname);
	int err, rc = 1;

	if (!idx)
		return 1;
	skel = bridge_port__open_and_load();
	if (!skel) {
		err = -errno;
		pr_err("loading the XDP program failed: %s%s", strerror(-err),
		       verbose ? "" : " (-v shows libbpf's log)");
		return unsupported(err) ? EXIT_UNSUPPORTED : 1;
	}
	if (set_permille(bpf_map__fd(skel->maps.port_cfg), ifname, permille))
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
	rc = 0;
out:
	/* Closing our descriptors leaves the netlink attachment in place. */
	bridge_port__destroy(skel);
	return rc;
}

/*
 * Id of the program attached to idx in driver mode: 0 with *id = 0 when
 * there is none, -1 after printing an error.
 */
static int attached_id(const char *ifname, unsigned idx, __u32 *id)
{
	int err = bpf_xdp_query_id((int)idx, XDP_FLAGS_DRV_MODE, id);

	if (err) {
		pr_err("%s: querying XDP failed: %s", ifname, strerror(-err));
		return -1;
	}
	return 0;
}

/*
 * Open the maps of our program attached to ifname: *cfg_fd and *stats_fd
 * (the caller closes them).  Returns 0, or -1 after printing an error when
 * nothing or something else is attached.
 */
static int open_port_maps(const char *ifname, int *cfg_fd, int *stats_fd)
{
	struct bpf_prog_info info;
	__u32 map_ids[8], len = sizeof(info), id = 0;
	unsigned idx = ifindex_of(ifname);
	int prog_fd = -1;

	*cfg_fd = *stats_fd = -1;
	if (!idx || attached_id(ifname, idx, &id))
		return -1;
	if (!id) {
		pr_err("%s: no XDP program attached in driver mode", ifname);
		return -1;
	}
	prog_fd = bpf_prog_get_fd_by_id(id);
	if (prog_fd < 0) {
		pr_err("%s: opening XDP program %u failed: %s", ifname, id,
		       strerror(errno));
		return -1;
	}
	memset(&info, 0, sizeof(info));
	info.nr_map_ids = sizeof(map_ids) / sizeof(map_ids[0]);
	info.map_ids = (__u64)(unsigned long)map_ids;
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len) < 0) {
		pr_err("%s: reading XDP program info failed: %s", ifname,
		       strerror(errno));
		goto err;
	}
	if (strcmp(info.name, PROG_NAME) != 0) {
		pr_err("%s: the attached XDP program is '%s', not %s", ifname,
		       info.name, PROG_NAME);
		goto err;
	}
	for (__u32 i = 0; i < info.nr_map_ids && i < 8; i++) {
		struct bpf_map_info minfo;
		__u32 mlen = sizeof(minfo);
		int fd = bpf_map_get_fd_by_id(map_ids[i]);

		memset(&minfo, 0, sizeof(minfo));
		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &minfo, &mlen) < 0) {
			pr_err("%s: opening map %u failed: %s", ifname,
			       map_ids[i], strerror(errno));
			if (fd >= 0)
				close(fd);
			goto err;
		}
		if (!strcmp(minfo.name, "port_cfg") && *cfg_fd < 0)
			*cfg_fd = fd;
		else if (!strcmp(minfo.name, "port_stats") && *stats_fd < 0)
			*stats_fd = fd;
		else
			close(fd);
	}
	if (*cfg_fd < 0 || *stats_fd < 0) {
		pr_err("%s: the attached %s lacks its maps (old build?)",
		       ifname, PROG_NAME);
		goto err;
	}
	close(prog_fd);
	return 0;
err:
	if (*cfg_fd >= 0)
		close(*cfg_fd);
	if (*stats_fd >= 0)
		close(*stats_fd);
	*cfg_fd = *stats_fd = -1;
	close(prog_fd);
	return -1;
}

/* Sum the per-CPU counter at key; returns 0 or -1 with errno set. */
static int read_counter(int fd, __u32 key, unsigned long long *sum)
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
	if (bpf_map_lookup_elem(fd, &key, vals) < 0) {
		free(vals);
		return -1;
	}
	*sum = 0;
	for (int i = 0; i < ncpu; i++)
		*sum += vals[i];
	free(vals);
	return 0;
}

/* Print the counters and drop rate of ifname; returns 0 or 1. */
static int stats_one(const char *ifname)
{
	unsigned long long passed, dropped;
	__u32 key = PORT_CFG_DROP_PERMILLE, permille;
	int cfg_fd, stats_fd, rc = 1;

	if (open_port_maps(ifname, &cfg_fd, &stats_fd))
		return 1;
	if (read_counter(stats_fd, PORT_PASSED, &passed) ||
	    read_counter(stats_fd, PORT_DROPPED, &dropped) ||
	    bpf_map_lookup_elem(cfg_fd, &key, &permille) < 0) {
		pr_err("%s: reading the maps failed: %s", ifname,
		       strerror(errno));
		goto out;
	}
	printf("%s passed %llu dropped %llu drop_permille %u\n", ifname,
	       passed, dropped, permille);
	rc = 0;
out:
	close(cfg_fd);
	close(stats_fd);
	return rc;
}

/* Change the drop rate of the instance attached to ifname; returns 0 or 1. */
static int set_one(const char *ifname, unsigned permille)
{
	int cfg_fd, stats_fd, rc;

	if (open_port_maps(ifname, &cfg_fd, &stats_fd))
		return 1;
	rc = set_permille(cfg_fd, ifname, permille) ? 1 : 0;
	close(cfg_fd);
	close(stats_fd);
	return rc;
}

/*
 * Detach our program from ifname.  An interface with no driver-mode
 * program is left as it is; someone else's program is an error.
 * Returns 0 or 1.
 */
static int detach_one(const char *ifname)
{
	int cfg_fd, stats_fd, err;
	unsigned idx = ifindex_of(ifname);
	__u32 id = 0;

	if (!idx || attached_id(ifname, idx, &id))
		return 1;
	if (!id)
		return 0;
	if (open_port_maps(ifname, &cfg_fd, &stats_fd))
		return 1;
	close(cfg_fd);
	close(stats_fd);
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
	unsigned permille = 0;
	int have_permille = 0, c, rc = 0;
	const char *cmd;

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
	if (strcmp(cmd, "attach") && strcmp(cmd, "set") &&
	    strcmp(cmd, "detach") && strcmp(cmd, "stats")) {
		pr_err("unknown command '%s' (see --help)", cmd);
		return 2;
	}
	if (!strcmp(cmd, "set") && !have_permille) {
		pr_err("set needs --drop-permille N");
		return 2;
	}
	if (have_permille && strcmp(cmd, "attach") && strcmp(cmd, "set")) {
		pr_err("--drop-permille goes with attach or set, not %s", cmd);
		return 2;
	}
	libbpf_set_print(libbpf_log);

	for (int i = optind; i < argc && rc == 0; i++) {
		if (!strcmp(cmd, "attach"))
			rc = attach_one(argv[i], permille);
		else if (!strcmp(cmd, "set"))
			rc = set_one(argv[i], permille);
		else if (!strcmp(cmd, "detach"))
			rc = detach_one(argv[i]);
		else
			rc = stats_one(argv[i]);
	}
	return rc;
}
