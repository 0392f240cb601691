// SPDX-License-Identifier: BSD-2-Clause
/*
 * -a: the whole machine. Each allocator object (libc, libstdc++, a jemalloc, a static executable)
 * is probed once for every process, by (device, inode): a libc shared by a hundred containers is
 * one set of uprobes. Objects are found by scanning /proc at the start and then every couple of
 * seconds (a container started later brings its own libc). A process's blocks are dropped when it
 * ends; ended processes are kept for the report up to a bound, the smallest forgotten first.
 */
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probe/allocator.h"
#include "lib/cgroup.h"
#include "lib/htab.h"
#include "lib/procmaps.h"
#include "lib/procmem.h"
#include "model/model.h"
#include "session/labels.h"
#include "session/machine.h"
#include "lib/util.h"

#define SCAN_EVERY_NS 2000000000ull
#define KEEP_EXITED 256		/* ended processes kept for the report */
#define KEEP_PENDING 64		/* exits whose file mappings are being gathered */

/*
 * The file mappings an exiting process sent before its exit event (MT_OP_EXIT_MAP): its
 * PROC_EXIT_MAPS part, from its first such event to its exit event.
 */
struct exit_maps {
	struct procmaps maps;
	size_t cap;
};

struct system {
	struct probe *probe;
	struct model *m;
	struct symbolizer *sym;
	bool faults;			/* page faults traced */
	struct htab *objects;		/* (dev, inode) seen -> nothing */
	uint64_t last_scan_ns;
	uint32_t *exited;		/* pids of ended processes still kept */
	size_t nexited, cap_exited;
	uint64_t forgotten;
	uint32_t *pending;		/* exits under way (their events interleave across CPUs), oldest first */
	size_t npending, cap_pending;
};

static uint64_t object_key(const struct pmap *pm)
{
	uint64_t k = mt_hash(&pm->inode, sizeof(pm->inode), pm->dev);

	return k ? k : 1;
}

static void probe_object(struct system *sy, int pid, const struct pmap *pm)
{
	struct alloc_plan plan;
	char *open_path;

	if (htab__lookup(sy->objects, object_key(pm)))
		return;
	open_path = xasprintf("/proc/%d/map_files/%llx-%llx", pid, (unsigned long long)pm->start,
			      (unsigned long long)pm->end);
	if (allocator__plan_object(pm->path, open_path, pm->dev, pm->inode, &plan) == 0) {
		htab__insert(sy->objects, object_key(pm), NULL);	/* read: never again */
		if (plan.nsites) {
			mt_debug("-a: probing %zu functions in %s", plan.nsites, pm->path);
			probe__attach_plan(sy->probe, -1, &plan);
		}
	}
	allocator__release(&plan);
	free(open_path);
}

static void scan_process(struct system *sy, int pid)
{
	struct procmaps m;

	if (procmaps__read(pid, &m))
		return;	/* gone, or a kernel thread */
	for (size_t i = 0; i < m.n; i++)
		if (m.maps[i].inode && m.maps[i].offset == 0 && allocator__is_candidate(m.maps[i].path))
			probe_object(sy, pid, &m.maps[i]);
	procmaps__release(&m);
}

static void scan(struct system *sy)
{
	DIR *d = opendir("/proc");
	struct dirent *de;

	sy->last_scan_ns = mt_now_ns();
	while (d && (de = readdir(d))) {
		int pid = atoi(de->d_name);

		if (pid > 0)
			scan_process(sy, pid);
	}
	if (d)
		closedir(d);
}

static void drop_exit_maps(void *owner, struct proc *p)
{
	struct exit_maps *x = p->part[PROC_EXIT_MAPS];

	(void)owner;
	procmaps__release(&x->maps);
	free(x);
}

struct system *system__start(struct probe *probe, struct model *m, struct symbolizer *sym, bool faults)
{
	struct system *sy = xcalloc(1, sizeof(*sy));

