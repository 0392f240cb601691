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
#include "model/oom.h"
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

static const struct mt_py_info *python_info(const struct snapshot_meta *meta, uint32_t pid)
{
	if (meta->py)
		return pytrace__info(meta->py, pid);
	for (size_t i = 0; i < meta->npy_recorded; i++)
		if (meta->py_recorded[i].pid == pid)
			return &meta->py_recorded[i].info;
	return NULL;
}

struct frames {
	struct mt_frame *v;
	size_t n, cap;
};

/* The frames of one address, each with the address as captured. */
static void add_address(struct symbolizer *sym, uint32_t pid, uint64_t addr, bool ip,
			struct frames *fr)
{
	size_t room;
	uint32_t k;

	xreserve(&fr->v, &fr->cap, fr->n + 4, sizeof(*fr->v));
	room = fr->cap - fr->n;
	/* Lookups step back one byte into the call; an instruction pointer needs none. */
	k = sym__resolve(sym, (int)pid, addr + ip, fr->v + fr->n, (uint32_t)room);
	if (k > room) {
		xreserve(&fr->v, &fr->cap, fr->n + k, sizeof(*fr->v));
		sym__resolve(sym, (int)pid, addr + ip, fr->v + fr->n, k);
	}
	for (size_t i = fr->n; i < fr->n + k; i++) {
		fr->v[i].addr = addr;
		fr->v[i].module_offset -= ip;
	}
	fr->n += k;
}

/*
 * Symbolize n captured addresses (innermost first) into *nout frames, inlined calls expanded.
 * *site is the first frame outside allocator and C library plumbing, or the innermost Python
 * frame. Python frames are named by py, or (replay) by the symbolizer from the recorded symbols;
 * with name_py false they stay unnamed. first_is_ip: addrs[0] is where the thread was (a
 * faulting instruction), not a return address. Free the result.
 */
static struct mt_frame *symbolize_stack(struct symbolizer *sym, const struct pytrace *py,
					bool name_py, uint32_t pid, const uint64_t *addrs,
					uint32_t n, bool first_is_ip, int *site, uint32_t *nout)
{
	struct frames fr = { 0 };
	int py_site = -1;

	xreserve(&fr.v, &fr.cap, n ? n : 1, sizeof(*fr.v));	/* every frame is written */
	for (uint32_t f = 0; f < n; f++) {
		struct mt_frame *x;

		if (!mt_py_is_frame(addrs[f])) {
			add_address(sym, pid, addrs[f], first_is_ip && f == 0, &fr);
			continue;
		}
		xreserve(&fr.v, &fr.cap, fr.n + 1, sizeof(*fr.v));
		x = memset(&fr.v[fr.n++], 0, sizeof(*x));
		if (!name_py)
			continue;
		if (py)
			pytrace__resolve(py, addrs[f], x);
		else
			sym__resolve(sym, (int)pid, addrs[f], x, 1);
		x->addr = addrs[f];
		if (py_site < 0)
			py_site = (int)fr.n - 1;
	}
	*site = 0;
	while (*site + 1 < (int)fr.n && is_plumbing(&fr.v[*site]))
		(*site)++;
	if (py_site >= 0)	/* the call site is the innermost Python frame */
		*site = py_site;
	*nout = (uint32_t)fr.n;
	/* Grown by doubling from 16 while inlined calls were expanded: a snapshot keeps every stack's. */
	return xrealloc(fr.v, (fr.n ? fr.n : 1) * sizeof(*fr.v));
}

void snapshot__settle(const struct model *m, struct symbolizer *sym)
{
	struct mt_frame scratch[8];

	if (!sym__fetches(sym))
		return;
	for (uint32_t id = 0; id < agg__nstacks(m->agg); id++) {
		const struct agg_stack *st = agg__stack(m->agg, id);

		for (uint32_t f = 0; f < st->nframes; f++)
			if (!mt_py_is_frame(st->frames[f]))
				sym__resolve(sym, (int)st->pid, st->frames[f], scratch, 8);
	}
	for (size_t i = 0; m->res && i < resident__nstacks(m->res); i++) {
		uint32_t pid, n;
		const uint64_t *frames = resident__stack(m->res, i, &pid, &n);

		for (uint32_t f = 0; f < n; f++)
			sym__resolve(sym, (int)pid, frames[f] + !f, scratch, 8);
	}
	sym__wait(sym);
}

