/* SPDX-License-Identifier: BSD-2-Clause */
/* memtrace record: what a live session writes into a recording, and when. */
#ifndef MT_RECORDER_H
#define MT_RECORDER_H

#include <stdbool.h>

#include "model/model.h"
#include "symbolize/pytrace.h"
#include "symbolize/snapshot_build.h"
#include "symbolize/symbolize.h"

struct recorder;

/*
 * Create the recording and hook into the symbolizer, so each mapping list it reads is kept.
 * 0 or -errno, having said what failed. Every other call accepts a NULL recorder and does nothing.
 */
int recorder__open(const char *path, struct symbolizer *sym, struct recorder **out);
/* The probes are in: the start time, and the processes known so far, in the model's order. */
void recorder__start(struct recorder *r, const struct model *m, uint64_t start_ns);
void recorder__event(struct recorder *r, const struct mt_event *e);
/* What is known of a process; with it, what its Python frames are, for a CPython process. */
void recorder__process(struct recorder *r, const struct proc *p);
/* Page faults: their stacks' symbols are written with the others, file faults' paths as named. */
void recorder__resident(struct recorder *r, struct resident *res);
/* Each sample of memory over time the series reads is recorded. */
void recorder__series(struct recorder *r, struct series *series);
/* Python frames come named by this tracer's code ids: symbols of theirs are written through it. */
void recorder__python(struct recorder *r, const struct pytrace *py);
/* Resolve and write each (pid, address) of pid's stacks not yet written; pid < 0: every process. */
void recorder__symbols(struct recorder *r, const struct model *m, struct symbolizer *sym, int pid);
/* True once a second has passed since the last block went out: then call recorder__tick(). */
bool recorder__due(const struct recorder *r);
/* Write the clock and losses so far and flush: a kill loses at most what came after. */
void recorder__tick(struct recorder *r, const uint64_t loss[MT_LOSS__COUNT]);
/* The end of the trace: final state of every process, every symbol, the snapshot's clock. */
void recorder__finish(struct recorder *r, const struct model *m, struct symbolizer *sym,
		      const struct snapshot_meta *meta);
/* Flush, close and say what was written. 0 or -errno, having said what failed. */
int recorder__close(struct recorder *r);

#endif
