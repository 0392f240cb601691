// SPDX-License-Identifier: BSD-2-Clause
/* Prometheus exposition: exact text for the fixture, the "other" row, label escaping. */
#include <stdlib.h>

#include "fixture.h"
#include "present/metrics.h"
#include "tap.h"

static char *format(const struct mt_snapshot *s, const uint64_t *rss, int top)
{
	char *text = NULL;
	size_t len;
	FILE *f = open_memstream(&text, &len);

	metrics__format(s, rss, top, f);
	fclose(f);
	return text;
}

/* With --metrics-top 1, leaky (the larger heap) keeps its series and cxx worker becomes "other". */
static const char fixture_top1[] =
	"# HELP memtrace_heap_outstanding_bytes Heap bytes allocated and not yet freed.\n"
	"# TYPE memtrace_heap_outstanding_bytes gauge\n"
	"memtrace_heap_outstanding_bytes{pid=\"4242\",comm=\"leaky\"} 1576960\n"
	"memtrace_heap_outstanding_bytes{pid=\"other\",comm=\"other\"} 65536\n"
	"# HELP memtrace_heap_outstanding_blocks Heap blocks allocated and not yet freed.\n"
	"# TYPE memtrace_heap_outstanding_blocks gauge\n"
	"memtrace_heap_outstanding_blocks{pid=\"4242\",comm=\"leaky\"} 385\n"
	"memtrace_heap_outstanding_blocks{pid=\"other\",comm=\"other\"} 16\n"
	"# HELP memtrace_heap_allocations_total Heap allocations seen since tracing began.\n"
	"# TYPE memtrace_heap_allocations_total counter\n"
	"memtrace_heap_allocations_total{pid=\"4242\",comm=\"leaky\"} 741\n"
	"memtrace_heap_allocations_total{pid=\"other\",comm=\"other\"} 32\n"
	"# HELP memtrace_heap_frees_total Frees of heap blocks seen since tracing began.\n"
	"# TYPE memtrace_heap_frees_total counter\n"
	"memtrace_heap_frees_total{pid=\"4242\",comm=\"leaky\"} 356\n"
	"memtrace_heap_frees_total{pid=\"other\",comm=\"other\"} 16\n"
	"# HELP memtrace_heap_allocated_bytes_total Heap bytes allocated since tracing began.\n"
	"# TYPE memtrace_heap_allocated_bytes_total counter\n"
	"memtrace_heap_allocated_bytes_total{pid=\"4242\",comm=\"leaky\"} 3035136\n"
	"memtrace_heap_allocated_bytes_total{pid=\"other\",comm=\"other\"} 131072\n"
	"# HELP memtrace_heap_freed_bytes_total Heap bytes freed since tracing began.\n"
	"# TYPE memtrace_heap_freed_bytes_total counter\n"
	"memtrace_heap_freed_bytes_total{pid=\"4242\",comm=\"leaky\"} 1458176\n"
	"memtrace_heap_freed_bytes_total{pid=\"other\",comm=\"other\"} 65536\n"
	"# HELP memtrace_rss_bytes Resident set size (VmRSS) of running processes.\n"
	"# TYPE memtrace_rss_bytes gauge\n"
	"memtrace_rss_bytes{pid=\"4242\",comm=\"leaky\"} 4096000\n"
	"# HELP memtrace_python_gc_collections_total Collections by Python's cycle collector since tracing began.\n"
	"# TYPE memtrace_python_gc_collections_total counter\n"
	"# HELP memtrace_python_gc_pause_seconds_total Time Python's cycle collector spent collecting since tracing began.\n"
	"# TYPE memtrace_python_gc_pause_seconds_total counter\n"
	"# HELP memtrace_python_gc_reclaimed_bytes_total Heap bytes Python's cycle collector had to free since tracing began.\n"
	"# TYPE memtrace_python_gc_reclaimed_bytes_total counter\n"
	"# HELP memtrace_lost_events_total Events the probes could not deliver or complete, by reason.\n"
	"# TYPE memtrace_lost_events_total counter\n"
	"memtrace_lost_events_total{reason=\"ringbuf_full\"} 3\n"
	"memtrace_lost_events_total{reason=\"call_table_full\"} 0\n"
	"memtrace_lost_events_total{reason=\"stack_failed\"} 0\n"
	"memtrace_lost_events_total{reason=\"stack_truncated\"} 0\n"
	"memtrace_lost_events_total{reason=\"return_without_entry\"} 0\n"
	"memtrace_lost_events_total{reason=\"unwind_no_table\"} 0\n"
	"memtrace_lost_events_total{reason=\"unwind_unsupported\"} 0\n"
	"memtrace_lost_events_total{reason=\"unwind_read_fault\"} 7\n"
	"memtrace_lost_events_total{reason=\"fault_stack_truncated\"} 0\n"
	"memtrace_lost_events_total{reason=\"python_stack_cut\"} 0\n"
	"memtrace_lost_events_total{reason=\"python_stack_truncated\"} 0\n"
	"memtrace_lost_events_total{reason=\"work_busy\"} 0\n"
	"memtrace_lost_events_total{reason=\"stack_id_unknown\"} 0\n"
	"# HELP memtrace_processes Processes in the trace, exited ones included.\n"
	"# TYPE memtrace_processes gauge\n"
	"memtrace_processes 2\n";

