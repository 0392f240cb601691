// SPDX-License-Identifier: BSD-2-Clause
/*
 * The live view's model, free of any terminal: it remembers the last LIVE_WINDOW + 1 snapshots'
 * outstanding bytes per stack id, and from them derives growth, the leak rule, rates and the
 * sorted, filtered rows the view draws. Tested on its own by tests/unit/test_live_model.c.
 */
#include <stdlib.h>
#include <string.h>

#include "present/live_model.h"
#include "present/label.h"
#include "present/report.h"
#include "lib/util.h"

#define RING (LIVE_WINDOW + 1)	/* samples a window spans: its two ends and all between */

/* One stack's recent past. Ticks count pushed snapshots from 0; -1 is the trace's start. */
struct hist {
	int64_t first_tick;		/* first snapshot the stack was in; -2 = not seen yet */
	int64_t last_tick;
	uint64_t bytes[RING];		/* outstanding bytes, by tick modulo RING */
};

struct proc_prev {
	uint32_t pid;
	uint64_t allocations, frees, allocated_bytes;
};

/* One process's outstanding heap at each refresh, for the sparkline. */
struct proc_heap {
	uint32_t pid;
	uint64_t n;			/* samples taken; the ring holds the last LIVE_SPARK_MAX */
	uint64_t bytes[LIVE_SPARK_MAX], ts_ns[LIVE_SPARK_MAX];
};

struct live_model {
	int64_t tick;			/* of the latest snapshot; -1 before the first */
	uint64_t now_ns[RING];		/* snapshot times, by tick modulo RING */
	const struct mt_snapshot *snap;
	struct hist *hist;		/* by stack id */
	size_t cap_hist;
	struct proc_prev *prev;		/* by process index: the order of first sight is stable */
	struct live_rates *rates;
	struct proc_heap *heap;		/* by process index, like prev */
	size_t nprev, cap_prev, cap_rates, cap_heap;
	uint64_t prev_ns;
	struct live_row *rows;
	size_t cap_rows;
};

struct live_model *live_model__new(void)
{
	struct live_model *m = xcalloc(1, sizeof(*m));

	m->tick = -1;
	return m;
}

void live_model__free(struct live_model *m)
{
	if (!m)
		return;
	free(m->hist);
	free(m->prev);
	free(m->rates);
	free(m->heap);
	free(m->rows);
	free(m);
}

static struct hist *hist_of(struct live_model *m, uint32_t id)
{
	size_t old = m->cap_hist;

	if (id >= old) {
		xgrow(&m->hist, &m->cap_hist, (size_t)id + 1, sizeof(*m->hist));
		for (size_t i = old; i < m->cap_hist; i++)
			m->hist[i].first_tick = -2;
	}
	return &m->hist[id];
}

/* Outstanding bytes at a tick within the ring; a stack held nothing before it was first seen. */
static uint64_t bytes_at(const struct hist *h, int64_t tick)
{
	if (tick < 0 || tick < h->first_tick || tick > h->last_tick)
		return 0;
	return h->bytes[tick % RING];
}

static void note_stack(struct live_model *m, const struct mt_stack *st)
{
	struct hist *h = hist_of(m, st->id);

	if (h->first_tick == -2) {
		h->first_tick = m->tick;
	} else {
		/* Every snapshot holds every stack, but should one skip a stack it held nothing. */
		int64_t k = h->last_tick + 1 > m->tick - RING ? h->last_tick + 1 : m->tick - RING;

		for (; k < m->tick; k++)
			h->bytes[k % RING] = 0;
	}
	h->bytes[m->tick % RING] = st->outstanding_bytes;
	h->last_tick = m->tick;
}

static void note_rates(struct live_model *m, const struct mt_snapshot *s)
{
	double dt = m->prev_ns && s->now_ns > m->prev_ns ? (s->now_ns - m->prev_ns) / 1e9 : 0;

	xgrow(&m->prev, &m->cap_prev, s->nprocs, sizeof(*m->prev));
	xgrow(&m->rates, &m->cap_rates, s->nprocs, sizeof(*m->rates));
	for (size_t i = 0; i < s->nprocs; i++) {
		const struct mt_summary *now = &s->procs[i].kind[MT_KIND_HEAP];
		struct proc_prev *p = &m->prev[i];
		struct live_rates *r = &m->rates[i];

		memset(r, 0, sizeof(*r));
		if (dt > 0 && i < m->nprev && p->pid == s->procs[i].pid) {
			r->allocs_per_s = (now->allocations - p->allocations) / dt;
			r->frees_per_s = (now->frees - p->frees) / dt;
			r->bytes_per_s = (now->allocated_bytes - p->allocated_bytes) / dt;
		}
		*p = (struct proc_prev){ s->procs[i].pid, now->allocations, now->frees,
					 now->allocated_bytes };
	}
	m->nprev = s->nprocs;
	m->prev_ns = s->now_ns;
}

