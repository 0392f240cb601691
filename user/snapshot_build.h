/* SPDX-License-Identifier: BSD-2-Clause */
/* Turns the aggregated state into an immutable, symbolized snapshot. */
#ifndef MT_SNAPSHOT_BUILD_H
#define MT_SNAPSHOT_BUILD_H

#include "aggregate.h"
#include "snapshot.h"
#include "symbolize.h"

struct snapshot_meta {
	uint64_t start_ns, now_ns;
	uint64_t loss[MT_LOSS__COUNT];
	uint64_t min_bytes;		/* processes holding less (heap + mmap) are left out */
};

struct mt_snapshot *snapshot__build(const struct agg *a, struct symbolizer *sym,
				    const struct snapshot_meta *meta);
void snapshot__free(struct mt_snapshot *s);

#endif
