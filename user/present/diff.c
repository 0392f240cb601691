// SPDX-License-Identifier: BSD-2-Clause
/*
 * memtrace diff's outputs: the table, JSON, differential folded stacks and a flame graph of
 * growth. A stack is "new" when BEFORE held nothing there and AFTER does, "vanished" the other
 * way round, else it "grew" or "shrank" (by bytes, then blocks). A Python line that holds the same
 * but whose cycle garbage changed went "gc up" or "gc down".
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "lib/util.h"
#include "present/diff.h"
#include "present/flamegraph.h"
#include "present/label.h"

static const char *status(const struct diff_stack *st)
{
	bool had = st->bytes[0] || st->blocks[0], has = st->bytes[1] || st->blocks[1];

	if (!had && has)
		return "new";
	if (had && !has)
		return "vanished";
	if (diff__delta(st->bytes) != 0)
		return diff__delta(st->bytes) > 0 ? "grew" : "shrank";
	if (diff__delta(st->blocks) != 0)
		return diff__delta(st->blocks) > 0 ? "grew" : "shrank";
	return diff__delta(st->gc_bytes) > 0 ? "gc up" : "gc down";	/* a Python line */
}

struct counts {
	size_t grew, shrank, new_, vanished, unchanged;
};

static struct counts count(const struct diff *d)
{
	struct counts c = { 0 };

	for (size_t i = 0; i < d->n; i++) {
		const struct diff_stack *st = &d->stacks[i];
		const char *s = status(st);

		if (!diff__delta(st->bytes) && !diff__delta(st->blocks))
			c.unchanged++;
		else if (!strcmp(s, "new"))
			c.new_++;
		else if (!strcmp(s, "vanished"))
			c.vanished++;
		else if (!strcmp(s, "grew"))
			c.grew++;
		else
			c.shrank++;
	}
	return c;
}

/* Python's cycle collector in both runs: a fix that breaks reference cycles shows here. */
static void gc_text(const struct mt_gc gc[2], FILE *f)
{
	char a[16], b[16];

	if (!gc[0].collections && !gc[1].collections)
		return;
	fprintf(f, "cycle collector: %" PRIu64 " -> %" PRIu64 " collections, %.3f -> %.3f ms of pauses, "
		   "freed %s -> %s of reference cycles\n", gc[0].collections, gc[1].collections,
		gc[0].pause_ns / 1e6, gc[1].pause_ns / 1e6, mt_fmt_bytes(gc[0].reclaimed_bytes, a),
		mt_fmt_bytes(gc[1].reclaimed_bytes, b));
}

/* Python lines: the objects there, counted and averaged, as tracemalloc's statistics give them;
 * a __slots__ class shows as the same count at a smaller average. */
static void py_lines_text(const struct diff *d, int top, FILE *f)
{
	const struct diff_stack **v = NULL;
	size_t n = d->py_lines ? diff__changed(d->py_lines, &v) : 0;
	char a[16], b[16], c[16], e[16];

	if (!n) {
		free(v);
		return;
	}
	fprintf(f, "\nPython lines: heap objects (count, average size) and the cycle garbage they made\n");
	fprintf(f, "%12s %9s %19s %21s %21s  %-8s %s\n", "bytes", "blocks", "count before/after",
		"average before/after", "cycle garbage b/a", "status", "line");
	for (size_t i = 0; i < n && i < (size_t)top; i++) {
		const struct diff_stack *st = v[i];

		fprintf(f, "%+12" PRId64 " %+9" PRId64 " %9" PRIu64 " %9" PRIu64 " %10s %10s %10s %10s  %-8s %s\n",
			diff__delta(st->bytes), diff__delta(st->blocks), st->blocks[0], st->blocks[1],
			mt_fmt_bytes(diff__average(st, 0), a), mt_fmt_bytes(diff__average(st, 1), b),
			mt_fmt_bytes(st->gc_bytes[0], c), mt_fmt_bytes(st->gc_bytes[1], e), status(st),
			st->labels[0]);
	}
	if (n > (size_t)top)
		fprintf(f, "... and %zu more Python lines\n", n - (size_t)top);
	free(v);
}

