/* SPDX-License-Identifier: BSD-2-Clause */
/* Folded stacks ("comm;outer;...;inner value"), the input of flamegraph.pl, speedscope, inferno. */
#ifndef MT_FOLDED_H
#define MT_FOLDED_H

#include <stdio.h>

#include "model/snapshot.h"

enum mt_folded_value {
	MT_FOLDED_OUTSTANDING,	/* bytes still allocated */
	MT_FOLDED_ALLOCATED,	/* bytes ever allocated */
	MT_FOLDED_BLOCKS,	/* blocks still allocated */
	MT_FOLDED_GC,		/* bytes Python's cycle collector had to free */
};

/* "outstanding", "allocated" or "blocks"; -EINVAL (after an mt_err) for anything else. */
int mt_folded_value_parse(const char *s, enum mt_folded_value *out);

/*
 * One line per distinct stack, root first, sorted, zero values left out. mmap stacks have an
 * "[mmap]" frame right after the comm. Returns 0 or -errno; the caller, who knows the file, says so.
 */
int folded__write(const struct mt_snapshot *s, FILE *f, enum mt_folded_value v);

#endif
