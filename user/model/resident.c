// SPDX-License-Identifier: BSD-2-Clause
/*
 * Resident growth: each page fault counted against the user stack that touched the memory and
 * the kind of mapping it hit, file mappings also by path. Fed by the same events as the aggregate.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/htab.h"
#include "lib/procmaps.h"
#include "model/resident.h"
#include "lib/util.h"

_Static_assert(MT_MAP__COUNT <= 8, "struct mt_resident.by_map holds 8 kinds");

static const char UNKNOWN_FILE[] = "[unknown file]";

struct res_stack {
	uint32_t pid, map;		/* pid 0: free (its process was forgotten) */
	uint32_t nframes;
	uint64_t *frames;
	uint64_t key;			/* in stack_ids */
	struct mt_faults faults;
};

struct res_file {
	char *path;
	struct mt_faults faults;
};

/* File faults counted under UNKNOWN_FILE, by the start of the mapping they hit. */
struct res_unnamed {
	uint64_t start;
	struct mt_faults faults;
};

/* A process's part (PROC_RESIDENT in the registry). */
struct res_proc {
	uint32_t pid;
	struct mt_faults by_map[MT_MAP__COUNT];
	uint32_t *stack_ids;		/* its fault stacks */
	size_t nstack_ids, cap_stack_ids;
	struct res_file *files;
	size_t nfiles, cap_files;
	struct res_unnamed *unnamed;	/* to name once the exit's mappings come (-a) */
	size_t nunnamed, cap_unnamed;
	struct procmaps maps;		/* to name file mappings; re-read when one is not in it */
};

struct resident {
	struct res_stack *stacks;
	size_t nstacks, cap_stacks;
	struct htab *stack_ids;		/* hash(pid, map, frames) -> id + 1 */
	uint32_t *free_ids;		/* stacks of forgotten processes, to reuse */
	size_t nfree_ids, cap_free_ids;
	struct procs *procs;
	uint64_t page_size;
	bool offline;			/* replay: paths come from resident__set_path() only */
	resident_path_fn on_path;
	void *on_path_ctx;
};

static void drop_part(void *owner, struct proc *proc);

struct resident *resident__new(struct procs *procs)
{
	struct resident *r = xcalloc(1, sizeof(*r));
	long ps = sysconf(_SC_PAGESIZE);

	r->page_size = ps > 0 ? (uint64_t)ps : 4096;
	r->stack_ids = htab__new(sizeof(uint32_t));
	r->procs = procs;
	procs__own(procs, PROC_RESIDENT, drop_part, r);
	return r;
}

/* The registry's processes are given back first (procs__free). */
void resident__free(struct resident *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nstacks; i++)
		free(r->stacks[i].frames);
	free(r->stacks);
	free(r->free_ids);
	htab__free(r->stack_ids);
	free(r);
}

static struct res_proc *find_proc(const struct resident *r, uint32_t pid)
{
	struct proc *p = procs__find(r->procs, pid);

	return p ? p->part[PROC_RESIDENT] : NULL;
}

static struct res_proc *get_proc(struct resident *r, uint32_t pid)
{
	struct proc *proc = procs__get(r->procs, pid);
	struct res_proc *p = proc->part[PROC_RESIDENT];

	if (!p) {
		p = xcalloc(1, sizeof(*p));
		p->pid = pid;
		proc->part[PROC_RESIDENT] = p;
	}
	return p;
}

/* The registry forgets the process, or an exec ends its program: its faults and stacks go. */
static void drop_part(void *owner, struct proc *proc)
{
	struct resident *r = owner;
	struct res_proc *p = proc->part[PROC_RESIDENT];

	for (size_t i = 0; i < p->nstack_ids; i++) {
		struct res_stack *st = &r->stacks[p->stack_ids[i]];

		htab__remove(r->stack_ids, st->key, NULL);
		free(st->frames);
		memset(st, 0, sizeof(*st));
		xgrow(&r->free_ids, &r->cap_free_ids, r->nfree_ids + 1, sizeof(*r->free_ids));
		r->free_ids[r->nfree_ids++] = p->stack_ids[i];
	}
	free(p->stack_ids);
	for (size_t f = 0; f < p->nfiles; f++)
		free(p->files[f].path);
	free(p->files);
	free(p->unnamed);
	procmaps__release(&p->maps);
	free(p);
}

static uint64_t stack_key(uint32_t pid, uint32_t map, const uint64_t *frames, size_t len, uint64_t seed)
{
	return mt_hash(frames, len, seed ^ ((uint64_t)pid << 8 | map)) | 1;
}

