// SPDX-License-Identifier: BSD-2-Clause
/* The live view's model on hand-made snapshots: growth windows, the leak rule, sort, filter, rates. */
#include <stdlib.h>

#include "present/live_model.h"
#include "tap.h"

#define SEC 1000000000ull
#define START (100 * SEC)

enum { LEAK, BUFFER, CACHE, CHURN, LATE, DIP, NSTACKS };

static const char *const names[NSTACKS] = { "leak_grow", "one_time_buffer", "lru_cache",
					     "churn", "late_leak", "dipping" };
static struct mt_frame frames[NSTACKS][2];
static struct mt_stack stacks[NSTACKS];
static struct mt_proc proc = { .pid = 42, .comm = "grow" };
static struct mt_snapshot snap;

/* Snapshot number t (taken at START + (t+1) s) of a process whose stacks behave as named. */
static const struct mt_snapshot *at(int t)
{
	uint64_t now = START + (uint64_t)(t + 1) * SEC;
	size_t n = 0;

	for (int i = 0; i < NSTACKS; i++) {
		struct mt_stack *st = &stacks[n];
		uint64_t b = 0, born = 0;

		switch (i) {
		case LEAK: b = 100 * (t + 1), born = START + SEC / 2; break;
		case BUFFER: b = 10000, born = START + SEC / 2; break;
		case CACHE: b = 50 * (t + 1), born = now - SEC / 2; break;	/* evicts its oldest */
		case CHURN: b = 0; break;
		case LATE: b = t >= 5 ? 100 * (t - 4) : 0, born = START + 6 * SEC; break;
		case DIP: b = t == 8 ? 1 : 1000 + 50 * t, born = START + SEC / 2; break;
		}
		if (i == LATE && t < 5)
			continue;	/* not seen yet */
		*st = (struct mt_stack){ .id = i, .outstanding_bytes = b,
					 .outstanding_allocations = b ? b / 50 + 1 : 0,
					 .oldest_ts_ns = b ? born : 0, .nframes = 2, .frames = frames[i] };
		if (i == CHURN)	/* all of it freed, some by Python's cycle collector */
			st->gc_reclaimed_bytes = 5000, st->gc_reclaimed_blocks = 5;
		n++;
	}
	proc.nstacks = n;
	proc.stacks = stacks;
	proc.kind[MT_KIND_HEAP].allocations = 30 * (uint64_t)t;
	proc.kind[MT_KIND_HEAP].frees = 20 * (uint64_t)t;
	proc.kind[MT_KIND_HEAP].allocated_bytes = 1000 * (uint64_t)t;
	snap = (struct mt_snapshot){ .start_ns = START, .now_ns = now, .nprocs = 1, .procs = &proc };
	return &snap;
}

static const struct live_row *row_of(const struct live_row *rows, size_t n, uint32_t id)
{
	for (size_t i = 0; i < n; i++)
		if (rows[i].stack->id == id)
			return &rows[i];
	return NULL;
}

static void first_snapshot(struct live_model *m)
{
	const struct live_row *rows, *r;
	size_t n;

	live_model__push(m, at(0));
	n = live_model__rows(m, LIVE_SORT_BYTES, NULL, &rows);
	is_u64(n, 4, "four stacks hold memory: four rows");
	r = row_of(rows, n, BUFFER);
	ok(r && r->growth_interval == 10000 && r->growth_window == 10000,
	   "first snapshot: growth counts from the trace's start");
	ok(!row_of(rows, n, CHURN), "a stack with nothing outstanding is no row");
	ok(!r->suspect, "no suspect before a full window");
	is_u64(r->age_ms, 500, "age of the oldest block at the snapshot");
}

