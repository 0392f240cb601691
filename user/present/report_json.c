// SPDX-License-Identifier: BSD-2-Clause
/* The JSON report: exact integers, a schema other tools and the tests rely on. */
#include <inttypes.h>
#include <string.h>

#include "lib/json.h"
#include "memtrace.h"
#include "present/pyreport.h"
#include "present/label.h"
#include "present/report.h"

void report__json_summary(struct json *j, const char *key, const struct mt_summary *m)
{
	json__begin_object(j, key);
	json__u64(j, "allocations", m->allocations);
	json__u64(j, "frees", m->frees);
	json__u64(j, "allocated_bytes", m->allocated_bytes);
	json__u64(j, "freed_bytes", m->freed_bytes);
	json__u64(j, "outstanding_bytes", m->outstanding_bytes);
	json__u64(j, "outstanding_allocations", m->outstanding_allocations);
	json__u64(j, "peak_outstanding_bytes", m->peak_outstanding_bytes);
	json__u64(j, "unknown_frees", m->unknown_frees);
	json__u64(j, "lost_events", m->lost_events);
	json__end_object(j);
}

void report__json_frame(struct json *j, const struct mt_frame *fr)
{
	char addr[24];

	snprintf(addr, sizeof(addr), "0x%" PRIx64, fr->addr);
	json__begin_object(j, NULL);
	json__str(j, "function", fr->function);
	if (fr->mangled)	/* the name as the object spells it, when not function's */
		json__str(j, "mangled", fr->mangled);
	if (fr->inlined)	/* inlined into the next frame, at the same address */
		json__bool(j, "inlined", true);
	json__str(j, "module", fr->mapping ? fr->mapping->path : NULL);
	json__str(j, "file", fr->file);
	json__int(j, "line", fr->line);
	json__str(j, "address", addr);
	snprintf(addr, sizeof(addr), "0x%" PRIx64, fr->module_offset);
	json__str(j, "module_offset", addr);
	json__end_object(j);
}

void report__json_stack_figures(struct json *j, const struct mt_stack *st)
{
	json__u64(j, "id", st->id);
	json__str(j, "kind", label__kind(st->kind));
	json__u64(j, "outstanding_bytes", st->outstanding_bytes);
	json__u64(j, "outstanding_allocations", st->outstanding_allocations);
	json__u64(j, "allocated_bytes", st->allocated_bytes);
	json__u64(j, "allocations", st->allocations);
}

static void stack(struct json *j, const struct mt_snapshot *s, const struct mt_proc *p,
		  const struct mt_stack *st)
{
	json__begin_object(j, NULL);
	report__json_stack_figures(j, st);
	json__u64(j, "oldest_age_ms", mt_stack_age_ms(s, st));
	json__int(j, "site", st->site);
	json__u64(j, "peak_bytes", st->peak_bytes);	/* held at the heap peak */
	json__u64(j, "gc_reclaimed_bytes", st->gc_reclaimed_bytes);	/* freed by CPython's cycle collector */
	json__u64(j, "gc_reclaimed_blocks", st->gc_reclaimed_blocks);
	json__u64(j, "gc_collections", st->gc_collections);
	report__json_stack_leak(j, p, st);	/* --leak-check: its blocks by category */
	json__begin_array(j, "frames");
	for (uint32_t i = 0; i < st->nframes; i++)
		report__json_frame(j, &st->frames[i]);
	json__end_array(j);
	json__end_object(j);
}

/* CPython's cycle collector: its collections and pauses, and what it freed of seen blocks. */
static void gc(struct json *j, const char *key, const struct mt_gc *g)
{
	json__begin_object(j, key);
	json__u64(j, "collections", g->collections);
	json__u64(j, "pause_ns", g->pause_ns);
	json__u64(j, "longest_pause_ns", g->longest_pause_ns);
	json__u64(j, "reclaimed_bytes", g->reclaimed_bytes);
	json__u64(j, "reclaimed_blocks", g->reclaimed_blocks);
	json__end_object(j);
}

