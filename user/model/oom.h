/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What a process held when the kernel's OOM killer chose it: the aggregate's figures for it,
 * frozen at the event, before its exit frees its blocks. One per process (its PROC_OOM part).
 */
#ifndef MT_OOM_H
#define MT_OOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memtrace.h"
#include "model/aggregate.h"
#include "model/proc.h"
#include "model/snapshot.h"

/* One stack's figures at the kill; its frames are the aggregate's stack id's. */
struct oom_stack {
	uint32_t id;
	uint64_t outstanding_bytes, outstanding_allocations;
	uint64_t allocated_bytes, allocations;
};

struct oom_kill {
	uint64_t ts_ns;
	uint64_t rss_bytes, anon_bytes, limit_bytes;
	uint32_t flags;			/* MT_OOM_* of the event */
	struct mt_summary sum[MT_KIND__COUNT];
	size_t nstacks;
	struct oom_stack *stacks;	/* those holding anything, largest outstanding first */
};

/* The registry gives each process's part back through this module. */
void oom__own(struct procs *procs);

/* The OOM killer chose e->pid (MT_OP_OOM): freeze what the aggregate holds of it. */
void oom__apply(struct procs *procs, const struct agg *a, const struct mt_event *e);

/* What p held when it was chosen, or NULL. */
static inline const struct oom_kill *oom__of(const struct proc *p)
{
	return p->part[PROC_OOM];
}

#endif
