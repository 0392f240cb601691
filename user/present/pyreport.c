// SPDX-License-Identifier: BSD-2-Clause
/*
 * What Python users know from tracemalloc's Snapshot.statistics(): outstanding memory grouped
 * by the innermost Python line (or function, file, whole Python traceback), computed from the
 * snapshot's stacks so every presenter tells the same story. Stacks without a Python frame
 * (the interpreter starting, native threads) form a group of their own so totals add up.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "present/pyreport.h"
#include "python.h"
#include "lib/util.h"

static const char *const group_names[MT_PY_GROUP__COUNT] = {
	[MT_PY_GROUP_LINE] = "line", [MT_PY_GROUP_FUNCTION] = "function",
	[MT_PY_GROUP_FILE] = "file", [MT_PY_GROUP_TRACEBACK] = "traceback",
};

int mt_py_group_parse(const char *s, enum mt_py_group *out)
{
	for (int i = 0; i < MT_PY_GROUP__COUNT; i++)
		if (!strcmp(s, group_names[i])) {
			*out = i;
			return 0;
		}
	mt_err("give line, function, file or traceback", "invalid value '%s' for --group-by", s);
	return -EINVAL;
}

const char *mt_py_group_name(enum mt_py_group g) { return group_names[g]; }

static bool is_py(const struct mt_frame *f) { return mt_py_is_frame(f->addr); }

static const struct mt_frame *innermost(const struct mt_stack *st)
{
	for (uint32_t i = 0; i < st->nframes; i++)
		if (is_py(&st->frames[i]))
			return &st->frames[i];
	return NULL;
}

static int cmp_str(const char *a, const char *b) { return strcmp(a ? a : "", b ? b : ""); }

static int cmp_frame(const struct mt_frame *a, const struct mt_frame *b, enum mt_py_group g)
{
	int c = cmp_str(a->file, b->file);

	if (c || g == MT_PY_GROUP_FILE)
		return c;
	if (g == MT_PY_GROUP_FUNCTION)
		return cmp_str(a->function, b->function);
	/* By file and line alone, as tracemalloc does: a comprehension's line is its function's. */
	return a->line < b->line ? -1 : a->line > b->line;
}

/* Order of stacks by their group key; equal keys mean one group. */
static int cmp_key(const struct mt_stack *a, const struct mt_stack *b, enum mt_py_group g)
{
	const struct mt_frame *fa = innermost(a), *fb = innermost(b);
	uint32_t i = 0, j = 0;

	if (!fa || !fb)
		return !fa - !fb;
	if (g != MT_PY_GROUP_TRACEBACK)
		return cmp_frame(fa, fb, g);
	for (;; i++, j++) {
		int c;

		while (i < a->nframes && !is_py(&a->frames[i]))
			i++;
		while (j < b->nframes && !is_py(&b->frames[j]))
			j++;
		if (i == a->nframes || j == b->nframes)
			return (i < a->nframes) - (j < b->nframes);
		c = cmp_frame(&a->frames[i], &b->frames[j], MT_PY_GROUP_LINE);
		if (c)
			return c;
	}
}

static enum mt_py_group sort_group;

static int by_key(const void *x, const void *y)
{
	return cmp_key(*(const struct mt_stack *const *)x, *(const struct mt_stack *const *)y, sort_group);
}

static int by_outstanding(const void *x, const void *y)
{
	const struct pygroup *a = x, *b = y;

	if (a->outstanding_bytes != b->outstanding_bytes)
		return a->outstanding_bytes < b->outstanding_bytes ? 1 : -1;
	if (a->allocated_bytes != b->allocated_bytes)
		return a->allocated_bytes < b->allocated_bytes ? 1 : -1;
	return a->stack->id < b->stack->id ? -1 : a->stack->id > b->stack->id;
}

static void add(struct pygroup *g, const struct mt_stack *st)
{
	g->outstanding_bytes += st->outstanding_bytes;
	g->outstanding_allocations += st->outstanding_allocations;
	g->allocated_bytes += st->allocated_bytes;
	g->allocations += st->allocations;
	if (st->kind == MT_KIND_MMAP) {
		g->mmap_bytes += st->outstanding_bytes;
	} else {
		g->heap_bytes += st->outstanding_bytes;
		g->heap_blocks += st->outstanding_allocations;
		g->peak_bytes += st->peak_bytes;
	}
	g->gc_bytes += st->gc_reclaimed_bytes;
	g->gc_blocks += st->gc_reclaimed_blocks;
	if (st->gc_collections > g->gc_collections)
		g->gc_collections = st->gc_collections;
}

