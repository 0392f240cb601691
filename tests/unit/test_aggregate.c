// SPDX-License-Identifier: BSD-2-Clause
/* Event semantics: realloc's outcomes, unknown frees, mmap pieces, peaks, stack identity. */
#include <stdlib.h>
#include <string.h>

#include "model/aggregate.h"
#include "tap.h"

static struct mt_event ev(uint32_t op, uint64_t addr, uint64_t size, uint64_t old, uint64_t frame)
{
	struct mt_event e = { .op = op, .pid = 100, .tid = 100, .addr = addr, .size = size,
			      .old_addr = old, .nframes = frame ? 1 : 0, .ts_ns = 1 };

	e.frames[0] = frame;
	return e;
}

static void apply(struct agg *a, struct mt_event e) { agg__apply(a, &e); }

static const struct mt_summary *heap(struct agg *a) { return &agg__proc(a, 100)->sum[MT_KIND_HEAP]; }

static struct mt_event sampled(uint64_t addr, uint64_t size, uint64_t mean, uint64_t ts)
{
	struct mt_event e = ev(MT_OP_SAMPLED_ALLOC, addr, size, 0, 0xa);

	e.sampled.mean = mean;
	e.ts_ns = ts;
	return e;
}

/*
 * Sampled blocks count s/p bytes and 1/p blocks, p = 1 - exp(-s/T). A block of T bytes:
 * p = 1 - 1/e, 1/p = 1.582: each counts 1 or 2 blocks, 1.582 on average over many.
 */
static void sampled_weights(void)
{
	struct procs *procs = procs__new();
	struct agg *a = agg__new(procs);
	const struct mt_summary *s = heap(a);
	const uint64_t T = 65536, n = 20000;

	apply(a, sampled(0x1000, 100, 1, 1));
	is_u64(s->outstanding_bytes, 100, "mean 1 B: p = 1, the block counts as itself");
	is_u64(s->outstanding_allocations, 1, "and as one block");
	is_u64(agg__proc(a, 100)->proc->sample_bytes, 1, "the process is marked sampled, with its mean");
	apply(a, ev(MT_OP_FREE, 0x1000, 0, 0, 0));
	is_u64(s->outstanding_allocations, 0, "a free of a sampled block takes all it stood for");
	for (uint64_t i = 0; i < n; i++)
		apply(a, sampled(0x100000 + 16 * i, T, T, i));
	ok(s->outstanding_allocations > n * 1581 / 1000 - 200 && s->outstanding_allocations < n * 1582 / 1000 + 200,
	   "blocks of size T: 1/p = 1.582 each on average (got %llu for %llu)",
	   (unsigned long long)s->outstanding_allocations, (unsigned long long)n);
	ok(s->outstanding_bytes / n > T * 1581 / 1000 && s->outstanding_bytes / n < T * 1583 / 1000,
	   "and T/p = 1.582 T bytes each");
	for (uint64_t i = 0; i < n; i++)
		apply(a, ev(MT_OP_FREE, 0x100000 + 16 * i, 0, 0, 0));
	is_u64(s->outstanding_bytes, 0, "freeing them all leaves exactly 0 bytes");
	is_u64(s->outstanding_allocations, 0, "and 0 blocks");
	/* A damaged event (a corrupt recording): s/p past 2^64 counts as the most, not as garbage. */
	apply(a, sampled(0x2000, 1ull << 63, UINT64_MAX, 7));
	is_u64(s->outstanding_bytes, UINT64_MAX, "a weight past 2^64 bytes is clamped to the most");
	apply(a, ev(MT_OP_FREE, 0x2000, 0, 0, 0));
	is_u64(s->outstanding_bytes, 0, "and its free takes it all back");
	procs__free(procs);
	agg__free(a);
}