static void full_window(struct live_model *m)
{
	const struct live_row *rows, *r;
	size_t n;

	for (int t = 1; t < LIVE_WINDOW; t++)
		live_model__push(m, at(t));
	n = live_model__rows(m, LIVE_SORT_GROWTH, NULL, &rows);
	ok(!row_of(rows, n, LEAK)->suspect, "one snapshot short of a window: no suspect yet");
	live_model__push(m, at(LIVE_WINDOW));
	is_u64(live_model__ticks(m), LIVE_WINDOW + 1, "ticks counted");
	ok(live_model__window_s(m) == LIVE_WINDOW, "window spans LIVE_WINDOW intervals");
	n = live_model__rows(m, LIVE_SORT_GROWTH, NULL, &rows);
	r = row_of(rows, n, LEAK);
	ok(r && r->suspect, "steady growth with an aging oldest block is a suspected leak");
	ok(r->growth_interval == 100 && r->growth_window == 100 * LIVE_WINDOW,
	   "leak growth: 100 B per interval, %d B per window", 100 * LIVE_WINDOW);
	r = row_of(rows, n, BUFFER);
	ok(r && !r->suspect && r->growth_interval == 0 && r->growth_window == 0,
	   "a one-time buffer neither grows nor is suspected");
	ok(!row_of(rows, n, CACHE)->suspect, "growth whose oldest block keeps being freed: no leak");
	ok(!row_of(rows, n, LATE)->suspect, "a stack born inside the window is not judged yet");
	ok(!row_of(rows, n, DIP)->suspect, "growth that fell below the window's start: no leak");
	is_u64(rows[0].stack->id, LEAK, "sorted by growth, the leak comes first");
}

static void sorts_and_filters(struct live_model *m)
{
	const struct live_row *rows;
	size_t n;

	n = live_model__rows(m, LIVE_SORT_BYTES, NULL, &rows);
	ok(n >= 2 && rows[0].stack->id == BUFFER, "sorted by bytes, the buffer comes first");
	for (size_t i = 1; i < n; i++)
		if (!ok(rows[i - 1].stack->outstanding_bytes >= rows[i].stack->outstanding_bytes,
			"bytes sort is descending at %zu", i))
			break;
	n = live_model__rows(m, LIVE_SORT_BLOCKS, NULL, &rows);
	ok(rows[0].stack->id == BUFFER, "sorted by blocks: the buffer (201 blocks) first");
	n = live_model__rows(m, LIVE_SORT_GC, NULL, &rows);
	ok(n >= 1 && rows[0].stack->id == CHURN && rows[0].stack->gc_reclaimed_bytes == 5000,
	   "sorted by what the cycle collector freed: churn, which holds nothing now, first");
	n = live_model__rows(m, LIVE_SORT_AGE, NULL, &rows);
	ok(rows[n - 1].stack->id == CACHE, "sorted by age: the cache's young block last");
	n = live_model__rows(m, LIVE_SORT_GROWTH, "leak", &rows);
	ok(n == 2 && rows[0].stack->id == LEAK && rows[1].stack->id == LATE,
	   "filter 'leak' keeps leak_grow and late_leak, in growth order");
	n = live_model__rows(m, LIVE_SORT_BYTES, "grow.c:7", &rows);
	ok(n == 6 - 1, "filter matches a frame's file:line (every stack's outer frame)");
	n = live_model__rows(m, LIVE_SORT_BYTES, "no such frame", &rows);
	is_u64(n, 0, "a filter matching nothing leaves no rows");
}

static void rates_and_stop(struct live_model *m)
{
	struct live_rates r = live_model__rates(m, 0);
	const struct live_row *rows;
	size_t n;

	ok(r.allocs_per_s == 30 && r.frees_per_s == 20 && r.bytes_per_s == 1000,
	   "rates over the last interval: 30 allocs/s, 20 frees/s, 1000 B/s");
	r = live_model__rates(m, 7);
	ok(r.allocs_per_s == 0, "no rates for a process not in the snapshot");
	/* The leak stops: once most of the window is flat, it is no longer suspected. */
	for (int t = 0; t < LIVE_WINDOW; t++) {
		stacks[LEAK].outstanding_bytes = 100 * (LIVE_WINDOW + 1);
		live_model__push(m, &snap);
		snap.now_ns += SEC;
	}
	n = live_model__rows(m, LIVE_SORT_GROWTH, NULL, &rows);
	ok(!row_of(rows, n, LEAK)->suspect && row_of(rows, n, LEAK)->growth_window == 0,
	   "a leak that stopped a window ago is no longer suspected");
}

#define B(l) "\xe2\x96" #l	/* U+2581 + (l - 0x81): the Unicode block of level l - 0x81 */