/* The process's faults, their stacks named from the first frame, the faulting instruction. */
static void fill_resident(const struct resident *r, struct symbolizer *sym, uint32_t pid,
			  struct mt_resident *out)
{
	resident__fill(r, pid, out);
	for (size_t i = 0; i < out->nstacks; i++) {
		struct mt_fault_stack *st = (struct mt_fault_stack *)&out->stacks[i];

		st->frames = symbolize_stack(sym, NULL, false, pid, st->addrs, st->naddrs, true,
					     &st->site, &st->nframes);
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
	st->frames = symbolize_stack(sym, py, true, as->pid, as->frames, as->nframes, false,
				     &st->site, &st->nframes);
	agg__stack_at_peak(a, id, &st->peak_bytes, &st->peak_allocations);
	st->gc_reclaimed_bytes = as->gc_bytes;
	st->gc_reclaimed_blocks = as->gc_blocks;
	st->gc_collections = as->gc_collections;
	memcpy(st->leak, as->leak, sizeof(st->leak));
	st->leak_indirect_behind = as->leak_behind;
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
	p->leak = ap->leak;
	p->labels = (struct mt_labels){ proc->labels.exe, proc->labels.cgroup,
					proc->labels.container_id, proc->labels.service_name };
}

static int by_id(const void *x, const void *y)
{
	const struct mt_stack *a = *(const struct mt_stack *const *)x, *b = *(const struct mt_stack *const *)y;

	return a->id < b->id ? -1 : a->id > b->id;
}

/* The process's stack of that id among sorted (by id), for its frames. */
static const struct mt_stack *stack_by_id(const struct mt_stack **sorted, size_t n, uint32_t id)
{
	struct mt_stack key = { .id = id };
	const struct mt_stack *k = &key, **found = bsearch(&k, sorted, n, sizeof(*sorted), by_id);

	return found ? *found : NULL;
}

/* What the process held when the OOM killer chose it: the frozen figures, the live frames. */
static const struct mt_oom *fill_oom(const struct oom_kill *k, const struct mt_proc *p)
{
	struct mt_oom *o = xcalloc(1, sizeof(*o));
	struct mt_stack *stacks = xcalloc(k->nstacks + 1, sizeof(*stacks));
	const struct mt_stack **sorted = xcalloc(p->nstacks + 1, sizeof(*sorted));

	for (size_t i = 0; i < p->nstacks; i++)
		sorted[i] = &p->stacks[i];
	qsort(sorted, p->nstacks, sizeof(*sorted), by_id);
	*o = (struct mt_oom){ .ts_ns = k->ts_ns, .rss_bytes = k->rss_bytes, .anon_bytes = k->anon_bytes,
			      .rss_sampled = k->flags & MT_OOM_RSS_SAMPLED, .limit_bytes = k->limit_bytes };
	memcpy(o->kind, k->sum, sizeof(o->kind));
	for (size_t i = 0; i < k->nstacks; i++) {
		const struct oom_stack *ks = &k->stacks[i];
		const struct mt_stack *live = stack_by_id(sorted, p->nstacks, ks->id);
		struct mt_stack *st = &stacks[o->nstacks];

		if (!live)
			continue;	/* not possible: a process keeps its stacks */
		*st = (struct mt_stack){ .id = ks->id, .kind = live->kind, .nframes = live->nframes,
					 .frames = live->frames, .site = live->site };
		st->outstanding_bytes = ks->outstanding_bytes;
		st->outstanding_allocations = ks->outstanding_allocations;
		st->allocated_bytes = ks->allocated_bytes;
		st->allocations = ks->allocations;
		o->nstacks++;
	}
	o->stacks = stacks;
	free(sorted);
	return o;
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
		if (oom__of(ap->proc))
			out->oom = fill_oom(oom__of(ap->proc), out);
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

