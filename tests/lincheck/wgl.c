/*
 * wgl.c - see wgl.h.
 *
 * The ops become a list of events in time order: each op's call and its
 * return, the return of an info op at +infinity.  The search walks the
 * list from the front.  A call whose op the register accepts in the
 * current state may be linearized next: its call and return are lifted
 * out of the list and the walk restarts at the front.  Reaching a return
 * means its op had to come before everything still listed and no choice
 * made so far allowed that: undo the latest choice and try the call
 * after it.  The search succeeds once every op that surely took effect
 * (all but info) is linearized; the info ops left over are taken as
 * never having taken effect.
 *
 * Memoisation (Lowe): two paths that reach the same set of linearized
 * ops with the same state have the same future, so each (set, state) is
 * explored once.  The set is not kept as a bitset (a key with 100 000
 * ops would cost 12 KiB per configuration) but as a 128-bit Zobrist
 * hash: the XOR of a random word per linearized op, updated in O(1) on
 * every step and undo, with a random word of the state XORed in.  Two
 * configurations share a hash with probability 2^-128; even 10^9
 * memoised configurations collide with probability below 10^-20.  A
 * collision could only prune a path, that is, report a violation that
 * is none; it can never hide one.
 */
#include "wgl.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

enum mkind {
	M_PUT,        /* state = arg */
	M_DEL,        /* state = absent */
	M_GET,        /* state == obs */
	M_CAS,        /* state == obs; state = arg */
	M_CAS_FAIL,   /* state != obs */
	M_CAS_MAYBE,  /* info cas: state == obs; state = arg */
};

struct mop {
	uint64_t zlo, zhi;    /* this op's Zobrist word */
	uint32_t arg, obs;
	uint8_t kind;
	uint8_t definite;     /* must be linearized (not info) */
};

struct event {
	uint64_t time;
	uint32_t op;
	uint32_t is_ret;
};

struct cache {
	uint64_t (*slot)[2];  /* {0, 0} is empty */
	size_t nslots, count;
};

#define CACHE_MIN_SLOTS 1024
#define CHECK_CLOCK_EVERY 4096