static void sparklines(void)
{
	static const uint64_t grow[8] = { 100, 200, 300, 400, 500, 600, 700, 800 };
	static const uint64_t flat[5] = { 7, 7, 7, 7, 7 };
	static const uint64_t drop[5] = { 1000, 2000, 3000, 1000, 1000 };
	static const uint64_t one[1] = { 123456 };
	static const uint64_t huge[3] = { 0, UINT64_MAX / 2, UINT64_MAX };
	char buf[256];

	is_u64(live_model__sparkline(grow, 8, 40, false, buf, sizeof(buf)), 8, "8 values: 8 cells");
	is_str(buf, "_.-:=+*#", "growing series, ASCII: every level once, lowest to highest");
	live_model__sparkline(grow, 8, 40, true, buf, sizeof(buf));
	is_str(buf, B(\x81) B(\x82) B(\x83) B(\x84) B(\x85) B(\x86) B(\x87) B(\x88),
	       "growing series, UTF-8: the eight blocks in order");
	live_model__sparkline(flat, 5, 40, false, buf, sizeof(buf));
	is_str(buf, "_____", "a flat series sits on the lowest level");
	live_model__sparkline(one, 1, 40, true, buf, sizeof(buf));
	is_str(buf, B(\x81), "a single sample: one cell, lowest level");
	live_model__sparkline(drop, 5, 40, false, buf, sizeof(buf));
	is_str(buf, "_=#__", "a drop falls back to its level (2000, halfway, rounds to level 4 of 0..7)");
	is_u64(live_model__sparkline(grow, 8, 3, false, buf, sizeof(buf)), 3, "width 3: 3 cells");
	is_str(buf, "_=#", "narrower than the series: the last values, scaled among themselves");
	is_u64(live_model__sparkline(grow, 8, 40, true, buf, 3 * 2 + 1), 2,
	       "a short buffer: as many whole cells as fit");
	is_str(buf, B(\x81) B(\x88), "... the most recent ones");
	live_model__sparkline(huge, 3, 40, false, buf, sizeof(buf));
	is_str(buf, "_=#", "values near 2^64 do not overflow the scaling");
	is_u64(live_model__sparkline(grow, 0, 40, false, buf, sizeof(buf)), 0, "no values: empty");
	is_str(buf, "", "... and an empty string");
	buf[0] = 'x';
	ok(!live_model__sparkline(grow, 8, 40, false, buf, 0) && buf[0] == 'x',
	   "no room at all: nothing written");
}

/* The model keeps each process's heap per refresh, and starts afresh when a slot's pid changes. */
static void heap_history(void)
{
	struct live_model *m = live_model__new();
	struct mt_proc p = { .pid = 7 };
	struct mt_snapshot s = { .start_ns = START, .nprocs = 1, .procs = &p };
	uint64_t v[LIVE_SPARK_MAX];
	double span;
	size_t n;

	n = live_model__heap_history(m, 0, v, LIVE_SPARK_MAX, &span);
	is_u64(n, 0, "no snapshot yet: no history");
	for (int t = 0; t < LIVE_SPARK_MAX + 5; t++) {
		p.kind[MT_KIND_HEAP].outstanding_bytes = 10 * (uint64_t)t;
		s.now_ns = START + (uint64_t)t * SEC;
		live_model__push(m, &s);
	}
	n = live_model__heap_history(m, 0, v, 4, &span);
	ok(n == 4 && v[0] == 10 * (LIVE_SPARK_MAX + 1) && v[3] == 10 * (LIVE_SPARK_MAX + 4),
	   "the last 4 refreshes, oldest first");
	ok(span == 3, "4 refreshes a second apart span 3 s");
	n = live_model__heap_history(m, 0, v, LIVE_SPARK_MAX, &span);
	ok(n == LIVE_SPARK_MAX && v[0] == 50, "the ring keeps the last LIVE_SPARK_MAX refreshes");
	p.pid = 8;
	live_model__push(m, &s);
	n = live_model__heap_history(m, 0, v, LIVE_SPARK_MAX, &span);
	ok(n == 1 && span == 0, "another process in the slot: its history starts afresh");
	is_u64(live_model__heap_history(m, 1, v, LIVE_SPARK_MAX, &span), 0, "no such process: none");
	live_model__free(m);
}

int main(void)
{
	struct live_model *m = live_model__new();

	for (int i = 0; i < NSTACKS; i++) {
		frames[i][0] = (struct mt_frame){ .function = names[i], .file = "/src/grow.c", .line = 20 + i };
		frames[i][1] = (struct mt_frame){ .function = "main", .file = "/src/grow.c", .line = 7 };
	}
	first_snapshot(m);
	full_window(m);
	sorts_and_filters(m);
	rates_and_stop(m);
	live_model__free(m);
	sparklines();
	heap_history();
	return done_testing();
}
