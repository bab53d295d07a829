/* sim.c - see sim.h. */
#include "sim.h"

#include <arpa/inet.h>
#include <endian.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/read_msg.h"
#include "core/internal.h"

unsigned sim_rand(struct sim *s, unsigned n)
{
	/* xorshift64*: deterministic per seed, good enough for tests */
	s->rng ^= s->rng >> 12;
	s->rng ^= s->rng << 25;
	s->rng ^= s->rng >> 27;
	return (unsigned)((s->rng * 0x2545F4914F6CDD1DULL) >> 33) % n;
}

static void must(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "sim: %s\n", what);
		abort();
	}
}

static void push(struct sim *s, unsigned from, unsigned to, uint8_t type,
		 const uint8_t *buf, size_t len);

/* Skews start at this simulated time (the origin of every replica's
 * clock). */
#define SIM_T0 1000000

/* Simulated time t as replica i's clock reads it. */
static uint64_t time_of(const struct sim *s, unsigned i, uint64_t t)
{
	int64_t d = (int64_t)(t - SIM_T0);

	return t + (uint64_t)(d / 1000000 * s->skew_ppm[i] +
			      d % 1000000 * s->skew_ppm[i] / 1000000);
}

uint64_t sim_now_of(const struct sim *s, unsigned i)
{
	return time_of(s, i, s->now);
}

/* The other way: the simulated (kernel) time at which replica i's clock
 * reads t (replica/common/clock.c's ec_boot_to_kernel_ns); 0 stays 0. */
static uint64_t kernel_time_of(const struct sim *s, unsigned i, uint64_t t)
{
	if (!t || !s->skew_ppm[i] || t < SIM_T0)
		return t;
	return SIM_T0 + (uint64_t)((__int128)(t - SIM_T0) * 1000000 /
				   (1000000 + s->skew_ppm[i]));
}


/* Hand replica i's core every PREPARE and heartbeat its "kernel" acked,
 * in order. */
static void kern_absorb_all(struct sim *s, unsigned i)
{
	struct sim_kernel *k = &s->kern[i];

	for (size_t r = 0; r < k->n_records; r++)
		ec_core_absorb(s->r[i], k->records[r].buf, k->records[r].len,
			       sim_now_of(s, i));
	sim_kernel_clear_records(k);
}

/* Close replica i's fast ack, remembering what it acked (offload.c's
 * close_fast_ack). */
static void kern_close(struct sim *s, unsigned i)
{
	struct sim_kernel *k = &s->kern[i];
	struct sim_quiesced *q = &s->quiesced[i];

	if (k->expected && k->expected - 1 > q->acked_through)
		q->acked_through = k->expected - 1;
	k->expected = 0;
}

static void quiesced_free(struct sim_quiesced *q)
{
	for (size_t r = 0; r < q->n; r++)
		free(q->buf[r]);
	free(q->buf);
	free(q->dgram);
	q->buf = NULL;
	q->dgram = NULL;
	q->n = 0;
}

/* ec_core_opts.quiesce: close the fast ack and hand back what it acked,
 * and when it last acked (its stamp, as offload.c reads the program's).
 * Nothing is ever a moment away here (no concurrency): last_op is not
 * needed to know when every record is in. */
static void kern_quiesce(void *arg, uint64_t last_op, struct ec_quiesced *out)
{
	struct sim_kernel *k = arg;
	struct sim *s = k->owner;
	struct sim_quiesced *q = &s->quiesced[k->self];
	size_t n = k->n_records;

	kern_close(s, k->self);
	if (k->read_slots)
		ec_read_cache_close(&k->cache);
	quiesced_free(q);
	q->buf = malloc((n ? n : 1) * sizeof(*q->buf));
	q->dgram = malloc((n ? n : 1) * sizeof(*q->dgram));
	must(q->buf && q->dgram, "no memory");
	for (size_t r = 0; r < n; r++) {
		q->buf[r] = k->records[r].buf; /* taken from the model */
		k->records[r].buf = NULL;
		q->dgram[r] = (struct ec_dgram){ q->buf[r], k->records[r].len };
	}
	q->n = n;
	sim_kernel_clear_records(k);
	out->acked = q->dgram;
	out->n = n;
	out->through = q->acked_through;
	/* the kernel's stamp, on the replica's clock (ec_boot_from_kernel_ns) */
	out->acked_at = k->promised_at ? time_of(s, k->self, k->promised_at) : 0;
	q->acked_through = 0;
}

