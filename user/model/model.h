/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The model: what the trace has seen, by process. Events change it through model__apply only,
 * in a live trace and in a replay alike; snapshots read it (symbolize/snapshot_build.c).
 */
#ifndef MT_MODEL_H
#define MT_MODEL_H

#include <stdbool.h>

#include "memtrace.h"
#include "model/aggregate.h"
#include "model/proc.h"
#include "model/resident.h"
#include "model/series.h"

struct model {
	struct procs *procs;		/* every process, and each module's part of it */
	struct agg *agg;		/* blocks and mappings outstanding, by stack */
	struct resident *res;		/* page faults */
	struct series *series;		/* memory over time */
};

struct model *model__new(void);
void model__free(struct model *m);

/*
 * Apply one event. An exec renews the process: the old program's blocks, stacks and faults go
 * (they are not the new program's), its name joins the chain of programs before. Returns true
 * when the event brought a stack not seen before, whose objects the caller may want to name.
 */
bool model__apply(struct model *m, const struct mt_event *e);
/*
 * The same with what the caller knows of the event (struct agg_known): its frames where the
 * caller keeps them (so that they need not be copied into the event), their key, its blocks'
 * places. NULL: nothing.
 */
bool model__apply_known(struct model *m, const struct mt_event *e, const struct agg_known *k);
/* A hint for a caller that knows its next events: see agg__prefetch. */
void model__prefetch(struct model *m, const struct mt_event *e, const struct agg_known *k, bool near);

#endif
