// SPDX-License-Identifier: BSD-2-Clause
/*
 * Event records in a few bytes. A struct mt_event's header and body are 56 bytes, most of them
 * zero, equal to the event before's, or known already. An event is a flags byte (which fields
 * are there) and its op in the record stream; its fields go to columns (codec.h), so that zstd
 * sees like bytes together: times with times, stack ids with stack ids. The pid and thread only
 * when they change; the time as a difference; the stack as an id into the file's stack table
 * (recording.c); each non-zero body word, by what predicts it best:
 *   - a free names a block still held by its index in the table of live blocks (an index among
 *     thousands takes fewer bits than an address anywhere in the heap); so does an allocation
 *     at the address of a block still held (its free was lost), which the new block replaces;
 *   - an allocation at an address freed lately (allocators hand back what was just freed, of the
 *     same size) names it by its place in that size class's list of recent frees;
 *   - a size equal to the last one of the same stack is a bit (most call sites allocate one size);
 *   - else an address as a difference from the last one, divided by 16 when it divides.
 * Generic over the ops: a body is four u64 words whatever the op makes of them, so a new op or
 * body needs no change here; which ops allocate and free only chooses the predictions.
 * The writer and the reader keep the same tables, so the predictions agree. The table of live
 * blocks holds what the aggregate holds (model/aggregate.c): a block leaves it when freed, when
 * realloc frees it (realloc returned a block, or NULL for realloc(p, 0)) and when replaced, so
 * that a reader can keep each block's state by its index (struct agg_places) and never look an
 * address up.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/htab.h"
#include "lib/util.h"
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
	LIVE_0 = 1 << 2,	/* word 0 is a live block's index (the block leaves the table) */
	RECENT_0 = 1 << 3,	/* word 0 is an index into its size class's recent frees */
	LIVE_2 = 1 << 4,	/* word 2 is a live block's index (the block leaves the table) */
	SAME_1 = 1 << 5,	/* word 1 is the stack's last word 1 */
	REPLACED = 1 << 6,	/* the allocation replaces a live block (index in CODEC_LIVE) */
	OP_SHIFT = 7,
	OP_BITS = (1 << OP_SHIFT) - 1,
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

size_t codec__get_varint_long(const uint8_t *p, size_t n, uint64_t *v)
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

void codec__init(struct codec *c, bool writer)
{
	memset(c, 0, sizeof(*c));
	c->version = CODEC_VERSION;
	if (writer)
		c->live_ids = htab__new(sizeof(uint32_t));
}

void codec__free(struct codec *c)
{
	free(c->live);
	free(c->live_pid);
	if (c->live_ids)
		htab__free(c->live_ids);
	free(c->stack_size);
}

void codec__block(struct codec *c)
{
	c->pid = c->tid = 0;
	c->ts = c->addr = 0;
}

/* Which ops make a block (word 0, of word 1 bytes) and which free one (word 0). */
static bool allocates(uint32_t op)
{
	return (op >= MT_OP_MALLOC && op <= MT_OP_PVALLOC) || op == MT_OP_SAMPLED_ALLOC;
}

static bool frees(uint32_t op) { return op == MT_OP_FREE || op == MT_OP_GC_FREE; }
static bool reallocates(uint32_t op) { return op == MT_OP_REALLOC || op == MT_OP_REALLOCARRAY; }

/* realloc's old block (word 2) is freed when realloc returned a block (moved or not) or NULL for
 * realloc(p, 0); a failed call keeps it (the aggregate's meaning of each outcome). */
static bool realloc_frees(uint32_t op, const uint64_t *w)
{
	return reallocates(op) && w[2] && (w[0] || !w[1]);
}

/* A size class as glibc's are, 16 bytes apart up to 4 KiB, then powers of two. */
static uint32_t class_of(uint64_t size)
{
	return size < 4096 ? (uint32_t)((size + 23) >> 4) : 258 + 64 - (uint32_t)__builtin_clzll(size);
}
_Static_assert(258 + 64 < CODEC_CLASSES, "every size has a class");

