// SPDX-License-Identifier: BSD-2-Clause
/* memtrace diff's model: matching by names, statuses, order of changes, folded and JSON output. */
#include <stdlib.h>
#include <string.h>

#include "present/diff.h"
#include "session/diff.h"
#include "tap.h"

static void add(struct diff *d, int side, enum mt_kind kind, const char *site, const char *caller,
		uint64_t bytes, uint64_t blocks)
{
	char *labels[] = { (char *)site, (char *)caller };

	diff__add(d, side, kind, labels, 2, bytes, blocks);
	d->bytes[side] += bytes;
	d->blocks[side] += blocks;
}

static char *output(int (*fn)(const struct diff *, FILE *), const struct diff *d)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	fn(d, f);
	fclose(f);
	return buf;
}

static int json(const struct diff *d, FILE *f) { return diff__json(d, "a", "b", f); }
static int text(const struct diff *d, FILE *f) { return diff__text(d, "a", "b", 10, f); }

/* Python lines: count and average object, what the collector freed, and its summary. */
static void python_lines(void)
{
	struct diff *d = diff__new();
	struct mt_gc before = { .collections = 80, .pause_ns = 150000000, .reclaimed_bytes = 52000000 },
		     after = { .collections = 14, .pause_ns = 4000000, .reclaimed_bytes = 230000 };
	const struct diff_stack **v;
	char *s;
	size_t n;

	diff__add_py_line(d, 0, strdup("instances (app.py:9)"), 1040000, 20000, 0);	/* plain */
	diff__add_py_line(d, 1, strdup("instances (app.py:9)"), 640000, 10000, 0);	/* __slots__ */
	diff__add_py_line(d, 0, strdup("Node.__init__ (app.py:10)"), 0, 0, 52000000);	/* cycles */
	diff__add_py_line(d, 0, strdup("same (app.py:1)"), 100, 1, 0);
	diff__add_py_line(d, 1, strdup("same (app.py:1)"), 100, 1, 0);
	diff__add_gc(d, 0, &before);
	diff__add_gc(d, 1, &after);
	n = diff__changed(d->py_lines, &v);
	is_u64(n, 2, "two Python lines changed");
	is_str(v[0]->labels[0], "Node.__init__ (app.py:10)", "the cycle garbage's 52 MB change comes first");
	ok(diff__average(v[1], 0) == 52 && diff__average(v[1], 1) == 64,
	   "instances: average object 52 B before, 64 B after");
	free(v);
	s = output(text, d);
	ok(strstr(s, "cycle collector: 80 -> 14 collections, 150.000 -> 4.000 ms of pauses") != NULL,
	   "text: the collector's summary");
	ok(strstr(s, "    20000     10000       52 B       64 B        0 B        0 B  shrank   instances (app.py:9)\n") != NULL,
	   "text: the line's count and average before and after");
	ok(strstr(s, "  49.6 MiB        0 B  gc down  Node.__init__ (app.py:10)\n") != NULL,
	   "text: the line whose cycle garbage went away");
	free(s);
	s = output(json, d);
	ok(strstr(s, "\"before_average\": 52,") && strstr(s, "\"after_average\": 64,") &&
	   strstr(s, "\"delta_collections\": -66,"), "JSON: averages and the collector's change");
	free(s);
	diff__free(d);
}

int main(void)
{
	struct diff *d = diff__new();
	const struct diff_stack **v;
	char *s, *label;
	size_t n;

	add(d, 0, MT_KIND_HEAP, "leak (a.c:3)", "main", 1000, 1);
	add(d, 0, MT_KIND_HEAP, "leak (a.c:3)", "main", 1000, 1);	/* a second process */
	add(d, 1, MT_KIND_HEAP, "leak (a.c:3)", "main", 5000, 5);
	add(d, 0, MT_KIND_HEAP, "gone", "main", 300, 3);
	add(d, 1, MT_KIND_HEAP, "fresh", "main", 7000, 1);
	add(d, 0, MT_KIND_MMAP, "leak (a.c:3)", "main", 4096, 1);	/* same names, other kind */
	add(d, 1, MT_KIND_MMAP, "leak (a.c:3)", "main", 4096, 1);
	add(d, 0, MT_KIND_HEAP, "shrink", "main", 900, 9);
	add(d, 1, MT_KIND_HEAP, "shrink", "main", 100, 1);
	add(d, 0, MT_KIND_HEAP, "same;bytes", "main", 64, 2);		/* bytes equal, blocks differ */
	add(d, 1, MT_KIND_HEAP, "same;bytes", "main", 64, 1);

	is_u64(d->n, 6, "6 distinct stacks: same names add up, kinds stay apart");
	n = diff__changed(d, &v);
	is_u64(n, 5, "5 changed (the mmap stack did not)");
	is_str(v[0]->labels[0], "fresh", "largest change first: fresh +7000");
	is_u64(v[1]->bytes[0], 2000, "leak: both processes of BEFORE summed");
	is_str(v[1]->labels[0], "leak (a.c:3)", "then leak +3000");
	is_str(v[2]->labels[0], "shrink", "then shrink -800 (by magnitude)");
	is_str(v[3]->labels[0], "gone", "then gone -300");
	is_str(v[4]->labels[0], "same;bytes", "last: equal bytes, one block fewer");
	free(v);

	s = output(diff__folded, d);
	is_str(s, "[mmap];main;leak (a.c:3) 4096 4096\n"
		  "main;fresh 0 7000\n"
		  "main;gone 300 0\n"
		  "main;leak (a.c:3) 2000 5000\n"
		  "main;same:bytes 64 64\n"
		  "main;shrink 900 100\n",
	       "folded: root first, sorted, ';' in a name made ':', BEFORE and AFTER columns");
	free(s);
	s = output(json, d);
	ok(strstr(s, "\"delta_bytes\": 8900") != NULL, "JSON: total 7360 -> 16260 B: +8900");
	ok(strstr(s, "\"status\": \"new\"") && strstr(s, "\"status\": \"vanished\"") &&
	   strstr(s, "\"status\": \"grew\"") && strstr(s, "\"status\": \"shrank\""), "JSON: each status");
	ok(strstr(s, "\"unchanged\": 1") != NULL, "JSON: one unchanged");
	free(s);

	label = diff__label("f", "/src/dir/a.c", 12, "/bin/x", 0x10);
	is_str(label, "f (a.c:12)", "label: function and file base name with line");
	free(label);
	label = diff__label(NULL, NULL, 0, "/usr/lib/libz.so.1", 0x1f0);
	is_str(label, "libz.so.1+0x1f0", "label: module and offset without a symbol");
	free(label);
	label = diff__label(NULL, NULL, 0, NULL, 0x7fff1234);
	is_str(label, "[unknown]", "label: never an address");
	free(label);
	diff__free(d);
	python_lines();
	return done_testing();
}
