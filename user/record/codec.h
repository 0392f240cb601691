/* SPDX-License-Identifier: BSD-2-Clause */
/* The recording's compact integers and event records, shared by its writer and its reader. */
#ifndef MT_CODEC_H
#define MT_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memtrace.h"
#include "model/aggregate.h"

#define CODEC_VARINT_MAX 10u	/* bytes of a u64 as a varint, at the most */
#define CODEC_VERSION 3u	/* the format version (REC_VERSION) it writes */

/*
 * An event's fields go to columns, one per field and per part: a value's low byte to one, the
 * rest (value >> 8, a varint) to the next, so that zstd sees like bytes together.
 */
enum codec_field {
	CODEC_PID,	/* pid, tid - pid */
	CODEC_TS,	/* ts_ns - the last one */
	CODEC_STACK,	/* the stack table's id */
	CODEC_ADDR,	/* word 0 as a difference from the last one */
	CODEC_LIVE,	/* word 0 or 2 as a live block's index (a free, realloc's old block) */
	CODEC_RECENT,	/* word 0 as its place among its size class's recent frees */
	CODEC_OLD,	/* word 2 as a difference from word 0 */
	CODEC_SIZE,	/* word 1 as it is */
	CODEC_WORD3,	/* word 3 as it is */
	CODEC__FIELDS,
};
#define CODEC_COLUMNS (2 * CODEC__FIELDS)

/* Blocks a program holds, by index (frees name one), and recent frees by size class. */
#define CODEC_LIVE_MAX (1u << 20)	/* blocks the table holds at the most; later ones are not */
#define CODEC_CLASSES 330u
#define CODEC_RECENT_MAX 64u		/* recent frees kept per size class (2x in a uint8_t) */
/* Stacks whose last size is kept: ids past it (more than a stack table holds) have none. */
#define CODEC_STACK_SIZES (1u << 23)

/* The writer's columns of one block. */
struct codec_out {
	uint8_t *p[CODEC_COLUMNS];
	size_t n[CODEC_COLUMNS], cap[CODEC_COLUMNS];
	size_t total;		/* bytes in all of them */
};

/*
 * The reader's: what is left of each column of the block being read, and each field's values
 * decoded ahead of the events that take them, a run at a time (a loop over one column is cheaper
 * than a value here and there).
 */
#define CODEC_IN_RUN 64u
struct codec_in {
	const uint8_t *p[CODEC_COLUMNS];
	size_t left[CODEC_COLUMNS];
	uint64_t v[CODEC__FIELDS][CODEC_IN_RUN];
	uint8_t at[CODEC__FIELDS], n[CODEC__FIELDS];	/* the next value in v, and how many */
};

/*
 * What an event record is coded against. Per block (reset at a block's start): the pid, thread,
 * last time and address before it. For the whole file (like the stack table): the live blocks,
 * the recent frees, each stack's last size. Writer and reader keep the same.
 */
struct codec {
	uint32_t version;	/* the file's format (recording.h): a reader reads 2 and 3 */
	uint32_t pid, tid;
	uint64_t ts;		/* the last non-zero ts_ns */
	uint64_t addr;		/* the last non-zero first body word (an address, for most ops) */
	/* live blocks: address and size (side by side: a free reads both); the writer also finds
	 * them by (pid, address) */
	struct codec_live {
		uint64_t addr, size;
	} *live;
	uint32_t *live_pid;	/* writer only */
	size_t nlive, cap_live;
	struct htab *live_ids;	/* writer only: hash of (pid, address) -> index */
	uint64_t recent[CODEC_CLASSES][2 * CODEC_RECENT_MAX];	/* most recent at head */
	uint8_t head[CODEC_CLASSES], nrecent[CODEC_CLASSES];
	uint64_t *stack_size;	/* stack id -> the word 1 of the last event naming it */
	size_t cap_stack_size;
};

/* LEB128: 7 bits a byte, low first. Returns the bytes written to p (CODEC_VARINT_MAX room). */
size_t codec__put_varint(uint8_t *p, uint64_t v);
/* Reads one from p[0..n): the bytes it took, or 0 when cut short or longer than a u64. */
size_t codec__get_varint_long(const uint8_t *p, size_t n, uint64_t *v);
static inline size_t codec__get_varint(const uint8_t *p, size_t n, uint64_t *v)
{
	if (n && p[0] < 0x80) {	/* most are one or two bytes: a record's type, an op */
		*v = p[0];
		return 1;
	}
	if (n >= 2 && p[1] < 0x80) {
		*v = (uint64_t)(p[0] & 0x7f) | (uint64_t)p[1] << 7;
		return 2;
	}
	return codec__get_varint_long(p, n, v);
}

/* A signed difference as an unsigned varint: small either way. Wraps: every u64 round-trips. */
static inline uint64_t codec__zigzag(uint64_t d) { return (d << 1) ^ (uint64_t)((int64_t)d >> 63); }
static inline uint64_t codec__unzigzag(uint64_t z) { return (z >> 1) ^ -(z & 1); }

/*
 * A coder for a writer (finds live blocks by address) or a reader, of CODEC_VERSION: a reader of
 * an older file sets version after. Free with codec__free().
 */
void codec__init(struct codec *c, bool writer);
void codec__free(struct codec *c);
/* A block starts with no event before it (the file-wide tables stay). */
void codec__block(struct codec *c);

/* An event's bytes in the record stream, at the most: its flags byte and its op. */
#define CODEC_EVENT_MAX (1 + 6)

/*
 * e's header and body (nframes is the stack's business), and stack: 0 for no frames, else the
 * stack table's id + 1. Writes the flags byte and the op (at most CODEC_EVENT_MAX bytes) to rec
 * and returns how many; the fields go to out's columns.
 */
size_t codec__encode_event(struct codec *c, const struct mt_event *e, uint32_t stack, uint8_t *rec,
			   struct codec_out *out);
void codec__out_clear(struct codec_out *out);
void codec__out_free(struct codec_out *out);

/* A block's columns to read events from: col[i] of len[i] bytes. */
void codec__in_start(struct codec_in *in, const uint8_t *const col[CODEC_COLUMNS],
		     const size_t len[CODEC_COLUMNS]);
/* What is left to take: column bytes and values decoded ahead (0: every one was taken). */
size_t codec__in_left(const struct codec_in *in);

#define CODEC_BAD_STACK SIZE_MAX
/*
 * The inverse, from the record's bytes at p[0..n) and the columns: fills e's first
 * MT_EVENT_HDR_SIZE bytes but nframes, *stack, and *pl: the places in the table of live blocks
 * that the event's blocks left and took (indices, as the aggregate keeps them). Returns the
 * record's bytes (it says its own end), 0 when it or the columns are bad or run short, or
 * CODEC_BAD_STACK when it names a stack id past nstacks (*stack says which).
 */
size_t codec__decode_event(struct codec *c, const uint8_t *p, size_t n, struct codec_in *in,
			   uint32_t nstacks, struct mt_event *e, uint32_t *stack, struct agg_places *pl);

#endif
