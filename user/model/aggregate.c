// SPDX-License-Identifier: BSD-2-Clause
/*
 * Event semantics live here and only here: what a realloc, a failed call or an unknown free means.
 * Counters follow valgrind's conventions so the two tools can be checked against each other.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/htab.h"
#include "lib/util.h"
#include "model/aggregate.h"

struct agg {
	struct agg_stack *stacks;
	size_t nstacks, cap_stacks;
	struct htab *stack_ids;		/* hash(pid, kind, frames) -> stack id + 1 */
	uint32_t *free_ids;		/* stacks of forgotten processes, to reuse */
	size_t nfree_ids, cap_free_ids;
	struct procs *procs;		/* each process's agg_proc is its PROC_AGG part */
	uint64_t made;			/* stacks made so far (free ids are reused) */
	struct mt_summary total[MT_KIND__COUNT];
	struct keyed *keyed;		/* cache of the callers' stack keys, direct-mapped: see keyed_slot */
	size_t cap_keyed;		/* a power of two, or 0 */
	const struct agg_known *known;	/* what the caller knows of the event being applied */
	struct agg_held *held;		/* blocks by their source's place (struct agg_places) */
	size_t nheld, cap_held;
	uint32_t epochs;		/* agg_proc epochs given so far */
	struct agg_proc *last;		/* the process agg__proc gave last */
	uint64_t page_size;
	struct sample_p {		/* sample_p's cache, direct-mapped by size */
		uint64_t size, mean;
		double p;
	} sample_p[64];
};

/* A block held by place: whose it is, to tell a place of a process's older image. */
struct agg_held {
	struct agg_block b;
	uint64_t addr;
	uint32_t pid, epoch;
};

/* A caller's stack key as last resolved for one (pid, kind): checked in full before use. */
struct keyed {
	uint64_t key, made;
	uint32_t pid, kind, id;
};

/* What the caller of agg__apply knows: nothing. */
static const struct agg_known nothing_known = {
	.places = { AGG_NO_PLACE, AGG_NO_PLACE, AGG_NO_PLACE },
};

/* The cache keeps at most this many (a caller's keys are dense: a recording's stack numbers). */
#define KEYED_MAX (1u << 20)

/* Mappings and pvalloc blocks come in whole pages. */
static uint64_t page_up(const struct agg *a, uint64_t n)
{
	return (n + a->page_size - 1) & ~(a->page_size - 1);
}

static void drop_part(void *owner, struct proc *proc);

struct agg *agg__new(struct procs *procs)
{
	struct agg *a = xcalloc(1, sizeof(*a));
	long ps = sysconf(_SC_PAGESIZE);

	a->page_size = ps > 0 ? (uint64_t)ps : 4096;
	a->stack_ids = htab__new(sizeof(uint32_t));
	a->known = &nothing_known;
	a->procs = procs;
	procs__own(procs, PROC_AGG, drop_part, a);
	return a;
}

/* The registry's processes are given back first (procs__free): their stacks are theirs. */
void agg__free(struct agg *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->nstacks; i++)
		free(a->stacks[i].frames);
	free(a->stacks);
	free(a->free_ids);
	htab__free(a->stack_ids);
	free(a->keyed);
	free(a->held);
	free(a);
}

struct agg_proc *agg__find_proc(const struct agg *a, uint32_t pid)
{
	struct proc *p = procs__find(a->procs, pid);

	return p ? p->part[PROC_AGG] : NULL;
}

struct agg_proc *agg__proc(struct agg *a, uint32_t pid)
{
	struct proc *proc;
	struct agg_proc *p;

	if (a->last && a->last->pid == pid)	/* events come in runs of one process */
		return a->last;
	proc = procs__get(a->procs, pid);
	p = proc->part[PROC_AGG];
	if (p)
		return a->last = p;
	p = xcalloc(1, sizeof(*p));
	p->pid = pid;
	p->proc = proc;
	p->epoch = ++a->epochs;
	p->blocks = htab__new(sizeof(struct agg_block));
	proc->part[PROC_AGG] = p;
	return a->last = p;
}

