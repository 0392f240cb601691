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
	return done_testing();
}
