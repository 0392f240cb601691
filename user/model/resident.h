/* SPDX-License-Identifier: BSD-2-Clause */
/* Page faults by the stack that touched memory and by the mapping it hit: resident growth. */
#ifndef MT_RESIDENT_H
#define MT_RESIDENT_H

#include <stdbool.h>
#include <stdint.h>

#include "memtrace.h"
#include "lib/procmaps.h"
#include "model/proc.h"
#include "model/snapshot.h"

struct resident;

/* The resident keeps its per-process state in procs' entries (PROC_RESIDENT). */
struct resident *resident__new(struct procs *procs);
void resident__free(struct resident *r);

/* Take in one event (others than faults are ignored). True when it brought a stack not seen before. */
bool resident__apply(struct resident *r, const struct mt_event *e);
/* The same, the event's frames given where they are kept (e->frames not read). */
bool resident__apply_frames(struct resident *r, const struct mt_event *e, const uint64_t *frames);

/*
 * Told of the path each file fault is counted under (a recording keeps them, so that replay
 * names file faults without /proc).
 */
typedef void (*resident_path_fn)(void *ctx, uint32_t pid, uint64_t start, const char *path);
void resident__on_path(struct resident *r, resident_path_fn fn, void *ctx);
/*
 * Replay: file faults are named from resident__set_path() only, never from /proc; set_path
 * gives the path the mapping at start had from then on, as recorded.
 */
void resident__offline(struct resident *r);
void resident__set_path(struct resident *r, uint32_t pid, uint64_t start, const char *path);

/*
 * Each fault stack (a recording writes their symbols): its pid and frames, innermost first.
 * A forgotten process's stack is pid 0, no frames, until a new one takes its place.
 */
size_t resident__nstacks(const struct resident *r);
const uint64_t *resident__stack(const struct resident *r, size_t i, uint32_t *pid, uint32_t *nframes);

/*
 * -a: the file mappings pid had as it exited. File faults read after it was gone (its
 * /proc/PID/maps with it), counted under "[unknown file]", move to the file mapped there.
 */
void resident__name_exited(struct resident *r, uint32_t pid, const struct procmaps *maps);

/* Totals over every process. */
void resident__total(const struct resident *r, struct mt_faults *out);

/*
 * The process's faults for a snapshot, stacks as addresses (the snapshot's builder names them);
 * snapshot__free gives it back.
 */
void resident__fill(const struct resident *r, uint32_t pid, struct mt_resident *out);

#endif