/* Full-content keys, rehashed on collision (as in aggregate.c): two stacks are never merged. */
static uint32_t stack_id(struct resident *r, struct res_proc *p, const struct mt_event *e,
			 const uint64_t *frames, uint32_t map, bool *fresh)
{
	size_t len = e->nframes * sizeof(*frames);

	for (uint64_t seed = 0;; seed++) {
		uint64_t key = stack_key(e->pid, map, frames, len, seed);
		uint32_t *id = htab__insert(r->stack_ids, key, fresh);
		struct res_stack *s;

		*fresh = !*fresh;
		if (!*fresh) {
			s = &r->stacks[*id - 1];
			if (s->pid == e->pid && s->map == map && s->nframes == e->nframes &&
			    !memcmp(s->frames, frames, len))
				return *id - 1;
			continue;
		}
		if (r->nfree_ids) {
			*id = r->free_ids[--r->nfree_ids] + 1;
		} else {
			xgrow(&r->stacks, &r->cap_stacks, r->nstacks + 1, sizeof(*r->stacks));
			*id = ++r->nstacks;
		}
		s = memset(&r->stacks[*id - 1], 0, sizeof(*s));
		s->pid = e->pid;
		s->map = map;
		s->key = key;
		s->nframes = e->nframes;
		s->frames = xmalloc(len ? len : 1);
		memcpy(s->frames, frames, len);
		xgrow(&p->stack_ids, &p->cap_stack_ids, p->nstack_ids + 1, sizeof(*p->stack_ids));
		p->stack_ids[p->nstack_ids++] = *id - 1;
		return *id - 1;
	}
}

/* The path of the file mapping that starts at start, re-reading the maps once if need be. */
static const char *file_path(const struct resident *r, struct res_proc *p, uint64_t start)
{
	const char *path = UNKNOWN_FILE;	/* unmapped, or the process gone, before we looked */

	for (int pass = 0; pass < 2; pass++) {
		const struct pmap *m = procmaps__find(&p->maps, start);

		if (m && m->start == start && m->path[0]) {
			path = m->path;
			break;
		}
		if (pass == 0 && !r->offline) {
			procmaps__release(&p->maps);
			procmaps__read((int)p->pid, &p->maps);
		}
	}
	if (r->on_path)
		r->on_path(r->on_path_ctx, p->pid, start, path);
	return path;
}

void resident__on_path(struct resident *r, resident_path_fn fn, void *ctx)
{
	r->on_path = fn;
	r->on_path_ctx = ctx;
}

void resident__offline(struct resident *r) { r->offline = true; }

void resident__set_path(struct resident *r, uint32_t pid, uint64_t start, const char *path)
{
	struct res_proc *p = get_proc(r, pid);
	struct procmaps *m = &p->maps;
	size_t at = 0;

	while (at < m->n && m->maps[at].start < start)
		at++;
	if (at < m->n && m->maps[at].start == start) {
		free(m->maps[at].path);
	} else {	/* one entry per start, in order: a procmaps__find() table */
		struct pmap *grown = xcalloc(m->n + 1, sizeof(*grown));	/* a process maps few files */

		for (size_t i = 0; i < m->n; i++)	/* (memcpy may not take the NULL of an empty list) */
			grown[i + (i >= at)] = m->maps[i];
		free(m->maps);
		m->maps = grown;
		m->n++;
		m->maps[at].start = start;
		m->maps[at].end = start + 1;
	}
	m->maps[at].path = xstrdup(path);
}

size_t resident__nstacks(const struct resident *r) { return r->nstacks; }

const uint64_t *resident__stack(const struct resident *r, size_t i, uint32_t *pid, uint32_t *nframes)
{
	*pid = r->stacks[i].pid;
	*nframes = r->stacks[i].nframes;
	return r->stacks[i].frames;
}

static void add(struct mt_faults *to, const struct mt_faults *one)
{
	to->minor += one->minor;
	to->major += one->major;
	to->bytes += one->bytes;
	to->unsized += one->unsized;
}

static struct res_file *find_file(const struct res_proc *p, const char *path)
{
	for (size_t i = 0; i < p->nfiles; i++)	/* a process maps tens of files, not more */
		if (!strcmp(p->files[i].path, path))
			return &p->files[i];
	return NULL;
}

static void count_file(struct res_proc *p, const char *path, const struct mt_faults *one)
{
	struct res_file *f = find_file(p, path);

	if (!f) {
		xgrow(&p->files, &p->cap_files, p->nfiles + 1, sizeof(*p->files));
		f = memset(&p->files[p->nfiles++], 0, sizeof(*f));
		f->path = xstrdup(path);
	}
	add(&f->faults, one);
}

static void count_file_fault(const struct resident *r, struct res_proc *p, uint64_t start,
			     const struct mt_faults *one)
{
	const char *path = file_path(r, p, start);
	struct res_unnamed *u = NULL;

	count_file(p, path, one);
	if (path != UNKNOWN_FILE)
		return;
	for (size_t i = 0; i < p->nunnamed && !u; i++)
		if (p->unnamed[i].start == start)
			u = &p->unnamed[i];
	if (!u) {
		xgrow(&p->unnamed, &p->cap_unnamed, p->nunnamed + 1, sizeof(*p->unnamed));
		u = memset(&p->unnamed[p->nunnamed++], 0, sizeof(*u));
		u->start = start;
	}
	add(&u->faults, one);
}