size_t agg__nstacks(const struct agg *a) { return a->nstacks; }
uint64_t agg__stacks_made(const struct agg *a) { return a->made; }
const struct agg_stack *agg__stack(const struct agg *a, uint32_t id) { return &a->stacks[id]; }
const struct mt_summary *agg__total(const struct agg *a, enum mt_kind k) { return &a->total[k]; }

void agg__leak_verdict(struct agg *a, uint32_t stack, enum mt_leak_kind k, uint64_t bytes,
		       uint64_t behind)
{
	struct agg_stack *s = &a->stacks[stack];

	s->leak[k].bytes += bytes;
	s->leak[k].blocks++;
	s->leak_behind += behind;
}

/* A process's stacks, so that forgetting it frees its own and scans no others. */
static void own_stack(struct agg_proc *p, uint32_t id)
{
	xgrow(&p->stack_ids, &p->cap_stack_ids, p->nstack_ids + 1, sizeof(*p->stack_ids));
	p->stack_ids[p->nstack_ids++] = id;
}

static bool same_stack(const struct agg_stack *s, uint32_t pid, enum mt_kind kind,
		       const uint64_t *frames, uint32_t n)
{
	return s->pid == pid && s->kind == kind && s->nframes == n &&
	       !memcmp(s->frames, frames, n * sizeof(*frames));
}

/*
 * Stacks are found by a hash of their whole content and then compared in full: a collision
 * rehashes with the next seed instead of merging two stacks (the BPF stack map's failure mode).
 */
static uint32_t stack_id(struct agg *a, uint32_t pid, enum mt_kind kind, const uint64_t *frames,
			 uint32_t n)
{
	for (uint64_t seed = 0;; seed++) {
		/* every event carrying a stack is hashed here */
		uint64_t h = htab__hash_words(frames, n, seed ^ ((uint64_t)pid << 8 | kind));
		uint32_t *id;
		bool existed;

		id = htab__insert(a->stack_ids, h, &existed);
		if (existed && !same_stack(&a->stacks[*id - 1], pid, kind, frames, n))
			continue;
		if (!existed) {
			struct agg_stack *s;

			if (a->nfree_ids) {	/* a forgotten process's slot */
				*id = a->free_ids[--a->nfree_ids] + 1;
				s = &a->stacks[*id - 1];
				memset(s, 0, sizeof(*s));
			} else {
				xreserve(&a->stacks, &a->cap_stacks, a->nstacks + 1, sizeof(*a->stacks));
				s = &a->stacks[a->nstacks];
				memset(s, 0, sizeof(*s));
				*id = ++a->nstacks;
			}
			s->hash = h;
			s->pid = pid;
			s->kind = kind;
			s->nframes = n;
			s->frames = xmalloc(n * sizeof(*frames));
			memcpy(s->frames, frames, n * sizeof(*frames));
			own_stack(agg__proc(a, pid), *id - 1);
			s->made = ++a->made;
		}
		return *id - 1;
	}
}

/*
 * The cache entry for (key, pid, kind). A caller's keys number its stacks densely from 1 in the
 * low half, so the low half picks the entry: neighbours stay neighbours, and a lookup is one
 * load. The cache grows with the numbers it sees, up to KEYED_MAX; past that, entries share.
 */
static size_t keyed_index(const struct agg *a, uint64_t key, uint32_t pid, enum mt_kind kind)
{
	return ((uint32_t)key + pid * 0x9e3779b1u + kind) & (a->cap_keyed - 1);
}

static struct keyed *keyed_slot(struct agg *a, uint64_t key, uint32_t pid, enum mt_kind kind)
{
	if ((uint32_t)key >= a->cap_keyed && a->cap_keyed < KEYED_MAX) {
		size_t cap = a->cap_keyed ? a->cap_keyed : 1024;

		while (cap <= (uint32_t)key && cap < KEYED_MAX)
			cap *= 2;
		free(a->keyed);	/* a cache: what it held is found again by the frames */
		a->keyed = xcalloc(cap, sizeof(*a->keyed));
		a->cap_keyed = cap;
	}
	return &a->keyed[keyed_index(a, key, pid, kind)];
}