	sy->probe = probe;
	sy->m = m;
	sy->sym = sym;
	sy->faults = faults;
	procs__own(m->procs, PROC_EXIT_MAPS, drop_exit_maps, sy);
	sy->objects = htab__new(1);
	scan(sy);
	if (!probe__nlinks(probe)) {
		mt_err("is /proc mounted, and is memtrace root?", "found no allocator to probe on this machine");
		system__free(sy);
		return NULL;
	}
	return sy;
}

void system__free(struct system *sy)
{
	if (!sy)
		return;
	htab__free(sy->objects);
	free(sy->pending);
	free(sy->exited);
	free(sy);
}

void system__tick(struct system *sy)
{
	if (mt_now_ns() - sy->last_scan_ns >= SCAN_EVERY_NS)
		scan(sy);
}

static void name_process(struct proc *p)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/comm", p->pid);
	if ((f = fopen(path, "re"))) {
		if (fgets(p->comm, sizeof(p->comm), f))
			p->comm[strcspn(p->comm, "\n")] = 0;
		fclose(f);
	}
	free(p->cmdline);
	p->cmdline = procmem__cmdline((int)p->pid);
	labels__read(p, true);
}

static void forget_at(struct system *sy, size_t i)
{
	procs__forget(sy->m->procs, sy->exited[i]);	/* everything kept of it, one call */
	sy->exited[i] = sy->exited[--sy->nexited];
}

/* A reused pid or an exec: the old record goes (not counted as left out). */
static void forget(struct system *sy, uint32_t pid)
{
	for (size_t i = 0; i < sy->nexited; i++)
		if (sy->exited[i] == pid) {
			forget_at(sy, i);
			return;
		}
}

/* Keep at most KEEP_EXITED ended processes: forget the one holding least. */
static void bound_exited(struct system *sy)
{
	size_t least = 0;
	uint64_t least_bytes = UINT64_MAX;

	if (sy->nexited <= KEEP_EXITED)
		return;
	for (size_t i = 0; i < sy->nexited; i++) {
		struct agg_proc *p = agg__find_proc(sy->m->agg, sy->exited[i]);
		uint64_t b = p ? p->sum[MT_KIND_HEAP].outstanding_bytes + p->sum[MT_KIND_MMAP].outstanding_bytes : 0;

		if (b < least_bytes) {
			least_bytes = b;
			least = i;
		}
	}
	forget_at(sy, least);
	sy->forgotten++;
}

/* Take pid's gathered mappings (empty when there were none). */
static struct procmaps pending_take(struct system *sy, uint32_t pid)
{
	struct proc *p = procs__find(sy->m->procs, pid);
	struct exit_maps *x = p ? p->part[PROC_EXIT_MAPS] : NULL;
	struct procmaps maps = { 0 };

	if (!x)
		return maps;
	maps = x->maps;
	x->maps = (struct procmaps){ 0 };
	procs__drop_part(sy->m->procs, p, PROC_EXIT_MAPS);
	for (size_t i = 0; i < sy->npending; i++)	/* the list stays in arrival order */
		if (sy->pending[i] == pid) {
			memmove(&sy->pending[i], &sy->pending[i + 1], (sy->npending - i - 1) * sizeof(*sy->pending));
			sy->npending--;
			break;
		}
	return maps;
}

/* pid's mappings being gathered, taken on its first exit map event. */
static struct exit_maps *pending_get(struct system *sy, uint32_t pid)
{
	struct proc *p = procs__get(sy->m->procs, pid);
	struct exit_maps *x = p->part[PROC_EXIT_MAPS];

	if (x)
		return x;
	if (sy->npending == KEEP_PENDING) {	/* an exit event lost: drop the oldest */
		struct procmaps oldest = pending_take(sy, sy->pending[0]);

		procmaps__release(&oldest);
	}
	xgrow(&sy->pending, &sy->cap_pending, sy->npending + 1, sizeof(*sy->pending));
	sy->pending[sy->npending++] = pid;
	return p->part[PROC_EXIT_MAPS] = xcalloc(1, sizeof(*x));
}