void resident__name_exited(struct resident *r, uint32_t pid, const struct procmaps *maps)
{
	struct res_proc *p = find_proc(r, pid);
	struct mt_faults moved = { 0 };
	struct res_file *unknown;

	if (!p)
		return;
	for (size_t i = 0; i < p->nunnamed; i++) {
		const struct res_unnamed *u = &p->unnamed[i];
		const struct pmap *m = procmaps__find(maps, u->start);

		if (m && m->start == u->start && m->path[0]) {
			count_file(p, m->path, &u->faults);
			add(&moved, &u->faults);
		}
	}
	unknown = find_file(p, UNKNOWN_FILE);
	if (unknown) {
		unknown->faults.minor -= moved.minor;
		unknown->faults.major -= moved.major;
		unknown->faults.bytes -= moved.bytes;
		unknown->faults.unsized -= moved.unsized;
		if (!unknown->faults.minor && !unknown->faults.major) {	/* all named */
			free(unknown->path);
			*unknown = p->files[--p->nfiles];
		}
	}
	free(p->unnamed);
	p->unnamed = NULL;
	p->nunnamed = p->cap_unnamed = 0;
}

bool resident__apply(struct resident *r, const struct mt_event *e)
{
	return resident__apply_frames(r, e, (const uint64_t *)e->frames);
}

bool resident__apply_frames(struct resident *r, const struct mt_event *e, const uint64_t *frames)
{
	uint32_t map = e->fault.map & MT_FAULT_MAP_MASK;
	struct mt_faults one = { 0 };
	struct res_proc *p;
	uint32_t id;
	bool fresh;

	if (e->op != MT_OP_FAULT && e->op != MT_OP_FAULT_MAJOR)
		return false;
	if (map >= MT_MAP__COUNT)
		map = MT_MAP_UNKNOWN;
	*(e->op == MT_OP_FAULT ? &one.minor : &one.major) = 1;
	if (e->fault.map & MT_FAULT_SIZED) {
		one.bytes = e->fault.bytes;
	} else {
		one.bytes = r->page_size;
		one.unsized = 1;
	}
	p = get_proc(r, e->pid);
	add(&p->by_map[map], &one);
	if (map == MT_MAP_FILE)
		count_file_fault(r, p, e->fault.map_start, &one);
	id = stack_id(r, p, e, frames, map, &fresh);	/* may move r->stacks */
	add(&r->stacks[id].faults, &one);
	return fresh;
}

void resident__total(const struct resident *r, struct mt_faults *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < procs__n(r->procs); i++) {
		const struct res_proc *p = procs__at(r->procs, i)->part[PROC_RESIDENT];

		for (int m = 0; p && m < MT_MAP__COUNT; m++)
			add(out, &p->by_map[m]);
	}
}

static int by_bytes(const struct mt_faults *a, const struct mt_faults *b)
{
	uint64_t fa = a->minor + a->major, fb = b->minor + b->major;

	if (a->bytes != b->bytes)
		return a->bytes < b->bytes ? 1 : -1;
	return fa < fb ? 1 : fa > fb ? -1 : 0;
}

static int stack_order(const void *x, const void *y)
{
	const struct mt_fault_stack *a = x, *b = y;
	int c = by_bytes(&a->faults, &b->faults);

	return c ? c : a->id < b->id ? -1 : a->id > b->id;
}

static int file_order(const void *x, const void *y)
{
	const struct mt_fault_file *a = x, *b = y;
	int c = by_bytes(&a->faults, &b->faults);

	return c ? c : strcmp(a->path, b->path);
}

void resident__fill(const struct resident *r, uint32_t pid, struct mt_resident *out)
{
	const struct res_proc *p = find_proc(r, pid);
	struct mt_fault_stack *stacks;
	struct mt_fault_file *files;
	size_t n = 0;

	memset(out, 0, sizeof(*out));
	if (!p)
		return;
	for (int m = 0; m < MT_MAP__COUNT; m++) {
		out->by_map[m] = p->by_map[m];
		add(&out->total, &p->by_map[m]);
	}
	stacks = xcalloc(p->nstack_ids + 1, sizeof(*stacks));
	for (size_t i = 0; i < p->nstack_ids; i++) {
		uint32_t id = p->stack_ids[i];
		const struct res_stack *rs = &r->stacks[id];
		struct mt_fault_stack *st = &stacks[n];

		st->id = id;
		st->map = rs->map;
		st->faults = rs->faults;
		st->naddrs = st->nframes = rs->nframes;	/* until symbolized */
		st->addrs = rs->frames;
		n++;
	}
	qsort(stacks, n, sizeof(*stacks), stack_order);
	out->stacks = stacks;
	out->nstacks = n;
	files = xcalloc(p->nfiles + 1, sizeof(*files));
	for (size_t i = 0; i < p->nfiles; i++) {
		files[i].path = p->files[i].path;	/* lives as long as the resident */
		files[i].faults = p->files[i].faults;
	}
	qsort(files, p->nfiles, sizeof(*files), file_order);
	out->files = files;
	out->nfiles = p->nfiles;
}

