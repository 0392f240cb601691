// SPDX-License-Identifier: BSD-2-Clause
/*
 * Ids to frames, for the stacks the BPF programs sent by id (bpf/stackid.bpf.h), kept per
 * process: an id is one process's (its pid and start time are hashed in), so a process's stacks
 * go when it ends, and no id of a later process can name them. A process's table holds each
 * distinct stack it sent once, as the aggregate does.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "lib/htab.h"
#include "lib/util.h"
#include "probe/stackid.h"

struct stored {
	uint32_t n;
	uint64_t at;		/* index of the first frame in words */
};

struct proc_ids {
	struct htab *ids;	/* id -> struct stored */
	uint64_t *words;
	size_t nwords, cap;
};

struct stackids {
	struct htab *procs;	/* pid + 1 -> struct proc_ids * */
	uint32_t last_pid;	/* most events come from the process of the one before */
	struct proc_ids *last;
	struct stackid_stats stats;
	struct mt_event scratch;
};

struct stackids *stackids__new(void)
{
	struct stackids *t = xcalloc(1, sizeof(*t));

	t->procs = htab__new(sizeof(struct proc_ids *));
	return t;
}

static void proc_free(struct proc_ids *p)
{
	htab__free(p->ids);
	free(p->words);
	free(p);
}

static int free_each(uint64_t key, void *value, void *ctx)
{
	(void)key;
	(void)ctx;
	proc_free(*(struct proc_ids **)value);
	return 0;
}

void stackids__free(struct stackids *t)
{
	if (!t)
		return;
	htab__each(t->procs, free_each, NULL);
	htab__free(t->procs);
	free(t);
}

/* pid's table; created when create, else NULL if it has none. */
static struct proc_ids *proc_ids(struct stackids *t, uint32_t pid, bool create)
{
	struct proc_ids **slot;
	bool existed;

	if (t->last && t->last_pid == pid)
		return t->last;
	if (create) {
		slot = htab__insert(t->procs, (uint64_t)pid + 1, &existed);
		if (!existed) {
			*slot = xcalloc(1, sizeof(**slot));
			(*slot)->ids = htab__new(sizeof(struct stored));
		}
	} else {
		slot = htab__lookup(t->procs, (uint64_t)pid + 1);
		if (!slot)
			return NULL;
	}
	t->last_pid = pid;
	return t->last = *slot;
}

void stackids__forget(struct stackids *t, uint32_t pid)
{
	struct proc_ids *p;

	if (!htab__remove(t->procs, (uint64_t)pid + 1, &p))
		return;
	if (t->last == p)
		t->last = NULL;
	t->stats.bytes -= p->nwords * sizeof(*p->words);
	proc_free(p);
}

/* The frames kept under id, and their count in *n; a count given (not ANY_COUNT) must match. */
#define ANY_COUNT UINT32_MAX

static const uint64_t *find(const struct proc_ids *p, uint64_t id, uint32_t *n)
{
	const struct stored *s = p ? htab__lookup(p->ids, id) : NULL;

	if (!s || (*n != ANY_COUNT && s->n != *n))
		return NULL;
	*n = s->n;
	return p->words + s->at;
}

/* e (its header filled) with the frames of pid's id, or none, counted, when they are not known. */
static const struct mt_event *by_id(struct stackids *t, struct mt_event *e, uint64_t id, uint32_t n,
				    size_t *size)
{
	const uint64_t *frames = find(proc_ids(t, e->pid, false), id, &n);

	t->stats.by_id++;
	if (!frames) {
		t->stats.unknown++;
		n = 0;
	}
	if (n)
		memcpy(e->frames, frames, n * sizeof(*frames));
	e->nframes = n;
	*size = MT_EVENT_HDR_SIZE + 8 * n;
	return e;
}

/* A stack sent in full: kept, unless it is there already. */
static void keep(struct stackids *t, struct proc_ids *p, uint64_t id, const uint64_t *frames,
		 uint32_t n)
{
	struct stored *s;
	bool existed;

	s = htab__insert(p->ids, id, &existed);
	if (existed) {
		if (s->n == n && !memcmp(p->words + s->at, frames, n * sizeof(*frames)))
			return;		/* sent again: by another CPU, or after its slot was taken */
		t->stats.clashes++;	/* the later stack has the id from now on */
	}
	xreserve(&p->words, &p->cap, p->nwords + n, sizeof(*p->words));
	memcpy(p->words + p->nwords, frames, n * sizeof(*frames));
	s->n = n;
	s->at = p->nwords;
	p->nwords += n;
	t->stats.bytes += n * sizeof(*frames);
}

const struct mt_event *stackids__expand(struct stackids *t, const struct mt_event *raw, size_t *size)
{
	uint32_t n = raw->nframes & MT_FRAMES_MASK;
	struct mt_event *e = &t->scratch;
	const uint64_t *frames;

	if (!(raw->nframes & (MT_FRAMES_NEW | MT_FRAMES_BY_ID)))
		return raw;
	if ((raw->nframes & MT_FRAMES_BY_ID) && *size >= MT_EVENT_HDR_SIZE + 8) {
		memcpy(e, raw, MT_EVENT_HDR_SIZE);
		return by_id(t, e, raw->frames[0], n, size);
	}
	if (!(raw->nframes & MT_FRAMES_NEW) || n >= MT_MAX_FRAMES || *size < MT_EVENT_HDR_SIZE + 8 * (n + 1))
		return NULL;
	frames = (const uint64_t *)raw->frames;
	keep(t, proc_ids(t, raw->pid, true), raw->frames[n], frames, n);
	t->stats.full++;
	memcpy(e, raw, MT_EVENT_HDR_SIZE);
	memcpy(e->frames, frames, n * sizeof(*frames));
	e->nframes = n;
	*size = MT_EVENT_HDR_SIZE + 8 * n;
	return e;
}

const struct mt_event *stackids__expand_short(struct stackids *t, const struct mt_alloc_by_id *a,
					       size_t *size)
{
	struct mt_event *e = &t->scratch;

	if (*size < MT_ALLOC_BY_ID_SIZE || !mt_op_allocates(a->op))
		return NULL;
	memset(e, 0, MT_EVENT_HDR_SIZE);
	e->op = a->op;
	e->pid = a->pid;
	e->tid = a->tid;
	e->ts_ns = a->ts_ns;
	e->addr = a->addr;
	e->size = a->size;
	return by_id(t, e, a->stack_id, ANY_COUNT, size);
}

void stackids__stats(const struct stackids *t, struct stackid_stats *out)
{
	*out = t->stats;
	out->processes = htab__count(t->procs);
}