int diff__text(const struct diff *d, const char *before, const char *after, int top, FILE *f)
{
	const struct diff_stack **v;
	size_t n = diff__changed(d, &v);
	struct counts c = count(d);

	fprintf(f, "memtrace diff: %s -> %s\n", before, after);
	fprintf(f, "outstanding: %" PRIu64 " B in %" PRIu64 " blocks -> %" PRIu64 " B in %" PRIu64
		   " blocks: %+" PRId64 " B, %+" PRId64 " blocks\n",
		d->bytes[0], d->blocks[0], d->bytes[1], d->blocks[1], diff__delta(d->bytes), diff__delta(d->blocks));
	fprintf(f, "stacks: %zu grew, %zu shrank, %zu new, %zu vanished, %zu unchanged\n", c.grew,
		c.shrank, c.new_, c.vanished, c.unchanged);
	gc_text(d->gc, f);
	if (n)
		fprintf(f, "\n%12s %9s %12s %12s  %-8s %s\n", "bytes", "blocks", "before", "after",
			"status", "stack (call site first)");
	for (size_t i = 0; i < n && i < (size_t)top; i++) {
		const struct diff_stack *st = v[i];

		fprintf(f, "%+12" PRId64 " %+9" PRId64 " %12" PRIu64 " %12" PRIu64 "  %-8s %s",
			diff__delta(st->bytes), diff__delta(st->blocks), st->bytes[0], st->bytes[1], status(st),
			st->kind == MT_KIND_MMAP ? "[mmap] " : "");
		for (uint32_t k = 0; k < st->nlabels; k++)
			fprintf(f, "%s%s", k ? " < " : "", st->labels[k]);
		fputc('\n', f);
	}
	if (n > (size_t)top)
		fprintf(f, "... and %zu more (-n to show more, --json for all)\n", n - (size_t)top);
	free(v);
	py_lines_text(d, top, f);
	return ferror(f) ? -EIO : 0;
}

static void json_side(struct json *j, const char *key, const uint64_t v[2])
{
	char k[32];

	snprintf(k, sizeof(k), "before_%s", key);
	json__u64(j, k, v[0]);
	snprintf(k, sizeof(k), "after_%s", key);
	json__u64(j, k, v[1]);
	snprintf(k, sizeof(k), "delta_%s", key);
	json__int(j, k, diff__delta(v));
}