/*
 * With a caller's key (a replay's): the stack of (key, pid, kind) as found the last time, if its
 * slot still holds that stack (a process's stacks go at exec and when it is forgotten: made tells),
 * else found by its frames and remembered.
 */
static uint32_t stack_of(struct agg *a, const struct mt_event *e, enum mt_kind kind)
{
	const struct agg_known *kn = a->known;
	const uint64_t *frames = kn->frames ? kn->frames : (const uint64_t *)e->frames;
	struct keyed *k;
	uint32_t id;

	if (!kn->key)
		return stack_id(a, e->pid, kind, frames, e->nframes);
	k = keyed_slot(a, kn->key, e->pid, kind);
	if (k->key == kn->key && k->pid == e->pid && k->kind == kind && k->id < a->nstacks &&
	    a->stacks[k->id].made == k->made)
		return k->id;
	id = stack_id(a, e->pid, kind, frames, e->nframes);
	*k = (struct keyed){ kn->key, a->stacks[id].made, e->pid, kind, id };
	return id;
}

/*
 * The by-stack picture at the heap peak, kept lazily in O(1) per event: a new peak only bumps the
 * process's epoch; a stack about to change for the first time since then saves what it held.
 */
static void checkpoint(const struct agg_proc *p, struct agg_stack *s)
{
	if (s->peak_epoch == p->peak_epoch)
		return;
	s->peak_epoch = p->peak_epoch;
	s->peak_bytes = s->outstanding_bytes;
	s->peak_allocations = s->outstanding_allocations;
}

void agg__stack_at_peak(const struct agg *a, uint32_t id, uint64_t *bytes, uint64_t *allocations)
{
	const struct agg_stack *s = &a->stacks[id];
	const struct agg_proc *p = agg__find_proc(a, s->pid);
	bool saved = p && s->peak_epoch == p->peak_epoch;

	*bytes = saved ? s->peak_bytes : s->outstanding_bytes;
	*allocations = saved ? s->peak_allocations : s->outstanding_allocations;
}

/* size bytes in n blocks join the stack (n > 1: a sampled block's estimate). */
static void count_alloc(struct agg *a, struct agg_proc *p, enum mt_kind k, uint32_t stack,
			uint64_t size, uint64_t n, uint64_t ts)
{
	struct mt_summary *sums[2] = { &p->sum[k], &a->total[k] };
	struct agg_stack *s = &a->stacks[stack];

	checkpoint(p, s);
	for (int i = 0; i < 2; i++) {
		struct mt_summary *m = sums[i];

		m->allocations += n;
		m->allocated_bytes += size;
		m->outstanding_allocations += n;
		m->outstanding_bytes += size;
		if (m->outstanding_bytes > m->peak_outstanding_bytes) {
			m->peak_outstanding_bytes = m->outstanding_bytes;
			m->peak_ts_ns = ts;
			if (m == &p->sum[MT_KIND_HEAP])
				p->peak_epoch++;
		}
	}
	s->allocations += n;
	s->allocated_bytes += size;
	s->outstanding_allocations += n;
	s->outstanding_bytes += size;
}

/* bytes leave the stack's outstanding total with n blocks (0 when a piece of one went away). */
static void count_free(struct agg *a, struct agg_proc *p, enum mt_kind k, uint32_t stack,
		       uint64_t bytes, uint64_t n)
{
	struct mt_summary *sums[2] = { &p->sum[k], &a->total[k] };
	struct agg_stack *s = &a->stacks[stack];

	checkpoint(p, s);
	for (int i = 0; i < 2; i++) {
		sums[i]->freed_bytes += bytes;
		sums[i]->outstanding_bytes -= bytes;
		sums[i]->frees += n;
		sums[i]->outstanding_allocations -= n;
	}
	s->outstanding_bytes -= bytes;
	s->outstanding_allocations -= n;
}

/*
 * x rounded up or down at random, up with probability frac(x): integer counters that are right
 * in expectation. The draw u, in [0, 1), hashes the block's address and birth, so a replay rounds
 * alike; a block's bytes and count share it.
 */
