// SPDX-License-Identifier: BSD-2-Clause
/* The process registry: entries in order of first sight, found by pid through a hash. */
#include <stdlib.h>

#include "lib/htab.h"
#include "lib/util.h"
#include "model/proc.h"

struct procs {
	struct proc **v;
	size_t n, cap;
	struct htab *by_pid;		/* pid + 1 -> index into v */
	struct {
		proc_drop_fn drop;
		void *owner;
	} owner[PROC__PARTS];
};

struct procs *procs__new(void)
{
	struct procs *r = xcalloc(1, sizeof(*r));

	r->by_pid = htab__new(sizeof(uint32_t));
	return r;
}

void procs__free(struct procs *r)
{
	if (!r)
		return;
	while (r->n)
		procs__forget(r, r->v[r->n - 1]->pid);
	free(r->v);
	htab__free(r->by_pid);
	free(r);
}

void procs__own(struct procs *r, enum proc_part part, proc_drop_fn drop, void *owner)
{
	r->owner[part].drop = drop;
	r->owner[part].owner = owner;
}

struct proc *procs__find(const struct procs *r, uint32_t pid)
{
	uint32_t *i = htab__lookup(r->by_pid, (uint64_t)pid + 1);

	return i ? r->v[*i] : NULL;
}

struct proc *procs__get(struct procs *r, uint32_t pid)
{
	struct proc *p = procs__find(r, pid);

	if (p)
		return p;
	p = xcalloc(1, sizeof(*p));
	p->pid = pid;
	xgrow(&r->v, &r->cap, r->n + 1, sizeof(*r->v));
	*(uint32_t *)htab__insert(r->by_pid, (uint64_t)pid + 1, NULL) = r->n;
	r->v[r->n++] = p;
	return p;
}

size_t procs__n(const struct procs *r) { return r->n; }
struct proc *procs__at(const struct procs *r, size_t i) { return r->v[i]; }

void procs__drop_part(struct procs *r, struct proc *p, enum proc_part part)
{
	if (p->part[part] && r->owner[part].drop)
		r->owner[part].drop(r->owner[part].owner, p);
	p->part[part] = NULL;
}

static void take(char **field, char **value, bool all)
{
	if (!*value && !all)
		return;
	free(*field);
	*field = *value;
	*value = NULL;
}

void procs__set_labels(struct proc *p, struct proc_labels *l, bool all)
{
	take(&p->labels.exe, &l->exe, all);
	take(&p->labels.cgroup, &l->cgroup, all);
	take(&p->labels.container_id, &l->container_id, all);
	take(&p->labels.service_name, &l->service_name, all);
}

static void labels_release(struct proc *p)
{
	free(p->labels.exe);
	free(p->labels.cgroup);
	free(p->labels.container_id);
	free(p->labels.service_name);
	free(p->memcg);
}

/* The entries keep their order of first sight: the later ones move down one. */
void procs__forget(struct procs *r, uint32_t pid)
{
	uint32_t i;
	struct proc *p;

	if (!htab__remove(r->by_pid, (uint64_t)pid + 1, &i))
		return;
	p = r->v[i];
	for (int k = 0; k < PROC__PARTS; k++)
		procs__drop_part(r, p, k);
	for (size_t j = i + 1; j < r->n; j++) {
		r->v[j - 1] = r->v[j];
		*(uint32_t *)htab__lookup(r->by_pid, (uint64_t)r->v[j - 1]->pid + 1) = j - 1;
	}
	r->n--;
	labels_release(p);
	free(p->cmdline);
	free(p);
}
