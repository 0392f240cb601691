// SPDX-License-Identifier: BSD-2-Clause
/*
 * Event records in a few bytes. A struct mt_event's header and body are 56 bytes, most of them
 * zero or equal to the event before's: the pid and thread repeat, the clock moves by
 * microseconds, addresses sit near the last one. So an event record is a flags byte saying which
 * fields are there, then varints: the op; the pid and thread only when they change; the time as
 * a difference; the stack as an id into the file's stack table (recording.c); each non-zero body
 * word, the first as a difference from the last address. Generic over the ops: a body is four
 * u64 words whatever the op makes of them, so a new op or body needs no change here.
 * Heap blocks are 16-byte aligned: an address difference that is a multiple of 16 is coded
 * divided by 16, as the op's low bits say. The zstd pass over the block (recording.c) then
 * takes what repeats.
 */
#include <string.h>

#include "record/codec.h"

enum {
	HAS_PID = 1 << 0,	/* else the previous event's */
	HAS_TID = 1 << 1,	/* else the previous event's; coded as tid - pid */
	HAS_TS = 1 << 2,	/* else 0; coded as the difference from the last non-zero ts */
	HAS_STACK = 1 << 3,	/* else no frames */
	HAS_WORD = 1 << 4,	/* << i: body word i is not zero */
	/* in the op varint, below the op: */
	ALIGNED_0 = 1 << 0,	/* word 0's difference is coded divided by 16 */
	ALIGNED_2 = 1 << 1,	/* word 2's too */
	OP_SHIFT = 2,
};

_Static_assert(MT_EVENT_HDR_SIZE == 24 + 4 * 8, "an event header is 24 bytes, its body 4 words");

size_t codec__put_varint(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

size_t codec__get_varint(const uint8_t *p, size_t n, uint64_t *v)
{
	uint64_t x = 0;

	for (size_t i = 0; i < n && i < CODEC_VARINT_MAX; i++) {
		if (i == CODEC_VARINT_MAX - 1 && p[i] > 1)
			return 0;	/* more than 64 bits */
		x |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80)) {
			*v = x;
			return i + 1;
		}
	}
	return 0;
}

#define zigzag codec__zigzag
#define unzigzag codec__unzigzag

void codec__reset(struct codec_ctx *c) { memset(c, 0, sizeof(*c)); }

static void body_words(const struct mt_event *e, uint64_t w[4])
{
	memcpy(w, (const uint8_t *)e + 24, 32);
}

/* An address difference: divided by 16 when it is a multiple (arithmetic shift: exact). */
static uint64_t code_diff(uint64_t d, uint64_t *op, uint64_t aligned)
{
	if (d & 15)
		return zigzag(d);
	*op |= aligned;
	return zigzag((uint64_t)((int64_t)d >> 4));
}

static uint64_t uncode_diff(uint64_t v, uint64_t op, uint64_t aligned)
{
	uint64_t d = unzigzag(v);

	return op & aligned ? d << 4 : d;
}

size_t codec__encode_event(struct codec_ctx *c, const struct mt_event *e, uint32_t stack,
			   uint8_t *out)
{
	uint64_t w[4], v[6], op = (uint64_t)e->op << OP_SHIFT;
	uint8_t flags = 0;
	size_t n = 1, nv = 0;

	body_words(e, w);
	if (e->pid != c->pid) {
		flags |= HAS_PID;
		v[nv++] = e->pid;
	}
	if (e->tid != c->tid) {
		flags |= HAS_TID;
		v[nv++] = zigzag((uint64_t)((int64_t)e->tid - (int64_t)e->pid));
	}
	if (e->ts_ns) {
		flags |= HAS_TS;
		v[nv++] = zigzag(e->ts_ns - c->ts);
		c->ts = e->ts_ns;
	}
	n += codec__put_varint(out + n, 0);	/* the op's place: written last, with its bits */
	for (size_t i = 0; i < nv; i++)
		n += codec__put_varint(out + n, v[i]);
	if (stack) {
		flags |= HAS_STACK;
		n += codec__put_varint(out + n, stack - 1);
	}
	for (int i = 0; i < 4; i++) {
		if (!w[i])
			continue;
		flags |= (uint8_t)(HAS_WORD << i);
		/* an address from the last one; a second address (realloc's old block, a fault's
		 * mapping) from the first; sizes and the rest as they are */
		n += codec__put_varint(out + n, i == 0 ? code_diff(w[0] - c->addr, &op, ALIGNED_0) :
						 i == 2 ? code_diff(w[2] - w[0], &op, ALIGNED_2) : w[i]);
	}
	if (w[0])
		c->addr = w[0];
	c->pid = e->pid;
	c->tid = e->tid;
	out[0] = flags;
	/* the op goes in its place, the rest moved up when it takes more than its one byte */
	if (op >= 0x80) {
		uint8_t b[CODEC_VARINT_MAX];
		size_t k = codec__put_varint(b, op);

		memmove(out + 1 + k, out + 2, n - 2);
		memcpy(out + 1, b, k);
		return n - 1 + k;
	}
	out[1] = (uint8_t)op;
	return n;
}

size_t codec__decode_event(struct codec_ctx *c, const uint8_t *p, size_t n, struct mt_event *e,
			   uint32_t *stack)
{
	uint64_t v, op, w[4] = { 0 };
	size_t at = 1, k;
	uint8_t flags;

#define NEXT()                                                     \
	do {                                                       \
		k = codec__get_varint(p + at, n - at, &v);         \
		if (!k)                                            \
			return 0;                                  \
		at += k;                                           \
	} while (0)

	if (!n)
		return 0;
	flags = p[0];
	NEXT();
	op = v;
	if (op >> OP_SHIFT > UINT32_MAX || op & ~((uint64_t)UINT32_MAX << OP_SHIFT | ALIGNED_0 | ALIGNED_2))
		return 0;
	e->op = (uint32_t)(op >> OP_SHIFT);
	if (flags & HAS_PID) {
		NEXT();
		if (v > UINT32_MAX)
			return 0;
		c->pid = (uint32_t)v;
	}
	if (flags & HAS_TID) {
		int64_t t;

		NEXT();
		t = (int64_t)c->pid + (int64_t)unzigzag(v);
		if (t < 0 || t > UINT32_MAX)
			return 0;
		c->tid = (uint32_t)t;
	}
	e->pid = c->pid;
	e->tid = c->tid;
	e->ts_ns = 0;
	if (flags & HAS_TS) {
		NEXT();
		c->ts += unzigzag(v);
		e->ts_ns = c->ts;
	}
	*stack = 0;
	if (flags & HAS_STACK) {
		NEXT();
		if (v >= UINT32_MAX)
			return 0;
		*stack = (uint32_t)v + 1;
	}
	for (int i = 0; i < 4; i++) {
		if (!(flags & (HAS_WORD << i)))
			continue;
		NEXT();
		w[i] = i == 0 ? c->addr + uncode_diff(v, op, ALIGNED_0) :
		       i == 2 ? w[0] + uncode_diff(v, op, ALIGNED_2) : v;
	}
#undef NEXT
	if (w[0])
		c->addr = w[0];
	memcpy((uint8_t *)e + 24, w, 32);
	return at;
}
