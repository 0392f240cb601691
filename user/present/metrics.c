// SPDX-License-Identifier: BSD-2-Clause
/* Prometheus text exposition of a snapshot: a pure function, so tests can pin its exact lines. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>

#include "memtrace.h"
#include "present/label.h"
#include "present/metrics.h"
#include "lib/util.h"

enum {
	V_OUT_BYTES, V_OUT_BLOCKS, V_ALLOCS, V_FREES, V_ALLOC_BYTES, V_FREED_BYTES, V_RSS,
	V_GC_COLLECTIONS, V_GC_PAUSE, V_GC_RECLAIMED, V__COUNT
};

/* One labelled row: a process, or the sum of those past the top N. */
struct row {
	char pid[16];
	const char *comm;
	const struct mt_labels *labels;	/* NULL for the rest summed */
	uint64_t v[V__COUNT];
};

static const struct family {
	const char *name, *type, *help;
} families[V__COUNT] = {
	[V_OUT_BYTES] = { "memtrace_heap_outstanding_bytes", "gauge",
			  "Heap bytes allocated and not yet freed." },
	[V_OUT_BLOCKS] = { "memtrace_heap_outstanding_blocks", "gauge",
			   "Heap blocks allocated and not yet freed." },
	[V_ALLOCS] = { "memtrace_heap_allocations_total", "counter",
		       "Heap allocations seen since tracing began." },
	[V_FREES] = { "memtrace_heap_frees_total", "counter",
		      "Frees of heap blocks seen since tracing began." },
	[V_ALLOC_BYTES] = { "memtrace_heap_allocated_bytes_total", "counter",
			    "Heap bytes allocated since tracing began." },
	[V_FREED_BYTES] = { "memtrace_heap_freed_bytes_total", "counter",
			    "Heap bytes freed since tracing began." },
	[V_RSS] = { "memtrace_rss_bytes", "gauge",
		    "Resident set size (VmRSS) of running processes." },
	[V_GC_COLLECTIONS] = { "memtrace_python_gc_collections_total", "counter",
			       "Collections by Python's cycle collector since tracing began." },
	[V_GC_PAUSE] = { "memtrace_python_gc_pause_seconds_total", "counter",
			 "Time Python's cycle collector spent collecting since tracing began." },
	[V_GC_RECLAIMED] = { "memtrace_python_gc_reclaimed_bytes_total", "counter",
			     "Heap bytes Python's cycle collector had to free since tracing began." },
};

static const struct mt_snapshot *sort_snap;

/* Largest outstanding heap first; ties by pid, so the top N is the same scrape after scrape. */
static int by_outstanding(const void *a, const void *b)
{
	const struct mt_proc *p = &sort_snap->procs[*(const size_t *)a];
	const struct mt_proc *q = &sort_snap->procs[*(const size_t *)b];
	uint64_t x = p->kind[MT_KIND_HEAP].outstanding_bytes, y = q->kind[MT_KIND_HEAP].outstanding_bytes;

	if (x != y)
		return x > y ? -1 : 1;
	return p->pid < q->pid ? -1 : p->pid > q->pid;
}

static void row_add(struct row *r, const struct mt_proc *p, uint64_t rss)
{
	const struct mt_summary *h = &p->kind[MT_KIND_HEAP];

	r->v[V_OUT_BYTES] += h->outstanding_bytes;
	r->v[V_OUT_BLOCKS] += h->outstanding_allocations;
	r->v[V_ALLOCS] += h->allocations;
	r->v[V_FREES] += h->frees;
	r->v[V_ALLOC_BYTES] += h->allocated_bytes;
	r->v[V_FREED_BYTES] += h->freed_bytes;
	r->v[V_RSS] += rss;
	r->v[V_GC_COLLECTIONS] += p->gc.collections;
	r->v[V_GC_PAUSE] += p->gc.pause_ns;
	r->v[V_GC_RECLAIMED] += p->gc.reclaimed_bytes;
}