/* What replica/offload/offload.c's ec_offload_sync does with the state of
 * each ready record (st). */
static void kern_sync(struct sim *s, unsigned i, const struct ec_core_state *st)
{
	struct sim_kernel *k = &s->kern[i];
	bool normal = st->status == EC_ST_NORMAL;

	if (s->kernel_quorum) {
		if (!normal || st->leader != i) {
			k->lead = false;
		} else {
			if (!k->lead || k->view != st->view) {
				memset(k->slots, 0, sizeof(k->slots));
				k->view = st->view;
				k->lead = true;
			}
			k->commit = st->commit;
		}
	}
	if (s->kernel_read) {
		/* offload.c's sync_kernel, with the switch on */
		k->rstate.commit = st->commit;
		ec_read_cache_sync(&k->cache, normal && st->leader == i &&
					   st->reads == EC_READS_LEASE &&
					   st->reads_open,
				   st->view, kernel_time_of(s, i, st->lease_until),
				   st->executed);
	}
	if (!s->kernel_fastack)
		return;
	if (!normal || st->leader == i) {
		kern_close(s, i);
		return;
	}
	if (k->expected == 0) {
		k->view = st->view;
		k->leader = st->leader;
		k->expected = st->op + 1;
	} else if (k->expected < st->op + 1) {
		k->expected = st->op + 1;
	}
}

/* Run replica p->to's XDP program (modelled, sim_kernel.c) on p.
 * Returns true if the "kernel" took it (acked or dropped); it may have
 * set the EC_F_QUORUM flag in p. */
static bool kern_frame(struct sim *s, struct sim_pkt *p)
{
	struct sim_kernel *k = &s->kern[p->to];
	uint8_t ack[SIMK_ACK_LEN];

	/* the switches, as the tests set them (fastack: every type; but a
	 * lazy kernel leaves heartbeats to user space, which would never
	 * hear its leader otherwise, where the replica drains every tick) */
	k->fastack_on = s->kernel_fastack;
	k->fastack_commit_on = s->kernel_fastack && !s->kernel_lazy;
	k->quorum_on = s->kernel_quorum;
	k->now = s->now;
	if (p->type == EC_MSG_READ) {
		uint8_t reply[SIMK_READ_REPLY_MAX];
		size_t len;

		if (sim_kernel_read(k, p->buf, p->len, reply, &len) !=
		    SIMK_ANSWERED)
			return false;
		push(s, p->to, p->from, EC_MSG_READ_REPLY, reply, len);
		return true;
	}
	switch (sim_kernel_frame(k, p->from, p->buf, p->len, ack)) {
	case SIMK_ACKED:
		/* a PREPARE_OK or a HEARTBEAT_OK */
		push(s, p->to, p->from, ((struct ec_hdr *)ack)->type, ack,
		     sizeof(ack));
		return true;
	case SIMK_DROP:
		return true;
	default:
		return false;
	}
}

struct ec_addr sim_addr(unsigned i)
{
	struct ec_addr a = { .ip = htonl(0x7f000001), .port = htons(7000 + i) };

	return a;
}

struct ec_addr sim_client_addr(unsigned c)
{
	struct ec_addr a = { .ip = htonl(0x7f000064), .port = htons(c) };

	return a;
}

/* ec_core_opts.fatal: say why a test's core stops (it aborts then). */
static void on_core_fatal(void *arg, const char *msg)
{
	fprintf(stderr, "sim: a core stops: %s\n", msg);
}

/* ec_core_opts.clock: the simulated time on the replica's clock. */
static uint64_t sim_clock(void *arg)
{
	const struct sim_kernel *k = arg;

	return sim_now_of((const struct sim *)k->owner, k->self);
}

static struct ec_core *make_core(struct sim *s, unsigned i, bool recovering)
{
	struct ec_core_opts o = s->opts;
	struct ec_core *c;

