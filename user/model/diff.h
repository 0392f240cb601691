/* SPDX-License-Identifier: BSD-2-Clause */
/* Two runs compared stack by stack: the model of memtrace diff. */
#ifndef MT_MODEL_DIFF_H
#define MT_MODEL_DIFF_H

#include <stdint.h>
#include <stdio.h>

#include "model/snapshot.h"

/*
 * One stack as both runs saw it, matched by its key: kind and frame labels from the call site
 * outward (never addresses: they differ from run to run). [0] is BEFORE, [1] AFTER.
 */
struct diff_stack {
	char *key;			/* labels root first, ';'-joined, "[mmap]" first for mmap */
	enum mt_kind kind;
	uint32_t nlabels;
	char **labels;			/* call site first */
	uint64_t bytes[2], blocks[2];	/* outstanding */
	uint64_t gc_bytes[2];		/* Python lines: what the cycle collector had to free */
};

struct diff {
	struct htab *index;		/* hash(key) -> stack index + 1 */
	struct diff_stack *stacks;
	size_t n, cap;
	uint64_t bytes[2], blocks[2];	/* total outstanding, heap + mmap */
	/* Python's view: outstanding heap by the innermost Python frame's line, one label each. Its
	 * bytes over blocks is the average object there, as tracemalloc's statistics show it. */
	struct diff *py_lines;
	struct mt_gc gc[2];		/* Python's cycle collector, over all processes */
};

struct diff *diff__new(void);
void diff__free(struct diff *d);
/* Add one stack of run side (0 or 1); labels call site first. Same key: the numbers add up. */
void diff__add(struct diff *d, int side, enum mt_kind kind, char **labels, uint32_t n,
	       uint64_t bytes, uint64_t blocks);
/* A frame's label for matching: "fn (file.c:12)", "fn", "module+0x1f0" or "[unknown]"; malloc'd. */
char *diff__label(const char *function, const char *file, int line, const char *module,
		  uint64_t module_offset);
/* The same, taking the labels and each string in them (freed here). */
void diff__add_owned(struct diff *d, int side, enum mt_kind kind, char **labels, uint32_t n,
		     uint64_t bytes, uint64_t blocks);
/* Add one process's cycle collector to run side (longest pause: the longest of all). */
void diff__add_gc(struct diff *d, int side, const struct mt_gc *gc);
/* Add a stack's outstanding heap, and what the cycle collector freed of it, to its innermost
 * Python line; label is taken (freed here). */
void diff__add_py_line(struct diff *d, int side, char *label, uint64_t bytes, uint64_t blocks,
		       uint64_t gc_bytes);
/* A side's average block, bytes over blocks (0 without blocks). */
static inline uint64_t diff__average(const struct diff_stack *st, int side)
{
	return st->blocks[side] ? st->bytes[side] / st->blocks[side] : 0;
}
/* Where a stack's own frames begin: its call site, when it has one in range. */
uint32_t diff__first_frame(int site, uint32_t nframes);
/* Add every stack and the totals of a snapshot, or of a whole input file, as run side. */
void diff__add_snapshot(struct diff *d, int side, const struct mt_snapshot *s);

/* Changed stacks sorted by the largest change first; returns how many (into *out, malloc'd). */
size_t diff__changed(const struct diff *d, const struct diff_stack ***out);
/* AFTER's value less BEFORE's. */
static inline int64_t diff__delta(const uint64_t v[2]) { return (int64_t)(v[1] - v[0]); }

#endif
