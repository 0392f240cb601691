/* SPDX-License-Identifier: BSD-2-Clause */
/* memtrace diff's outputs: pure functions of the comparison (model/diff.h). */
#ifndef MT_PRESENT_DIFF_H
#define MT_PRESENT_DIFF_H

#include <stdio.h>

#include "model/diff.h"

int diff__text(const struct diff *d, const char *before, const char *after, int top, FILE *f);
int diff__json(const struct diff *d, const char *before, const char *after, FILE *f);
/* difffolded.pl's format, which flamegraph.pl draws as a differential graph: "stack BEFORE AFTER". */
int diff__folded(const struct diff *d, FILE *f);
/* The flame graph page: outstanding view = growth, allocated view = AFTER's outstanding. */
int diff__flamegraph(const struct diff *d, FILE *f);

#endif