/*
 * A class's recent frees: place j (0 the most recent) is at head + j, in an array twice their
 * number, so that both ends move by a copy: a free goes in below head (the places move up when
 * head reaches 0, once in CODEC_RECENT_MAX frees), a block taken closes its gap by moving the
 * more recent ones up (memmove: taking one deep in the list was a fifth of decoding as a ring).
 */
#define RECENT(c, k, j) ((c)->recent[k][(c)->head[k] + (j)])

/* The freed block goes first; when the list is full, the oldest goes. */
static void recent_push(struct codec *c, uint64_t size, uint64_t addr)
{
	uint32_t k = class_of(size), n = c->nrecent[k] < CODEC_RECENT_MAX ? c->nrecent[k] :
					 CODEC_RECENT_MAX - 1;
	uint64_t *r = c->recent[k];

	if (!c->head[k]) {
		memmove(r + 2 * CODEC_RECENT_MAX - n, r, n * sizeof(*r));
		c->head[k] = (uint8_t)(2 * CODEC_RECENT_MAX - n);
	}
	r[--c->head[k]] = addr;
	c->nrecent[k] = (uint8_t)(n + 1);
}

/* Place j leaves: the more recent ones move up one place. */
static void recent_take(struct codec *c, uint32_t k, uint32_t j)
{
	uint64_t *r = c->recent[k] + c->head[k];

	memmove(r + 1, r, j * sizeof(*r));
	c->head[k]++;
	c->nrecent[k]--;
}

static uint64_t live_key(uint32_t pid, uint64_t addr)
{
	uint64_t h = (addr ^ (uint64_t)pid << 44) * 0x9e3779b97f4a7c15ull;

	h ^= h >> 29;
	return h ? h : 1;
}

/* A block made: the table's next index, unless the table is full (then it is not kept). */
static void live_add(struct codec *c, uint32_t pid, uint64_t addr, uint64_t size)
{
	size_t i = c->nlive;

	if (i >= CODEC_LIVE_MAX)
		return;
	if (i >= c->cap_live) {
		size_t cap = c->cap_live;

		xgrow(&c->live, &cap, i + 1, sizeof(*c->live));
		if (c->live_ids) {
			cap = c->cap_live;
			xgrow(&c->live_pid, &cap, i + 1, sizeof(*c->live_pid));
		}
		c->cap_live = cap;
	}
	c->live[i] = (struct codec_live){ addr, size };
	if (c->live_ids) {
		c->live_pid[i] = pid;
		*(uint32_t *)htab__insert(c->live_ids, live_key(pid, addr), NULL) = (uint32_t)i;
	}
	c->nlive++;
}

/* Block i freed: the last one takes its index. Its size goes with it, to the recent frees. */
static void live_remove(struct codec *c, size_t i)
{
	size_t last = --c->nlive;

	recent_push(c, c->live[i].size, c->live[i].addr);
	if (c->live_ids) {
		htab__remove(c->live_ids, live_key(c->live_pid[i], c->live[i].addr), NULL);
		if (i != last) {
			uint32_t *at = htab__lookup(c->live_ids, live_key(c->live_pid[last], c->live[last].addr));

			if (at && *at == last)
				*at = (uint32_t)i;
			c->live_pid[i] = c->live_pid[last];
		}
	}
	c->live[i] = c->live[last];
}

/* The writer's: the index of pid's block at addr, or -1. */
static int64_t live_find(const struct codec *c, uint32_t pid, uint64_t addr)
{
	const uint32_t *at = htab__lookup(c->live_ids, live_key(pid, addr));

	if (at && *at < c->nlive && c->live[*at].addr == addr && c->live_pid[*at] == pid)
		return *at;
	return -1;
}

static void stack_sizes_grow(struct codec *c, uint32_t stack)
{
	xgrow(&c->stack_size, &c->cap_stack_size, stack, sizeof(*c->stack_size));	/* zeroed */
}

/* The stack's last word 1 (stack: a table id + 1, at most CODEC_STACK_SIZES). */
static inline uint64_t *stack_size(struct codec *c, uint32_t stack)
{
	if (stack > c->cap_stack_size)
		stack_sizes_grow(c, stack);
	return &c->stack_size[stack - 1];
}

