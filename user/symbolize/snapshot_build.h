/* SPDX-License-Identifier: BSD-2-Clause */
/* Turns the aggregated state into an immutable, symbolized snapshot. */
#ifndef MT_SNAPSHOT_BUILD_H
#define MT_SNAPSHOT_BUILD_H

#include "model/model.h"
#include "model/snapshot.h"
#include "symbolize/pytrace.h"
#include "symbolize/symbolize.h"

/* Replay: a CPython process as its recording described it. */
struct snapshot_py {
	uint32_t pid;
	struct mt_py_info info;
};

struct snapshot_meta {
	uint64_t start_ns, now_ns;
	uint64_t loss[MT_LOSS__COUNT];
	bool faults;			/* page faults were traced: report them */
	bool series;			/* memory over time was sampled: report it */
	struct mt_unwind_stats unwind;
	const struct pytrace *py;	/* NULL: no Python frames to name, or (replay) named by the
					 * symbolizer from the recorded symbols */
	const struct snapshot_py *py_recorded;	/* replay: the CPython processes, when py is NULL */
	size_t npy_recorded;
	uint64_t min_bytes;		/* processes holding less (heap + mmap) are left out */
	bool rss_now;			/* read each live process's resident size (a live trace) */
};

struct mt_snapshot *snapshot__build(const struct model *m, struct symbolizer *sym,
				    const struct snapshot_meta *meta);

/*
 * Resolve every address of the model's stacks once, so that the debug info they need is asked of
 * debuginfod, then wait until it came (a note on stderr meanwhile). Nothing when none is fetched.
 * Before the final snapshot and the recording's symbols: frames then never change after.
 */
void snapshot__settle(const struct model *m, struct symbolizer *sym);

#endif
