// SPDX-License-Identifier: BSD-2-Clause
/* The text report: a summary, then the stacks holding the most memory, innermost frame first. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "memtrace.h"
#include "present/label.h"
#include "present/report.h"
#include "lib/util.h"

/* CPython's cycle collector, when it ran or freed anything. */
static void gc_line(FILE *f, const struct mt_gc *gc)
{
	char a[16], b[16];

	if (!gc->collections && !gc->reclaimed_blocks)
		return;
	fprintf(f, "cycle collector: %" PRIu64 " collection%s, %.3f ms of pauses (longest %.3f ms); "
		   "freed %s of reference cycles in %" PRIu64 " blocks, %s a collection\n",
		gc->collections, gc->collections == 1 ? "" : "s", gc->pause_ns / 1e6,
		gc->longest_pause_ns / 1e6, mt_fmt_bytes(gc->reclaimed_bytes, a), gc->reclaimed_blocks,
		mt_fmt_bytes(gc->collections ? gc->reclaimed_bytes / gc->collections : 0, b));
}

static void summary(FILE *f, const char *title, const struct mt_summary *m)
{
	char a[16], b[16], c[16], d[16];

	fprintf(f, "%s: %" PRIu64 " allocations, %" PRIu64 " frees, %s allocated, %s freed\n", title,
		m->allocations, m->frees, mt_fmt_bytes(m->allocated_bytes, a),
		mt_fmt_bytes(m->freed_bytes, b));
	fprintf(f, "  outstanding: %s in %" PRIu64 " blocks (peak %s)", mt_fmt_bytes(m->outstanding_bytes, c),
		m->outstanding_allocations, mt_fmt_bytes(m->peak_outstanding_bytes, d));
	if (m->unknown_frees)
		fprintf(f, ", %" PRIu64 " frees of blocks from before the trace", m->unknown_frees);
	fputc('\n', f);
}

static void losses(FILE *f, const struct mt_snapshot *s)
{
	bool any = false;

	for (int i = 0; i < MT_LOSS__COUNT; i++) {
		if (!s->loss[i])
			continue;
		fprintf(f, "%s%s: %" PRIu64, any ? ", " : "lost events: ", label__loss_text(i), s->loss[i]);
		any = true;
	}
	fprintf(f, any ? "\n" : "lost events: none\n");
}

/* What the CFI unwinder's tables cost (--unwind dwarf|auto). */
static void unwind_line(FILE *f, const struct mt_unwind_stats *u)
{
	char a[16], b[16];

	if (!u->mode || !strcmp(u->mode, "fp"))
		return;
	fprintf(f, "unwind: %s, %u tables (%" PRIu64 " rows) loaded in %.1f ms, %s at peak, %s now",
		u->mode, u->objects, u->rows, u->load_ns / 1e6, mt_fmt_bytes(u->peak_bytes, b),
		mt_fmt_bytes(u->bytes, a));
	if (u->fp_objects)
		fprintf(f, ", %u objects with frame pointers", u->fp_objects);
	if (u->failed_objects)
		fprintf(f, ", %u without .eh_frame", u->failed_objects);
	fputc('\n', f);
}

static void stack(FILE *f, const struct mt_snapshot *s, const struct mt_stack *st, int rank)
{
	char a[16], b[16], label[512];

	fprintf(f, "\n#%d  %s in %" PRIu64 " %s blocks, oldest %.1fs, %s allocated in %" PRIu64 " calls\n",
		rank, mt_fmt_bytes(st->outstanding_bytes, a), st->outstanding_allocations,
		label__kind(st->kind), mt_stack_age_ms(s, st) / 1000.0,
		mt_fmt_bytes(st->allocated_bytes, b), st->allocations);
	if (st->gc_reclaimed_blocks)
		fprintf(f, "    the cycle collector freed %s of it in %" PRIu64 " blocks, in %" PRIu64
			   " collections: reference cycles\n", mt_fmt_bytes(st->gc_reclaimed_bytes, a),
			st->gc_reclaimed_blocks, st->gc_collections);
	if (!st->nframes)
		fprintf(f, "    [stack not captured]\n");
	for (uint32_t i = 0; i < st->nframes; i++)
		fprintf(f, "  %s %s\n", (int)i == st->site ? "->" : "  ",
			label__frame(&st->frames[i], LABEL_WHERE, label, sizeof(label)));
}

