/* SPDX-License-Identifier: BSD-2-Clause */
/* The live view's model: history by stack id, growth windows, the leak rule, sorting, filtering. */
#ifndef MT_LIVE_MODEL_H
#define MT_LIVE_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/snapshot.h"

/* The long growth window, in refresh intervals; the leak rule judges a whole window. */
#define LIVE_WINDOW 10

/* LIVE_SORT_GC: by bytes Python's cycle collector had to free; it also shows stacks that hold
 * nothing now, since what the collector frees is gone. */
enum live_sort { LIVE_SORT_BYTES, LIVE_SORT_GROWTH, LIVE_SORT_BLOCKS, LIVE_SORT_AGE, LIVE_SORT_GC };

struct live_row {
	const struct mt_proc *proc;
	const struct mt_stack *stack;
	int64_t growth_interval;	/* outstanding bytes gained since the previous snapshot */
	int64_t growth_window;		/* ... since the start of the window (or of the trace) */
	uint64_t age_ms;		/* of the oldest outstanding block */
	bool suspect;			/* the leak rule holds, see live_model__suspect() */
};

/* Per process, over the last interval; zero until there are two snapshots. */
struct live_rates {
	double allocs_per_s, frees_per_s, bytes_per_s;
};

struct live_model;

struct live_model *live_model__new(void);
void live_model__free(struct live_model *m);

/*
 * Take in the next snapshot. The model borrows it: it must stay alive until the next push, and
 * rows point into it. Stacks are remembered by id, which is stable across snapshots.
 */
void live_model__push(struct live_model *m, const struct mt_snapshot *s);

/* Snapshots pushed so far. */
uint64_t live_model__ticks(const struct live_model *m);
/* Seconds the window covers now (less than LIVE_WINDOW intervals early in the trace). */
double live_model__window_s(const struct live_model *m);

/*
 * The leak rule, for one stack of the latest snapshot. It needs a full window of LIVE_WINDOW
 * intervals, over which the stack's outstanding bytes (1) ended higher than they began,
 * (2) rose in at least half of the intervals and never fell below where they began, and (3) its
 * oldest outstanding block was born before the window began, so it aged through all of it.
 */
bool live_model__suspect(const struct live_model *m, const struct mt_stack *st);

/*
 * Rows of the latest snapshot: stacks still holding memory whose frames' labels contain filter
 * (NULL or "" = all), sorted by sort. The array stays valid until the next push or rows call.
 */
size_t live_model__rows(struct live_model *m, enum live_sort sort, const char *filter,
			const struct live_row **rows);

/* Allocation rates of the latest snapshot's i-th process. */
struct live_rates live_model__rates(const struct live_model *m, size_t proc);

/* Refreshes of outstanding heap kept per process for the sparkline: wider than any terminal. */
#define LIVE_SPARK_MAX 512

/*
 * The latest snapshot's i-th process's outstanding heap at up to the last max refreshes, oldest
 * first, into out; returns how many, and in *span_s the seconds from the first to the last.
 */
size_t live_model__heap_history(const struct live_model *m, size_t proc, uint64_t *out,
				size_t max, double *span_s);

/*
 * A sparkline of the last width values of v[0..n), each one character cell, scaled to their own
 * min..max: Unicode blocks U+2581..U+2588 when utf8, else the ramp "_.-:=+*#" (lowest first).
 * A flat line sits on the lowest level. Writes a NUL-terminated string into buf (len bytes: 3
 * per cell for utf8, 1 otherwise, plus 1); returns the cells written.
 */
size_t live_model__sparkline(const uint64_t *v, size_t n, size_t width, bool utf8, char *buf,
			     size_t len);

#endif
