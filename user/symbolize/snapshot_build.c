// SPDX-License-Identifier: BSD-2-Clause
/*
 * Turns the aggregated state into an immutable, symbolized snapshot: the one input of every
 * presenter, so the live view, the report and each export tell the same story. The model keeps
 * addresses; names are given here, late, and only here.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/htab.h"
#include "lib/procmaps.h"
#include "lib/util.h"
#include "model/model.h"
#include "symbolize/snapshot_build.h"

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

static void find_oldest(const struct model *m, uint64_t *oldest)
{
	struct oldest_ctx ctx = { oldest };

	for (size_t i = 0; i < procs__n(m->procs); i++) {
		const struct agg_proc *p = procs__at(m->procs, i)->part[PROC_AGG];

		if (!p)
			continue;
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

/*
 * Python frames are named by the Python tracer, or in a replay by the symbols recorded for them
 * (preloaded into the symbolizer); the call site is the innermost of them.
 */
static bool resolve_python(const struct pytrace *py, struct symbolizer *sym,
			   const struct agg_stack *as, struct mt_frame *frames, int *site)
{
	bool any = false;

	for (uint32_t f = 0; f < as->nframes; f++) {
		if (!mt_py_is_frame(as->frames[f]))
			continue;
		if (py)
			pytrace__resolve(py, as->frames[f], &frames[f]);
		else
			sym__resolve(sym, (int)as->pid, as->frames[f], &frames[f]);
		frames[f].addr = as->frames[f];
		if (!any)
			*site = (int)f;
		any = true;
	}
	return any;
}

static const struct mt_py_info *python_info(const struct snapshot_meta *meta, uint32_t pid)
{
	if (meta->py)
		return pytrace__info(meta->py, pid);
	for (size_t i = 0; i < meta->npy_recorded; i++)
		if (meta->py_recorded[i].pid == pid)
			return &meta->py_recorded[i].info;
	return NULL;
}

const struct mt_frame *snapshot__frames(struct symbolizer *sym, uint32_t pid, const uint64_t *addrs,
					uint32_t n, bool first_is_ip, int *site)
{
	struct mt_frame *frames = xcalloc(n ? n : 1, sizeof(*frames));

	for (uint32_t f = 0; f < n; f++) {
		/* Lookups step back one byte into the call; an instruction pointer needs none. */
		bool ip = first_is_ip && f == 0;

		if (mt_py_is_frame(addrs[f]))
			continue;	/* named by the Python tracer (fill_stack) */
		sym__resolve(sym, pid, addrs[f] + ip, &frames[f]);
		frames[f].addr = addrs[f];
		frames[f].module_offset -= ip;
	}
	*site = 0;
	while (*site + 1 < (int)n && is_plumbing(&frames[*site]))
		(*site)++;
	return frames;
}

/* The process's faults, their stacks named from the first frame, the faulting instruction. */
static void fill_resident(const struct resident *r, struct symbolizer *sym, uint32_t pid,
			  struct mt_resident *out)
{
	resident__fill(r, pid, out);
	for (size_t i = 0; i < out->nstacks; i++) {
		struct mt_fault_stack *st = (struct mt_fault_stack *)&out->stacks[i];

		st->frames = snapshot__frames(sym, pid, st->addrs, st->nframes, true, &st->site);
	}
}

static void fill_stack(const struct agg *a, struct symbolizer *sym, const struct pytrace *py,
		       const struct agg_stack *as, uint32_t id, uint64_t oldest, struct mt_stack *st)
{
	st->id = id;
	st->kind = as->kind;
	st->outstanding_bytes = as->outstanding_bytes;
	st->outstanding_allocations = as->outstanding_allocations;
	st->allocated_bytes = as->allocated_bytes;
	st->allocations = as->allocations;
	st->oldest_ts_ns = as->outstanding_allocations ? oldest : 0;
	st->nframes = as->nframes;
	st->frames = snapshot__frames(sym, as->pid, as->frames, as->nframes, false, &st->site);
	resolve_python(py, sym, as, (struct mt_frame *)st->frames, &st->site);
	agg__stack_at_peak(a, id, &st->peak_bytes, &st->peak_allocations);
	st->gc_reclaimed_bytes = as->gc_bytes;
	st->gc_reclaimed_blocks = as->gc_blocks;
	st->gc_collections = as->gc_collections;
}

