// SPDX-License-Identifier: BSD-2-Clause
/*
 * Event records in a few bytes. A struct mt_event's header and body are 56 bytes, most of them
 * zero or equal to the event before's: the pid and thread repeat, the clock moves by
 * microseconds, addresses sit near the last one. So an event record is a flags byte saying which
 * fields are there, then varints: the op; the pid and thread only when they change; the time as
 * a difference; the stack as an id into the file's stack table (recording.c); each non-zero body
 * word, the first as a difference from the last address. Generic over the ops: a body is four
 * u64 words whatever the op makes of them, so a new op or body needs no change here.
 * The zstd pass over the block (recording.c) then takes what repeats.
 */
#include <string.h>

#include "record/codec.h"

enum {
	HAS_PID = 1 << 0,	/* else the previous event's */
	HAS_TID = 1 << 1,	/* else the previous event's; coded as tid - pid */
	HAS_TS = 1 << 2,	/* else 0; coded as the difference from the last non-zero ts */
	HAS_STACK = 1 << 3,	/* else no frames */
	HAS_WORD = 1 << 4,	/* << i: body word i is not zero */
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

/* A signed difference as an unsigned varint: small either way. Wraps, so every u64 round-trips. */
static uint64_t zigzag(uint64_t d) { return (d << 1) ^ (uint64_t)((int64_t)d >> 63); }
static uint64_t unzigzag(uint64_t z) { return (z >> 1) ^ -(z & 1); }

void codec__reset(struct codec_ctx *c) { memset(c, 0, sizeof(*c)); }

static void body_words(const struct mt_event *e, uint64_t w[4])
{
	memcpy(w, (const uint8_t *)e + 24, 32);
}

size_t codec__encode_event(struct codec_ctx *c, const struct mt_event *e, uint32_t stack,
			   uint8_t *out)
{
	uint64_t w[4];
	uint8_t flags = 0;
	size_t n = 1;

	body_words(e, w);
	n += codec__put_varint(out + n, e->op);
	if (e->pid != c->pid) {
		flags |= HAS_PID;
		n += codec__put_varint(out + n, e->pid);
	}
	if (e->tid != c->tid) {
		flags |= HAS_TID;
		n += codec__put_varint(out + n, zigzag((uint64_t)((int64_t)e->tid - (int64_t)e->pid)));
	}
	if (e->ts_ns) {
		flags |= HAS_TS;
		n += codec__put_varint(out + n, zigzag(e->ts_ns - c->ts));
		c->ts = e->ts_ns;
	}
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
		n += codec__put_varint(out + n, i == 0 ? zigzag(w[0] - c->addr) :
						 i == 2 ? zigzag(w[2] - w[0]) : w[i]);
	}
	if (w[0])
		c->addr = w[0];
	c->pid = e->pid;
	c->tid = e->tid;
	out[0] = flags;
	return n;
}

bool codec__decode_event(struct codec_ctx *c, const uint8_t *p, size_t n, struct mt_event *e,
			 uint32_t *stack)
{
	uint64_t v, w[4] = { 0 };
	size_t at = 1, k;
	uint8_t flags;

#define NEXT()                                                     \
	do {                                                       \
		k = codec__get_varint(p + at, n - at, &v);         \
		if (!k)                                            \
			return false;                              \
		at += k;                                           \
	} while (0)

	if (!n)
		return false;
	flags = p[0];
	NEXT();
	if (v > UINT32_MAX)
		return false;
	e->op = (uint32_t)v;
	if (flags & HAS_PID) {
		NEXT();
		if (v > UINT32_MAX)
			return false;
		c->pid = (uint32_t)v;
	}
	if (flags & HAS_TID) {
		int64_t t;

		NEXT();
		t = (int64_t)c->pid + (int64_t)unzigzag(v);
		if (t < 0 || t > UINT32_MAX)
			return false;
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
			return false;
		*stack = (uint32_t)v + 1;
	}
	for (int i = 0; i < 4; i++) {
		if (!(flags & (HAS_WORD << i)))
			continue;
		NEXT();
		w[i] = i == 0 ? c->addr + unzigzag(v) : i == 2 ? w[0] + unzigzag(v) : v;
	}
#undef NEXT
	if (w[0])
		c->addr = w[0];
	memcpy((uint8_t *)e + 24, w, 32);
	return at == n;
}
