/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The stacks the BPF programs sent by id (bpf/stackid.bpf.h), put back: each stack sent in full
 * with its id is kept for its process, and an event that names only the id gets its frames again.
 */
#ifndef MT_STACKID_H
#define MT_STACKID_H

#include <stddef.h>
#include <stdint.h>
#include "memtrace.h"

struct stackids;

struct stackids *stackids__new(void);
void stackids__free(struct stackids *t);

/*
 * The event as if its stack had been sent in full: raw itself when it was, else a copy in the
 * table's own buffer (valid until the next call), with *size its length. An id not known (its
 * process forgotten) gives the event with no frames, counted. NULL: an event too short for what
 * its flags say.
 */
const struct mt_event *stackids__expand(struct stackids *t, const struct mt_event *raw, size_t *size);
/* The same for a short allocation (bpf/memtrace.h: struct mt_alloc_by_id); NULL: not one. */
const struct mt_event *stackids__expand_short(struct stackids *t, const struct mt_alloc_by_id *a,
					       size_t *size);

/* The process pid ended: its stacks are dropped (its ids die with it: bpf/stackid.bpf.h). */
void stackids__forget(struct stackids *t, uint32_t pid);

struct stackid_stats {
	uint64_t full;		/* stacks sent in full with their id */
	uint64_t by_id;		/* stacks sent as an id alone */
	uint64_t unknown;	/* ids with no frames kept: their events have no stack */
	uint64_t clashes;	/* a full stack whose id was kept with other frames */
	size_t processes;	/* with stacks kept now */
	size_t bytes;		/* frames kept now */
};

void stackids__stats(const struct stackids *t, struct stackid_stats *out);

#endif