size_t pygroup__build(const struct mt_proc *p, enum mt_py_group g, struct pygroup **out)
{
	const struct mt_stack **order = xcalloc(p->nstacks + 1, sizeof(*order));
	struct pygroup *groups = xcalloc(p->nstacks + 1, sizeof(*groups));
	size_t n = 0;

	for (size_t i = 0; i < p->nstacks; i++)
		order[i] = &p->stacks[i];
	sort_group = g;
	qsort(order, p->nstacks, sizeof(*order), by_key);
	for (size_t i = 0; i < p->nstacks; i++) {
		if (!n || cmp_key(groups[n - 1].stack, order[i], g)) {
			groups[n].stack = order[i];
			groups[n++].frame = innermost(order[i]);
		}
		add(&groups[n - 1], order[i]);
	}
	free(order);
	qsort(groups, n, sizeof(*groups), by_outstanding);
	*out = groups;
	return n;
}

static void label(FILE *f, const struct pygroup *gr, enum mt_py_group g)
{
	const struct mt_frame *fr = gr->frame;

	if (!fr) {
		fprintf(f, "[no Python frame]\n");
		return;
	}
	switch (g) {
	case MT_PY_GROUP_FILE:
		fprintf(f, "%s\n", fr->file);
		break;
	case MT_PY_GROUP_FUNCTION:
		fprintf(f, "%s %s\n", fr->file, fr->function);
		break;
	case MT_PY_GROUP_LINE:
		fprintf(f, "%s:%d %s\n", fr->file, fr->line, fr->function);
		break;
	case MT_PY_GROUP_TRACEBACK:
		fputc('\n', f);
		for (uint32_t i = 0; i < gr->stack->nframes; i++)
			if (is_py(&gr->stack->frames[i]))
				fprintf(f, "        %s:%d %s\n", gr->stack->frames[i].file,
					gr->stack->frames[i].line, gr->stack->frames[i].function);
		break;
	default:
		break;
	}
}

static int by_gc(const void *x, const void *y)
{
	const struct pygroup *a = x, *b = y;

	if (a->gc_bytes != b->gc_bytes)
		return a->gc_bytes < b->gc_bytes ? 1 : -1;
	return a->stack->id < b->stack->id ? -1 : a->stack->id > b->stack->id;
}

/* Where the cycle garbage came from: the lines that allocated what the collector freed. */
static void gc_groups_text(FILE *f, struct pygroup *groups, size_t n, enum mt_py_group g, int top_n)
{
	char a[16];
	int shown = 0;

	qsort(groups, n, sizeof(*groups), by_gc);
	for (size_t i = 0; i < n && shown < top_n && groups[i].gc_bytes; i++) {
		if (!shown)
			fprintf(f, "top %ss by what the cycle collector had to free (reference cycles):\n",
				group_names[g]);
		fprintf(f, "  %10s in %6" PRIu64 " blocks, in %3" PRIu64 " collection%s  ",
			mt_fmt_bytes(groups[i].gc_bytes, a), groups[i].gc_blocks, groups[i].gc_collections,
			groups[i].gc_collections == 1 ? " " : "s");
		label(f, &groups[i], g);
		shown++;
	}
}

