/* SPDX-License-Identifier: BSD-2-Clause */
/* The recording's compact integers and event records, shared by its writer and its reader. */
#ifndef MT_CODEC_H
#define MT_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memtrace.h"

#define CODEC_VARINT_MAX 10u	/* bytes of a u64 as a varint, at the most */
/* An event record's payload, at the most: flags, op, pid, tid, ts, stack id, four body words. */
#define CODEC_EVENT_MAX (1 + 6 + 5 + 5 + CODEC_VARINT_MAX + 5 + 4 * CODEC_VARINT_MAX)

/* What an event record is coded against: the events before it in its block. */
struct codec_ctx {
	uint32_t pid, tid;
	uint64_t ts;		/* the last non-zero ts_ns */
	uint64_t addr;		/* the last non-zero first body word (an address, for most ops) */
};

/* LEB128: 7 bits a byte, low first. Returns the bytes written to p (CODEC_VARINT_MAX room). */
size_t codec__put_varint(uint8_t *p, uint64_t v);
/* Reads one from p[0..n): the bytes it took, or 0 when cut short or longer than a u64. */
size_t codec__get_varint(const uint8_t *p, size_t n, uint64_t *v);

/* A signed difference as an unsigned varint: small either way. Wraps: every u64 round-trips. */
static inline uint64_t codec__zigzag(uint64_t d) { return (d << 1) ^ (uint64_t)((int64_t)d >> 63); }
static inline uint64_t codec__unzigzag(uint64_t z) { return (z >> 1) ^ -(z & 1); }

/* A block starts with no event before it: each decodes without the blocks before it. */
void codec__reset(struct codec_ctx *c);
/*
 * e's header and body (nframes is the stack's business), and stack: 0 for no frames, else the
 * stack table's id + 1. Writes at most CODEC_EVENT_MAX bytes to out; returns how many.
 */
size_t codec__encode_event(struct codec_ctx *c, const struct mt_event *e, uint32_t stack,
			   uint8_t *out);
/*
 * The inverse, from the start of p[0..n): fills e's first MT_EVENT_HDR_SIZE bytes but nframes,
 * and *stack. Returns the bytes the record took (it says its own end), or 0 when it is bad.
 */
size_t codec__decode_event(struct codec_ctx *c, const uint8_t *p, size_t n, struct mt_event *e,
			   uint32_t *stack);

#endif
