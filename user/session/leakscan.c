// SPDX-License-Identifier: BSD-2-Clause
/*
 * --leak-check of one process. While its threads are stopped, and only then: their registers,
 * the heap blocks' bytes (copied) and the roots (scanned as read, not kept). Then the threads go
 * on and the marking runs on the copies: the pause is what reading the memory takes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/procmaps.h"
#include "lib/procmem.h"
#include "lib/util.h"
#include "model/leakcheck.h"
#include "session/freeze.h"
#include "session/leakscan.h"

#define CHUNK (1u << 20)		/* roots are read and scanned this much at a time */
#define PAGE 4096ull
#define GLIBC_HEAP_MAX (64ull << 20)	/* a glibc arena's heap: HEAP_MAX_SIZE on 64-bit */

struct scan {
	int pid;
	struct mt_leak_check *c;
	struct leak_block *b;
	size_t n;
	uint8_t *heap;			/* the blocks' bytes */
	struct procmaps pm;
	struct leak_map *maps;
	struct freeze fz;
	struct leakcheck *l;
	int pagemap;			/* /proc/PID/pagemap: which anonymous pages were ever touched */
	uint8_t *buf;			/* CHUNK bytes of roots */
};

static int fail(struct scan *s, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct scan *s, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->c->why, sizeof(s->c->why), fmt, ap);
	va_end(ap);
	return err;
}

/* MemAvailable, in bytes; 0 when unknown. */
static uint64_t mem_available(void)
{
	unsigned long long kb = 0;
	char line[128];
	FILE *f = fopen("/proc/meminfo", "re");

	while (f && fgets(line, sizeof(line), f) && sscanf(line, "MemAvailable: %llu kB", &kb) != 1)
		;
	if (f)
		fclose(f);
	return kb * 1024;
}

/*
 * A heap of a glibc arena other than the main one (threads' mallocs): 64 MiB-aligned, reserved
 * whole and made writable as it grows; it begins with heap_info { ar_ptr, prev, size,
 * mprotect_size }, mprotect_size being the writable part. Its free chunks are no roots.
 */
static bool is_arena_heap(int pid, const struct pmap *m, const struct pmap *next)
{
	bool reserved_rest = next && next->start == m->end && !next->inode && !next->path[0] &&
			     !strncmp(next->perms, "---", 3) && next->end - m->start <= GLIBC_HEAP_MAX;
	uint64_t info[4];

	if (m->inode || m->path[0] || m->start % GLIBC_HEAP_MAX || strncmp(m->perms, "rw", 2) ||
	    !(reserved_rest || m->end - m->start == GLIBC_HEAP_MAX))
		return false;
	return !procmem__read(pid, m->start, info, sizeof(info)) && info[3] == m->end - m->start &&
	       info[2] <= info[3];
}

static unsigned flags_of(const struct pmap *m)
{
	unsigned f = (m->perms[0] == 'r' ? LEAK_MAP_READ : 0) | (m->perms[1] == 'w' ? LEAK_MAP_WRITE : 0) |
		     (m->perms[2] == 'x' ? LEAK_MAP_EXEC : 0);

	/* As memcheck: no device's memory, but /dev/zero; /dev/shm holds plain files. */
	if (!strncmp(m->path, "/dev/", 5) && strncmp(m->path, "/dev/zero", 9) &&
	    strncmp(m->path, "/dev/shm/", 9))
		return f | LEAK_MAP_DEVICE;
	if (m->inode)
		f |= LEAK_MAP_FILE;
	if (!strcmp(m->path, "[heap]"))
		f |= LEAK_MAP_HEAP;
	return f;
}

