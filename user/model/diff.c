// SPDX-License-Identifier: BSD-2-Clause
/*
 * Two runs compared: stacks matched by name (never by address), their outstanding bytes and
 * blocks side by side, the largest change first.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lib/htab.h"
#include "lib/util.h"
#include "model/diff.h"
#include "python.h"

struct diff *diff__new(void)
{
	struct diff *d = xcalloc(1, sizeof(*d));

	d->index = htab__new(sizeof(uint32_t));
	return d;
}

static struct diff_stack *find(struct diff *d, enum mt_kind kind, char **labels, uint32_t n);

static struct diff *py_lines(struct diff *d)
{
	if (!d->py_lines)
		d->py_lines = diff__new();
	return d->py_lines;
}

void diff__add_py_line(struct diff *d, int side, char *label, uint64_t bytes, uint64_t blocks,
		       uint64_t gc_bytes)
{
	struct diff_stack *st = find(py_lines(d), MT_KIND_HEAP, &label, 1);

	st->bytes[side] += bytes;
	st->blocks[side] += blocks;
	st->gc_bytes[side] += gc_bytes;
	free(label);
}

void diff__free(struct diff *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++) {
		for (uint32_t k = 0; k < d->stacks[i].nlabels; k++)
			free(d->stacks[i].labels[k]);
		free(d->stacks[i].labels);
		free(d->stacks[i].key);
	}
	free(d->stacks);
	htab__free(d->index);
	diff__free(d->py_lines);
	free(d);
}

/* Root first, as folded stacks are; ';' inside a name would split it, so it becomes ':'. */
static char *make_key(enum mt_kind kind, char **labels, uint32_t n)
{
	char *key = NULL;
	size_t size = 0;
	FILE *m = open_memstream(&key, &size);

	if (!m)
		abort();	/* only ENOMEM, as xmalloc would */
	if (kind == MT_KIND_MMAP)
		fputs(n ? "[mmap];" : "[mmap]", m);
	for (uint32_t i = n; i-- > 0;) {
		for (const char *c = labels[i]; *c; c++)
			fputc(*c == ';' ? ':' : *c == '\n' ? ' ' : *c, m);
		if (i)
			fputc(';', m);
	}
	fclose(m);
	return key;
}

/* Found by a hash of the key and compared in full; a collision rehashes with the next seed. */
static struct diff_stack *find(struct diff *d, enum mt_kind kind, char **labels, uint32_t n)
{
	char *key = make_key(kind, labels, n);

	for (uint64_t seed = 0;; seed++) {
		uint64_t h = mt_hash(key, strlen(key), seed);
		bool existed;
		uint32_t *i = htab__insert(d->index, h ? h : 1, &existed);
		struct diff_stack *st;

		if (existed && strcmp(d->stacks[*i - 1].key, key))
			continue;
		if (existed) {
			free(key);
			return &d->stacks[*i - 1];
		}
		xgrow(&d->stacks, &d->cap, d->n + 1, sizeof(*d->stacks));
		st = &d->stacks[d->n];
		*i = (uint32_t)++d->n;
		st->key = key;
		st->kind = kind;
		st->nlabels = n;
		st->labels = xcalloc(n, sizeof(*st->labels));
		for (uint32_t k = 0; k < n; k++)
			st->labels[k] = xstrdup(labels[k]);
		return st;
	}
}

void diff__add(struct diff *d, int side, enum mt_kind kind, char **labels, uint32_t n,
	       uint64_t bytes, uint64_t blocks)
{
	struct diff_stack *st = find(d, kind, labels, n);

	st->bytes[side] += bytes;
	st->blocks[side] += blocks;
}

static uint64_t magnitude(int64_t v) { return v < 0 ? -(uint64_t)v : (uint64_t)v; }

static int by_change(const void *x, const void *y)
{
	const struct diff_stack *a = *(const struct diff_stack *const *)x;
	const struct diff_stack *b = *(const struct diff_stack *const *)y;
	/* Python lines weigh what the collector freed too (0 in any other stack) */
	uint64_t ma = magnitude(diff__delta(a->bytes)) + magnitude(diff__delta(a->gc_bytes));
	uint64_t mb = magnitude(diff__delta(b->bytes)) + magnitude(diff__delta(b->gc_bytes));

	if (ma != mb)
		return ma < mb ? 1 : -1;
	ma = magnitude(diff__delta(a->blocks));
	mb = magnitude(diff__delta(b->blocks));
	if (ma != mb)
		return ma < mb ? 1 : -1;
	return strcmp(a->key, b->key);
}

