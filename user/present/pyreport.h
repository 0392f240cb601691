/* SPDX-License-Identifier: BSD-2-Clause */
/* The tracemalloc-style views: outstanding memory of Python processes by line, function, file. */
#ifndef MT_PYREPORT_H
#define MT_PYREPORT_H

#include <stdio.h>

#include "lib/json.h"
#include "model/snapshot.h"

/* --group-by */
enum mt_py_group {
	MT_PY_GROUP_LINE = 0,	/* innermost Python frame's file and line */
	MT_PY_GROUP_FUNCTION,	/* its file and function */
	MT_PY_GROUP_FILE,	/* its file */
	MT_PY_GROUP_TRACEBACK,	/* every Python frame */
	MT_PY_GROUP__COUNT,
};

int mt_py_group_parse(const char *s, enum mt_py_group *out);
const char *mt_py_group_name(enum mt_py_group g);

/* One group: stacks whose Python frames agree on what the grouping looks at. */
struct pygroup {
	const struct mt_stack *stack;	/* one of them (its Python frames name the group) */
	const struct mt_frame *frame;	/* its innermost Python frame; NULL: stacks with none */
	uint64_t outstanding_bytes, outstanding_allocations;
	uint64_t allocated_bytes, allocations;
	uint64_t heap_bytes, mmap_bytes; /* outstanding, by kind */
	uint64_t heap_blocks;		/* outstanding heap blocks: bytes / blocks is the average object */
	uint64_t peak_bytes;		/* heap held when the process's heap peaked (tracemalloc's peak) */
	uint64_t gc_bytes, gc_blocks;	/* freed by the cycle collector: reference-cycle garbage */
	uint64_t gc_collections;	/* the most collections any one of its stacks was freed in */
};

/* The group's average outstanding heap block, in bytes (0 when it holds none). */
static inline uint64_t pygroup__average(const struct pygroup *g)
{
	return g->heap_blocks ? g->heap_bytes / g->heap_blocks : 0;
}

/* The process's groups, largest outstanding first; free() the array. */
size_t pygroup__build(const struct mt_proc *p, enum mt_py_group g, struct pygroup **out);

/* For every CPython process: what is seen, then the top groups. Returns 0 or -1. */
int pyreport__text(const struct mt_snapshot *s, FILE *f, enum mt_py_group g, int top_n);

/* The "python" member of a process in the JSON report (nothing for other processes). */
void pyreport__json(struct json *j, const struct mt_proc *p);

#endif
