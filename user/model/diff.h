/* SPDX-License-Identifier: BSD-2-Clause */
/* memtrace diff: two runs (recordings or JSON reports) compared stack by stack. */
#ifndef MT_DIFF_H
#define MT_DIFF_H

#include <stdint.h>
#include <stdio.h>

#include "session/env.h"
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
};

struct diff {
	struct htab *index;		/* hash(key) -> stack index + 1 */
	struct diff_stack *stacks;
	size_t n, cap;
	uint64_t bytes[2], blocks[2];	/* total outstanding, heap + mmap */
};

struct diff *diff__new(void);
void diff__free(struct diff *d);
/* Add one stack of run side (0 or 1); labels call site first. Same key: the numbers add up. */
void diff__add(struct diff *d, int side, enum mt_kind kind, char **labels, uint32_t n,
	       uint64_t bytes, uint64_t blocks);
/* A frame's label for matching: "fn (file.c:12)", "fn", "module+0x1f0" or "[unknown]"; malloc'd. */
char *diff__label(const char *function, const char *file, int line, const char *module,
		  uint64_t module_offset);
/* Add every stack and the totals of a snapshot, or of a whole input file, as run side. */
void diff__add_snapshot(struct diff *d, int side, const struct mt_snapshot *s);
/* 0, or -errno having said what is wrong with the file and where. */
int diff__load(struct diff *d, int side, const char *path);

/* Changed stacks sorted by the largest change first; returns how many (into *out, malloc'd). */
size_t diff__changed(const struct diff *d, const struct diff_stack ***out);

int diff__text(const struct diff *d, const char *before, const char *after, int top, FILE *f);
int diff__json(const struct diff *d, const char *before, const char *after, FILE *f);
/* difffolded.pl's format, which flamegraph.pl draws as a differential graph: "stack BEFORE AFTER". */
int diff__folded(const struct diff *d, FILE *f);
/* The flame graph page: outstanding view = growth, allocated view = AFTER's outstanding. */
int diff__flamegraph(const struct diff *d, FILE *f);

/* memtrace diff BEFORE AFTER: an exit status (6 when it grew more than --fail-if-grows). */
int diff__run(const struct env *env);

#endif
