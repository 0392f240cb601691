// SPDX-License-Identifier: BSD-2-Clause
/*
 * The report's leak check section (--leak-check), text and JSON: memcheck's four categories for
 * a process, what the check cost, and its loss records: each category's blocks by allocation
 * stack. Exact byte counts, as valgrind prints them, so the two read side by side.
 */
#include <inttypes.h>
#include <stdlib.h>

#include "lib/util.h"
#include "present/label.h"
#include "present/report.h"

static const char *plural(uint64_t n) { return n == 1 ? "" : "s"; }

/* ---- text ---- */

static void cost_line(FILE *f, const struct mt_leak_check *c)
{
	char a[16], b[16], t[16];

	fprintf(f, "leak check %s: %u thread%s stopped for %.2f ms, %s read (%s of roots, %s of heap "
		   "blocks)\n", c->at_exit ? "at exit" : "at the end of the trace", c->threads,
		plural(c->threads), c->pause_ns / 1e6, mt_fmt_bytes(c->root_bytes + c->block_bytes, t),
		mt_fmt_bytes(c->root_bytes, a), mt_fmt_bytes(c->block_bytes, b));
}

/* What the verdicts do not cover, said where they are read. */
static void caveats(FILE *f, const struct mt_proc *p)
{
	const struct mt_leak_check *c = &p->leak;

	if (c->threads_gone)
		fprintf(f, "  %u thread%s had ended before %s be stopped: registers not read\n",
			c->threads_gone, plural(c->threads_gone), c->threads_gone == 1 ? "it could" : "they could");
	if (c->unknown_blocks)
		fprintf(f, "  blocks allocated before memtrace attached are not judged: they were read "
			   "as roots\n");
	if (p->python && !p->python->complete)
		fprintf(f, "  Python: only native blocks (malloc) are judged; objects in pymalloc's "
			   "arenas were read as roots (PYTHONMALLOC=malloc makes them blocks)\n");
}

void report__text_leak(FILE *f, const struct mt_proc *p)
{
	const struct mt_leak_check *c = &p->leak;

	if (!c->asked)
		return;
	if (!c->done) {
		fprintf(f, "leak check: not done: %s\n", c->why);
		return;
	}
	cost_line(f, c);
	for (int k = 0; k < MT_LEAK__COUNT; k++)
		fprintf(f, "  %15s: %" PRIu64 " bytes in %" PRIu64 " block%s\n", label__leak_text(k),
			c->kind[k].bytes, c->kind[k].blocks, plural(c->kind[k].blocks));
	if (c->heuristic.blocks)
		fprintf(f, "  %15s  of which reachable through an interior pointer a heuristic accepts: "
			   "%" PRIu64 " bytes in %" PRIu64 " block%s\n", "", c->heuristic.bytes,
			c->heuristic.blocks, plural(c->heuristic.blocks));
	caveats(f, p);
}

struct record {
	const struct mt_stack *st;
	uint64_t bytes;		/* with what is lost behind them, as valgrind sorts its records */
};

static int by_bytes(const void *x, const void *y)
{
	const struct record *a = x, *b = y;

	if (a->bytes != b->bytes)
		return a->bytes < b->bytes ? 1 : -1;
	return a->st->id < b->st->id ? -1 : a->st->id > b->st->id;
}

/* The stacks holding blocks of kind k, largest first; n of them. Free the array. */
static struct record *records(const struct mt_proc *p, enum mt_leak_kind k, size_t *n)
{
	struct record *r = xcalloc(p->nstacks + 1, sizeof(*r));

	*n = 0;
	for (size_t i = 0; i < p->nstacks; i++) {
		const struct mt_stack *st = &p->stacks[i];

		if (!st->leak[k].blocks)
			continue;
		r[*n].st = st;
		r[(*n)++].bytes = st->leak[k].bytes + (k == MT_LEAK_DEFINITE ? st->leak_indirect_behind : 0);
	}
	qsort(r, *n, sizeof(*r), by_bytes);
	return r;
}

/* Each category's blocks by the stack that allocated them, top_n stacks each. */
void report__text_leak_records(FILE *f, const struct mt_proc *p, int top_n)
{
	if (!p->leak.done)
		return;
	for (int k = 0; k < MT_LEAK__COUNT; k++) {
		size_t n;
		struct record *r = records(p, k, &n);

		for (size_t i = 0; i < n && (int)i < top_n; i++) {
			const struct mt_stack *st = r[i].st;

			fprintf(f, "\n%" PRIu64 " bytes in %" PRIu64 " block%s %s %s", st->leak[k].bytes,
				st->leak[k].blocks, plural(st->leak[k].blocks),
				st->leak[k].blocks == 1 ? "is" : "are", label__leak_text(k));
			if (k == MT_LEAK_DEFINITE && st->leak_indirect_behind)
				fprintf(f, ", %" PRIu64 " bytes indirectly lost behind %s",
					st->leak_indirect_behind, st->leak[k].blocks == 1 ? "it" : "them");
			fprintf(f, " (%s %zu of %zu)\n", label__leak_text(k), i + 1, n);
			report__text_frames(f, st);
		}
		free(r);
	}
}

/* ---- JSON ---- */

static void tally(struct json *j, const char *key, const struct mt_leak_tally *t)
{
	json__begin_object(j, key);
	json__u64(j, "bytes", t->bytes);
	json__u64(j, "blocks", t->blocks);
	json__end_object(j);
}

void report__json_leak(struct json *j, const struct mt_proc *p)
{
	const struct mt_leak_check *c = &p->leak;

	if (!c->asked)
		return;
	json__begin_object(j, "leak_check");
	json__bool(j, "done", c->done);
	json__str(j, "why", c->done ? NULL : c->why);
	json__str(j, "when", c->at_exit ? "exit" : "end");
	json__u64(j, "threads", c->threads);
	json__u64(j, "threads_gone", c->threads_gone);
	json__double(j, "pause_ms", c->pause_ns / 1e6);
	json__u64(j, "root_bytes", c->root_bytes);
	json__u64(j, "block_bytes", c->block_bytes);
	json__bool(j, "unknown_blocks", c->unknown_blocks);	/* -p: blocks from before, not judged */
	json__bool(j, "native_only", p->python && !p->python->complete);
	for (int k = 0; k < MT_LEAK__COUNT; k++)
		tally(j, label__leak_key(k), &c->kind[k]);
	tally(j, "reachable_via_heuristic", &c->heuristic);
	json__end_object(j);
}

void report__json_stack_leak(struct json *j, const struct mt_proc *p, const struct mt_stack *st)
{
	if (!p->leak.done || st->kind != MT_KIND_HEAP)
		return;
	json__begin_object(j, "leak_check");
	for (int k = 0; k < MT_LEAK__COUNT; k++)
		tally(j, label__leak_key(k), &st->leak[k]);
	json__u64(j, "indirectly_lost_behind", st->leak_indirect_behind);
	json__end_object(j);
}