static void process_text(FILE *f, const struct mt_proc *p, enum mt_py_group g, int top_n)
{
	const struct mt_py_info *py = p->python;
	const struct mt_summary *h = &p->kind[MT_KIND_HEAP], *m = &p->kind[MT_KIND_MMAP];
	char a[16], b[16], c[16], d[16];
	struct pygroup *groups;
	size_t n;
	int shown = 0;

	fprintf(f, "\n== pid %u (%s): Python %s (%s)\n", p->pid, p->comm, py->version, py->path);
	if (py->why) {
		fprintf(f, "Python frames unavailable: %s; native stacks only\n", py->why);
		return;
	}
	fprintf(f, "Python frames: %s; seen: %s\n", py->frames, py->coverage);
	fprintf(f, "current %s heap + %s mmap; peak %s heap, %s mmap\n",
		mt_fmt_bytes(h->outstanding_bytes, a), mt_fmt_bytes(m->outstanding_bytes, b),
		mt_fmt_bytes(h->peak_outstanding_bytes, c), mt_fmt_bytes(m->peak_outstanding_bytes, d));
	fprintf(f, "top %ss by outstanding bytes (heap and mmap), the average heap block, and the heap "
		   "each held at the peak:\n", group_names[g]);
	n = pygroup__build(p, g, &groups);
	for (size_t i = 0; i < n && shown < top_n; i++) {
		if (!groups[i].outstanding_bytes)
			continue;
		/* A line holding only mmap blocks has no heap block to average: "-", not "0 B". */
		fprintf(f, "  %10s in %6" PRIu64 " blocks, avg %9s  %10s heap at peak  ",
			mt_fmt_bytes(groups[i].outstanding_bytes, a), groups[i].outstanding_allocations,
			groups[i].heap_blocks ? mt_fmt_bytes(pygroup__average(&groups[i]), c) : "-",
			mt_fmt_bytes(groups[i].peak_bytes, b));
		label(f, &groups[i], g);
		shown++;
	}
	if (!shown)
		fprintf(f, "  no outstanding allocations\n");
	gc_groups_text(f, groups, n, g, top_n);
	free(groups);
}

int pyreport__text(const struct mt_snapshot *s, FILE *f, enum mt_py_group g, int top_n)
{
	for (size_t i = 0; i < s->nprocs; i++)
		if (s->procs[i].python)
			process_text(f, &s->procs[i], g, top_n);
	return ferror(f) ? -1 : 0;
}

static void frame_json(struct json *j, const struct mt_frame *fr)
{
	json__begin_object(j, NULL);
	json__str(j, "file", fr->file);
	json__int(j, "line", fr->line);
	json__str(j, "function", fr->function);
	json__end_object(j);
}

static void group_json(struct json *j, const struct pygroup *gr, enum mt_py_group g)
{
	const struct mt_frame *fr = gr->frame;

	json__begin_object(j, NULL);
	json__str(j, "file", fr ? fr->file : NULL);
	if (g == MT_PY_GROUP_LINE || g == MT_PY_GROUP_TRACEBACK)
		json__int(j, "line", fr ? fr->line : 0);
	if (g != MT_PY_GROUP_FILE)
		json__str(j, "function", fr ? fr->function : NULL);
	json__u64(j, "outstanding_bytes", gr->outstanding_bytes);
	json__u64(j, "outstanding_allocations", gr->outstanding_allocations);
	json__u64(j, "heap_outstanding_bytes", gr->heap_bytes);
	json__u64(j, "mmap_outstanding_bytes", gr->mmap_bytes);
	json__u64(j, "heap_outstanding_blocks", gr->heap_blocks);
	json__u64(j, "average_block_bytes", pygroup__average(gr));
	json__u64(j, "heap_bytes_at_peak", gr->peak_bytes);
	json__u64(j, "allocated_bytes", gr->allocated_bytes);
	json__u64(j, "allocations", gr->allocations);
	json__u64(j, "gc_reclaimed_bytes", gr->gc_bytes);
	json__u64(j, "gc_reclaimed_blocks", gr->gc_blocks);
	json__u64(j, "gc_collections", gr->gc_collections);
	if (g == MT_PY_GROUP_TRACEBACK) {
		json__begin_array(j, "traceback");
		for (uint32_t i = 0; i < gr->stack->nframes; i++)
			if (is_py(&gr->stack->frames[i]))
				frame_json(j, &gr->stack->frames[i]);
		json__end_array(j);
	}
	json__end_object(j);
}

void pyreport__json(struct json *j, const struct mt_proc *p)
{
	const struct mt_py_info *py = p->python;

	if (!py)
		return;
	json__begin_object(j, "python");
	json__str(j, "version", py->version);
	json__str(j, "path", py->path);
	json__str(j, "frames", py->frames);
	json__str(j, "unavailable", py->why);
	json__str(j, "coverage", py->coverage);
	json__bool(j, "complete", py->complete);
	json__begin_object(j, "groups");
	for (int g = 0; g < MT_PY_GROUP__COUNT && !py->why; g++) {
		struct pygroup *groups;
		size_t n = pygroup__build(p, g, &groups);

		json__begin_array(j, group_names[g]);
		for (size_t i = 0; i < n; i++)
			group_json(j, &groups[i], g);
		json__end_array(j);
		free(groups);
	}
	json__end_object(j);
	json__end_object(j);
}