/* The process's mappings as the check sees them; RELRO is the read-only part before .data. */
static int read_maps(struct scan *s)
{
	int err = procmaps__read(s->pid, &s->pm);

	if (err)
		return fail(s, err, "pid %d ended during the leak check", s->pid);
	s->maps = xcalloc(s->pm.n + 1, sizeof(*s->maps));
	for (size_t i = 0; i < s->pm.n; i++) {
		const struct pmap *m = &s->pm.maps[i], *next = i + 1 < s->pm.n ? m + 1 : NULL;

		s->maps[i] = (struct leak_map){ m->start, m->end, flags_of(m) };
		if (next && m->inode && next->inode == m->inode && next->dev == m->dev &&
		    next->start == m->end && !strncmp(m->perms, "r--p", 4) && !strncmp(next->perms, "rw-p", 4))
			s->maps[i].flags |= LEAK_MAP_RELRO;
		if (is_arena_heap(s->pid, m, next))
			s->maps[i].flags |= LEAK_MAP_HEAP;
	}
	return 0;
}

/* The blocks' bytes, in as few reads as can be: blocks less than a page apart are read as one. */
static int copy_blocks(struct scan *s)
{
	struct procmem_range *r = xcalloc(s->n + 1, sizeof(*r));
	uint64_t *at = xcalloc(s->n + 1, sizeof(*at)), total = 0;
	size_t nr = 0;
	int err;

	for (size_t i = 0; i < s->n; i++) {
		uint64_t end = s->b[i].addr + s->b[i].size;

		if (nr && s->b[i].addr - r[nr - 1].end <= PAGE) {
			total += end - r[nr - 1].end;
			r[nr - 1].end = end;
		} else {
			r[nr++] = (struct procmem_range){ s->b[i].addr, end };
			total += end - s->b[i].addr;
		}
		at[i] = total - s->b[i].size;	/* the copy ends with this block */
	}
	err = total > mem_available() / 2 ? -ENOMEM : 0;
	if (!err) {
		s->heap = xmalloc(total + 1);
		s->c->block_bytes = total;
		err = procmem__read_ranges(s->pid, r, nr, s->heap);
	}
	for (size_t i = 0; !err && i < s->n; i++)
		s->b[i].data = s->heap + at[i];
	free(r);
	free(at);
	if (err == -ENOMEM)
		return fail(s, err, "copying its %llu MiB of heap blocks would take more than half the "
			    "memory available", (unsigned long long)(total >> 20));
	if (err == -EFAULT)
		return fail(s, err, "a heap block memtrace counts is not in its memory: the trace "
			    "missed a free");
	return err ? fail(s, err, "pid %d ended during the leak check", s->pid) : 0;
}

/* Root memory as read, CHUNK at a time; a page that cannot be read is skipped, as memcheck does. */
static int scan_plain(struct scan *s, uint64_t start, uint64_t end)
{
	while (start < end) {
		size_t len = end - start < CHUNK ? end - start : CHUNK;
		long got = procmem__read_some(s->pid, start, s->buf, len);

		if (got == -EFAULT)
			got = 0;
		if (got < 0)
			return fail(s, (int)got, "pid %d ended during the leak check", s->pid);
		leakcheck__root_memory(s->l, start, s->buf, (size_t)got);
		start = (size_t)got == len ? start + len : ((start + got) | (PAGE - 1)) + 1;
	}
	return 0;
}

/*
 * An anonymous mapping: pages never touched read as zeros (pagemap says which: neither present
 * nor swapped), so only the others are read. A thread's stack is mostly untouched.
 */
static int scan_anon(struct scan *s, uint64_t start, uint64_t end)
{
	static uint64_t ent[CHUNK / PAGE];
	int err = 0;

	while (!err && start < end) {
		uint64_t page = start & ~(PAGE - 1), lim = end - page < CHUNK ? end : page + CHUNK;
		size_t np = (lim - page + PAGE - 1) / PAGE;

		if (pread(s->pagemap, ent, np * 8, (off_t)(page / PAGE * 8)) != (ssize_t)(np * 8))
			return scan_plain(s, start, end);
		for (size_t i = 0, j; !err && i < np; i = j) {
			bool touched = ent[i] >> 62 & 3;	/* present or swapped */

			for (j = i; j < np && (bool)(ent[j] >> 62 & 3) == touched; j++)
				;
			if (touched)
				err = scan_plain(s, page + i * PAGE > start ? page + i * PAGE : start,
						 page + j * PAGE < lim ? page + j * PAGE : lim);
		}
		start = lim;
	}
	return err;
}

