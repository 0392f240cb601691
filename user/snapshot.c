// SPDX-License-Identifier: BSD-2-Clause
/*
 * Turns the aggregated state into an immutable, symbolized snapshot: the one input of every
 * presenter, so the live view, the report and each export tell the same story.
 */
#include <stdlib.h>
#include <string.h>

#include "htab.h"
#include "snapshot_build.h"
#include "util.h"

const char *mt_kind_name(enum mt_kind kind)
{
	return kind == MT_KIND_MMAP ? "mmap" : "heap";
}

struct oldest_ctx {
	uint64_t *oldest;	/* by stack id */
};

static int note_oldest(uint64_t addr, void *value, void *ctx)
{
	const struct agg_block *b = value;
	uint64_t *o = &((struct oldest_ctx *)ctx)->oldest[b->stack];

	(void)addr;

	if (!*o || b->ts_ns < *o)
		*o = b->ts_ns;
	return 0;
}

static void find_oldest(const struct agg *a, uint64_t *oldest)
{
	struct oldest_ctx ctx = { oldest };

	for (size_t i = 0; i < agg__nprocs(a); i++) {
		const struct agg_proc *p = agg__proc_at(a, i);

		htab__each(p->blocks, note_oldest, &ctx);
		for (size_t r = 0; r < p->nregions; r++) {
			uint64_t *o = &oldest[p->regions[r].stack];

			if (!*o || p->regions[r].ts_ns < *o)
				*o = p->regions[r].ts_ns;
		}
	}
}

/* Frames of the allocator and the runtime below it are plumbing, not the call site. */
static bool is_plumbing(const struct mt_frame *f)
{
	static const char *const libs[] = { "libc.so", "libc-", "ld-linux", "libstdc++.so" };
	const char *base;

	if (!f->mapping)
		return false;
	base = strrchr(f->mapping->path, '/');
	base = base ? base + 1 : f->mapping->path;
	for (size_t i = 0; i < sizeof(libs) / sizeof(libs[0]); i++)
		if (!strncmp(base, libs[i], strlen(libs[i])))
			return true;
	return false;
}

static int by_outstanding(const void *x, const void *y)
{
	const struct mt_stack *a = x, *b = y;

	if (a->outstanding_bytes != b->outstanding_bytes)
		return a->outstanding_bytes < b->outstanding_bytes ? 1 : -1;
	if (a->allocated_bytes != b->allocated_bytes)
		return a->allocated_bytes < b->allocated_bytes ? 1 : -1;
	return a->id < b->id ? -1 : a->id > b->id;
}

static void fill_stack(struct symbolizer *sym, const struct agg_stack *as, uint32_t id,
		       uint64_t oldest, struct mt_stack *st)
{
	struct mt_frame *frames = xcalloc(as->nframes, sizeof(*frames));

	st->id = id;
	st->kind = as->kind;
	st->outstanding_bytes = as->outstanding_bytes;
	st->outstanding_allocations = as->outstanding_allocations;
	st->allocated_bytes = as->allocated_bytes;
	st->allocations = as->allocations;
	st->oldest_ts_ns = as->outstanding_allocations ? oldest : 0;
	st->nframes = as->nframes;
	for (uint32_t f = 0; f < as->nframes; f++)
		sym__resolve(sym, as->pid, as->frames[f], &frames[f]);
	st->site = 0;
	while (st->site + 1 < (int)st->nframes && is_plumbing(&frames[st->site]))
		st->site++;
	st->frames = frames;
}

static void fill_proc(const struct agg *a, struct symbolizer *sym, const struct agg_proc *ap,
		      const uint64_t *oldest, struct mt_proc *p)
{
	size_t n = 0;
	struct mt_stack *stacks = xcalloc(agg__nstacks(a), sizeof(*stacks));

	p->pid = ap->pid;
	memcpy(p->comm, ap->comm, sizeof(p->comm));
	p->exited = ap->exited;
	p->cmdline = ap->cmdline;
	memcpy(p->kind, ap->sum, sizeof(p->kind));
	for (uint32_t id = 0; id < agg__nstacks(a); id++) {
		const struct agg_stack *as = agg__stack(a, id);

		if (as->pid == ap->pid)
			fill_stack(sym, as, id, oldest[id], &stacks[n++]);
	}
	qsort(stacks, n, sizeof(*stacks), by_outstanding);
	p->nstacks = n;
	p->stacks = stacks;
}

struct mt_snapshot *snapshot__build(const struct agg *a, struct symbolizer *sym,
				    const struct snapshot_meta *meta)
{
	struct mt_snapshot *s = xcalloc(1, sizeof(*s));
	uint64_t *oldest = xcalloc(agg__nstacks(a) + 1, sizeof(*oldest));
	struct mt_proc *procs = xcalloc(agg__nprocs(a), sizeof(*procs));
	uint64_t lost = 0;

	s->start_ns = meta->start_ns;
	s->now_ns = meta->now_ns;
	for (int i = 0; i < MT_LOSS__COUNT; i++) {
		s->loss[i] = meta->loss[i];
		if (i != MT_LOSS_STACK_TRUNCATED)	/* a truncated stack still carries its event */
			lost += meta->loss[i];
	}
	find_oldest(a, oldest);
	for (size_t i = 0; i < agg__nprocs(a); i++) {
		const struct agg_proc *ap = agg__proc_at(a, i);

		if (ap->sum[MT_KIND_HEAP].outstanding_bytes + ap->sum[MT_KIND_MMAP].outstanding_bytes <
		    meta->min_bytes)
			continue;	/* --min-bytes */
		fill_proc(a, sym, ap, oldest, &procs[s->nprocs]);
		procs[s->nprocs++].kind[MT_KIND_HEAP].lost_events = lost;
	}
	s->procs = procs;
	for (int k = 0; k < MT_KIND__COUNT; k++)
		s->total[k] = *agg__total(a, k);
	s->total[MT_KIND_HEAP].lost_events = lost;
	free(oldest);
	return s;
}

void snapshot__free(struct mt_snapshot *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nprocs; i++) {
		for (size_t k = 0; k < s->procs[i].nstacks; k++)
			free((void *)s->procs[i].stacks[k].frames);
		free((void *)s->procs[i].stacks);
	}
	free((void *)s->procs);
	free(s);
}