	o.self = i;
	o.recovering = recovering;
	o.nonce = recovering ? 1000 + s->now + i : 0;
	if (s->checkpoint_async[i].fn) {
		o.checkpoint_async = s->checkpoint_async[i].fn;
		o.checkpoint_arg = s->checkpoint_async[i].arg;
	}
	o.fatal = on_core_fatal;
	o.clock = sim_clock;
	o.clock_arg = &s->kern[i];
	o.reads = s->reads;
	o.test_lease_ignore_clock = s->lease_ignore_clock;
	if (s->kernel_fastack || s->kernel_read) {
		o.quiesce = kern_quiesce;
		o.quiesce_arg = &s->kern[i];
	}
	if (s->kernel_read)
		o.store_observer = ec_read_cache_observer(&s->kern[i].cache);
	c = ec_core_new(&o, sim_now_of(s, i));
	must(c != NULL, "ec_core_new failed");
	ec_core_trust_quorum_flag(c, s->kernel_quorum);
	return c;
}

static struct sim *sim_create(unsigned n, uint64_t seed, bool fastack,
			      bool quorum, bool reads)
{
	struct sim *s = calloc(1, sizeof(*s));

	must(s != NULL, "no memory");
	s->n = n;
	s->rng = seed ? seed : 1;
	s->now = SIM_T0;
	s->kernel_fastack = fastack;
	s->kernel_quorum = quorum;
	s->kernel_read = reads;
	s->read_msg = reads;
	ec_core_opts_default(&s->opts, n, 0);
	s->opts.members.n = n;
	for (unsigned i = 0; i < n; i++)
		s->opts.members.addr[i] = sim_addr(i);
	for (unsigned i = 0; i < n; i++) {
		sim_kernel_init(&s->kern[i], i, n);
		s->kern[i].owner = s;
		if (reads) {
			sim_kernel_read_cache(&s->kern[i], SIM_READ_SLOTS);
			s->kern[i].read_on = true;
		}
		s->r[i] = make_core(s, i, false);
	}
	return s;
}

struct sim *sim_new_offload(unsigned n, uint64_t seed, bool fastack,
			    bool quorum)
{
	return sim_create(n, seed, fastack, quorum, false);
}

struct sim *sim_new_reads(unsigned n, uint64_t seed, bool fastack,
			  bool quorum)
{
	return sim_create(n, seed, fastack, quorum, true);
}

struct sim *sim_new(unsigned n, uint64_t seed)
{
	return sim_new_offload(n, seed, false, false);
}

void sim_free(struct sim *s)
{
	for (unsigned i = 0; i < s->n; i++)
		ec_core_free(s->r[i]);
	for (size_t i = 0; i < s->q_len; i++)
		free(s->q[i].buf);
	for (unsigned i = 0; i < s->n; i++) {
		sim_kernel_free(&s->kern[i]);
		quiesced_free(&s->quiesced[i]);
	}
	free(s->q);
	free(s);
}

static void push(struct sim *s, unsigned from, unsigned to, uint8_t type,
		 const uint8_t *buf, size_t len)
{
	struct sim_pkt *p;

	if (s->q_len == s->q_cap) {
		s->q_cap = s->q_cap ? s->q_cap * 2 : 256;
		s->q = realloc(s->q, s->q_cap * sizeof(*s->q));
		must(s->q != NULL, "no memory");
	}
	p = &s->q[s->q_len++];
	p->from = from;
	p->to = to;
	p->type = type;
	p->len = len;
	p->due = s->now;
	if (to < SIM_CLIENT && type < EC_MSG_TYPE_MAX)
		p->due += s->delay_us[type];
	p->buf = malloc(len);
	must(p->buf != NULL, "no memory");
	memcpy(p->buf, buf, len);
}