/* No sample rather than a 0: an exited process has no RSS, and one not running Python (or
 * whose collector never ran) no collections. */
static bool has_sample(const struct row *r, int k)
{
	if (k == V_RSS)
		return r->v[V_RSS] != 0;
	if (k >= V_GC_COLLECTIONS)
		return r->v[V_GC_COLLECTIONS] != 0;
	return true;
}

static void put_value(FILE *f, int k, uint64_t v)
{
	if (k == V_GC_PAUSE)
		fprintf(f, "%" PRIu64 ".%09" PRIu64 "\n", v / 1000000000, v % 1000000000);
	else
		fprintf(f, "%" PRIu64 "\n", v);
}

/* At most top + 1 rows; returns how many. */
static size_t make_rows(const struct mt_snapshot *s, const uint64_t *rss, size_t top, struct row *rows)
{
	size_t *order = xcalloc(s->nprocs + 1, sizeof(*order)), n = 0;

	for (size_t i = 0; i < s->nprocs; i++)
		order[i] = i;
	sort_snap = s;
	qsort(order, s->nprocs, sizeof(*order), by_outstanding);
	for (size_t i = 0; i < s->nprocs; i++) {
		const struct mt_proc *p = &s->procs[order[i]];
		struct row *r = &rows[i < top ? n++ : top];

		if (i < top) {
			snprintf(r->pid, sizeof(r->pid), "%" PRIu32, p->pid);
			r->comm = p->comm;
			r->labels = &p->labels;
		} else if (i == top) {
			snprintf(r->pid, sizeof(r->pid), "other");
			r->comm = "other";
			n++;
		}
		row_add(r, p, rss ? rss[order[i]] : 0);
	}
	free(order);
	return n;
}

/* Label values escape backslash, double quote and newline; comm is the process's to choose. */
static void put_label(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', f);
		if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

/* A process's labels past pid and comm, each only when known: fleets group by them. */
static void put_labels(FILE *f, const struct mt_labels *l)
{
	const char *keys[] = { "exe", "cgroup", "container_id", "service_name" };
	const char *values[] = { l->exe, l->cgroup, l->container_id, l->service_name };

	for (int i = 0; i < 4; i++) {
		if (!values[i])
			continue;
		fprintf(f, ",%s=\"", keys[i]);
		put_label(f, values[i]);
		fputc('"', f);
	}
}

static void put_header(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void metrics__format(const struct mt_snapshot *s, const uint64_t *rss_bytes, int top, FILE *f)
{
	size_t ntop = top > 0 ? (size_t)top : 1;
	struct row *rows = xcalloc(ntop + 1, sizeof(*rows));
	size_t nrows = make_rows(s, rss_bytes, ntop, rows);

	for (int k = 0; k < V__COUNT; k++) {
		put_header(f, families[k].name, families[k].type, families[k].help);
		for (size_t i = 0; i < nrows; i++) {
			if (!has_sample(&rows[i], k))
				continue;
			fprintf(f, "%s{pid=\"%s\",comm=\"", families[k].name, rows[i].pid);
			put_label(f, rows[i].comm);
			fputc('"', f);
			if (rows[i].labels)
				put_labels(f, rows[i].labels);
			fputs("} ", f);
			put_value(f, k, rows[i].v[k]);
		}
	}
	put_header(f, "memtrace_lost_events_total", "counter",
		   "Events the probes could not deliver or complete, by reason.");
	for (int i = 0; i < MT_LOSS__COUNT; i++)
		fprintf(f, "memtrace_lost_events_total{reason=\"%s\"} %" PRIu64 "\n", label__loss_key(i),
			s->loss[i]);
	put_header(f, "memtrace_processes", "gauge", "Processes in the trace, exited ones included.");
	fprintf(f, "memtrace_processes %zu\n", s->nprocs);
	free(rows);
}
