/*
 * offload.c - see offload.h.
 *
 * Shared state with the XDP program lives in its .bss, which libbpf maps
 * into our address space: updates are plain atomic loads and stores, no
 * syscall per op.  The follower's fast ack is gated by ec_state.expected:
 * the kernel only ever moves it forward by compare-and-swap, user space
 * opens it (store), nudges it past ops it appended itself (compare-and-
 * swap) and closes it (exchange with 0) before anything that could
 * contradict an ack the kernel sent.
 *
 * Every op below the word a close swapped out was acked.  Those acks are
 * promises the core must keep: before it votes with its log or replaces
 * entries of it, it calls ec_offload_quiesce, which closes the window (if
 * a sync has not already), reads the ring until every acked op above the
 * core's last op is among the records (they are in op order, bpf/
 * fastack.h, and at most microseconds from being submitted) and hands
 * them back, with the highest acked op, for the core to absorb and check,
 * and when the kernel last acknowledged anything (a PREPARE or a
 * heartbeat): the newest of its per-CPU promise stamps, read after the
 * close, for the core to keep that promise (proto/ec_offload.h).
 * The offload keeps no pointer to the core: what it mirrors comes in
 * (ec_offload_sync), what the kernel acked goes out as data.
 */
#include "offload.h"

#include <arpa/inet.h>
#include <endian.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ec_broadcast.skel.h"
#include "ec_xdp.skel.h"
#include "common/clock.h"
#include "common/diag.h"
#include "core/quorum.h"

/* How long quiesce waits for entries the kernel acked but had not yet
 * submitted (they are microseconds away). */
#define QUIESCE_WAIT_US 200000
#define TC_HANDLE 0xec
#define TC_PRIORITY 1

struct ec_offload {
	const struct ec_config *cfg;
	unsigned self;
	int ifindex;
	struct ec_switches sw;
	struct ec_broadcast *bc;
	struct ec_xdp *xdp;
	struct ring_buffer *ring;
	/* Records read from the ring (copies: the kernel reuses its space
	 * once a record is consumed), recs[0..n_recs), and the same as
	 * datagrams, handed out by ec_offload_acked or ec_offload_quiesce
	 * and ours again at the next call of either. */
	struct ec_fa_record *recs;
	struct ec_dgram *dgrams;
	size_t n_recs, cap_recs;
	uint32_t fa_view;        /* the view the window was last opened in */
	unsigned promise_cpus;   /* the promise slots the program writes */
	uint64_t acked_through;  /* a sync closed the window: the kernel
				  * acked every op up to here; the next
				  * quiesce reports it (0: nothing) */
	struct ec_core_state mirror; /* the core's state, as last synced */
	bool mirrored;           /* mirror holds one */
	int xdp_link;            /* closing it detaches the XDP program */
	uint64_t fa_epoch;       /* bumped each time the fast ack reopens
				  * (8 bits used; a program run would have
				  * to stall across 256 reopens to care) */
	size_t to_all_max;       /* largest datagram the TC program can fan
				  * out: one frame (it passes IP fragments
				  * untouched, so they would reach one peer) */
	struct ec_offload_params params;
	struct ec_read_cache rc;
	bool tc_attached, tc_hook_created;
	struct bpf_tc_hook hook;
	struct bpf_tc_opts tc_opts;
};