static const struct mt_snapshot *sort_snap;	/* qsort has no context argument */

static int by_held(const void *x, const void *y)
{
	const struct mt_proc *a = &sort_snap->procs[*(const size_t *)x];
	const struct mt_proc *b = &sort_snap->procs[*(const size_t *)y];
	uint64_t ha = a->kind[MT_KIND_HEAP].outstanding_bytes, hb = b->kind[MT_KIND_HEAP].outstanding_bytes;

	if (ha != hb)
		return ha < hb ? 1 : -1;
	return a->pid < b->pid ? -1 : a->pid > b->pid;
}

/* Several processes (-f, -a): the total over all of them, then one line each, largest first. */
static void process_totals(FILE *f, const struct mt_snapshot *s, const size_t *order)
{
	char a[16];

	fputc('\n', f);
	summary(f, "all processes, heap", &s->total[MT_KIND_HEAP]);
	if (s->total[MT_KIND_MMAP].allocations)
		summary(f, "all processes, mmap", &s->total[MT_KIND_MMAP]);
	fprintf(f, "\n%8s %-16s %10s %8s  %s\n", "PID", "COMM", "HELD", "BLOCKS", "COMMAND");
	for (size_t i = 0; i < s->nprocs; i++) {
		const struct mt_proc *p = &s->procs[order[i]];

		fprintf(f, "%8u %-16s %10s %8" PRIu64 "  %s%s\n", p->pid, p->comm,
			mt_fmt_bytes(p->kind[MT_KIND_HEAP].outstanding_bytes, a),
			p->kind[MT_KIND_HEAP].outstanding_allocations, p->cmdline ? p->cmdline : "",
			p->exited ? " (exited)" : "");
	}
}

/* ", exec'd from sh -> pyenv": the programs the process ran before this one, oldest first. */
static void exec_chain(FILE *f, const struct mt_proc *p)
{
	if (!p->nexec_from)
		return;
	fprintf(f, ", exec'd from %s", p->nexec > p->nexec_from ? "... -> " : "");
	for (uint32_t i = 0; i < p->nexec_from; i++)
		fprintf(f, "%s%s", i ? " -> " : "", p->exec_from[i]);
}

/* Say so when the heap figures below are estimates from libmemtrace-sample.so. */
static void sampled_line(FILE *f, const struct mt_proc *p)
{
	char mean[16];

	if (p->sample_bytes)
		fprintf(f, "sampled: heap blocks sampled at random, one per %s allocated on average "
			   "(libmemtrace-sample.so); heap bytes and blocks are estimates\n",
			mt_fmt_bytes(p->sample_bytes, mean));
}

int report__text(const struct mt_snapshot *s, FILE *f, int top_n)
{
	size_t *order = calloc(s->nprocs + 1, sizeof(*order));

	if (!order)
		return -1;
	for (size_t i = 0; i < s->nprocs; i++)
		order[i] = i;
	sort_snap = s;
	qsort(order, s->nprocs, sizeof(*order), by_held);
	fprintf(f, "memtrace report: %.1fs traced, %zu process%s\n",
		(s->now_ns - s->start_ns) / 1e9, s->nprocs, s->nprocs == 1 ? "" : "es");
	losses(f, s);
	unwind_line(f, &s->unwind);
	if (s->nprocs > 1)
		process_totals(f, s, order);
	for (size_t i = 0; i < s->nprocs; i++) {
		const struct mt_proc *p = &s->procs[order[i]];
		int shown = 0;

		fprintf(f, "\n== pid %u (%s)", p->pid, p->comm);
		exec_chain(f, p);
		fprintf(f, "%s\n", p->exited ? ", exited" : "");
		sampled_line(f, p);
		gc_line(f, &p->gc);
		summary(f, "heap", &p->kind[MT_KIND_HEAP]);
		if (p->kind[MT_KIND_MMAP].allocations)
			summary(f, "mmap", &p->kind[MT_KIND_MMAP]);
		report__text_memory(f, s, p, top_n);
		for (size_t k = 0; k < p->nstacks && shown < top_n; k++)
			if (p->stacks[k].outstanding_bytes || p->stacks[k].outstanding_allocations)
				stack(f, s, &p->stacks[k], ++shown);
		if (!shown)
			fprintf(f, "\nno outstanding allocations\n");
	}
	free(order);
	return ferror(f) ? -1 : 0;
}