static double block_draw(const struct mt_event *e)
{
	uint64_t key[2] = { e->addr, e->ts_ns };

	/* a word hash: two multiplies where a byte hash took sixteen (a replay spent 4% here) */
	return (double)(htab__hash_words(key, 2, 0x5a) >> 11) / 9007199254740992.0;
}

static uint64_t round_unbiased(double x, double u)
{
	double whole = floor(x);

	if (!(whole < 18446744073709549568.0))	/* past the last double below 2^64: a damaged event */
		return UINT64_MAX;
	return (uint64_t)whole + (x - whole > u);
}

/*
 * p for a block of size bytes sampled with mean interval mean. A program allocates few sizes
 * many times, and expm1 was a twentieth of a sampled recording's replay: each is computed once
 * and kept while its cache slot is not taken by another.
 */
static double sample_p(struct agg *a, uint64_t size, uint64_t mean)
{
	struct sample_p *c = &a->sample_p[(size * 0x9e3779b97f4a7c15ull) >> 58];
	double x;

	if (c->size == size && c->mean == mean && size)
		return c->p;
	x = mean ? (double)size / (double)mean : 0;
	/* past 38, 1 - exp(-x) rounds to 1 (exp(-x) < 2^-54): skip the call (every block of a
	 * --sample-bytes 1 run but the smallest) */
	*c = (struct sample_p){ size, mean, x > 0 && x < 38 ? -expm1(-x) : 1 };
	return c->p;
}

/*
 * What a sampled block stands for. Sampling is a Poisson process along the allocated bytes with
 * mean T: a block of s bytes holds a sample point with probability p = 1 - exp(-s/T). Counting
 * each sampled block as s/p bytes and 1/p blocks makes every total right in expectation
 * (Horvitz-Thompson): E[s/p * sampled] = s.
 */
static void sample_weight(struct agg *a, const struct mt_event *e, uint64_t *bytes, uint64_t *blocks)
{
	double p = sample_p(a, e->sampled.size, e->sampled.mean), u;

	if (!(p > 0) || p >= 1) {
		*bytes = e->sampled.size;
		*blocks = 1;
		return;
	}
	u = block_draw(e);
	*bytes = round_unbiased((double)e->sampled.size / p, u);
	*blocks = round_unbiased(1 / p, u);
}

/*
 * Place i leaves the table, the last one moving into it: its block into *b, when it is p's (not
 * a place of p's image before an exec, nor another process's).
 */
static bool unplace(struct agg *a, const struct agg_proc *p, uint32_t i, struct agg_block *b)
{
	struct agg_held *h;
	bool mine;

	if (i == AGG_NO_PLACE || i >= a->nheld)	/* the latter only from a source gone wrong */
		return false;
	h = &a->held[i];
	mine = h->pid == p->pid && h->epoch == p->epoch;
	if (mine)
		*b = h->b;
	*h = a->held[--a->nheld];
	return mine;
}

/* The block at place i, the next one, or NULL when i is not that (a source gone wrong). */
static struct agg_block *place(struct agg *a, const struct agg_proc *p, uint32_t i, uint64_t addr)
{
	struct agg_held *h;

	if (i != a->nheld)
		return NULL;
	xreserve(&a->held, &a->cap_held, a->nheld + 1, sizeof(*a->held));	/* all written */
	h = &a->held[a->nheld++];
	h->addr = addr;
	h->pid = p->pid;
	h->epoch = p->epoch;
	return &h->b;
}

/* p's block at addr (at place i, if given) taken out into *b; false when p holds none there. */
static bool take_block(struct agg *a, struct agg_proc *p, uint64_t addr, uint32_t i,
		       struct agg_block *b)
{
	return unplace(a, p, i, b) || (htab__count(p->blocks) && htab__remove(p->blocks, addr, b));
}

/* The slot of a new block at addr: a block held there already lost its free, and is retired. */
static struct agg_block *new_block(struct agg *a, struct agg_proc *p, uint64_t addr)
{
	const struct agg_places *pl = &a->known->places;
	struct agg_block old, *b;
	bool existed;

