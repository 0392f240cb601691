/* SPDX-License-Identifier: BSD-2-Clause */
/* A self-contained interactive HTML flame graph: zoom, search, tooltips, outstanding/allocated. */
#ifndef MT_FLAMEGRAPH_H
#define MT_FLAMEGRAPH_H

#include <stdio.h>

#include "model/snapshot.h"

/*
 * The page (user/flamegraph.html, compiled in) with the snapshot's stacks embedded as JSON; it
 * fetches nothing. Root first: process, "[mmap]" for mmap stacks, then frames from the call site.
 * Returns 0 or -errno; the caller, who knows the file, says so.
 */
int flamegraph__write(const struct mt_snapshot *s, FILE *f);

#endif