static void gc_json(struct json *j, const struct mt_gc gc[2])
{
	uint64_t v[2];

	json__begin_object(j, "gc");
#define GC_SIDE(field)                                                                             \
	v[0] = gc[0].field, v[1] = gc[1].field, json_side(j, #field, v)
	GC_SIDE(collections);
	GC_SIDE(pause_ns);
	GC_SIDE(longest_pause_ns);
	GC_SIDE(reclaimed_bytes);
	GC_SIDE(reclaimed_blocks);
#undef GC_SIDE
	json__end_object(j);
}

static void py_lines_json(struct json *j, const struct diff *d)
{
	const struct diff_stack **v;
	size_t n = d->py_lines ? diff__changed(d->py_lines, &v) : 0;

	if (!d->py_lines)
		return;
	json__begin_array(j, "python_lines");
	for (size_t i = 0; i < n; i++) {
		uint64_t avg[2] = { diff__average(v[i], 0), diff__average(v[i], 1) };

		json__begin_object(j, NULL);
		json__str(j, "line", v[i]->labels[0]);
		json__str(j, "status", status(v[i]));
		json_side(j, "bytes", v[i]->bytes);
		json_side(j, "blocks", v[i]->blocks);
		json_side(j, "average", avg);
		json_side(j, "gc_reclaimed_bytes", v[i]->gc_bytes);
		json__end_object(j);
	}
	json__end_array(j);
	free(v);
}

int diff__json(const struct diff *d, const char *before, const char *after, FILE *f)
{
	const struct diff_stack **v;
	size_t n = diff__changed(d, &v);
	struct counts c = count(d);
	struct json j;

	json__init(&j, f, true);
	json__begin_object(&j, NULL);
	json__str(&j, "tool", "memtrace");
	json__str(&j, "kind", "diff");
	json__u64(&j, "schema_version", 1);
	json__str(&j, "before", before);
	json__str(&j, "after", after);
	json__begin_object(&j, "summary");
	json_side(&j, "bytes", d->bytes);
	json_side(&j, "blocks", d->blocks);
	json__u64(&j, "grew", c.grew);
	json__u64(&j, "shrank", c.shrank);
	json__u64(&j, "new", c.new_);
	json__u64(&j, "vanished", c.vanished);
	json__u64(&j, "unchanged", c.unchanged);
	json__end_object(&j);
	gc_json(&j, d->gc);
	json__begin_array(&j, "stacks");
	for (size_t i = 0; i < n; i++) {
		json__begin_object(&j, NULL);
		json__str(&j, "status", status(v[i]));
		json__str(&j, "kind", label__kind(v[i]->kind));
		json_side(&j, "bytes", v[i]->bytes);
		json_side(&j, "blocks", v[i]->blocks);
		json__begin_array(&j, "frames");
		for (uint32_t k = 0; k < v[i]->nlabels; k++)
			json__str(&j, NULL, v[i]->labels[k]);
		json__end_array(&j);
		json__end_object(&j);
	}
	json__end_array(&j);
	py_lines_json(&j, d);
	json__end_object(&j);
	free(v);
	return ferror(f) ? -EIO : 0;
}

static int by_key(const void *x, const void *y)
{
	return strcmp((*(const struct diff_stack *const *)x)->key,
		      (*(const struct diff_stack *const *)y)->key);
}

int diff__folded(const struct diff *d, FILE *f)
{
	const struct diff_stack **v = xcalloc(d->n, sizeof(*v));
	size_t n = 0;

	for (size_t i = 0; i < d->n; i++)
		if (d->stacks[i].bytes[0] || d->stacks[i].bytes[1])
			v[n++] = &d->stacks[i];
	qsort(v, n, sizeof(*v), by_key);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s %" PRIu64 " %" PRIu64 "\n", v[i]->key, v[i]->bytes[0], v[i]->bytes[1]);
	free(v);
	return ferror(f) ? -EIO : 0;
}

/*
 * The flame graph presenter draws snapshots: this one is made up. One process, "growth", whose
 * stacks hold what grew as outstanding (the page's default view) and AFTER's outstanding as
 * allocated, so both the change and its context are a click apart.
 */
int diff__flamegraph(const struct diff *d, FILE *f)
{
	struct mt_stack *stacks = xcalloc(d->n, sizeof(*stacks));
	struct mt_proc proc = { .comm = "growth", .stacks = stacks };
	struct mt_snapshot snap = { .nprocs = 1, .procs = &proc };
	int err;

	for (size_t i = 0; i < d->n; i++) {
		const struct diff_stack *st = &d->stacks[i];
		struct mt_frame *fr = xcalloc(st->nlabels, sizeof(*fr));
		struct mt_stack *ms = &stacks[proc.nstacks++];

		for (uint32_t k = 0; k < st->nlabels; k++)
			fr[k].function = st->labels[k];
		*ms = (struct mt_stack){ .id = (uint32_t)i, .kind = st->kind, .nframes = st->nlabels,
					 .frames = fr, .allocated_bytes = st->bytes[1],
					 .allocations = st->blocks[1] };
		if (diff__delta(st->bytes) > 0) {
			ms->outstanding_bytes = (uint64_t)diff__delta(st->bytes);
			ms->outstanding_allocations = diff__delta(st->blocks) > 0 ? (uint64_t)diff__delta(st->blocks) : 0;
		}
	}
	err = flamegraph__write(&snap, f);
	for (size_t i = 0; i < proc.nstacks; i++)
		free((void *)stacks[i].frames);
	free(stacks);
	return err;
}