	if (unplace(a, p, pl->replaced, &old))
		count_free(a, p, MT_KIND_HEAP, old.stack, old.size, old.count);
	if (pl->placed != AGG_NO_PLACE && (b = place(a, p, pl->placed, addr))) {
		if (take_block(a, p, addr, AGG_NO_PLACE, &old))	/* held by address: the table was full */
			count_free(a, p, MT_KIND_HEAP, old.stack, old.size, old.count);
		return b;
	}
	b = htab__insert(p->blocks, addr, &existed);
	if (existed)
		count_free(a, p, MT_KIND_HEAP, b->stack, b->size, b->count);
	return b;
}

static void heap_alloc(struct agg *a, struct agg_proc *p, const struct mt_event *e)
{
	uint32_t stack = stack_of(a, e, MT_KIND_HEAP);
	uint64_t bytes = e->size, blocks = 1;
	struct agg_block *b;

	if (e->op == MT_OP_SAMPLED_ALLOC)
		sample_weight(a, e, &bytes, &blocks);
	b = new_block(a, p, e->addr);
	b->size = bytes;
	b->count = blocks > UINT32_MAX ? UINT32_MAX : (uint32_t)blocks;
	b->ts_ns = e->ts_ns;
	b->stack = stack;
	count_alloc(a, p, MT_KIND_HEAP, stack, bytes, b->count, e->ts_ns);
}

/* Frees addr into *b; false when the block was not known (counted as such). */
static bool heap_free(struct agg *a, struct agg_proc *p, uint64_t addr, struct agg_block *b)
{
	if (!take_block(a, p, addr, a->known->places.freed, b)) {
		p->sum[MT_KIND_HEAP].unknown_frees++;
		a->total[MT_KIND_HEAP].unknown_frees++;
		return false;
	}
	count_free(a, p, MT_KIND_HEAP, b->stack, b->size, b->count);
	return true;
}

/*
 * A free by CPython's cycle collector (collection e->old_addr): charged to the stack that
 * allocated the block, which is the line the garbage came from, not to the collector's.
 */
static void gc_free(struct agg *a, struct agg_proc *p, const struct mt_event *e)
{
	struct agg_block b;
	struct agg_stack *s;

	if (!heap_free(a, p, e->addr, &b))
		return;
	s = &a->stacks[b.stack];
	s->gc_bytes += b.size;
	s->gc_blocks += b.count;
	p->gc.reclaimed_bytes += b.size;
	p->gc.reclaimed_blocks += b.count;
	if (s->gc_last != e->old_addr) {
		s->gc_last = e->old_addr;
		s->gc_collections++;
	}
}

/* A collection ended: its pause. */
static void gc_pause(struct agg_proc *p, const struct mt_event *e)
{
	p->gc.collections++;
	p->gc.pause_ns += e->gc.duration_ns;
	if (e->gc.duration_ns > p->gc.longest_pause_ns)
		p->gc.longest_pause_ns = e->gc.duration_ns;
}

/* realloc and reallocarray: glibc's meaning of each outcome. */
static void heap_realloc(struct agg *a, struct agg_proc *p, const struct mt_event *e)
{
	struct agg_block b;

	if (!e->old_addr) {			/* realloc(NULL, n) is malloc(n) */
		if (e->addr)
			heap_alloc(a, p, e);
	} else if (e->addr) {			/* moved or not: one free and one allocation */
		heap_free(a, p, e->old_addr, &b);
		heap_alloc(a, p, e);
	} else if (e->size == 0) {		/* realloc(p, 0) frees p and returns NULL */
		heap_free(a, p, e->old_addr, &b);
	}					/* else it failed: the old block stays */
}

static void region_insert(struct agg_proc *p, size_t at, struct agg_region r)
{
	xgrow(&p->regions, &p->cap_regions, p->nregions + 1, sizeof(*p->regions));
	memmove(&p->regions[at + 1], &p->regions[at], (p->nregions - at) * sizeof(r));
	p->regions[at] = r;
	p->nregions++;
}

