// SPDX-License-Identifier: BSD-2-Clause
/*
 * An OOM kill's picture. The event comes from the OOM killer's context, before the victim dies:
 * every allocation the victim made was put in the ring before it, and its exit (which frees its
 * blocks in the aggregate) after it, so the aggregate holds exactly what the victim held.
 */
#include <stdlib.h>

#include "lib/util.h"
#include "model/oom.h"

static void drop(void *owner, struct proc *p)
{
	struct oom_kill *k = p->part[PROC_OOM];

	(void)owner;
	free(k->stacks);
	free(k);
}

void oom__own(struct procs *procs)
{
	procs__own(procs, PROC_OOM, drop, NULL);
}

static int by_outstanding(const void *x, const void *y)
{
	const struct oom_stack *a = x, *b = y;

	if (a->outstanding_bytes != b->outstanding_bytes)
		return a->outstanding_bytes < b->outstanding_bytes ? 1 : -1;
	return a->id < b->id ? -1 : a->id > b->id;
}

void oom__apply(struct procs *procs, const struct agg *a, const struct mt_event *e)
{
	struct proc *p = procs__find(procs, e->pid);
	const struct agg_proc *ap = agg__find_proc(a, e->pid);
	struct oom_kill *k;

	if (!p || !ap || p->part[PROC_OOM])	/* not traced; or chosen again (once is what counts) */
		return;
	k = xcalloc(1, sizeof(*k));
	k->ts_ns = e->ts_ns;
	k->rss_bytes = e->oom.rss_bytes;
	k->anon_bytes = e->oom.anon_bytes;
	k->limit_bytes = e->oom.limit_bytes;
	k->flags = e->oom.flags;
	for (int i = 0; i < MT_KIND__COUNT; i++)
		k->sum[i] = ap->sum[i];
	k->stacks = xcalloc(ap->nstack_ids + 1, sizeof(*k->stacks));
	for (size_t i = 0; i < ap->nstack_ids; i++) {
		const struct agg_stack *st = agg__stack(a, ap->stack_ids[i]);

		if (!st->outstanding_bytes && !st->outstanding_allocations)
			continue;
		k->stacks[k->nstacks++] = (struct oom_stack){ ap->stack_ids[i], st->outstanding_bytes,
							      st->outstanding_allocations,
							      st->allocated_bytes, st->allocations };
	}
	qsort(k->stacks, k->nstacks, sizeof(*k->stacks), by_outstanding);
	p->part[PROC_OOM] = k;
}