static void gc_total(struct json *j, const struct mt_snapshot *s)
{
	struct mt_gc t = { 0 };

	for (size_t i = 0; i < s->nprocs; i++) {
		const struct mt_gc *g = &s->procs[i].gc;

		t.collections += g->collections;
		t.pause_ns += g->pause_ns;
		if (g->longest_pause_ns > t.longest_pause_ns)
			t.longest_pause_ns = g->longest_pause_ns;
		t.reclaimed_bytes += g->reclaimed_bytes;
		t.reclaimed_blocks += g->reclaimed_blocks;
	}
	gc(j, "gc_summary", &t);
}

static void process(struct json *j, const struct mt_snapshot *s, const struct mt_proc *p)
{
	json__begin_object(j, NULL);
	json__u64(j, "pid", p->pid);
	json__str(j, "comm", p->comm);
	/* The programs the process ran, through each exec, ending with comm. */
	json__begin_array(j, "exec_chain");
	for (uint32_t i = 0; i < p->nexec_from; i++)
		json__str(j, NULL, p->exec_from[i]);
	json__str(j, NULL, p->comm);
	json__end_array(j);
	json__str(j, "cmdline", p->cmdline);
	/* What fleets group by, as the pprof labels and metric series carry it (null: unknown). */
	json__begin_object(j, "labels");
	json__str(j, "exe", p->labels.exe);
	json__str(j, "cgroup", p->labels.cgroup);
	json__str(j, "container_id", p->labels.container_id);
	json__str(j, "service_name", p->labels.service_name);
	json__end_object(j);
	json__bool(j, "exited", p->exited);
	/* Sampled heap figures are estimates; sample_bytes says at what mean interval (0: exact). */
	json__bool(j, "sampled", p->sample_bytes != 0);
	json__u64(j, "sample_bytes", p->sample_bytes);
	report__json_summary(j, "summary", &p->kind[MT_KIND_HEAP]);
	report__json_summary(j, "mmap_summary", &p->kind[MT_KIND_MMAP]);
	json__begin_array(j, "stacks");
	for (size_t k = 0; k < p->nstacks; k++)
		stack(j, s, p, &p->stacks[k]);
	json__end_array(j);
	gc(j, "gc", &p->gc);
	report__json_leak(j, p);
	pyreport__json(j, p);
	report__json_memory(j, s, p);
	json__end_object(j);
}

static void unwind(struct json *j, const struct mt_unwind_stats *u)
{
	json__begin_object(j, "unwind");
	json__str(j, "mode", u->mode);
	json__u64(j, "tables", u->objects);
	json__u64(j, "fp_objects", u->fp_objects);
	json__u64(j, "failed_objects", u->failed_objects);
	json__u64(j, "rows", u->rows);
	json__u64(j, "table_bytes", u->bytes);
	json__u64(j, "peak_table_bytes", u->peak_bytes);
	json__double(j, "load_ms", u->load_ns / 1e6);
	json__end_object(j);
}

int report__json(const struct mt_snapshot *s, FILE *f)
{
	struct json j;

	json__init(&j, f, true);
	json__begin_object(&j, NULL);
	json__str(&j, "tool", "memtrace");
	json__u64(&j, "schema_version", 1);
	json__double(&j, "duration_s", (s->now_ns - s->start_ns) / 1e9);
	json__begin_object(&j, "lost_events_by_reason");
	for (int i = 0; i < MT_LOSS__COUNT; i++)
		json__u64(&j, label__loss_key(i), s->loss[i]);
	json__end_object(&j);
	unwind(&j, &s->unwind);
	json__begin_array(&j, "processes");
	for (size_t i = 0; i < s->nprocs; i++)
		process(&j, s, &s->procs[i]);
	json__end_array(&j);
	report__json_summary(&j, "summary", &s->total[MT_KIND_HEAP]);
	report__json_summary(&j, "mmap_summary", &s->total[MT_KIND_MMAP]);
	gc_total(&j, s);
	report__json_faults(&j, &s->faults);
	json__end_object(&j);
	return ferror(f) ? -1 : 0;
}
