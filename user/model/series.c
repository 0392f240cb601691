// SPDX-License-Identifier: BSD-2-Clause
/*
 * Memory over time, per process: VmRSS read from /proc/PID/status (the kernel's own accounting)
 * beside the outstanding heap and mmap bytes the aggregate holds at that moment. The series is
 * bounded: when full, each pair of neighbours becomes one point keeping the larger values (so a
 * spike stays visible) and each later point gathers twice as many samples. The peak sample is
 * kept apart, never merged away.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/series.h"
#include "lib/util.h"

/* A process's part (PROC_SERIES in the registry). */
struct proc_series {
	uint32_t pid;
	struct mt_sample *x;
	size_t n;
	uint64_t stride;	/* merge this many raw samples into one (doubles when full) */
	uint64_t pending;	/* raw samples folded into x[n - 1] so far */
	struct mt_sample peak_rss;
	struct mt_sample last;	/* the latest raw sample, merged into nothing */
	uint64_t hwm;
};

struct series {
	struct procs *procs;
	uint64_t next_ns;
	series_sample_fn on_sample;
	void *on_sample_ctx;
};

static void drop_part(void *owner, struct proc *proc)
{
	struct proc_series *p = proc->part[PROC_SERIES];

	(void)owner;
	free(p->x);
	free(p);
}

struct series *series__new(struct procs *procs)
{
	struct series *s = xcalloc(1, sizeof(*s));

	s->procs = procs;
	procs__own(procs, PROC_SERIES, drop_part, s);
	return s;
}

/* The registry's processes are given back first (procs__free). */
void series__free(struct series *s)
{
	free(s);
}

void series__on_sample(struct series *s, series_sample_fn fn, void *ctx)
{
	s->on_sample = fn;
	s->on_sample_ctx = ctx;
}

static struct proc_series *find(const struct series *s, uint32_t pid)
{
	struct proc *p = procs__find(s->procs, pid);

	return p ? p->part[PROC_SERIES] : NULL;
}

static struct proc_series *get(struct series *s, uint32_t pid)
{
	struct proc *proc = procs__get(s->procs, pid);
	struct proc_series *p = proc->part[PROC_SERIES];

	if (p)
		return p;
	p = xcalloc(1, sizeof(*p));
	p->pid = pid;
	p->x = xcalloc(MT_SERIES_MAX, sizeof(*p->x));
	p->stride = 1;
	proc->part[PROC_SERIES] = p;
	return p;
}

/* Into a: the first one's time, the larger of each value. */
static void merge(struct mt_sample *a, const struct mt_sample *b)
{
	if (b->rss_bytes > a->rss_bytes)
		a->rss_bytes = b->rss_bytes;
	if (b->heap_bytes > a->heap_bytes)
		a->heap_bytes = b->heap_bytes;
	if (b->mmap_bytes > a->mmap_bytes)
		a->mmap_bytes = b->mmap_bytes;
}

static void halve(struct proc_series *p)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n; i += 2) {
		p->x[n] = p->x[i];
		if (i + 1 < p->n)
			merge(&p->x[n], &p->x[i + 1]);
		n++;
	}
	p->n = n;
	p->stride *= 2;
}

void series__add(struct series *s, uint32_t pid, const struct mt_sample *x, uint64_t hwm_bytes)
{
	struct proc_series *p = get(s, pid);

	if (x->rss_bytes > p->peak_rss.rss_bytes)
		p->peak_rss = *x;
	p->last = *x;
	if (hwm_bytes > p->hwm)
		p->hwm = hwm_bytes;
	if (p->n && p->pending < p->stride) {	/* the last point is still gathering its share */
		merge(&p->x[p->n - 1], x);
		p->pending++;
		return;
	}
	if (p->n == MT_SERIES_MAX)	/* even: after halving, the last point is complete */
		halve(p);
	p->x[p->n++] = *x;
	p->pending = 1;
}

/* VmRSS and VmHWM in bytes; false when the process is gone or a zombie (no memory left). */
static bool read_status(uint32_t pid, uint64_t *rss, uint64_t *hwm)
{
	char path[64], line[256];
	unsigned long long kb;
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%" PRIu32 "/status", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (found < 2 && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "VmRSS: %llu kB", &kb) == 1)
			*rss = kb * 1024, found++;
		else if (sscanf(line, "VmHWM: %llu kB", &kb) == 1)
			*hwm = kb * 1024, found++;
	}
	fclose(f);
	return found == 2;
}

void series__sample(struct series *s, const struct agg *a, uint32_t pid, uint64_t now_ns)
{
	const struct agg_proc *ap = agg__find_proc(a, pid);
	struct mt_sample x = { .ts_ns = now_ns };
	uint64_t hwm = 0;

	if (!ap || !read_status(pid, &x.rss_bytes, &hwm))
		return;
	x.heap_bytes = ap->sum[MT_KIND_HEAP].outstanding_bytes;
	x.mmap_bytes = ap->sum[MT_KIND_MMAP].outstanding_bytes;
	series__add(s, pid, &x, hwm);
	if (s->on_sample)
		s->on_sample(s->on_sample_ctx, pid, &x, hwm);
}

void series__tick(struct series *s, const struct agg *a, uint64_t now_ns)
{
	if (now_ns < s->next_ns)
		return;
	s->next_ns = now_ns + MT_SERIES_INTERVAL_NS;
	for (size_t i = 0; i < procs__n(s->procs); i++) {
		const struct proc *p = procs__at(s->procs, i);

		if (!p->exited && p->part[PROC_AGG])
			series__sample(s, a, p->pid, now_ns);
	}
}

bool series__last(const struct series *s, uint32_t pid, struct mt_sample *out)
{
	const struct proc_series *p = find(s, pid);

	if (!p || !p->n)
		return false;
	*out = p->last;
	return true;
}

void series__fill(const struct series *s, uint32_t pid, struct mt_proc *out)
{
	const struct proc_series *p = find(s, pid);
	struct mt_sample *x;

	out->nsamples = 0;
	out->samples = NULL;
	if (!p)
		return;
	x = xcalloc(p->n + 1, sizeof(*x));
	memcpy(x, p->x, p->n * sizeof(*x));
	out->samples = x;
	out->nsamples = p->n;
	out->peak.rss_bytes = p->peak_rss.rss_bytes;
	out->peak.rss_ts_ns = p->peak_rss.ts_ns;
	out->peak.rss_hwm_bytes = p->hwm;
}
