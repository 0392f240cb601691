// SPDX-License-Identifier: BSD-2-Clause
/*
 * An OOM kill of a traced process. The model freezes what the victim held (model/oom.c); here
 * the event gets what only this machine knows, and the picture is said at once and written as a
 * pprof profile, so a fleet's collector has it even when memtrace runs as a service for weeks.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cgroup.h"
#include "lib/util.h"
#include "present/label.h"
#include "present/pprof.h"
#include "session/oom_kill.h"

bool oomkill__complete(const struct model *m, const struct mt_event *raw, struct mt_event *out)
{
	const struct proc *p = procs__find(m->procs, raw->pid);
	struct mt_sample last;

	if (!p || !p->part[PROC_AGG])
		return false;
	memcpy(out, raw, MT_EVENT_HDR_SIZE);
	out->nframes = 0;
	out->oom.limit_bytes = cgroup__memory_limit(p->memcg);
	if (!(out->oom.flags & MT_OOM_RSS) && series__last(m->series, raw->pid, &last)) {
		out->oom.rss_bytes = last.rss_bytes;	/* up to a sampling interval before the kill */
		out->oom.flags |= MT_OOM_RSS_SAMPLED;
	}
	return true;
}

/* The process as it was when chosen: its frozen stacks, counted up to the kill. */
static void oom_view(const struct mt_snapshot *s, const struct mt_proc *p, struct mt_snapshot *view,
		     struct mt_proc *vp)
{
	*vp = *p;
	memcpy(vp->kind, p->oom->kind, sizeof(vp->kind));
	vp->nstacks = p->oom->nstacks;
	vp->stacks = p->oom->stacks;
	*view = *s;
	view->procs = vp;
	view->nprocs = 1;
	view->now_ns = p->oom->ts_ns;
}

static void say(const struct mt_proc *p, const char *path)
{
	const struct mt_oom *o = p->oom;
	const struct mt_stack *top = o->nstacks ? &o->stacks[0] : NULL;
	char a[16], b[16], c[16], d[16], label[512] = "";

	if (top && top->nframes)
		label__frame(&top->frames[top->site], LABEL_WHERE, label, sizeof(label));
	mt_warn("pid %u (%s) chosen by the OOM killer: it held %s of heap in %" PRIu64 " blocks%s%s%s%s; "
		"rss %s, memory limit %s%s%s", p->pid, p->comm,
		mt_fmt_bytes(o->kind[MT_KIND_HEAP].outstanding_bytes, a),
		o->kind[MT_KIND_HEAP].outstanding_allocations, top ? ", most (" : "",
		top ? mt_fmt_bytes(top->outstanding_bytes, d) : "", top ? ") by " : "",
		top ? (label[0] ? label : "[stack not captured]") : "",
		o->rss_bytes ? mt_fmt_bytes(o->rss_bytes, b) : "unknown",
		o->limit_bytes ? mt_fmt_bytes(o->limit_bytes, c) : "none", path ? "; profile " : "",
		path ? path : "");
}

void oomkill__report(const struct mt_snapshot *s, uint32_t pid, struct pprof_dir *pd, bool tell)
{
	struct mt_snapshot view;
	struct mt_proc vp;
	char *path = NULL;

	for (size_t i = 0; i < s->nprocs; i++) {
		const struct mt_proc *p = &s->procs[i];

		if (p->pid != pid || !p->oom)
			continue;
		oom_view(s, p, &view, &vp);
		if (pd)
			path = pprof_dir__write_oom(pd, &view, pid);
		if (tell)
			say(p, path);
		free(path);
		return;
	}
}