static void test_fixture_top1(void)
{
	struct mt_snapshot s = fix_snapshot;
	uint64_t rss[] = { 4096000, 0 };	/* cxx worker exited: no RSS line for "other" */
	char *got;

	s.loss[0] = 3;
	s.loss[7] = 7;
	got = format(&s, rss, 1);
	if (!ok(!strcmp(got, fixture_top1), "fixture, top 1: exactly the expected exposition"))
		printf("# got:\n%s", got);
	free(got);
}

static void test_fixture_top20(void)
{
	uint64_t rss[] = { 4096000, 8192 };
	char *got = format(&fix_snapshot, rss, 20);

	ok(strstr(got, "memtrace_heap_outstanding_bytes{pid=\"4343\",comm=\"cxx worker\"} 65536\n") != NULL,
	   "top 20: cxx worker has its own series");
	ok(strstr(got, "memtrace_rss_bytes{pid=\"4343\",comm=\"cxx worker\"} 8192\n") != NULL,
	   "top 20: its RSS too");
	ok(strstr(got, "pid=\"other\"") == NULL, "top 20: no \"other\" row when nothing is left over");
	free(got);
}

/* A Python process's collector: counts, pause seconds with nanoseconds, reclaimed bytes. */
static void test_gc(void)
{
	static const struct mt_proc procs[] = {
		{ .pid = 7, .comm = "python3",
		  .gc = { .collections = 3, .pause_ns = 1500000123, .reclaimed_bytes = 4097000 } },
		{ .pid = 8, .comm = "c" },
	};
	static const struct mt_snapshot s = { .nprocs = 2, .procs = procs };
	char *got = format(&s, NULL, 20);

	ok(strstr(got, "memtrace_python_gc_collections_total{pid=\"7\",comm=\"python3\"} 3\n") != NULL,
	   "collections counted");
	ok(strstr(got, "memtrace_python_gc_pause_seconds_total{pid=\"7\",comm=\"python3\"} 1.500000123\n") != NULL,
	   "pauses in seconds, to the nanosecond");
	ok(strstr(got, "memtrace_python_gc_reclaimed_bytes_total{pid=\"7\",comm=\"python3\"} 4097000\n") != NULL,
	   "reclaimed bytes");
	ok(strstr(got, "gc_collections_total{pid=\"8\"") == NULL, "a process without collections has no GC sample");
	free(got);
}

/* Three processes, top 1: the other two are summed; ties in bytes are broken by pid. */
static void test_other_sums_and_escapes(void)
{
	static const struct mt_proc procs[] = {
		{ .pid = 30, .comm = "b\"q\\z", .kind[MT_KIND_HEAP] = { .outstanding_bytes = 100 } },
		{ .pid = 20, .comm = "c", .kind[MT_KIND_HEAP] = { .outstanding_bytes = 100, .frees = 1 } },
		{ .pid = 10, .comm = "a", .kind[MT_KIND_HEAP] = { .outstanding_bytes = 5, .frees = 2 } },
	};
	static const struct mt_snapshot s = { .nprocs = 3, .procs = procs };
	char *got = format(&s, NULL, 1);

	ok(strstr(got, "memtrace_heap_outstanding_bytes{pid=\"20\",comm=\"c\"} 100\n") != NULL,
	   "tie at 100 B goes to the lower pid");
	ok(strstr(got, "memtrace_heap_outstanding_bytes{pid=\"other\",comm=\"other\"} 105\n") != NULL,
	   "the rest sum to 105 B under pid=\"other\"");
	ok(strstr(got, "memtrace_heap_frees_total{pid=\"other\",comm=\"other\"} 2\n") != NULL,
	   "counters are summed too");
	ok(strstr(got, "# TYPE memtrace_rss_bytes gauge\n# HELP memtrace_python_gc_collections_total") != NULL,
	   "no RSS known: the family has no samples");
	free(got);
	got = format(&s, NULL, 3);
	ok(strstr(got, "{pid=\"30\",comm=\"b\\\"q\\\\z\"} 100\n") != NULL,
	   "quote and backslash in comm are escaped");
	free(got);
}

int main(void)
{
	test_gc();
	test_fixture_top1();
	test_fixture_top20();
	test_other_sums_and_escapes();
	return done_testing();
}
