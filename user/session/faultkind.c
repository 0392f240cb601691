// SPDX-License-Identifier: BSD-2-Clause
/*
 * BPF files a page fault under its mapping's kind (bpf/vma.bpf.h), but cannot look the mapping up
 * while a writer holds or waits for the mm's lock: another tracer's uprobes going away, a thread
 * mapping memory. Such a fault comes as "unknown". Its mapping is looked up here, when the event
 * is read, with the same rules, before the model applies it and the recorder keeps it.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/procmaps.h"
#include "lib/util.h"
#include "session/faultkind.h"

struct faultkind {
	int pid;			/* whose mappings maps holds; 0: none */
	struct procmaps maps;
};

struct faultkind *faultkind__new(void)
{
	return xcalloc(1, sizeof(struct faultkind));
}

void faultkind__free(struct faultkind *fk)
{
	if (!fk)
		return;
	if (fk->pid)
		procmaps__release(&fk->maps);
	free(fk);
}

bool faultkind__wanted(const struct mt_event *e)
{
	return (e->op == MT_OP_FAULT || e->op == MT_OP_FAULT_MAJOR) &&
	       (e->fault.map & MT_FAULT_MAP_MASK) == MT_MAP_UNKNOWN;
}

/* The mapping of addr in pid, reading the mappings again when the last ones lack it. */
static const struct pmap *lookup(struct faultkind *fk, int pid, uint64_t addr)
{
	const struct pmap *m = fk->pid == pid ? procmaps__find(&fk->maps, addr) : NULL;

	if (m)
		return m;
	if (fk->pid)
		procmaps__release(&fk->maps);
	fk->pid = 0;
	if (procmaps__read(pid, &fk->maps))
		return NULL;
	fk->pid = pid;
	return procmaps__find(&fk->maps, addr);
}

/* As vma_find() files it: a file (shared memory too), the brk heap, the main stack, else anon. */
static enum mt_map kind_of(const struct pmap *m)
{
	if (m->inode)
		return MT_MAP_FILE;
	if (!strcmp(m->path, "[heap]"))
		return MT_MAP_HEAP;
	if (!strcmp(m->path, "[stack]"))
		return MT_MAP_STACK;
	return MT_MAP_ANON;
}

void faultkind__complete(struct faultkind *fk, struct mt_event *e)
{
	const struct pmap *m = lookup(fk, (int)e->pid, e->fault.addr);

	if (!m || !strcmp(m->path, "[uprobes]"))
		return;
	e->fault.map = (e->fault.map & ~MT_FAULT_MAP_MASK) | kind_of(m);
	e->fault.map_start = m->start;
}