static void note_heap(struct live_model *m, const struct mt_snapshot *s)
{
	xgrow(&m->heap, &m->cap_heap, s->nprocs, sizeof(*m->heap));
	for (size_t i = 0; i < s->nprocs; i++) {
		struct proc_heap *h = &m->heap[i];

		if (h->pid != s->procs[i].pid)	/* a new process in this slot starts afresh */
			*h = (struct proc_heap){ .pid = s->procs[i].pid };
		h->bytes[h->n % LIVE_SPARK_MAX] = s->procs[i].kind[MT_KIND_HEAP].outstanding_bytes;
		h->ts_ns[h->n % LIVE_SPARK_MAX] = s->now_ns;
		h->n++;
	}
}

void live_model__push(struct live_model *m, const struct mt_snapshot *s)
{
	m->tick++;
	m->now_ns[m->tick % RING] = s->now_ns;
	m->snap = s;
	for (size_t i = 0; i < s->nprocs; i++)
		for (size_t k = 0; k < s->procs[i].nstacks; k++)
			note_stack(m, &s->procs[i].stacks[k]);
	note_rates(m, s);
	note_heap(m, s);
}

uint64_t live_model__ticks(const struct live_model *m)
{
	return (uint64_t)(m->tick + 1);
}

/* The tick the window starts at: LIVE_WINDOW back, or the trace's start (-1) early on. */
static int64_t window_start(const struct live_model *m)
{
	return m->tick >= LIVE_WINDOW ? m->tick - LIVE_WINDOW : -1;
}

static uint64_t time_at(const struct live_model *m, int64_t tick)
{
	return tick < 0 ? m->snap->start_ns : m->now_ns[tick % RING];
}

double live_model__window_s(const struct live_model *m)
{
	if (!m->snap)
		return 0;
	return (m->snap->now_ns - time_at(m, window_start(m))) / 1e9;
}

bool live_model__suspect(const struct live_model *m, const struct mt_stack *st)
{
	int64_t ws = m->tick - LIVE_WINDOW;
	const struct hist *h;
	uint64_t start, prev;
	int rises = 0;

	if (ws < 0 || st->id >= m->cap_hist)
		return false;
	h = &m->hist[st->id];
	start = prev = bytes_at(h, ws);
	if (bytes_at(h, m->tick) <= start)
		return false;
	for (int64_t k = ws + 1; k <= m->tick; k++) {
		uint64_t b = bytes_at(h, k);

		if (b < start)
			return false;
		rises += b > prev;
		prev = b;
	}
	if (2 * rises < LIVE_WINDOW)
		return false;
	return st->oldest_ts_ns && st->oldest_ts_ns <= m->now_ns[ws % RING];
}

static bool matches(const struct mt_stack *st, const char *filter)
{
	char label[512];

	if (!filter || !*filter)
		return true;
	for (uint32_t i = 0; i < st->nframes; i++)
		if (strstr(label__frame(&st->frames[i], LABEL_WHERE, label, sizeof(label)), filter))
			return true;
	return false;
}

static void fill_row(struct live_model *m, const struct mt_proc *p, const struct mt_stack *st,
		     struct live_row *r)
{
	const struct hist *h = &m->hist[st->id];
	uint64_t now = st->outstanding_bytes;

	r->proc = p;
	r->stack = st;
	r->growth_interval = (int64_t)(now - bytes_at(h, m->tick - 1));
	r->growth_window = (int64_t)(now - bytes_at(h, window_start(m)));
	r->age_ms = mt_stack_age_ms(m->snap, st);
	r->suspect = live_model__suspect(m, st);
}

static int cmp_u64(uint64_t a, uint64_t b) { return a < b ? 1 : a > b ? -1 : 0; }	/* larger first */
static int cmp_i64(int64_t a, int64_t b) { return a < b ? 1 : a > b ? -1 : 0; }

static int tie(const struct live_row *a, const struct live_row *b)
{
	int c = cmp_u64(a->stack->outstanding_bytes, b->stack->outstanding_bytes);

	return c ? c : (a->stack->id > b->stack->id) - (a->stack->id < b->stack->id);
}

static int by_bytes(const void *x, const void *y) { return tie(x, y); }

static int by_growth(const void *x, const void *y)
{
	const struct live_row *a = x, *b = y;
	int c = cmp_i64(a->growth_window, b->growth_window);

	if (!c)
		c = cmp_i64(a->growth_interval, b->growth_interval);
	return c ? c : tie(a, b);
}

