// SPDX-License-Identifier: BSD-2-Clause
/* The model's one entry point: each event to the module it concerns, an exec to all of them. */
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "model/model.h"
#include "model/oom.h"

struct model *model__new(void)
{
	struct model *m = xcalloc(1, sizeof(*m));

	m->procs = procs__new();
	m->agg = agg__new(m->procs);
	m->res = resident__new(m->procs);
	m->series = series__new(m->procs);
	oom__own(m->procs);
	return m;
}

void model__free(struct model *m)
{
	if (!m)
		return;
	procs__free(m->procs);	/* first: each module gives back its parts */
	agg__free(m->agg);
	resident__free(m->res);
	series__free(m->series);
	free(m);
}

/*
 * The process became a new program. Its old blocks went with the old image: out of what is
 * outstanding, with its stacks and faults (the totals keep the counts of what it did); its
 * memory over time goes on. The comm it had (put in the event by the session, so a replay does
 * the same) joins the chain; a command's own start has none and adds nothing.
 */
static void exec_renew(struct model *m, const struct mt_event *e)
{
	struct proc *p = procs__get(m->procs, e->pid);
	const char *old = e->proc.old_comm;

	agg__drop_outstanding(m->agg, e->pid);
	procs__drop_part(m->procs, p, PROC_AGG);
	procs__drop_part(m->procs, p, PROC_RESIDENT);
	agg__proc(m->agg, e->pid);	/* still in the report, even if it allocates nothing more */
	if (old[0]) {
		if (p->nexec >= MT_EXEC_CHAIN)	/* keep the last ones: the nearest the program */
			memmove(p->exec_from[0], p->exec_from[1], sizeof(p->exec_from) - sizeof(p->exec_from[0]));
		memcpy(p->exec_from[p->nexec < MT_EXEC_CHAIN ? p->nexec : MT_EXEC_CHAIN - 1], old, 15);
		p->nexec++;
	}
	memset(p->comm, 0, sizeof(p->comm));
	memcpy(p->comm, e->proc.comm, 15);
}

bool model__apply_known(struct model *m, const struct mt_event *e, const struct agg_known *k)
{
	uint64_t made = agg__stacks_made(m->agg);
	const uint64_t *frames = k && k->frames ? k->frames : (const uint64_t *)e->frames;

	if (e->op == MT_OP_EXEC) {
		exec_renew(m, e);
		return false;
	}
	if (e->op == MT_OP_OOM) {
		oom__apply(m->procs, m->agg, e);
		return false;
	}
	agg__apply_known(m->agg, e, k);
	return resident__apply_frames(m->res, e, frames) || agg__stacks_made(m->agg) != made;
}

void model__prefetch(struct model *m, const struct mt_event *e, const struct agg_known *k,
		     bool near)
{
	agg__prefetch(m->agg, e, k, near);
}

bool model__apply(struct model *m, const struct mt_event *e)
{
	return model__apply_known(m, e, NULL);
}