/* Move replica i's queued outputs onto the network. */
void sim_collect(struct sim *s, unsigned i)
{
	struct ec_ready rd;

	ec_core_ready(s->r[i], &rd);
	kern_sync(s, i, &rd.state);
	for (size_t e = 0; e < rd.n_events; e++) {
		s->events[i][rd.events[e].kind]++;
		s->last_event[i][rd.events[e].kind] = rd.events[e];
	}
	for (size_t k = 0; k < rd.n_out; k++) {
		const struct ec_out *o = &rd.out[k];

		if (o->dest == EC_TO_CLIENT) {
			push(s, i, SIM_CLIENT + ntohs(o->client.port), o->type,
			     o->buf, o->len);
		} else if (o->dest == EC_TO_REPLICA) {
			push(s, i, o->replica, o->type, o->buf, o->len);
		} else {
			struct sim_kernel *k = &s->kern[i];
			const struct ec_hdr *h = (const void *)o->buf;

			if (k->lead && o->type == EC_MSG_PREPARE) {
				uint64_t op = be64toh(h->op);

				sim_kernel_tag(k, op, be32toh(h->view));
			}
			for (unsigned j = 0; j < s->n; j++)
				if (j != i)
					push(s, i, j, o->type, o->buf, o->len);
		}
	}
	ec_core_advance(s->r[i]);
}

/* The XDP program is attached through a link owned by the process: its
 * state goes with it. */
static void kern_detach(struct sim *s, unsigned i)
{
	sim_kernel_reset(&s->kern[i]);
	s->quiesced[i].acked_through = 0;
}

void sim_crash(struct sim *s, unsigned i)
{
	s->down[i] = true;
	kern_detach(s, i);
}

void sim_restart(struct sim *s, unsigned i)
{
	/* a fresh program, which the down core's syncs never reached */
	kern_detach(s, i);
	ec_core_free(s->r[i]);
	s->r[i] = make_core(s, i, true);
	s->down[i] = false;
	sim_collect(s, i);
}

/* The client id the requests of client index `client` carry. */
static uint64_t client_id_of(unsigned client)
{
	return 0xc0000000ULL + client;
}

/* An encoded Request into buf (large enough); returns its length. */
static size_t pack_request(uint8_t *buf, uint64_t client_id, uint64_t rid,
			   uint64_t session_op, int kind, const char *key,
			   const char *value, const char *expected)
{
	Ec__Request req = EC__REQUEST__INIT;
	Ec__KvOp op = EC__KV_OP__INIT;

	op.kind = kind;
	op.key.data = (uint8_t *)key;
	op.key.len = strlen(key);
	if (value) {
		op.value.data = (uint8_t *)value;
		op.value.len = strlen(value);
	}
	if (expected) {
		op.expected.data = (uint8_t *)expected;
		op.expected.len = strlen(expected);
	}
	req.client_id = client_id;
	req.request_id = rid;
	req.session_op = session_op;
	req.op = &op;
	return ec__request__pack(&req, buf);
}

/* Put an encoded request body from client `client` on the way to `to`. */
static void push_request(struct sim *s, unsigned client, unsigned to,
			 const uint8_t *body, size_t len)
{
	struct ec_msg m = { .type = EC_MSG_REQUEST, .sender = EC_SENDER_CLIENT };
	uint8_t buf[EC_MAX_MSG];

	ec_hdr_encode(buf, &m, len);
	memcpy(buf + sizeof(struct ec_hdr), body, len);
	push(s, SIM_CLIENT + client, to, EC_MSG_REQUEST, buf,
	     sizeof(struct ec_hdr) + len);
}

void sim_hello(struct sim *s, unsigned client, unsigned to)
{
	Ec__Request req = EC__REQUEST__INIT;
	uint8_t body[64];

	req.client_id = client_id_of(client);
	push_request(s, client, to, body, ec__request__pack(&req, body));
}

void sim_request(struct sim *s, unsigned client, unsigned to,
		 uint64_t request_id, int kind, const char *key,
		 const char *value, const char *expected)
{
	uint8_t body[EC_MAX_MSG];
	size_t len;

	if (s->read_msg && kind == EC__OP_KIND__OP_GET) {
		struct ec_read_msg r = {
			.client_id = client_id_of(client),
			.request_id = request_id,
			.session_op = client < 64 ? s->session_op[client] : 0,
			.key = (const uint8_t *)key,
			.key_len = strlen(key),
		};

		len = ec_read_encode(body, 0, &r);
		push(s, SIM_CLIENT + client, to, EC_MSG_READ, body, len);
		return;
	}
	len = pack_request(body, client_id_of(client), request_id,
			   client < 64 ? s->session_op[client] : 0, kind, key,
			   value, expected);
	push_request(s, client, to, body, len);
}