int main(void)
{
	struct procs *procs = procs__new();
	struct agg *a = agg__new(procs);
	const struct mt_summary *s;

	apply(a, ev(MT_OP_MALLOC, 0x1000, 100, 0, 0xa));
	apply(a, ev(MT_OP_MALLOC, 0, 100, 0, 0xa));	/* failed: nothing */
	s = heap(a);
	is_u64(s->allocations, 1, "a failed malloc is not an allocation");
	apply(a, ev(MT_OP_REALLOC, 0x2000, 300, 0x1000, 0xb));	/* moved */
	is_u64(s->allocations, 2, "moved realloc: one more allocation");
	is_u64(s->frees, 1, "moved realloc: one free");
	is_u64(s->outstanding_bytes, 300, "moved realloc: new size outstanding");
	apply(a, ev(MT_OP_REALLOC, 0x2000, 400, 0x2000, 0xb));	/* in place */
	is_u64(s->allocations, 3, "in-place realloc counts as free + alloc (valgrind's rule)");
	is_u64(s->allocated_bytes, 800, "allocated bytes add each realloc's full size");
	apply(a, ev(MT_OP_REALLOC, 0, 9999, 0x2000, 0xb));	/* failed */
	is_u64(s->outstanding_bytes, 400, "failed realloc leaves the old block");
	apply(a, ev(MT_OP_REALLOC, 0, 0, 0x2000, 0xb));		/* realloc(p, 0) */
	is_u64(s->outstanding_allocations, 0, "realloc(p, 0) frees");
	apply(a, ev(MT_OP_REALLOC, 0x3000, 50, 0, 0xc));	/* realloc(NULL, n) */
	is_u64(s->outstanding_bytes, 50, "realloc(NULL, n) allocates");
	apply(a, ev(MT_OP_FREE, 0x9999, 0, 0, 0));
	is_u64(s->unknown_frees, 1, "a free of an unknown block is counted apart");
	is_u64(s->frees, 3, "and is not a free");
	is_u64(s->peak_outstanding_bytes, 400, "peak is exact");
	apply(a, ev(MT_OP_PVALLOC, 0x5000, 5000, 0, 0xd));
	is_u64(s->outstanding_bytes, 50 + 8192, "pvalloc rounds up to whole pages");

	/* The same stack in two processes is two stacks; the same frames are one stack. */
	apply(a, ev(MT_OP_MALLOC, 0x6000, 1, 0, 0xa));
	struct mt_event other = ev(MT_OP_MALLOC, 0x6000, 1, 0, 0xa);
	other.pid = 200;
	agg__apply(a, &other);
	is_u64(agg__nstacks(a), 5, "stacks: a, b, c, d in pid 100 and a in pid 200");
	is_u64(agg__total(a, MT_KIND_HEAP)->outstanding_bytes, 50 + 8192 + 2, "totals span processes");

	/* mmap: map 4 pages, punch a hole, trim an end, unmap the rest. */
	apply(a, ev(MT_OP_MMAP, 0x100000, 4 * 4096, 0, 0xe));
	s = &agg__proc(a, 100)->sum[MT_KIND_MMAP];
	apply(a, ev(MT_OP_MUNMAP, 0x101000, 4096, 0, 0));
	is_u64(s->outstanding_bytes, 3 * 4096, "a hole takes one page");
	is_u64(s->outstanding_allocations, 2, "and leaves two pieces");
	apply(a, ev(MT_OP_MUNMAP, 0x103000, 4096, 0, 0));
	is_u64(s->outstanding_bytes, 2 * 4096, "trimming the end");
	apply(a, ev(MT_OP_MUNMAP, 0x100000, 4 * 4096, 0, 0));
	is_u64(s->outstanding_bytes, 0, "unmapping the whole range frees every piece");
	is_u64(s->outstanding_allocations, 0, "no pieces left");
	apply(a, ev(MT_OP_MUNMAP, 0x700000, 4096, 0, 0));
	is_u64(s->unknown_frees, 1, "unmapping an unknown range is counted apart");

	/* mremap moves a mapping: the old range goes, the new one is held by the mremap's stack. */
	apply(a, ev(MT_OP_MMAP, 0x200000, 2 * 4096, 0, 0xe));
	struct mt_event mr = ev(MT_OP_MREMAP, 0x300000, 3 * 4096, 0x200000, 0xf);
	mr.old_size = 2 * 4096;
	agg__apply(a, &mr);
	is_u64(s->outstanding_bytes, 3 * 4096, "mremap: the new size is outstanding");
	is_u64(s->outstanding_allocations, 1, "mremap: one mapping");
	mr.addr = 0;	/* failed mremap: nothing changes */
	agg__apply(a, &mr);
	is_u64(s->outstanding_bytes, 3 * 4096, "failed mremap changes nothing");
	procs__free(procs);
	agg__free(a);
	sampled_weights();
	return done_testing();
}