static int by_blocks(const void *x, const void *y)
{
	const struct live_row *a = x, *b = y;
	int c = cmp_u64(a->stack->outstanding_allocations, b->stack->outstanding_allocations);

	return c ? c : tie(a, b);
}

static int by_gc(const void *x, const void *y)
{
	const struct live_row *a = x, *b = y;
	int c = cmp_u64(a->stack->gc_reclaimed_bytes, b->stack->gc_reclaimed_bytes);

	return c ? c : tie(a, b);
}

static int by_age(const void *x, const void *y)
{
	const struct live_row *a = x, *b = y;
	int c = cmp_u64(a->age_ms, b->age_ms);

	return c ? c : tie(a, b);
}

size_t live_model__rows(struct live_model *m, enum live_sort sort, const char *filter,
			const struct live_row **rows)
{
	static int (*const cmp[])(const void *, const void *) = {
		[LIVE_SORT_BYTES] = by_bytes, [LIVE_SORT_GROWTH] = by_growth,
		[LIVE_SORT_BLOCKS] = by_blocks, [LIVE_SORT_AGE] = by_age, [LIVE_SORT_GC] = by_gc,
	};
	const struct mt_snapshot *s = m->snap;
	size_t n = 0;

	for (size_t i = 0; s && i < s->nprocs; i++) {
		const struct mt_proc *p = &s->procs[i];

		for (size_t k = 0; k < p->nstacks; k++) {
			const struct mt_stack *st = &p->stacks[k];

			if (!st->outstanding_bytes && !st->outstanding_allocations &&
			    !(sort == LIVE_SORT_GC && st->gc_reclaimed_bytes))
				continue;
			if (!matches(st, filter))
				continue;
			xgrow(&m->rows, &m->cap_rows, n + 1, sizeof(*m->rows));
			fill_row(m, p, st, &m->rows[n++]);
		}
	}
	if (n)
		qsort(m->rows, n, sizeof(*m->rows), cmp[sort]);
	*rows = m->rows;
	return n;
}

struct live_rates live_model__rates(const struct live_model *m, size_t proc)
{
	struct live_rates none = { 0 };

	return proc < m->nprev ? m->rates[proc] : none;
}

size_t live_model__heap_history(const struct live_model *m, size_t proc, uint64_t *out,
				size_t max, double *span_s)
{
	const struct proc_heap *h;
	uint64_t k, n;

	*span_s = 0;
	if (!m->snap || proc >= m->snap->nprocs || proc >= m->cap_heap)
		return 0;
	h = &m->heap[proc];
	n = h->n < LIVE_SPARK_MAX ? h->n : LIVE_SPARK_MAX;
	if (n > max)
		n = max;
	for (k = 0; k < n; k++)
		out[k] = h->bytes[(h->n - n + k) % LIVE_SPARK_MAX];
	if (n)
		*span_s = (h->ts_ns[(h->n - 1) % LIVE_SPARK_MAX] - h->ts_ns[(h->n - n) % LIVE_SPARK_MAX]) / 1e9;
	return n;
}

#define SPARK_LEVELS 8

/* The level of v between lo and hi, 0..SPARK_LEVELS-1, rounded to the nearest. */
static unsigned spark_level(uint64_t v, uint64_t lo, uint64_t hi)
{
	/* In floating point: (v - lo) * 7 overflows 64 bits for heaps past 2^61 bytes. */
	return hi > lo ? (unsigned)((double)(v - lo) / (double)(hi - lo) * (SPARK_LEVELS - 1) + 0.5) : 0;
}

size_t live_model__sparkline(const uint64_t *v, size_t n, size_t width, bool utf8, char *buf,
			     size_t len)
{
	static const char ascii[] = "_.-:=+*#";	/* SPARK_LEVELS of them */
	size_t cell = utf8 ? 3 : 1, out = 0, i;
	uint64_t lo = UINT64_MAX, hi = 0;

	if (!len)
		return 0;
	if (n > width)
		v += n - width, n = width;	/* the most recent values fit */
	if (n > (len - 1) / cell)
		v += n - (len - 1) / cell, n = (len - 1) / cell;
	for (i = 0; i < n; i++) {
		lo = v[i] < lo ? v[i] : lo;
		hi = v[i] > hi ? v[i] : hi;
	}
	for (i = 0; i < n; i++) {
		unsigned l = spark_level(v[i], lo, hi);

		if (utf8) {	/* U+2581 + l in UTF-8: E2 96 81+l */
			buf[out++] = (char)0xe2;
			buf[out++] = (char)0x96;
			buf[out++] = (char)(0x81 + l);
		} else {
			buf[out++] = ascii[l];
		}
	}
	buf[out] = 0;
	return n;
}
