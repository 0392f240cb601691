/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * memcheck's leak check, over a process's memory as read at one moment: which heap blocks a
 * pointer still reaches from the roots (registers, stacks, writable data, TLS), and how the
 * others were lost. Pure: memory comes in as bytes, so tests feed it hand-made images.
 */
#ifndef MT_LEAKCHECK_H
#define MT_LEAKCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/aggregate.h"
#include "model/snapshot.h"

/* What a mapping of the process is, as far as the check cares. */
enum leak_map_flag {
	LEAK_MAP_READ = 1,
	LEAK_MAP_WRITE = 2,
	LEAK_MAP_EXEC = 4,
	LEAK_MAP_FILE = 8,	/* backed by a file (an object's code, data, RELRO) */
	LEAK_MAP_DEVICE = 16,	/* a device's memory: never read, reading it may hang */
	LEAK_MAP_HEAP = 32,	/* the allocator's own ([heap], a glibc arena): free chunks, metadata */
	LEAK_MAP_RELRO = 64,	/* read-only after relocation: data of an object all the same */
};

struct leak_map {
	uint64_t start, end;
	unsigned flags;		/* enum leak_map_flag */
};

/* A live heap block. Blocks are sorted by address and do not overlap. */
struct leak_block {
	uint64_t addr, size;
	uint32_t stack;		/* the model's stack id: the caller's, carried along */
	const uint8_t *data;	/* its bytes as read; NULL when unreadable (scanned as empty) */
};

struct leak_range {
	uint64_t start, end;
};

/*
 * Where the roots are: every readable and writable mapping (and RELRO), a thread's stack from
 * its stack pointer less the 128-byte red zone (below it is dead, as memcheck sees it), devices
 * left out. The allocator's heaps (LEAK_MAP_HEAP) are roots only when some blocks are unknown
 * (-p: allocated before the attach), which live there. The blocks known are left out of every
 * range when scanned (leakcheck__root_memory): a mapping holding an mmapped block is a root but
 * for the block. sps: one per thread.
 * Returns the number of ranges in *out (free it).
 */
size_t leakcheck__roots(const struct leak_map *maps, size_t nmaps, const uint64_t *sps, size_t nsps,
			bool all_blocks_known, struct leak_range **out);

/*
 * Reads len bytes at addr of the process into buf; 0 or -1. Only the multiple-inheritance
 * heuristic reads outside the blocks: vtables, in read-only file mappings.
 */
typedef int (*leak_read_fn)(void *ctx, uint64_t addr, void *buf, size_t len);

struct leakcheck;

/* blocks must stay valid (with their data) until leakcheck__free; maps likewise, sorted. */
struct leakcheck *leakcheck__new(const struct leak_block *blocks, size_t n, const struct leak_map *maps,
				 size_t nmaps, leak_read_fn read, void *ctx);
void leakcheck__free(struct leakcheck *l);

/* A root word (a register). */
void leakcheck__root_word(struct leakcheck *l, uint64_t word);
/* Root memory read at addr: its aligned words, except those inside a known block. */
void leakcheck__root_memory(struct leakcheck *l, uint64_t addr, const void *data, size_t len);

/* After the roots: marks what they reach, then gathers the lost blocks into cliques. */
void leakcheck__finish(struct leakcheck *l);

/* Block i's verdict (after finish). */
enum mt_leak_kind leakcheck__kind(const struct leakcheck *l, size_t i);
/* A definitely lost block's clique: the indirectly lost bytes it alone leads to. */
uint64_t leakcheck__behind(const struct leakcheck *l, size_t i);
/* Still reachable only through an interior pointer that a heuristic accepts. */
bool leakcheck__by_heuristic(const struct leakcheck *l, size_t i);
/* Bytes of root memory scanned (words inside known blocks left out). */
uint64_t leakcheck__root_bytes(const struct leakcheck *l);

/*
 * The process's live heap blocks, sorted by address, data NULL (the caller reads them). Returns
 * their number, or -1 when two overlap: the model missed a free, and no verdict would be sound.
 */
long leakcheck__blocks(const struct agg_proc *p, struct leak_block **out);

/* The verdicts, after finish: by stack into the aggregate, totals into the process's check. */
void leakcheck__tally(const struct leakcheck *l, struct agg *a, struct agg_proc *p);

#endif