static int libbpf_log(enum libbpf_print_level level, const char *fmt,
		      va_list ap)
{
	if (!ec_diag_enabled(EC_DIAG_DEBUG))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* Fill one object's topology (its ec_peers, ec_self and ec_n): both
 * programs declare the same three. */
static void set_topology(const struct ec_offload *o,
			 struct ec_bpf_peer peers[EC_MAX_REPLICAS],
			 __u32 *self, __u32 *n)
{
	for (unsigned i = 0; i < EC_MAX_REPLICAS; i++) {
		struct ec_bpf_peer p = { 0 };

		if (i < o->cfg->n) {
			p.ip = o->cfg->peers[i].ip;
			p.port = htons(o->cfg->peers[i].port);
			memcpy(p.mac, o->cfg->peers[i].mac, sizeof(p.mac));
		}
		peers[i] = p;
	}
	*self = o->self;
	*n = o->cfg->n;
}

/* Room for one more record; 0, or -1 out of memory. */
static int grow_recs(struct ec_offload *o)
{
	size_t cap = o->cap_recs ? 2 * o->cap_recs : 64;
	struct ec_fa_record *r = realloc(o->recs, cap * sizeof(*r));
	struct ec_dgram *d;

	if (!r)
		return -1;
	o->recs = r;
	d = realloc(o->dgrams, cap * sizeof(*d));
	if (!d)
		return -1;
	o->dgrams = d;
	o->cap_recs = cap;
	return 0;
}

/* Copy one PREPARE the kernel stored (ring_buffer callback).  Out of
 * memory the record stays in the ring (a negative return stops the read
 * before it), for the next read. */
static int on_fa_record(void *ctx, void *data, size_t size)
{
	struct ec_offload *o = ctx;
	const struct ec_fa_record *r = data;
	struct ec_fa_record *copy;

	if (size < sizeof(*r) || r->len > EC_FA_DATA_MAX)
		return 0;
	if (o->n_recs == o->cap_recs && grow_recs(o) < 0)
		return -1;
	copy = &o->recs[o->n_recs++];
	copy->len = r->len;
	memcpy(copy->data, r->data, r->len);
	return 0;
}

/* The records read since the last hand-out, as datagrams; they are ours
 * again at the next read. */
static size_t hand_out(struct ec_offload *o, const struct ec_dgram **out)
{
	for (size_t i = 0; i < o->n_recs; i++) {
		o->dgrams[i].buf = o->recs[i].data;
		o->dgrams[i].len = o->recs[i].len;
	}
	*out = o->dgrams;
	return o->n_recs;
}

/* The CPUs the XDP program may acknowledge from: one promise slot for
 * each possible CPU, as far as the slots go; 0, or -1 if unknown. */
static int count_promise_cpus(struct ec_offload *o)
{
	int ncpu = libbpf_num_possible_cpus();

	if (ncpu <= 0) {
		pr_warn("cannot count the possible CPUs: %s", strerror(-ncpu));
		return -1;
	}
	o->promise_cpus = (unsigned)ncpu;
	if (o->promise_cpus > EC_PROMISE_CPUS) {
		o->promise_cpus = EC_PROMISE_CPUS;
		pr_warn("%d possible CPUs: frames on CPUs from %u on are never "
			"fast-acked (xdp.*_no_cpu)", ncpu, EC_PROMISE_CPUS);
	}
	return 0;
}

static int load(struct ec_offload *o)
{
	int err;

	o->bc = ec_broadcast__open();
	o->xdp = ec_xdp__open();
	if (!o->bc || !o->xdp) {
		pr_warn("cannot open the BPF objects: %s", strerror(errno));
		return -1;
	}
	set_topology(o, o->bc->rodata->ec_peers, &o->bc->rodata->ec_self,
		     &o->bc->rodata->ec_n);
	set_topology(o, o->xdp->rodata->ec_peers, &o->xdp->rodata->ec_self,
		     &o->xdp->rodata->ec_n);
	if (count_promise_cpus(o) < 0)
		return -1;
	o->xdp->rodata->ec_promise_cpus = o->promise_cpus;
	o->xdp->rodata->ec_read_mask = o->params.read_cache_slots - 1;
	o->xdp->rodata->ec_test_ignore_lease = o->params.test_ignore_lease;
	err = bpf_map__set_max_entries(o->xdp->maps.read_cache,
				       o->params.read_cache_slots);
	if (err) {
		pr_warn("cannot size the read cache: %s", strerror(-err));
		return -1;
	}
	err = ec_broadcast__load(o->bc);
	if (!err)
		err = ec_xdp__load(o->xdp);
	if (err) {
		pr_warn("cannot load the BPF programs: %s (run with -v for the "
			"verifier log)", strerror(-err));
		return -1;
	}
	if (ec_read_cache_map(&o->rc, bpf_map__fd(o->xdp->maps.read_cache),
			      o->params.read_cache_slots,
			      &o->xdp->bss->ec_state) < 0) {
		pr_warn("cannot map the read cache (%u slots, %zu MiB): %s",
			o->params.read_cache_slots,
			(size_t)o->params.read_cache_slots *
				sizeof(struct ec_read_slot) >> 20,
			strerror(errno));
		return -1;
	}
	o->ring = ring_buffer__new(bpf_map__fd(o->xdp->maps.fa_log),
				   on_fa_record, o, NULL);
	if (!o->ring) {
		pr_warn("cannot set up the fast-ack ring buffer: %s",
			strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Attach XDP in native mode through a BPF link, and TC egress.  The link
 * is owned by this process: if the replica dies, even by SIGKILL, the
 * kernel detaches the fast-ack program with it.  An XDP program attached
 * the classic (netlink) way would outlive the process and keep
 * acknowledging PREPAREs for a replica that is gone: a dead replica must
 * not vote.  The TC program may outlive us harmlessly (it only clones
 * what we send); a restarted replica replaces it.
 */
static int attach(struct ec_offload *o)
{
	const char *ifname = o->cfg->peers[o->self].ifname;
	LIBBPF_OPTS(bpf_link_create_opts, lo, .flags = XDP_FLAGS_DRV_MODE);
	int err;

	o->xdp_link = bpf_link_create(bpf_program__fd(o->xdp->progs.ec_xdp),
				      o->ifindex, BPF_XDP, &lo);
	if (o->xdp_link < 0) {
		pr_warn("cannot attach XDP to %s in native mode: %s (is "
			"another XDP program attached?)", ifname,
			strerror(errno));
		return -1;
	}

	o->hook.sz = sizeof(o->hook);
	o->hook.ifindex = o->ifindex;
	o->hook.attach_point = BPF_TC_EGRESS;
	err = bpf_tc_hook_create(&o->hook);
	if (err && err != -EEXIST) {
		pr_warn("cannot create the clsact qdisc on %s: %s", ifname,
			strerror(-err));
		return -1;
	}
	o->tc_hook_created = err == 0;
	o->tc_opts.sz = sizeof(o->tc_opts);
	o->tc_opts.handle = TC_HANDLE;
	o->tc_opts.priority = TC_PRIORITY;
	o->tc_opts.flags = BPF_TC_F_REPLACE;
	o->tc_opts.prog_fd = bpf_program__fd(o->bc->progs.ec_broadcast);
	err = bpf_tc_attach(&o->hook, &o->tc_opts);
	if (err) {
		pr_warn("cannot attach the TC egress program to %s: %s", ifname,
			strerror(-err));
		return -1;
	}
	o->tc_attached = true;
	pr_info("BPF offloads attached to %s (XDP native, TC egress)", ifname);
	return 0;
}

/* Datagrams up to the interface MTU less the IPv4 and UDP headers leave
 * as single frames. */
static int interface_mtu(struct ec_offload *o)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc;

	if (fd < 0) {
		pr_warn("socket: %s", strerror(errno));
		return -1;
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s",
		 o->cfg->peers[o->self].ifname);
	rc = ioctl(fd, SIOCGIFMTU, &ifr);
	close(fd);
	if (rc < 0 || ifr.ifr_mtu <= 28) {
		pr_warn("MTU of %s: %s", ifr.ifr_name,
			rc < 0 ? strerror(errno) : "too small");
		return -1;
	}
	o->to_all_max = (size_t)ifr.ifr_mtu - 28;
	return 0;
}

struct ec_offload *ec_offload_new(const struct ec_config *cfg, unsigned self,
				  const struct ec_offload_params *p)
{
	struct ec_offload *o = calloc(1, sizeof(*o));

	if (!o) {
		pr_warn("out of memory");
		return NULL;
	}
	o->cfg = cfg;
	o->self = self;
	o->params = *p;
	o->sw = p->sw;
	o->xdp_link = -1;
	libbpf_set_print(libbpf_log);
	o->ifindex = (int)if_nametoindex(cfg->peers[self].ifname);
	if (o->ifindex == 0) {
		pr_warn("interface %s (replica %u in the config): %s",
			cfg->peers[self].ifname, self, strerror(errno));
		goto err;
	}
	if (interface_mtu(o) < 0 || load(o) < 0 || attach(o) < 0)
		goto err;
	ec_offload_set_switches(o, &p->sw);
	return o;
err:
	ec_offload_free(o);
	return NULL;
}

void ec_offload_free(struct ec_offload *o)
{
	if (!o)
		return;
	if (o->tc_attached) {
		o->tc_opts.flags = 0;
		o->tc_opts.prog_fd = 0;
		o->tc_opts.prog_id = 0;
		bpf_tc_detach(&o->hook, &o->tc_opts);
	}
	if (o->tc_hook_created)
		bpf_tc_hook_destroy(&o->hook);
	if (o->xdp_link >= 0)
		close(o->xdp_link);
	ring_buffer__free(o->ring);
	ec_read_cache_unmap(&o->rc);
	free(o->recs);
	free(o->dgrams);
	ec_xdp__destroy(o->xdp);
	ec_broadcast__destroy(o->bc);
	free(o);
}

bool ec_offload_counts_quorum(const struct ec_offload *o)
{
	return ec_switch_on(&o->sw, EC_OFFLOAD_QUORUM, EC_MSG_PREPARE_OK);
}

int ec_offload_ring_fd(const struct ec_offload *o)
{
	return ring_buffer__epoll_fd(o->ring);
}

size_t ec_offload_acked(struct ec_offload *o, const struct ec_dgram **out)
{
	o->n_recs = 0;
	ring_buffer__consume(o->ring);
	return hand_out(o, out);
}

/* Close the follower's fast ack: the kernel acks nothing more for us.
 * Every op below the word swapped out was acked: remembered for the next
 * quiesce.  The exchange, even of a window already closed, orders every
 * promise stamp of an ack the kernel sent before the reads that follow
 * (proto/ec_offload.h). */
static void close_fast_ack(struct ec_offload *o)
{
	struct ec_xdp_state *xs = &o->xdp->bss->ec_state;
	uint64_t w = __atomic_exchange_n(&xs->expected, 0, __ATOMIC_SEQ_CST);

	if (w && EC_FA_OP(w) - 1 > o->acked_through)
		o->acked_through = EC_FA_OP(w) - 1;
}

/* When the kernel last acknowledged anything for us, on our clock (0:
 * never): the newest promise stamp.  Only once the window is closed is
 * it final. */
static uint64_t promised_at(const struct ec_offload *o)
{
	const __u64 *slots = o->xdp->bss->ec_promise_ns;
	uint64_t newest = 0;

	for (unsigned i = 0; i < o->promise_cpus; i++) {
		/* relaxed: the close's exchange orders these reads */
		uint64_t ns = __atomic_load_n(&slots[i], __ATOMIC_RELAXED);

		if (ns > newest)
			newest = ns;
	}
	return ec_boot_from_kernel_ns(newest);
}

/* Whether record r leaves the ops up to *have (the core's log, then the
 * records before r) without a gap, raising *have when it is the next of
 * the window's view.  One of another view (left, a duplicate) changes
 * nothing; a gap can only be a broken invariant, which the core stops
 * on when it absorbs the record. */
static bool extends(const struct ec_offload *o, const struct ec_fa_record *r,
		    uint64_t *have)
{
	const struct ec_hdr *h = (const struct ec_hdr *)r->data;
	uint64_t op;

	if (r->len < sizeof(*h) || h->type != EC_MSG_PREPARE ||
	    be32toh(h->view) != o->fa_view)
		return true;
	op = be64toh(h->op);
	if (op > *have + 1)
		return false;
	if (op == *have + 1)
		*have = op;
	return true;
}

void ec_offload_quiesce(void *arg, uint64_t last_op, struct ec_quiesced *q)
{
	struct ec_offload *o = arg;
	uint64_t have = last_op, through, deadline;
	size_t seen = 0;
	bool gap = false;

	close_fast_ack(o);
	/* about to leave normal status or rewrite the log: no read is
	 * answered in the kernel from here until a sync reopens it */
	ec_read_cache_close(&o->rc);
	through = o->acked_through;
	o->acked_through = 0;
	o->n_recs = 0;
	/* Every op up to `through` was acked: wait until each of them is
	 * in the core's log or among the records read.  Past the deadline
	 * the core gets what there is, and stops on what is missing. */
	deadline = ec_boot_us() + QUIESCE_WAIT_US;
	do {
		ring_buffer__consume(o->ring);
		for (; seen < o->n_recs && !gap; seen++)
			gap = !extends(o, &o->recs[seen], &have);
	} while (have < through && !gap && ec_boot_us() <= deadline);
	q->n = hand_out(o, &q->acked);
	q->through = through;
	/* after the close and the records: every ack the kernel sent is
	 * stamped by now, and none follows */
	q->acked_at = promised_at(o);
}

/* Become (or stop being) the kernel's leader of view: slots from an
 * earlier leadership must never count toward this view's quorums. */
static void sync_leader(struct ec_offload *o, const struct ec_core_state *s,
			bool lead)
{
	struct ec_xdp_state *xs = &o->xdp->bss->ec_state;

	if (!lead) {
		__atomic_store_n(&xs->lead, 0, __ATOMIC_RELEASE);
		return;
	}
	if (!__atomic_load_n(&xs->lead, __ATOMIC_ACQUIRE) || xs->view != s->view) {
		__atomic_store_n(&xs->lead, 0, __ATOMIC_SEQ_CST);
		for (unsigned i = 0; i < EC_QUORUM_SLOTS; i++)
			__atomic_store_n(&o->xdp->bss->ec_slots[i], 0,
					 __ATOMIC_RELAXED);
		__atomic_store_n(&xs->quorum, ec_quorum_followers(o->cfg->n),
				 __ATOMIC_RELAXED);
		__atomic_store_n(&xs->view, s->view, __ATOMIC_RELAXED);
		__atomic_store_n(&xs->commit, s->commit, __ATOMIC_RELAXED);
		__atomic_store_n(&xs->lead, 1, __ATOMIC_SEQ_CST);
	}
	__atomic_store_n(&xs->commit, s->commit, __ATOMIC_RELEASE);
}

/* Open, advance or close the follower's fast ack.  The core quiesces it
 * (closes and absorbs) before it leaves normal status or its view, so an
 * open window always belongs to the core's current view; one closed here
 * (the switch turned off) is reported by the next quiesce, which comes
 * before the core's log is used for a vote or replaced. */
static void sync_follower(struct ec_offload *o, const struct ec_core_state *s,
			  bool follow)
{
	struct ec_xdp_state *xs = &o->xdp->bss->ec_state;
	uint64_t cur = __atomic_load_n(&xs->expected, __ATOMIC_ACQUIRE);
	uint64_t want = s->op + 1;

	if (!follow) {
		if (cur)
			close_fast_ack(o);
		return;
	}
	if (cur == 0) {
		o->fa_view = s->view;
		__atomic_store_n(&xs->view, s->view, __ATOMIC_RELAXED);
		__atomic_store_n(&xs->leader, s->leader, __ATOMIC_RELAXED);
		__atomic_store_n(&xs->expected,
				 EC_FA_WORD(s->view, ++o->fa_epoch, want),
				 __ATOMIC_RELEASE);
	} else if (EC_FA_OP(cur) < want) {
		/* we appended ops ourselves (slow path): move the kernel past
		 * them unless it moved first */
		__atomic_compare_exchange_n(&xs->expected, &cur,
					    (cur & ~EC_FA_OP_MASK) | want, false,
					    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	}
}

/* Bring the kernel in line with the mirrored state and the switches. */
static void sync_kernel(struct ec_offload *o)
{
	const struct ec_core_state *s = &o->mirror;
	bool normal = s->status == EC_ST_NORMAL;

	/* the window gates the fast ack of PREPAREs and of heartbeats
	 * alike; the program checks each one's switch besides */
	sync_leader(o, s, normal && s->leader == o->self);
	sync_follower(o, s, normal && s->leader != o->self &&
			    (ec_switch_on(&o->sw, EC_OFFLOAD_FASTACK,
					  EC_MSG_PREPARE) ||
			     ec_switch_on(&o->sw, EC_OFFLOAD_FASTACK,
					  EC_MSG_COMMIT)));
	/* the rules of a lease read in user space (core/lease.h), but
	 * the clock: the program reads that itself, at read time */
	ec_read_cache_sync(&o->rc, normal && s->leader == o->self &&
				   s->reads == EC_READS_LEASE && s->reads_open &&
				   ec_switch_on(&o->sw, EC_OFFLOAD_READ,
						EC_MSG_READ),
			   s->view, ec_boot_to_kernel_ns(s->lease_until),
			   s->executed);
}

const struct ec_read_cache *ec_offload_read_cache(const struct ec_offload *o)
{
	return &o->rc;
}

struct ec_kv_observer ec_offload_store_observer(struct ec_offload *o)
{
	return ec_read_cache_observer(&o->rc);
}

void ec_offload_sync(struct ec_offload *o, const struct ec_core_state *s)
{
	o->mirror = *s;
	o->mirrored = true;
	sync_kernel(o);
}

bool ec_offload_prepare_to_all(struct ec_offload *o, struct ec_out *out)
{
	struct ec_hdr *h = (struct ec_hdr *)out->buf;

	if (out->len < sizeof(*h))
		return false;
	if (h->type == EC_MSG_PREPARE &&
	    __atomic_load_n(&o->xdp->bss->ec_state.lead, __ATOMIC_ACQUIRE)) {
		uint64_t op = be64toh(h->op);

		__atomic_store_n(&o->xdp->bss->ec_slots[op % EC_QUORUM_SLOTS],
				 EC_SLOT_TAG(op, be32toh(h->view)),
				 __ATOMIC_RELEASE);
	}
	if (out->len > o->to_all_max ||
	    !ec_switch_on(&o->sw, EC_OFFLOAD_BROADCAST, h->type))
		return false;
	h->flags |= EC_F_TO_ALL;
	return true;
}

const struct ec_switches *ec_offload_switches(const struct ec_offload *o)
{
	return &o->sw;
}

void ec_offload_set_switches(struct ec_offload *o, const struct ec_switches *sw)
{
	struct ec_xdp_state *xs = &o->xdp->bss->ec_state;

	o->sw = *sw;
	for (unsigned k = 0; k < EC_OFFLOAD_MAX; k++)
		__atomic_store_n(&xs->switches[k], sw->on[k], __ATOMIC_RELEASE);
	/* between turns of the core: the state last synced is its state */
	if (o->mirrored)
		sync_kernel(o);
}

/* Sum a per-CPU array of n counters into out. */
static int read_counters(const struct bpf_map *map, uint64_t *out, unsigned n)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *vals;

	if (ncpu <= 0)
		return -1;
	vals = calloc((size_t)ncpu, sizeof(*vals));
	if (!vals)
		return -1;
	for (unsigned k = 0; k < n; k++) {
		out[k] = 0;
		if (bpf_map_lookup_elem(bpf_map__fd(map), &k, vals) < 0)
			continue;
		for (int c = 0; c < ncpu; c++)
			out[k] += vals[c];
	}
	free(vals);
	return 0;
}

int ec_offload_counts(const struct ec_offload *o, struct ec_offload_counts *c)
{
	if (read_counters(o->bc->maps.counters, c->tc, EC_TC_MAX) < 0 ||
	    read_counters(o->xdp->maps.counters, c->xdp, EC_XDP_MAX) < 0)
		return -1;
	return 0;
}