static bool anonymous(const struct scan *s, uint64_t addr)
{
	const struct pmap *m = procmaps__find(&s->pm, addr);

	return m && !m->inode && (!m->path[0] || m->path[0] == '[');
}

static int scan_roots(struct scan *s, bool all_blocks_known)
{
	uint64_t *sps = xcalloc(s->fz.n + 1, sizeof(*sps));
	struct leak_range *r;
	size_t n;
	int err = 0;

	for (size_t i = 0; i < s->fz.n; i++) {
		for (uint32_t k = 0; k < s->fz.t[i].nregs; k++)
			leakcheck__root_word(s->l, s->fz.t[i].regs[k]);
		sps[i] = s->fz.t[i].sp;
	}
	n = leakcheck__roots(s->maps, s->pm.n, sps, s->fz.n, all_blocks_known, &r);
	for (size_t i = 0; !err && i < n; i++)
		err = s->pagemap >= 0 && anonymous(s, r[i].start) ? scan_anon(s, r[i].start, r[i].end) :
								     scan_plain(s, r[i].start, r[i].end);
	free(r);
	free(sps);
	return err;
}

/* The multiple-inheritance heuristic's reads: vtables, in read-only file mappings. */
static int read_vtable(void *ctx, uint64_t addr, void *buf, size_t len)
{
	const struct scan *s = ctx;

	return procmem__read(s->pid, addr, buf, len) ? -1 : 0;
}

/* Everything the check needs from the process, read while its threads are stopped. */
static int read_stopped(struct scan *s, const struct leakscan_opts *o)
{
	char path[64];
	int err = read_maps(s);

	if (!err)
		err = copy_blocks(s);
	if (err)
		return err;
	snprintf(path, sizeof(path), "/proc/%d/pagemap", s->pid);
	s->pagemap = open(path, O_RDONLY | O_CLOEXEC);
	s->l = leakcheck__new(s->b, s->n, s->maps, s->pm.n, read_vtable, s);
	return scan_roots(s, o->all_blocks_known);
}

int leakscan__run(struct agg *a, int pid, const struct leakscan_opts *o)
{
	struct agg_proc *p = agg__proc(a, (uint32_t)pid);
	struct scan s = { .pid = pid, .c = &p->leak, .pagemap = -1 };
	long n = leakcheck__blocks(p, &s.b);
	int err = n < 0 ? fail(&s, -EINVAL, "two heap blocks overlap: the trace missed a free") : 0;

	s.c->asked = true;
	s.c->at_exit = o->at_exit;
	s.c->unknown_blocks = !o->all_blocks_known;
	s.n = n > 0 ? (size_t)n : 0;
	if (!err && (err = freeze__stop(&s.fz, pid, o->at_exit ? FREEZE_LEADER_HELD : FREEZE_LEADER_RUNNING,
					 o->timeout_ms)))
		fail(&s, err, "%s", s.fz.why);
	if (!err) {
		mt_debug("leak check of pid %d: %zu threads stopped, %zu blocks to judge", pid, s.fz.n, s.n);
		s.buf = xmalloc(CHUNK);
		err = read_stopped(&s, o);
		if (freeze__killed(&s.fz))	/* its memory may have gone as it was read */
			err = fail(&s, -ESRCH, "pid %d was killed during the leak check", pid);
		s.c->threads = (uint32_t)s.fz.n;
		s.c->threads_gone = (uint32_t)s.fz.ngone;
		s.c->pause_ns = mt_now_ns() - s.fz.stop_ns;
		freeze__thaw(&s.fz);
	}
	if (!err) {
		leakcheck__finish(s.l);	/* on the copies: the process runs again */
		leakcheck__tally(s.l, a, p);
		s.c->root_bytes = leakcheck__root_bytes(s.l);
	} else {
		mt_err(NULL, "no leak check of pid %d: %s", pid, s.c->why);
	}
	leakcheck__free(s.l);
	if (s.pagemap >= 0)
		close(s.pagemap);
	procmaps__release(&s.pm);
	free(s.maps);
	free(s.heap);
	free(s.buf);
	free(s.b);
	return err;
}