/* First region whose end lies above addr. */
static size_t region_search(const struct agg_proc *p, uint64_t addr)
{
	size_t lo = 0, hi = p->nregions;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (p->regions[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Remove [start, end) from the tracked anonymous mappings, trimming or splitting what overlaps. */
static bool unmap_range(struct agg *a, struct agg_proc *p, uint64_t start, uint64_t end)
{
	size_t i = region_search(p, start);
	bool hit = false;

	while (i < p->nregions && p->regions[i].start < end) {
		struct agg_region *r = &p->regions[i];
		uint64_t lo = r->start > start ? r->start : start;
		uint64_t hi = r->end < end ? r->end : end;
		bool whole = lo == r->start && hi == r->end;

		hit = true;
		count_free(a, p, MT_KIND_MMAP, r->stack, hi - lo, whole ? 1 : 0);
		if (whole) {
			memmove(r, r + 1, (p->nregions - i - 1) * sizeof(*r));
			p->nregions--;
		} else if (lo > r->start && hi < r->end) {	/* a hole: the tail becomes a piece */
			struct agg_region tail = *r;

			tail.start = hi;
			r->end = lo;
			region_insert(p, i + 1, tail);
			p->sum[MT_KIND_MMAP].outstanding_allocations++;
			a->total[MT_KIND_MMAP].outstanding_allocations++;
			a->stacks[r->stack].outstanding_allocations++;
			i += 2;
		} else {
			if (lo == r->start)
				r->start = hi;
			else
				r->end = lo;
			i++;
		}
	}
	return hit;
}

static void map_region(struct agg *a, struct agg_proc *p, const struct mt_event *e)
{
	uint64_t len = page_up(a, e->size);
	struct agg_region r = { .start = e->addr, .end = e->addr + len, .ts_ns = e->ts_ns };

	unmap_range(a, p, r.start, r.end);	/* MAP_FIXED over a tracked region replaces it */
	r.stack = stack_of(a, e, MT_KIND_MMAP);
	region_insert(p, region_search(p, r.start), r);
	count_alloc(a, p, MT_KIND_MMAP, r.stack, len, 1, e->ts_ns);
}

static void unmap(struct agg *a, struct agg_proc *p, uint64_t addr, uint64_t size)
{
	if (!unmap_range(a, p, addr, addr + page_up(a, size))) {
		p->sum[MT_KIND_MMAP].unknown_frees++;
		a->total[MT_KIND_MMAP].unknown_frees++;
	}
}

static bool heap_frees(uint32_t op) { return op == MT_OP_FREE || op == MT_OP_GC_FREE; }

static bool heap_allocates(uint32_t op)
{
	return (op >= MT_OP_MALLOC && op <= MT_OP_PVALLOC) || op == MT_OP_SAMPLED_ALLOC ||
	       op == MT_OP_REALLOC || op == MT_OP_REALLOCARRAY;
}

void agg__prefetch(struct agg *a, const struct mt_event *e, const struct agg_known *k, bool near)
{
	struct agg_proc *p = a->last && a->last->pid == e->pid ? a->last : NULL;
	bool frees = heap_frees(e->op), allocates = !frees && heap_allocates(e->op);
	uint32_t freed = k->places.freed;
	const struct agg_block *b = NULL;
	const struct keyed *kd;

	if (!p || !e->addr || !(frees || allocates))
		return;
	if (!near) {
		if (freed < a->nheld)
			__builtin_prefetch(&a->held[freed]);
		else if (k->places.placed == AGG_NO_PLACE)
			htab__prefetch(p->blocks, e->addr);
		if (allocates && k->key && a->cap_keyed)
			__builtin_prefetch(&a->keyed[keyed_index(a, k->key, e->pid, MT_KIND_HEAP)]);
		return;
	}
	if (frees)
		b = freed < a->nheld ? &a->held[freed].b : htab__lookup(p->blocks, e->addr);
	if (b && b->stack < a->nstacks) {
		__builtin_prefetch(&a->stacks[b->stack]);
	} else if (allocates && k->key && a->cap_keyed) {
		kd = &a->keyed[keyed_index(a, k->key, e->pid, MT_KIND_HEAP)];
		if (kd->key == k->key && kd->id < a->nstacks)
			__builtin_prefetch(&a->stacks[kd->id]);
	}
}

void agg__apply(struct agg *a, const struct mt_event *e)
{
	agg__apply_known(a, e, NULL);
}

void agg__apply_known(struct agg *a, const struct mt_event *e, const struct agg_known *k)
{
	struct agg_proc *p = agg__proc(a, e->pid);
	struct agg_block b;

	a->known = k ? k : &nothing_known;
	switch (e->op) {
	case MT_OP_MALLOC:
	case MT_OP_CALLOC:
	case MT_OP_POSIX_MEMALIGN:
	case MT_OP_ALIGNED_ALLOC:
	case MT_OP_MEMALIGN:
	case MT_OP_VALLOC:
		if (e->addr)
			heap_alloc(a, p, e);
		break;
	case MT_OP_PVALLOC:	/* the block is the request rounded up to whole pages */
		if (e->addr) {
			struct mt_event rounded = *e;

			rounded.size = page_up(a, e->size);
			heap_alloc(a, p, &rounded);
		}
		break;
	case MT_OP_REALLOC:
	case MT_OP_REALLOCARRAY:
		heap_realloc(a, p, e);
		break;
	case MT_OP_FREE:
		heap_free(a, p, e->addr, &b);
		break;
	case MT_OP_GC_FREE:
		gc_free(a, p, e);
		break;
	case MT_OP_GC:
		gc_pause(p, e);
		break;
	case MT_OP_SAMPLED_ALLOC:
		p->proc->sample_bytes = e->sampled.mean;
		if (e->addr)
			heap_alloc(a, p, e);
		break;
	case MT_OP_MMAP:
		if (e->addr)
			map_region(a, p, e);
		break;
	case MT_OP_MUNMAP:
		unmap(a, p, e->addr, e->size);
		break;
	case MT_OP_MREMAP:
		if (e->addr) {
			unmap(a, p, e->old_addr, e->old_size);
			map_region(a, p, e);
		}
		break;
	}
	a->known = &nothing_known;
}

void agg__places_done(struct agg *a)
{
	for (size_t i = 0; i < a->nheld; i++) {
		const struct agg_held *h = &a->held[i];
		struct agg_proc *p = agg__find_proc(a, h->pid);

		if (p && p->epoch == h->epoch)
			*(struct agg_block *)htab__insert(p->blocks, h->addr, NULL) = h->b;
	}
	a->nheld = 0;
}

void agg__drop_blocks(struct agg *a, uint32_t pid)
{
	struct agg_proc *p = agg__find_proc(a, pid);

	if (!p)
		return;
	p->proc->exited = true;
	p->epoch = ++a->epochs;	/* its blocks held by place go too */
	htab__free(p->blocks);
	p->blocks = htab__new(sizeof(struct agg_block));
	free(p->regions);
	p->regions = NULL;
	p->nregions = p->cap_regions = 0;
}

void agg__drop_outstanding(struct agg *a, uint32_t pid)
{
	struct agg_proc *p = agg__find_proc(a, pid);

	for (int k = 0; p && k < MT_KIND__COUNT; k++) {
		a->total[k].outstanding_bytes -= p->sum[k].outstanding_bytes;
		a->total[k].outstanding_allocations -= p->sum[k].outstanding_allocations;
	}
}

/* The registry forgets a process: its stacks become free ids, its blocks go. */
static void drop_part(void *owner, struct proc *proc)
{
	struct agg *a = owner;
	struct agg_proc *p = proc->part[PROC_AGG];

	for (size_t i = 0; i < p->nstack_ids; i++) {
		struct agg_stack *s = &a->stacks[p->stack_ids[i]];

		htab__remove(a->stack_ids, s->hash, NULL);
		free(s->frames);
		memset(s, 0, sizeof(*s));	/* pid 0: no process owns it */
		xgrow(&a->free_ids, &a->cap_free_ids, a->nfree_ids + 1, sizeof(*a->free_ids));
		a->free_ids[a->nfree_ids++] = p->stack_ids[i];
	}
	free(p->stack_ids);
	htab__free(p->blocks);
	free(p->regions);
	if (a->last == p)
		a->last = NULL;
	free(p);
}