static void to_client(struct sim *s, const struct sim_pkt *p)
{
	unsigned ci = p->to - SIM_CLIENT;
	struct ec_msg m;
	Ec__Reply *r;

	if (ci >= 64 || ec_msg_parse(p->buf, p->len, s->n, &m, NULL) != 0)
		return;
	r = m.type == EC_MSG_READ_REPLY ?
		    ec_read_reply_unpack(&m) :
		    (Ec__Reply *)ec_msg_unpack(&m, &ec__reply__descriptor, NULL);
	if (!r)
		return;
	s->reply[ci].have = true;
	s->reply[ci].request_id = r->request_id;
	s->reply[ci].status = r->status;
	s->reply[ci].found = r->found;
	s->reply[ci].view = m.view;
	s->reply[ci].commit = m.commit;
	s->reply[ci].op = r->op;
	s->reply[ci].lease = r->lease;
	s->reply[ci].from = p->from;
	s->reply[ci].at = s->now;
	snprintf(s->reply[ci].value, sizeof(s->reply[ci].value), "%.*s",
		 (int)r->value.len, (const char *)r->value.data);
	ec__reply__free_unpacked(r, NULL);
}

static void deliver_one(struct sim *s, struct sim_pkt *p)
{
	struct ec_addr from;

	s->delivered++;
	if (p->to >= SIM_CLIENT) {
		to_client(s, p);
		return;
	}
	if (s->down[p->to] || (p->from < SIM_CLIENT && s->down[p->from]))
		return;
	if (s->filter && s->filter(s, p, s->filter_arg))
		return;
	if (s->loss_pct && sim_rand(s, 100) < s->loss_pct)
		return;
	if ((s->kernel_fastack || s->kernel_quorum || s->kernel_read) &&
	    kern_frame(s, p))
		return;
	/* what the kernel buffered before this datagram goes first */
	kern_absorb_all(s, p->to);
	from = p->from >= SIM_CLIENT ? sim_client_addr(p->from - SIM_CLIENT) :
				       sim_addr(p->from);
	ec_core_receive(s->r[p->to], p->buf, p->len, &from,
			sim_now_of(s, p->to));
	if (s->dup_pct && sim_rand(s, 100) < s->dup_pct)
		ec_core_receive(s->r[p->to], p->buf, p->len, &from,
				sim_now_of(s, p->to));
	sim_collect(s, p->to);
}

/* Whether packet k is due and to be delivered now (match NULL: all). */
static bool deliverable(const struct sim *s, size_t k, sim_match_fn *match,
			void *arg)
{
	return s->q[k].due <= s->now && (!match || match(&s->q[k], arg));
}

/* Index of the next packet to deliver among those deliverable (with
 * reorder, a random one of them), or -1 when there is none. */
static long next_due(struct sim *s, sim_match_fn *match, void *arg)
{
	size_t due = 0;
	unsigned pick;

	for (size_t k = 0; k < s->q_len; k++)
		due += deliverable(s, k, match, arg);
	if (due == 0)
		return -1;
	pick = s->reorder ? sim_rand(s, (unsigned)due) : 0;
	for (size_t k = 0; k < s->q_len; k++)
		if (deliverable(s, k, match, arg) && pick-- == 0)
			return (long)k;
	return -1;
}

/* Whether a packet for replica i is deliverable: the glue hands the core
 * every datagram it has received before it says its input is done
 * (ec_core_input_done). */
static bool due_for(const struct sim *s, unsigned i, sim_match_fn *match,
		    void *arg)
{
	for (size_t k = 0; k < s->q_len; k++)
		if (s->q[k].to == i && deliverable(s, k, match, arg))
			return true;
	return false;
}