static void put(struct codec_out *o, int col, const void *p, size_t n)
{
	xgrow(&o->p[col], &o->cap[col], o->n[col] + n, 1);
	memcpy(o->p[col] + o->n[col], p, n);
	o->n[col] += n;
	o->total += n;
}

/* A value in its field's two columns: the low byte, then the rest as a varint. */
static void put_value(struct codec_out *o, enum codec_field f, uint64_t v)
{
	uint8_t b[CODEC_VARINT_MAX];

	b[0] = (uint8_t)v;
	put(o, 2 * f, b, 1);
	put(o, 2 * f + 1, b, codec__put_varint(b, v >> 8));
}

void codec__in_start(struct codec_in *in, const uint8_t *const col[CODEC_COLUMNS],
		     const size_t len[CODEC_COLUMNS])
{
	for (int i = 0; i < CODEC_COLUMNS; i++) {
		in->p[i] = col[i];
		in->left[i] = len[i];
	}
	memset(in->at, 0, sizeof(in->at));
	memset(in->n, 0, sizeof(in->n));
}

size_t codec__in_left(const struct codec_in *in)
{
	size_t n = 0;

	for (int i = 0; i < CODEC_COLUMNS; i++)
		n += in->left[i];
	for (int f = 0; f < CODEC__FIELDS; f++)
		n += (size_t)(in->n[f] - in->at[f]);
	return n;
}

/*
 * Field f's next run of values from its two columns: false when there is none. A malformed
 * value (a varint cut short or past 56 bits) ends the run before it, so that the event that
 * would take it finds none.
 */
static bool refill(struct codec_in *in, enum codec_field f)
{
	int lo = 2 * f, hi = lo + 1;
	const uint8_t *pl = in->p[lo], *ph = in->p[hi];
	size_t nl = in->left[lo], nh = in->left[hi], k;
	unsigned n = 0;
	uint64_t x;

	for (; n < CODEC_IN_RUN && nl; n++, nl--) {
		if (nh && ph[0] < 0x80) {	/* most are */
			x = ph[0];
			k = 1;
		} else if (!(k = codec__get_varint(ph, nh, &x)) || x >> 56) {
			break;
		}
		in->v[f][n] = x << 8 | *pl++;
		ph += k;
		nh -= k;
	}
	in->p[lo] = pl;
	in->left[lo] = nl;
	in->p[hi] = ph;
	in->left[hi] = nh;
	in->at[f] = 0;
	in->n[f] = (uint8_t)n;
	return n > 0;
}

static inline bool get_value(struct codec_in *in, enum codec_field f, uint64_t *v)
{
	if (in->at[f] == in->n[f] && !refill(in, f))
		return false;
	*v = in->v[f][in->at[f]++];
	return true;
}

/*
 * A live block's index. A run of them is known ahead: their slots are loaded now, to be there
 * when their events come (a free's slot is anywhere in the table; waiting for it was a fifth of
 * decoding). Blocks move between slots in the meantime, but the slots stay where they are.
 */
static bool get_live(struct codec *c, struct codec_in *in, uint64_t *v)
{
	if (in->at[CODEC_LIVE] == in->n[CODEC_LIVE]) {
		if (!refill(in, CODEC_LIVE))
			return false;
		for (unsigned i = 0; i < in->n[CODEC_LIVE]; i++) {
			uint64_t k = in->v[CODEC_LIVE][i];

			if (k < c->nlive)
				__builtin_prefetch(&c->live[k]);
		}
	}
	return get_value(in, CODEC_LIVE, v);
}

void codec__out_clear(struct codec_out *out)
{
	memset(out->n, 0, sizeof(out->n));
	out->total = 0;
}