size_t diff__changed(const struct diff *d, const struct diff_stack ***out)
{
	const struct diff_stack **v = xcalloc(d->n, sizeof(*v));
	size_t n = 0;

	for (size_t i = 0; i < d->n; i++)
		if (diff__delta(d->stacks[i].bytes) || diff__delta(d->stacks[i].blocks) ||
		    diff__delta(d->stacks[i].gc_bytes))
			v[n++] = &d->stacks[i];
	qsort(v, n, sizeof(*v), by_change);
	*out = v;
	return n;
}

static const char *base(const char *path)
{
	const char *b = strrchr(path, '/');

	return b ? b + 1 : path;
}

/*
 * Source files by base name: two builds of one program in two directories still match. An
 * address is never part of a label: without a module it becomes "[unknown]".
 */
char *diff__label(const char *function, const char *file, int line, const char *module,
		  uint64_t module_offset)
{
	if (function && file)
		return xasprintf("%s (%s:%d)", function, base(file), line);
	if (function)
		return xstrdup(function);
	if (module)
		return xasprintf("%s+0x%" PRIx64, base(module), module_offset);
	return xstrdup("[unknown]");
}

uint32_t diff__first_frame(int site, uint32_t nframes)
{
	return site > 0 && (uint32_t)site < nframes ? (uint32_t)site : 0;
}

void diff__add_owned(struct diff *d, int side, enum mt_kind kind, char **labels, uint32_t n,
		       uint64_t bytes, uint64_t blocks)
{
	diff__add(d, side, kind, labels, n, bytes, blocks);
	for (uint32_t i = 0; i < n; i++)
		free(labels[i]);
	free(labels);
}

void diff__add_gc(struct diff *d, int side, const struct mt_gc *gc)
{
	struct mt_gc *g = &d->gc[side];

	g->collections += gc->collections;
	g->pause_ns += gc->pause_ns;
	if (gc->longest_pause_ns > g->longest_pause_ns)
		g->longest_pause_ns = gc->longest_pause_ns;
	g->reclaimed_bytes += gc->reclaimed_bytes;
	g->reclaimed_blocks += gc->reclaimed_blocks;
}

static void add_py_line(struct diff *d, int side, const struct mt_stack *st)
{
	if (st->kind != MT_KIND_HEAP)
		return;	/* pymalloc's arenas are not objects */
	for (uint32_t f = 0; f < st->nframes; f++) {
		const struct mt_frame *fr = &st->frames[f];

		if (mt_py_is_frame(fr->addr)) {
			diff__add_py_line(d, side, diff__label(fr->function, fr->file, fr->line, NULL, 0),
					  st->outstanding_bytes, st->outstanding_allocations,
					  st->gc_reclaimed_bytes);
			return;
		}
	}
}

void diff__add_snapshot(struct diff *d, int side, const struct mt_snapshot *s)
{
	for (size_t i = 0; i < s->nprocs; i++) {
		diff__add_gc(d, side, &s->procs[i].gc);
		for (size_t k = 0; k < s->procs[i].nstacks; k++) {
			const struct mt_stack *st = &s->procs[i].stacks[k];
			uint32_t first = diff__first_frame(st->site, st->nframes), n = st->nframes - first;
			char **labels = xcalloc(n, sizeof(*labels));

			for (uint32_t f = 0; f < n; f++) {
				const struct mt_frame *fr = &st->frames[first + f];

				labels[f] = diff__label(fr->function, fr->file, fr->line,
							fr->mapping ? fr->mapping->path : NULL,
							fr->module_offset);
			}
			diff__add_owned(d, side, st->kind, labels, n, st->outstanding_bytes,
				   st->outstanding_allocations);
			add_py_line(d, side, st);
		}
	}
	for (int k = 0; k < MT_KIND__COUNT; k++) {
		d->bytes[side] += s->total[k].outstanding_bytes;
		d->blocks[side] += s->total[k].outstanding_allocations;
	}
}