static void fill_proc(const struct agg *a, struct symbolizer *sym, const struct snapshot_meta *meta,
		      const struct agg_proc *ap, const uint64_t *oldest, struct mt_proc *p)
{
	const struct proc *proc = ap->proc;
	struct mt_stack *stacks = xcalloc(ap->nstack_ids + 1, sizeof(*stacks));
	size_t n = 0;

	p->pid = ap->pid;
	memcpy(p->comm, proc->comm, sizeof(p->comm));
	p->exec_from = proc->exec_from;
	p->nexec = proc->nexec;
	p->nexec_from = proc->nexec < MT_EXEC_CHAIN ? proc->nexec : MT_EXEC_CHAIN;
	p->exited = proc->exited;
	p->cmdline = proc->cmdline;
	p->sample_bytes = proc->sample_bytes;
	memcpy(p->kind, ap->sum, sizeof(p->kind));
	for (size_t i = 0; i < ap->nstack_ids; i++) {
		uint32_t id = ap->stack_ids[i];

		fill_stack(a, sym, meta->py, agg__stack(a, id), id, oldest[id], &stacks[n++]);
	}
	qsort(stacks, n, sizeof(*stacks), by_outstanding);
	p->nstacks = n;
	p->stacks = stacks;
	p->peak.heap_bytes = ap->sum[MT_KIND_HEAP].peak_outstanding_bytes;
	p->peak.heap_ts_ns = ap->sum[MT_KIND_HEAP].peak_ts_ns;
	p->python = python_info(meta, ap->pid);
	p->gc = ap->gc;
}

/* A truncated or partly unwound stack still carries its event: those count frames, not events. */
static bool loses_event(int reason)
{
	switch (reason) {
	case MT_LOSS_STACK_TRUNCATED:
	case MT_LOSS_UNWIND_NO_TABLE:
	case MT_LOSS_UNWIND_UNSUPPORTED:
	case MT_LOSS_UNWIND_READ_FAULT:
	case MT_LOSS_FAULT_STACK_TRUNCATED:
	case MT_LOSS_PY_STACK:		/* a cut or truncated Python stack still carries its event */
	case MT_LOSS_PY_TRUNCATED:
		return false;
	}
	return true;
}

struct mt_snapshot *snapshot__build(const struct model *m, struct symbolizer *sym,
				    const struct snapshot_meta *meta)
{
	const struct agg *a = m->agg;
	struct mt_snapshot *s = xcalloc(1, sizeof(*s));
	uint64_t *oldest = xcalloc(agg__nstacks(a) + 1, sizeof(*oldest));
	struct mt_proc *procs = xcalloc(procs__n(m->procs) + 1, sizeof(*procs));
	uint64_t lost = 0;

	s->start_ns = meta->start_ns;
	s->now_ns = meta->now_ns;
	_Static_assert(MT_LOSS__COUNT <= sizeof(s->loss) / sizeof(s->loss[0]), "mt_snapshot.loss too small");
	for (int i = 0; i < MT_LOSS__COUNT; i++) {
		s->loss[i] = meta->loss[i];
		if (loses_event(i))
			lost += meta->loss[i];
	}
	s->unwind = meta->unwind;
	find_oldest(m, oldest);
	for (size_t i = 0; i < procs__n(m->procs); i++) {
		const struct agg_proc *ap = procs__at(m->procs, i)->part[PROC_AGG];
		struct mt_proc *out = &procs[s->nprocs];

		if (!ap)
			continue;	/* no allocation seen: not in the report */
		if (ap->sum[MT_KIND_HEAP].outstanding_bytes + ap->sum[MT_KIND_MMAP].outstanding_bytes <
		    meta->min_bytes)
			continue;	/* --min-bytes */
		fill_proc(a, sym, meta, ap, oldest, out);
		out->kind[MT_KIND_HEAP].lost_events = lost;
		if (meta->faults)
			fill_resident(m->res, sym, out->pid, &out->resident);
		if (meta->series)
			series__fill(m->series, out->pid, out);
		if (meta->rss_now && !out->exited)
			out->rss_bytes = procmaps__rss_kb((int)out->pid) * 1024;
		s->nprocs++;
	}
	if (meta->faults)
		resident__total(m->res, &s->faults);
	s->procs = procs;
	for (int k = 0; k < MT_KIND__COUNT; k++)
		s->total[k] = *agg__total(a, k);
	s->total[MT_KIND_HEAP].lost_events = lost;
	free(oldest);
	return s;
}