void codec__out_free(struct codec_out *out)
{
	for (int i = 0; i < CODEC_COLUMNS; i++)
		free(out->p[i]);
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

size_t codec__encode_event(struct codec *c, const struct mt_event *e, uint32_t stack, uint8_t *rec,
			   struct codec_out *out)
{
	uint64_t w[4], op = (uint64_t)e->op << OP_SHIFT;
	uint8_t flags = 0;
	int64_t at;

	memcpy(w, (const uint8_t *)e + 24, 32);
	for (int i = 0; i < 4; i++)
		flags |= w[i] ? (uint8_t)(HAS_WORD << i) : 0;
	if (e->pid != c->pid) {
		flags |= HAS_PID;
		put_value(out, CODEC_PID, e->pid);
	}
	if (e->tid != c->tid) {
		flags |= HAS_TID;
		put_value(out, CODEC_PID, zigzag((uint64_t)((int64_t)e->tid - (int64_t)e->pid)));
	}
	if (e->ts_ns) {
		flags |= HAS_TS;
		put_value(out, CODEC_TS, zigzag(e->ts_ns - c->ts));
		c->ts = e->ts_ns;
	}
	if (stack) {
		flags |= HAS_STACK;
		put_value(out, CODEC_STACK, stack - 1);
	}
	if (stack && stack <= CODEC_STACK_SIZES) {
		uint64_t *last = stack_size(c, stack);

		if (w[1] && *last == w[1])
			op |= SAME_1;
		*last = w[1];
	}
	if (w[1] && !(op & SAME_1))
		put_value(out, CODEC_SIZE, w[1]);
	/* realloc's old block leaves the table before its new one is looked for: they may be one */
	if (realloc_frees(e->op, w) && (at = live_find(c, e->pid, w[2])) >= 0) {
		op |= LIVE_2;
		put_value(out, CODEC_LIVE, (uint64_t)at);
		live_remove(c, (size_t)at);
	}
	if (w[0] && allocates(e->op) && (at = live_find(c, e->pid, w[0])) >= 0) {
		op |= REPLACED;
		put_value(out, CODEC_LIVE, (uint64_t)at);
		live_remove(c, (size_t)at);
	}
	if (w[0]) {
		uint32_t k = class_of(w[1]), j = CODEC_RECENT_MAX;

		if (allocates(e->op))
			for (j = 0; j < c->nrecent[k] && RECENT(c, k, j) != w[0]; j++)
				;
		if (frees(e->op) && (at = live_find(c, e->pid, w[0])) >= 0) {
			op |= LIVE_0;
			put_value(out, CODEC_LIVE, (uint64_t)at);
			live_remove(c, (size_t)at);
		} else if (j < c->nrecent[k]) {
			op |= RECENT_0;
			put_value(out, CODEC_RECENT, j);
			recent_take(c, k, j);
		} else {
			put_value(out, CODEC_ADDR, code_diff(w[0] - c->addr, &op, ALIGNED_0));
		}
		if (allocates(e->op))
			live_add(c, e->pid, w[0], w[1]);
		c->addr = w[0];
	}
	if (w[2] && !(op & LIVE_2))
		put_value(out, CODEC_OLD, code_diff(w[2] - w[0], &op, ALIGNED_2));
	if (w[3])
		put_value(out, CODEC_WORD3, w[3]);
	c->pid = e->pid;
	c->tid = e->tid;
	rec[0] = flags;
	return 1 + codec__put_varint(rec + 1, op);
}

size_t codec__decode_event(struct codec *c, const uint8_t *p, size_t n, struct codec_in *in,
			   uint32_t nstacks, struct mt_event *e, uint32_t *stack, struct agg_places *pl)
{
	/* version 2 had no REPLACED: its op sat a bit lower */
	unsigned shift = c->version < 3 ? OP_SHIFT - 1 : OP_SHIFT;
	uint64_t v, op, code, w[4] = { 0 }, replaced = 0, *last = NULL;
	size_t len;
	uint8_t flags;

	if (n < 2 || !(len = codec__get_varint(p + 1, n - 1, &op)))
		return 0;
	flags = p[0];
	code = op >> shift;
	op &= (1u << shift) - 1;	/* the bits below the op */
	if (code > UINT32_MAX || ((op & (LIVE_0 | RECENT_0)) && !(flags & HAS_WORD)) ||
	    (op & LIVE_0 && op & RECENT_0) || ((op & LIVE_2) && !(flags & HAS_WORD << 2)) ||
	    ((op & REPLACED) && (!(flags & HAS_WORD) || !allocates((uint32_t)code))))
		return 0;
	*pl = (struct agg_places){ AGG_NO_PLACE, AGG_NO_PLACE, AGG_NO_PLACE };
	e->op = (uint32_t)code;
	if (flags & HAS_PID) {
		if (!get_value(in, CODEC_PID, &v) || v > UINT32_MAX)
			return 0;
		c->pid = (uint32_t)v;
	}
	if (flags & HAS_TID) {
		int64_t t;

		if (!get_value(in, CODEC_PID, &v))
			return 0;
		t = (int64_t)c->pid + (int64_t)unzigzag(v);
		if (t < 0 || t > UINT32_MAX)
			return 0;
		c->tid = (uint32_t)t;
	}
	e->pid = c->pid;
	e->tid = c->tid;
	e->ts_ns = 0;
	if (flags & HAS_TS) {
		if (!get_value(in, CODEC_TS, &v))
			return 0;
		c->ts += unzigzag(v);
		e->ts_ns = c->ts;
	}
	*stack = 0;
	if (flags & HAS_STACK) {
		if (!get_value(in, CODEC_STACK, &v) || v >= UINT32_MAX)
			return 0;
		*stack = (uint32_t)v + 1;
		if (*stack > nstacks)
			return CODEC_BAD_STACK;
		if (*stack <= CODEC_STACK_SIZES)
			last = stack_size(c, *stack);
	}
	if (flags & HAS_WORD << 1) {
		if (op & SAME_1) {
			if (!last)
				return 0;
			w[1] = *last;
		} else if (!get_value(in, CODEC_SIZE, &w[1])) {
			return 0;
		}
		if (!w[1])
			return 0;
	} else if (op & SAME_1) {
		return 0;
	}
	if (last)
		*last = w[1];
	if (op & LIVE_2) {
		if (!get_live(c, in, &v) || v >= c->nlive)
			return 0;
		w[2] = c->live[v].addr;
		live_remove(c, (size_t)v);
		pl->freed = (uint32_t)v;
	}
	if (op & REPLACED) {	/* checked against word 0 below */
		if (!get_live(c, in, &v) || v >= c->nlive)
			return 0;
		replaced = c->live[v].addr;
		live_remove(c, (size_t)v);
		pl->replaced = (uint32_t)v;
	}
	if (flags & HAS_WORD) {
		uint32_t k = class_of(w[1]);

		if (!(op & LIVE_0 ? get_live(c, in, &v) :
		      get_value(in, op & RECENT_0 ? CODEC_RECENT : CODEC_ADDR, &v)))
			return 0;
		if (op & LIVE_0) {
			if (v >= c->nlive)
				return 0;
			w[0] = c->live[v].addr;
			live_remove(c, (size_t)v);
			pl->freed = (uint32_t)v;
		} else if (op & RECENT_0) {
			if (v >= c->nrecent[k])
				return 0;
			w[0] = RECENT(c, k, v);
			recent_take(c, k, (uint32_t)v);
		} else {
			w[0] = c->addr + uncode_diff(v, op, ALIGNED_0);
		}
		if (!w[0] || ((op & REPLACED) && replaced != w[0]))
			return 0;
		if (allocates(e->op) && c->nlive < CODEC_LIVE_MAX) {
			pl->placed = (uint32_t)c->nlive;
			live_add(c, e->pid, w[0], w[1]);
		}
		c->addr = w[0];
	}
	if (flags & HAS_WORD << 2 && !(op & LIVE_2)) {
		if (!get_value(in, CODEC_OLD, &v))
			return 0;
		w[2] = w[0] + uncode_diff(v, op, ALIGNED_2);
	}
	if (flags & HAS_WORD << 3 && (!get_value(in, CODEC_WORD3, &w[3]) || !w[3]))
		return 0;
	if ((flags & HAS_WORD << 2) && !w[2])
		return 0;
	/* word by word: copied as two 16-byte loads, the words just stored one by one stalled the
	 * load until the stores drained (no store forwarding across them) */
	e->addr = w[0];
	e->size = w[1];
	e->old_addr = w[2];
	e->old_size = w[3];
	if (c->version < 3)	/* its table kept what the aggregate does not: no places */
		*pl = (struct agg_places){ AGG_NO_PLACE, AGG_NO_PLACE, AGG_NO_PLACE };
	return 1 + len;
}