uint64_t sim_deliver_matching(struct sim *s, sim_match_fn *match, void *arg)
{
	uint64_t count = 0;
	long k;

	for (unsigned i = 0; i < s->n; i++)
		sim_collect(s, i);
	while (count < 10000000 && (k = next_due(s, match, arg)) >= 0) {
		struct sim_pkt p = s->q[k];

		memmove(&s->q[k], &s->q[k + 1], (s->q_len - k - 1) * sizeof(p));
		s->q_len--;
		deliver_one(s, &p);
		if (p.to < SIM_CLIENT && !s->down[p.to] &&
		    !due_for(s, p.to, match, arg)) {
			ec_core_input_done(s->r[p.to]);
			sim_collect(s, p.to);
		}
		free(p.buf);
		count++;
	}
	return count;
}

uint64_t sim_deliver(struct sim *s)
{
	return sim_deliver_matching(s, NULL, NULL);
}

void sim_run(struct sim *s, uint64_t us, uint64_t step)
{
	for (uint64_t t = 0; t < us; t += step) {
		s->now += step;
		for (unsigned i = 0; i < s->n; i++) {
			if (s->down[i])
				continue;
			/* absorbed in batches, now and then */
			if (s->kernel_fastack && !s->kernel_lazy &&
			    sim_rand(s, 4) == 0)
				kern_absorb_all(s, i);
			ec_core_tick(s->r[i], sim_now_of(s, i));
			sim_collect(s, i);
		}
		sim_deliver(s);
	}
}

void sim_state(const struct sim *s, unsigned i, struct ec_core_state *st)
{
	ec_core_get_state(s->r[i], st);
}

int sim_leader(const struct sim *s)
{
	for (unsigned i = 0; i < s->n; i++) {
		struct ec_core_state st;
		unsigned normal = 0;

		if (s->down[i])
			continue;
		ec_core_get_state(s->r[i], &st);
		if (st.status != EC_ST_NORMAL || st.leader != i)
			continue;
		for (unsigned j = 0; j < s->n; j++) {
			struct ec_core_state o;

			if (s->down[j])
				continue;
			ec_core_get_state(s->r[j], &o);
			normal += o.status == EC_ST_NORMAL && o.view == st.view;
		}
		if (normal >= s->n / 2 + 1)
			return (int)i;
	}
	return -1;
}

const char *sim_check_agreement(const struct sim *s)
{
	static char why[200];

	for (unsigned i = 0; i < s->n; i++) {
		for (unsigned j = i + 1; j < s->n; j++) {
			const struct ec_core *a = s->r[i], *b = s->r[j];
			uint64_t upto = a->commit < b->commit ? a->commit : b->commit;

			if (s->down[i] || s->down[j])
				continue;
			uint64_t from = a->log.base > b->log.base ?
						a->log.base : b->log.base;

			/* the ops both logs still hold (below a log's base,
			 * its checkpoint stands for them: the digests) */
			for (uint64_t op = from + 1; op <= upto; op++) {
				const struct ec_entry *e = ec_log_at(&a->log, op);

				if (!ec_log_same(&b->log, op, e->view, e->body,
						 e->len)) {
					snprintf(why, sizeof(why),
						 "replicas %u and %u differ at committed op %llu",
						 i, j, (unsigned long long)op);
					return why;
				}
			}
			if (a->ckpt.op && a->ckpt.op == b->ckpt.op &&
			    a->ckpt.digest != b->ckpt.digest) {
				snprintf(why, sizeof(why),
					 "replicas %u and %u differ at checkpoint %llu",
					 i, j, (unsigned long long)a->ckpt.op);
				return why;
			}
			if (a->executed == b->executed &&
			    ec_kv_digest(a->kv) != ec_kv_digest(b->kv)) {
				snprintf(why, sizeof(why),
					 "replicas %u and %u executed %llu ops but differ",
					 i, j, (unsigned long long)a->executed);
				return why;
			}
		}
	}
	return NULL;
}

bool sim_entry_digest(const struct sim *s, unsigned i, uint64_t op,
		      uint64_t *digest)
{
	const struct ec_entry *e = ec_log_at(&s->r[i]->log, op);
	uint64_t h;

	if (!e)
		return false;
	h = 0xcbf29ce484222325ULL ^ e->view;
	for (size_t k = 0; k < e->len; k++)
		h = (h ^ e->body[k]) * 0x100000001b3ULL;
	*digest = h;
	return true;
}