int lc_op_ignored(const struct lc_op *op)
{
	if (op->f == LC_GET)
		return op->type != LC_OK;
	return op->type == LC_FAIL && op->f != LC_CAS;
}

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* The random words of register state s (independent of the ops'). */
static uint64_t state_lo(uint32_t s)
{
	uint64_t x = s ^ 0x5bd1e9955bd1e995ULL;

	return splitmix64(&x);
}

static uint64_t state_hi(uint32_t s)
{
	uint64_t x = ((uint64_t)s << 32) ^ 0x27d4eb2f165667c5ULL;

	return splitmix64(&x);
}

static enum mkind kind_of(const struct lc_op *op)
{
	switch (op->f) {
	case LC_PUT:
		return M_PUT;
	case LC_DELETE:
		return M_DEL;
	case LC_GET:
		return M_GET;
	default:
		if (op->type == LC_FAIL)
			return M_CAS_FAIL;
		return op->type == LC_OK ? M_CAS : M_CAS_MAYBE;
	}
}

/*
 * Apply m to state s: whether the search may linearize m here, and the
 * new state.  An info op is refused where it would change nothing (a
 * cas that does not match, a put of the value already there, a delete
 * of an absent key): linearized there, it is the same as never taking
 * effect, which the search already allows by leaving it out.  Without
 * this, every such op doubles the configurations a backtrack revisits.
 */
static bool step(const struct mop *m, uint32_t s, uint32_t *ns)
{
	*ns = s;
	switch (m->kind) {
	case M_PUT:
		*ns = m->arg;
		return m->definite || s != m->arg;
	case M_DEL:
		*ns = 0;
		return m->definite || s != 0;
	case M_GET:
		return s == m->obs;
	case M_CAS:
		*ns = m->arg;
		return s == m->obs;
	case M_CAS_FAIL:
		return s != m->obs;
	default:
		*ns = m->arg;
		return s == m->obs && s != m->arg;
	}
}

static void cache_init(struct cache *c)
{
	c->nslots = CACHE_MIN_SLOTS;
	c->count = 0;
	c->slot = lc_xcalloc(c->nslots, sizeof(*c->slot));
}

static void cache_place(struct cache *c, uint64_t lo, uint64_t hi)
{
	size_t mask = c->nslots - 1;
	size_t i = lo & mask;

	while (c->slot[i][0] | c->slot[i][1])
		i = (i + 1) & mask;
	c->slot[i][0] = lo;
	c->slot[i][1] = hi;
}

static void cache_grow(struct cache *c)
{
	uint64_t (*old)[2] = c->slot;
	size_t n = c->nslots;

	c->nslots *= 2;
	c->slot = lc_xcalloc(c->nslots, sizeof(*c->slot));
	for (size_t i = 0; i < n; i++)
		if (old[i][0] | old[i][1])
			cache_place(c, old[i][0], old[i][1]);
	free(old);
}

/* Add (lo, hi); false if it was already there. */
static bool cache_add(struct cache *c, uint64_t lo, uint64_t hi)
{
	size_t mask, i;

	if (!(lo | hi))
		lo = 1;         /* {0, 0} marks an empty slot */
	if ((c->count + 1) * 2 > c->nslots)
		cache_grow(c);
	mask = c->nslots - 1;
	for (i = lo & mask; c->slot[i][0] | c->slot[i][1]; i = (i + 1) & mask)
		if (c->slot[i][0] == lo && c->slot[i][1] == hi)
			return false;
	c->slot[i][0] = lo;
	c->slot[i][1] = hi;
	c->count++;
	return true;
}

static int event_cmp(const void *a, const void *b)
{
	const struct event *x = a, *y = b;

	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	if (x->is_ret != y->is_ret)
		return x->is_ret ? 1 : -1;   /* at equal times, calls first */
	return x->op < y->op ? -1 : x->op > y->op;
}

/*
 * The event list: entries 1..2m, head 0 and tail 2m+1 as sentinels so
 * that lifting needs no special cases.  Lifting and restoring follow
 * the stack discipline of the search, so restoring is the removal's
 * pointer updates undone in reverse (Knuth's dancing links).
 */
struct list {
	uint32_t *next, *prev;
	uint32_t *op;         /* the op of each entry */
	uint32_t *match;      /* a call's return entry; 0 for returns */
};

static void lift(struct list *l, uint32_t e)
{
	uint32_t r = l->match[e];

	l->next[l->prev[e]] = l->next[e];
	l->prev[l->next[e]] = l->prev[e];
	l->next[l->prev[r]] = l->next[r];
	l->prev[l->next[r]] = l->prev[r];
}

static void unlift(struct list *l, uint32_t e)
{
	uint32_t r = l->match[e];

	l->prev[l->next[r]] = r;
	l->next[l->prev[r]] = r;
	l->prev[l->next[e]] = e;
	l->next[l->prev[e]] = e;
}

static void list_build(struct list *l, const struct lc_op *const *ops,
		       const uint32_t *keep, uint32_t m)
{
	struct event *ev = lc_xcalloc(2 * (size_t)m, sizeof(*ev));
	uint32_t *call_entry = lc_xcalloc(m, sizeof(*call_entry));
	size_t n = 2 * (size_t)m + 2;

	for (uint32_t i = 0; i < m; i++) {
		const struct lc_op *op = ops[keep[i]];

		ev[2 * i] = (struct event){ op->call, i, 0 };
		ev[2 * i + 1] = (struct event){
			op->type == LC_INFO ? UINT64_MAX : op->ret, i, 1 };
	}
	qsort(ev, 2 * (size_t)m, sizeof(*ev), event_cmp);
	l->next = lc_xcalloc(n, sizeof(*l->next));
	l->prev = lc_xcalloc(n, sizeof(*l->prev));
	l->op = lc_xcalloc(n, sizeof(*l->op));
	l->match = lc_xcalloc(n, sizeof(*l->match));
	for (uint32_t e = 1; e <= 2 * m; e++) {
		const struct event *x = &ev[e - 1];

		l->op[e] = x->op;
		if (x->is_ret)
			l->match[call_entry[x->op]] = e;
		else
			call_entry[x->op] = e;
	}
	for (uint32_t e = 0; e < n - 1; e++) {
		l->next[e] = e + 1;
		l->prev[e + 1] = e;
	}
	free(call_entry);
	free(ev);
}

static void list_free(struct list *l)
{
	free(l->next);
	free(l->prev);
	free(l->op);
	free(l->match);
}

struct frame {
	uint32_t entry;       /* the call linearized at this depth */
	uint32_t state;       /* the state before it */
	bool forced;          /* a read taken without a choice */
};

struct search {
	struct list l;
	const struct mop *mops;
	struct cache cache;
	const struct lc_limits *lim;
	struct frame *stack;
	uint32_t depth;
	uint32_t state;
	uint64_t zlo, zhi;    /* Zobrist hash of the linearized set */
	uint32_t left;        /* definite ops not linearized yet */
};

enum push { PUSHED, REFUSED, FULL };

/* Linearize call e next if the register and the cache allow it. */
static enum push push(struct search *s, uint32_t e, bool forced)
{
	const struct mop *op = &s->mops[s->l.op[e]];
	uint32_t ns;

	if (!step(op, s->state, &ns) ||
	    !cache_add(&s->cache, s->zlo ^ op->zlo ^ state_lo(ns),
		       s->zhi ^ op->zhi ^ state_hi(ns)))
		return REFUSED;
	if (s->lim->max_states && s->cache.count > s->lim->max_states)
		return FULL;
	s->stack[s->depth++] = (struct frame){ e, s->state, forced };
	s->state = ns;
	s->zlo ^= op->zlo;
	s->zhi ^= op->zhi;
	s->left -= op->definite;
	lift(&s->l, e);
	return PUSHED;
}

/*
 * Undo choices up to and including the latest real one (forced reads
 * offer no alternative).  Returns the call to try instead, or 0 when
 * no choice is left: the history is not linearizable.
 */
static uint32_t backtrack(struct search *s)
{
	while (s->depth > 0) {
		const struct frame *f = &s->stack[--s->depth];
		const struct mop *op = &s->mops[s->l.op[f->entry]];

		s->state = f->state;
		s->zlo ^= op->zlo;
		s->zhi ^= op->zhi;
		s->left += op->definite;
		unlift(&s->l, f->entry);
		if (!f->forced)
			return s->l.next[f->entry];
	}
	return 0;
}

/*
 * A read (get, failed cas) that may be linearized first, or 0.  Taking
 * it at once loses nothing: a read changes no state, and every op that
 * had to come before it is already linearized (else its return would
 * precede the read's call), so any linearization from here stays valid
 * with the read moved to the front.  Not branching on reads is what
 * keeps many concurrent readers from multiplying the configurations.
 */
static uint32_t fitting_read(const struct search *s)
{
	for (uint32_t e = s->l.next[0]; s->l.match[e]; e = s->l.next[e]) {
		const struct mop *op = &s->mops[s->l.op[e]];
		uint32_t ns;

		if ((op->kind == M_GET || op->kind == M_CAS_FAIL) &&
		    step(op, s->state, &ns))
			return e;
	}
	return 0;
}

/* The search proper; see the comment at the top. */
static enum lc_verdict search(struct search *s, double deadline)
{
	uint64_t iter = 0;
	uint32_t e = 0;       /* next call to try; 0: a new configuration */
	enum push p;

	while (s->left > 0) {
		if (++iter % CHECK_CLOCK_EVERY == 0 && deadline &&
		    lc_now() > deadline)
			return LC_LIMIT;
		if (!e) {
			uint32_t r = fitting_read(s);

			if (r) {
				p = push(s, r, true);
				if (p == FULL)
					return LC_LIMIT;
				/* refused: seen before, so this configuration fails */
				if (p == REFUSED && !(e = backtrack(s)))
					return LC_VIOLATION;
				continue;
			}
			e = s->l.next[0];
		}
		if (!s->l.match[e]) {
			/* a return: its op had to be linearized by now */
			if (!(e = backtrack(s)))
				return LC_VIOLATION;
			continue;
		}
		p = push(s, e, false);
		if (p == FULL)
			return LC_LIMIT;
		e = p == PUSHED ? 0 : s->l.next[e];
	}
	return LC_LINEARIZABLE;
}

enum lc_verdict lc_check(const struct lc_op *const *ops, size_t n,
			 const struct lc_limits *lim,
			 struct lc_search_stats *st)
{
	double start = lc_now();
	double deadline = lim->timeout > 0 ? start + lim->timeout : 0;
	uint32_t *keep = lc_xcalloc(n, sizeof(*keep));
	uint64_t seed = 0x6c696e636865636bULL;
	struct search s = { 0 };
	struct mop *mops;
	enum lc_verdict v;
	uint32_t m = 0;

	for (size_t i = 0; i < n; i++)
		if (!lc_op_ignored(ops[i]))
			keep[m++] = (uint32_t)i;
	mops = lc_xcalloc(m ? m : 1, sizeof(*mops));
	for (uint32_t i = 0; i < m; i++) {
		const struct lc_op *op = ops[keep[i]];

		mops[i].kind = (uint8_t)kind_of(op);
		mops[i].definite = op->type != LC_INFO;
		mops[i].arg = op->arg;
		mops[i].obs = op->obs;
		mops[i].zlo = splitmix64(&seed);
		mops[i].zhi = splitmix64(&seed);
	}
	list_build(&s.l, ops, keep, m);
	cache_init(&s.cache);
	s.mops = mops;
	s.lim = lim;
	s.stack = lc_xcalloc(m + 1, sizeof(*s.stack));
	for (uint32_t i = 0; i < m; i++)
		s.left += mops[i].definite;
	v = search(&s, deadline);
	if (st) {
		st->states = s.cache.count;
		st->seconds = lc_now() - start;
	}
	free(s.stack);
	free(s.cache.slot);
	list_free(&s.l);
	free(mops);
	free(keep);
	return v;
}
