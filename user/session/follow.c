// SPDX-License-Identifier: BSD-2-Clause
/*
 * -f: follow a process tree. ptrace stops a followed process at fork and vfork. A fork child
 * starts as a copy of its parent's address space, held at its first instruction until its own
 * probes (the parent's plan, read from its mappings) are attached, so none of its allocations
 * escape. Execs, of followed processes as of any other, are the session's (trace.c: renew).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>

#include "probe/allocator.h"
#include "lib/procmem.h"
#include "session/follow.h"
#include "session/labels.h"
#include "lib/util.h"

struct tree {
	struct probe *probe;
	struct model *m;
	int *pending;			/* children forked, not yet adopted */
	size_t npending, cap_pending;
};

struct tree *tree__new(struct probe *probe, struct model *m)
{
	struct tree *tr = xcalloc(1, sizeof(*tr));

	tr->probe = probe;
	tr->m = m;
	return tr;
}

void tree__free(struct tree *tr)
{
	if (!tr)
		return;
	free(tr->pending);
	free(tr);
}

static void name_process(struct tree *tr, const struct target *t)
{
	struct proc *p = procs__get(tr->m->procs, t->pid);

	agg__proc(tr->m->agg, t->pid);	/* in the report, even if it allocates nothing */
	memcpy(p->comm, t->comm, sizeof(p->comm));
	free(p->cmdline);
	p->cmdline = procmem__cmdline(t->pid);
	labels__read(p, true);
}

static void on_event(struct target *t, int event, unsigned long msg, void *ctx)
{
	struct tree *tr = ctx;

	xgrow(&tr->pending, &tr->cap_pending, tr->npending + 1, sizeof(*tr->pending));
	tr->pending[tr->npending++] = (int)msg;
	mt_debug("pid %d (%s) forked pid %lu", t->pid, t->comm, msg);
}

void tree__follow(struct tree *tr, struct target *t)
{
	t->on_event = on_event;
	t->event_ctx = tr;
}

int tree__adopt(struct tree *tr, struct target **ts, int *n, size_t *cap)
{
	int added = 0;

	for (size_t i = 0; i < tr->npending; i++) {
		struct alloc_plan plan;
		struct target *t;

		xgrow(ts, cap, *n + 1, sizeof(**ts));
		t = &(*ts)[*n];
		target__adopt(t, tr->pending[i], &(*ts)[0]);
		(*n)++;
		added++;
		if (allocator__plan_pid(t->pid, &plan) == 0) {
			probe__attach_plan(tr->probe, t->pid, &plan);
			allocator__release(&plan);
		}
		name_process(tr, t);
	}
	tr->npending = 0;
	return added;
}