struct ec_core_state sim_st(const struct sim *s, unsigned i)
{
	struct ec_core_state x;

	sim_state(s, i, &x);
	return x;
}

const struct ec_core_stats *sim_stats(const struct sim *s, unsigned i)
{
	return ec_core_stats(s->r[i]);
}

void sim_put(struct sim *s, unsigned client, unsigned to, uint64_t rid,
	     const char *key, const char *value)
{
	sim_request(s, client, to, rid, EC__OP_KIND__OP_PUT, key, value, NULL);
}

void sim_receive_at(struct sim *s, unsigned to, const struct ec_addr *from,
		    const uint8_t *buf, size_t len)
{
	ec_core_receive(s->r[to], buf, len, from, sim_now_of(s, to));
	sim_collect(s, to);
}

void sim_receive_from(struct sim *s, unsigned to, unsigned from,
		      const uint8_t *buf, size_t len)
{
	struct ec_addr a = sim_addr(from);

	sim_receive_at(s, to, &a, buf, len);
}

void sim_send(struct sim *s, unsigned from, unsigned to, const uint8_t *buf,
	      size_t len)
{
	const size_t type_at = offsetof(struct ec_hdr, type);

	push(s, from, to, len > type_at ? buf[type_at] : 0, buf, len);
}

size_t sim_prepare_dgram(uint8_t *buf, uint8_t leader, uint32_t view,
			 uint64_t op, const uint8_t *body, size_t len)
{
	struct ec_msg m = {
		.type = EC_MSG_PREPARE, .sender = leader, .view = view, .op = op,
	};

	ec_hdr_encode(buf, &m, len);
	memcpy(buf + sizeof(struct ec_hdr), body, len);
	return sizeof(struct ec_hdr) + len;
}

size_t sim_pointer_dgram(uint8_t *buf, uint8_t from, uint32_t view,
			 uint64_t commit, uint64_t snapshot_op)
{
	Ec__LogChunk chunk = EC__LOG_CHUNK__INIT;
	struct ec_msg m = { .type = EC_MSG_NEW_STATE, .sender = from,
			    .view = view, .op = commit, .commit = commit };
	size_t n;

	chunk.committed_only = true;
	chunk.snapshot_op = snapshot_op;
	n = ec_msg_encode(buf, 64, &m, &chunk.base);
	must(n > 0, "pointer does not fit");
	return n;
}

bool sim_drop_by_rule(struct sim *s, const struct sim_pkt *p, void *arg)
{
	struct sim_drop_rule *r = arg;

	(void)s;
	if (!r->on || (r->type >= 0 && p->type != r->type) ||
	    (r->to_mask && (p->to >= SIM_CLIENT || !(r->to_mask & (1u << p->to)))))
		return false;
	r->count++;
	return true;
}

size_t sim_batch_of(uint8_t *out, const uint8_t *req, size_t len)
{
	Ec__Batch b = EC__BATCH__INIT;
	ProtobufCBinaryData one = { .len = len, .data = (uint8_t *)req };

	b.n_requests = 1;
	b.requests = &one;
	return ec__batch__pack(&b, out);
}

void sim_set_checkpoint_ops(struct sim *s, uint64_t k)
{
	s->opts.checkpoint_ops = k;
	for (unsigned i = 0; i < s->n; i++)
		s->r[i]->o.checkpoint_ops = k;
}

void sim_set_checkpoint_bytes(struct sim *s, uint64_t b)
{
	s->opts.checkpoint_bytes = b;
	for (unsigned i = 0; i < s->n; i++)
		s->r[i]->o.checkpoint_bytes = b;
}

void sim_set_client_expiry_ops(struct sim *s, uint64_t ops)
{
	s->opts.client_expiry_ops = ops;
	for (unsigned i = 0; i < s->n; i++)
		s->r[i]->o.client_expiry_ops = ops;
}

void sim_set_reads(struct sim *s, enum ec_reads reads)
{
	s->reads = reads;
	for (unsigned i = 0; i < s->n; i++)
		ec_core_set_reads(s->r[i], reads);
}