/* One file mapping of an exiting process, kept until its exit event. */
static void exit_map(struct system *sy, const struct mt_event *e)
{
	const char *path = e->file.path;
	size_t room = e->nframes > 1 ? 8 * (e->nframes - 1) : 0;
	struct exit_maps *x;
	struct pmap *pm;

	if (!room || path[0] != '/' || !memchr(path, 0, room))
		return;
	x = pending_get(sy, e->pid);
	xgrow(&x->maps.maps, &x->cap, x->maps.n + 1, sizeof(*x->maps.maps));
	pm = &x->maps.maps[x->maps.n++];
	memset(pm, 0, sizeof(*pm));
	pm->start = e->map.start;
	pm->end = e->map.start + e->map.size;
	pm->offset = e->map.offset;
	pm->inode = e->map.inode;
	pm->dev = makedev(e->file.dev >> 20, e->file.dev & 0xfffff);	/* the kernel's encoding */
	pm->perms[0] = e->file.perms & 1 ? 'r' : '-';
	pm->perms[1] = e->file.perms & 2 ? 'w' : '-';
	pm->perms[2] = e->file.perms & 4 ? 'x' : '-';
	pm->perms[3] = 'p';
	pm->path = xstrdup(path);
}

/* An exit: its blocks go, it stays in the report (up to a bound), its late faults are named. */
static void exited(struct system *sy, const struct mt_event *e)
{
	struct procmaps maps = pending_take(sy, e->pid);
	struct proc *p = procs__find(sy->m->procs, e->pid);

	if (!p || !p->part[PROC_AGG]) {	/* it never allocated while traced */
		procmaps__release(&maps);
		return;
	}
	if (sy->faults)	/* file faults read after it was gone: their files named now */
		resident__name_exited(sy->m->res, e->pid, &maps);
	sym__load_exit_maps(sy->sym, (int)e->pid, &maps);
	if (!p->comm[0])	/* gone before its first event was read */
		memcpy(p->comm, e->proc.comm, sizeof(p->comm) - 1);
	agg__drop_blocks(sy->m->agg, e->pid);
	xgrow(&sy->exited, &sy->cap_exited, sy->nexited + 1, sizeof(*sy->exited));
	sy->exited[sy->nexited++] = e->pid;
	bound_exited(sy);
}

void system__event(struct system *sy, const struct mt_event *e)
{
	struct proc *p;

	switch (e->op) {
	case MT_OP_EXIT_MAP:
		exit_map(sy, e);
		return;
	case MT_OP_EXIT:
		exited(sy, e);
		return;
	case MT_OP_EXEC:	/* the model renews the record (model/model.c) */
		forget(sy, e->pid);	/* a reused pid kept as ended */
		return;
	}
	p = procs__find(sy->m->procs, e->pid);
	if (p && p->exited) {	/* the pid was reused by a new process */
		forget(sy, e->pid);
		p = NULL;
	}
	if (!p || !p->part[PROC_AGG])
		name_process(procs__get(sy->m->procs, e->pid));
}

/* cgroup v2: a cgroup's id is its directory's inode; its level, its depth below the root. */
int system__cgroup(const char *path, uint64_t *id, int *level)
{
	const char *root = cgroup__v2_root();
	size_t rootlen = strlen(root);
	const char *rel = strncmp(path, root, rootlen) ? path : path + rootlen;
	char *full = xasprintf("%s/%s", root, rel + strspn(rel, "/"));
	struct stat st;
	int err = stat(full, &st) ? -errno : 0;

	*level = 0;
	for (const char *c = rel + strspn(rel, "/"); *c; c++)
		if (*c == '/' && c[1] && c[1] != '/')
			++*level;
	*level += rel[strspn(rel, "/")] != 0;
	if (err)
		mt_err("give a cgroup v2 path such as system.slice/ssh.service", "cannot find cgroup %s: %s",
		       full, strerror(-err));
	*id = st.st_ino;
	free(full);
	return err;
}

uint64_t system__forgotten(const struct system *sy) { return sy->forgotten; }
