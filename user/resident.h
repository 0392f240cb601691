/* SPDX-License-Identifier: BSD-2-Clause */
/* Page faults by the stack that touched memory and by the mapping it hit: resident growth. */
#ifndef MT_RESIDENT_H
#define MT_RESIDENT_H

#include <stdbool.h>
#include <stdint.h>

#include "memtrace.h"
#include "snapshot.h"
#include "symbolize.h"

struct resident;

struct resident *resident__new(void);
void resident__free(struct resident *r);

/* Take in one event (others than faults are ignored). True when it brought a stack not seen before. */
bool resident__apply(struct resident *r, const struct mt_event *e);

/* Totals over every process. */
void resident__total(const struct resident *r, struct mt_faults *out);

/* The process's faults, symbolized, for a snapshot; release with resident__release. */
void resident__fill(const struct resident *r, struct symbolizer *sym, uint32_t pid,
		    struct mt_resident *out);
void resident__release(struct mt_resident *res);

#endif