void sim_set_lease_ignore_clock(struct sim *s, bool on)
{
	s->lease_ignore_clock = on;
	for (unsigned i = 0; i < s->n; i++)
		s->r[i]->o.test_lease_ignore_clock = on;
}

void sim_set_skew_ppm(struct sim *s, unsigned i, int64_t ppm)
{
	s->skew_ppm[i] = ppm;
}

void sim_set_batch(struct sim *s, unsigned batch)
{
	s->opts.batch = batch;
	for (unsigned i = 0; i < s->n; i++)
		must(ec_core_set_batch(s->r[i], batch) == 0, "batch size");
}

void sim_set_checkpoint_async(struct sim *s, unsigned i,
			      sim_checkpoint_async_fn *fn, void *arg)
{
	s->checkpoint_async[i].fn = fn;
	s->checkpoint_async[i].arg = arg;
	s->r[i]->o.checkpoint_async = fn;
	s->r[i]->o.checkpoint_arg = arg;
}

size_t sim_put_request(uint8_t *buf, uint64_t client_id, uint64_t rid,
		       const char *key, const char *value)
{
	return pack_request(buf, client_id, rid, 0, EC__OP_KIND__OP_PUT, key,
			    value, NULL);
}

bool sim_log_at(const struct sim *s, unsigned i, uint64_t op,
		struct sim_entry *e)
{
	const struct ec_entry *le = ec_log_at(&s->r[i]->log, op);

	if (!le)
		return false;
	e->view = le->view;
	e->body = le->body;
	e->len = le->len;
	return true;
}

uint64_t sim_log_slots(const struct sim *s, unsigned i)
{
	return s->r[i]->log.cap;
}

const struct ec_snapshot *sim_checkpoint(const struct sim *s, unsigned i)
{
	return &s->r[i]->ckpt;
}

const struct ec_snapshot *sim_prev_checkpoint(const struct sim *s,
					      unsigned i)
{
	return &s->r[i]->prev_ckpt;
}

struct sim_fetch sim_snapshot_fetch(const struct sim *s, unsigned i)
{
	const struct ec_snap_fetch *f = &s->r[i]->fetch;
	struct sim_fetch x = {
		.active = f->active, .source = f->source, .op = f->op,
		.offset = f->offset, .total = f->total,
	};

	return x;
}

const size_t sim_snap_chunk = EC_SNAP_CHUNK;
const unsigned sim_transfer_window = EC_TRANSFER_WINDOW;

uint64_t sim_acked(const struct sim *s, unsigned l, unsigned f)
{
	return s->r[l]->acked[f];
}

bool sim_has_do_view_change(const struct sim *s, unsigned i, unsigned from)
{
	return s->r[i]->dvc[from].have;
}

bool sim_pending_install(const struct sim *s, unsigned i)
{
	return s->r[i]->pending.have;
}

uint64_t sim_recovery_nonce(const struct sim *s, unsigned i)
{
	return s->r[i]->o.nonce;
}

uint32_t sim_recovery_responses(const struct sim *s, unsigned i)
{
	return s->r[i]->rec_from;
}

uint64_t sim_client_executed(const struct sim *s, unsigned i, unsigned client)
{
	const struct ec_client_rec *rec =
		ec_ct_get(s->r[i]->ct, client_id_of(client), false);

	return rec ? rec->executed_req : 0;
}

size_t sim_clients(const struct sim *s, unsigned i)
{
	return ec_ct_count(s->r[i]->ct);
}

void sim_hook_view_timeout(struct sim *s, unsigned i)
{
	vc_start(s->r[i], s->r[i]->view + 1);
	sim_collect(s, i);
}

uint64_t sim_hook_log_as_leader(struct sim *s, unsigned i, const uint8_t *body,
				size_t len)
{
	struct ec_core *c = s->r[i];
	uint64_t op = ec_log_append(&c->log, c->view, body, len, NULL);

	if (op)
		core_send_raw(c, EC_TO_ALL, 0, NULL, EC_MSG_PREPARE, op, body, len);
	sim_collect(s, i);
	return op;
}
