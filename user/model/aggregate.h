/* SPDX-License-Identifier: BSD-2-Clause */
/* Matches frees to allocations and keeps what is outstanding, by process and by stack. */
#ifndef MT_AGGREGATE_H
#define MT_AGGREGATE_H

#include <stdbool.h>
#include <stdint.h>

#include "memtrace.h"
#include "model/proc.h"
#include "model/snapshot.h"

struct agg;

/* One distinct (process, kind, call stack); its id is its index, stable for the whole trace. */
struct agg_stack {
	uint32_t pid;
	enum mt_kind kind;
	uint32_t nframes;
	uint64_t *frames;
	uint64_t outstanding_bytes, outstanding_allocations;
	uint64_t allocated_bytes, allocations;
	uint64_t peak_bytes, peak_allocations;	/* saved at its first change after the peak... */
	uint64_t peak_epoch;			/* ...numbered by its process's peak_epoch */
	uint64_t hash;			/* its key in the stack table, to forget it */
	uint64_t made;			/* agg__stacks_made() when it was made: which stack a slot holds */
	/* What CPython's cycle collector freed of it: garbage only the collector could reclaim. */
	uint64_t gc_bytes, gc_blocks;
	uint64_t gc_collections;	/* the collections that freed any of it */
	uint64_t gc_last;		/* the id of the last of them */
	/* --leak-check: its outstanding blocks by verdict (model/leakcheck.c tallies them). */
	struct mt_leak_tally leak[MT_LEAK__COUNT];
	uint64_t leak_behind;		/* indirectly lost bytes behind its definitely lost blocks */
};

/* A process's part of the aggregate (its PROC_AGG part in the registry). */
struct agg_proc {
	uint32_t pid;
	struct proc *proc;		/* its registry entry: comm, command line, exited */
	struct mt_summary sum[MT_KIND__COUNT];
	struct htab *blocks;		/* heap block address -> struct agg_block */
	struct agg_region *regions;	/* anonymous mappings, sorted by start */
	size_t nregions, cap_regions;
	uint64_t peak_epoch;		/* bumped each time outstanding heap reaches a new peak */
	uint32_t *stack_ids;		/* its stacks */
	size_t nstack_ids, cap_stack_ids;
	struct mt_gc gc;		/* CPython's cycle collector in it: pauses and what it freed */
	struct mt_leak_check leak;	/* --leak-check: asked, done, what it found */
	uint32_t epoch;			/* its blocks' generation, unique in the aggregate: held
					 * places of an older one (before an exec) are not its */
};

struct agg_block {
	uint64_t size;			/* bytes it stands for: its size, or a sampled block's estimate */
	uint64_t ts_ns;
	uint32_t stack;
	uint32_t count;			/* blocks it stands for: 1, or a sampled block's estimate */
};

struct agg_region {
	uint64_t start, end, ts_ns;
	uint32_t stack;
};

/* The aggregate keeps its per-process state in procs' entries (PROC_AGG). */
struct agg *agg__new(struct procs *procs);
void agg__free(struct agg *a);

/* Apply one allocator event (model/model.c hands them over; exec is the model's). */
void agg__apply(struct agg *a, const struct mt_event *e);

/*
 * Where an event's heap blocks are in a table of held blocks that its source keeps (a
 * recording's reader: record/codec.c). Each allocation takes the next place; a block that leaves
 * (freed, realloc'd, replaced at its address) frees its place, and the last one moves into it.
 * Given for every event, they let the aggregate keep blocks by place and never look an address
 * up. AGG_NO_PLACE where there is none: no block, or the table was full (then by address).
 */
#define AGG_NO_PLACE UINT32_MAX
struct agg_places {
	uint32_t freed;		/* the block it frees: a free's, realloc's old one */
	uint32_t replaced;	/* a held block at the new one's address: its free was lost */
	uint32_t placed;	/* the new block's: the table's count before it */
};

/* What a caller knows of an event besides the event. */
struct agg_known {
	const uint64_t *frames;	/* its frames, in place of the event's own */
	/*
	 * Not 0: the caller has numbered these frames (a recording's stack table), and key stands
	 * for exactly them wherever given. The stack is then found by (key, pid, kind), without
	 * hashing and comparing the frames again.
	 */
	uint64_t key;
	struct agg_places places;
};

/* agg__apply with what the caller knows (NULL: nothing). */
void agg__apply_known(struct agg *a, const struct mt_event *e, const struct agg_known *k);
/*
 * The source of the places is done (its table is gone): the blocks held by place go to their
 * processes' tables by address, where snapshots and later events find them.
 */
void agg__places_done(struct agg *a);

/*
 * Start loading what applying e (with what k says) will touch, for a caller that knows its next
 * events: far ahead, the block's and the key's table slots; near, the stack they name. Only a
 * hint: it changes nothing.
 */
void agg__prefetch(struct agg *a, const struct mt_event *e, const struct agg_known *k, bool near);

/* The process's part, created on first use; or NULL when it has none (find). */
struct agg_proc *agg__proc(struct agg *a, uint32_t pid);
struct agg_proc *agg__find_proc(const struct agg *a, uint32_t pid);

/*
 * A process ended: free its blocks and regions (nothing can free them any more), keep its
 * summary and stacks for the report.
 */
void agg__drop_blocks(struct agg *a, uint32_t pid);
/* Take what the process holds out of the totals (its program is gone: an exec). */
void agg__drop_outstanding(struct agg *a, uint32_t pid);

size_t agg__nstacks(const struct agg *a);
/* Stacks made since the start: it moves when an event brings one not seen before. */
uint64_t agg__stacks_made(const struct agg *a);
const struct agg_stack *agg__stack(const struct agg *a, uint32_t id);

/* What the stack held when its process's outstanding heap last reached its peak. */
void agg__stack_at_peak(const struct agg *a, uint32_t id, uint64_t *bytes, uint64_t *allocations);

/* --leak-check: one block of the stack judged (model/leakcheck.c); behind: its clique's bytes. */
void agg__leak_verdict(struct agg *a, uint32_t stack, enum mt_leak_kind k, uint64_t bytes,
		       uint64_t behind);

/* Totals over all processes, with peaks of the sum kept exactly on every event. */
const struct mt_summary *agg__total(const struct agg *a, enum mt_kind kind);

#endif
