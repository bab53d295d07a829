/* port.c - see port.h. */
#include "port.h"

#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "port_log.h"

/* The programs' name in the object (the TC one with "_tc" after it). */
#define PROG_NAME "bridge_port"

unsigned port_ifindex(const char *name)
{
	unsigned idx = if_nametoindex(name);

	if (!idx)
		pr_err("%s: no such interface in this network namespace", name);
	return idx;
}

int port_set_cfg(int cfg_fd, const char *ifname, __u32 key, __u32 val)
{
	if (bpf_map_update_elem(cfg_fd, &key, &val, BPF_ANY) < 0) {
		pr_err("%s: writing port_cfg[%u] failed: %s", ifname, key,
		       strerror(errno));
		return -1;
	}
	return 0;
}

int port_attached_id(const char *ifname, unsigned idx, __u32 *id)
{
	int err = bpf_xdp_query_id((int)idx, XDP_FLAGS_DRV_MODE, id);

	if (err) {
		pr_err("%s: querying XDP failed: %s", ifname, strerror(-err));
		return -1;
	}
	return 0;
}

void port_maps_close(struct port_maps *m)
{
	int *fds[] = { &m->cfg, &m->stats, &m->links, &m->ring };

	for (unsigned i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

/* Keep fd in m if the map named name is one of ours still missing there;
 * returns 1 if kept. */
static int keep_map(struct port_maps *m, const char *name, int fd)
{
	struct {
		const char *name;
		int *fd;
	} want[] = { { "port_cfg", &m->cfg }, { "port_stats", &m->stats },
		     { "port_links", &m->links }, { "port_delay", &m->ring } };

	for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strcmp(name, want[i].name) && *want[i].fd < 0) {
			*want[i].fd = fd;
			return 1;
		}
	return 0;
}

/*
 * Add the maps of program id (attached to ifname, named want) to *m,
 * where still missing; *cfg_id gets the id of its port_cfg.  Returns 0,
 * or -1 after printing an error.
 */
static int add_prog_maps(const char *ifname, __u32 id, const char *want,
			 struct port_maps *m, __u32 *cfg_id)
{
	struct bpf_prog_info info;
	__u32 map_ids[8], len = sizeof(info);
	int prog_fd = bpf_prog_get_fd_by_id(id), rc = -1;

	*cfg_id = 0;
	if (prog_fd < 0) {
		pr_err("%s: opening program %u failed: %s", ifname, id,
		       strerror(errno));
		return -1;
	}
	memset(&info, 0, sizeof(info));
	info.nr_map_ids = sizeof(map_ids) / sizeof(map_ids[0]);
	info.map_ids = (__u64)(unsigned long)map_ids;
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len) < 0) {
		pr_err("%s: reading program info failed: %s", ifname,
		       strerror(errno));
		goto out;
	}
	if (strcmp(info.name, want) != 0) {
		pr_err("%s: the attached program is '%s', not %s", ifname,
		       info.name, want);
		goto out;
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
			goto out;
		}
		if (!strcmp(minfo.name, "port_cfg"))
			*cfg_id = minfo.id;
		if (!keep_map(m, minfo.name, fd))
			close(fd);
	}
	rc = 0;
out:
	close(prog_fd);
	return rc;
}

int port_maps_open(const char *ifname, struct port_maps *m)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, tc, .handle = PORT_TC_HANDLE,
		    .priority = PORT_TC_PRIO);
	unsigned idx = port_ifindex(ifname);
	__u32 id = 0, xdp_cfg, tc_cfg;
	int err;

	m->cfg = m->stats = m->links = m->ring = -1;
	if (!idx || port_attached_id(ifname, idx, &id))
		return -1;
	if (!id) {
		pr_err("%s: no XDP program attached in driver mode", ifname);
		return -1;
	}
	if (add_prog_maps(ifname, id, PROG_NAME, m, &xdp_cfg))
		goto err;
	hook.ifindex = (int)idx;
	err = bpf_tc_query(&hook, &tc);
	if (err) {
		pr_err("%s: no bridge-port TC program on ingress (%s; old "
		       "build? attach again)", ifname, strerror(-err));
		goto err;
	}
	if (add_prog_maps(ifname, tc.prog_id, PROG_NAME "_tc", m, &tc_cfg))
		goto err;
	if (m->cfg < 0 || m->stats < 0 || m->links < 0 || m->ring < 0 ||
	    xdp_cfg != tc_cfg) {
		pr_err("%s: the attached programs lack their maps or are not "
		       "one instance (old build? attach again)", ifname);
		goto err;
	}
	return 0;
err:
	port_maps_close(m);
	return -1;
}
