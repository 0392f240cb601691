/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Walks already done, replayed.
 *
 * Unwinding an allocation's stack by its CFI rows costs about a microsecond on sqlite3, most of it
 * finding each frame's row. But a program allocates from a few call paths over and over, and each
 * time the walk starts from the same registers and reads the same stack words. A walk is a
 * function of its start (ip, sp, and rbp when a rule reads it), the rows of the objects it
 * passes, and the words it reads. So when a walk kept here starts where this one does, in the
 * same state of the address space (the rows cannot differ: see unwind.bpf.h's row cache), and
 * every word it read still holds the value it read, this walk would end in the same frames: they
 * are copied instead, and the check costs a compare per word where a step costs a row lookup, a
 * rule and its bounds checks.
 *
 * The words are read back in as few copies from user memory as they allow (replay_read): each
 * copy costs about what a few KiB of copying does, so a run of words close together on the stack
 * is taken in one copy, planned as the walk reads them (walk_word). sqlite3's deep stacks, 18
 * words in three runs over 10 KiB, took six 512-byte chunks before; now three copies.
 *
 * Kept per CPU, 4-way set-associative by (process, ip, sp): different paths can meet at one call
 * with the same registers (tests/workloads/nofp_paths.c), and the words tell them apart. Only
 * clean walks are kept: none that lost a frame (a table may be loaded later), was cut short, or
 * read more words than fit.
 *
 * A program that preempts another on the same CPU (under preempt=full) may take the same slot:
 * each writer stamps the slot (gen, owner) before it writes and keeps the walk only if the stamp
 * is still its own at the end; a replay that sees the stamp move is thrown away.
 */
#ifndef MT_WALK_BPF_H
#define MT_WALK_BPF_H

#include "stackread.bpf.h"

static __always_inline struct mt_walk *walk_slot(const struct mt_ustate *st)
{
	__u32 slot = st->rec.slot;

	return bpf_map_lookup_elem(&walks, &slot);
}

/*
 * Keep a word the walk being recorded read, and plan the replay's reads: a word within
 * MT_REPLAY_GAP of the stretch its run's words lie in joins the run, if the stretch stays within
 * MT_REPLAY_READ bytes; the run's first word's read then covers the stretch. Any other word starts
 * a run. A walk reads up the stack, so runs are long; a frame-pointer step reads the return
 * address and then, below it, the saved rbp, so a run grows down as well as up.
 */
static __always_inline void walk_word(struct mt_ustate *st, __u64 addr, __u64 v)
{
	struct mt_walk *w = walk_slot(st);	/* first: only st, addr and v live across the call */
	__u64 off = addr - st->rec.sp0;
	__u32 i = st->rec.nreads, run = st->rec.run, lo, hi;

	if (!w || addr < st->rec.sp0 || off > 0xffffffffull || i >= MT_WALK_READS) {
		st->rec.on = false;
		return;
	}
	w->off[i] = off;
	w->val[i] = v;
	w->read[i].back = 0;
	w->read[i].len = 8;
	lo = off < st->rec.lo ? off : st->rec.lo;
	hi = off + 8 > st->rec.hi ? off + 8 : st->rec.hi;
	if (i && off + MT_REPLAY_GAP >= st->rec.lo && off <= st->rec.hi + MT_REPLAY_GAP &&
	    hi - lo <= MT_REPLAY_READ && run < MT_WALK_READS) {
		/* The mask is kept through a barrier: 6.1's verifier does not carry the bound just
		 * checked to a copy of run reloaded from the stack. */
		barrier_var(run);
		run &= MT_WALK_READS_MASK;
		st->rec.lo = lo;
		st->rec.hi = hi;
		w->read[run].back = st->rec.run_off - lo;
		w->read[run].len = hi - lo;
	} else {
		st->rec.run = i;
		st->rec.run_off = st->rec.lo = off;
		st->rec.hi = off + 8;
	}
	st->rec.nreads = i + 1;
}

/* A word the walk read (from stack_u64). One that became rbp is held: see stack_bp. */
static __always_inline void walk_note(struct mt_ustate *st, __u64 addr, __u64 v)
{
	if (!st->rec.on)
		return;
	if (!st->rec.hold) {
		walk_word(st, addr, v);
		return;
	}
	st->rec.held = true;
	st->rec.held_addr = addr;
	st->rec.held_val = v;
}

/* A rule reads rbp: the word it came from, or the starting rbp, is an input of the walk. */
static __always_inline __u64 walk_use_bp(struct mt_ustate *st)
{
	if (st->rec.bp_initial)
		st->rec.uses_bp = true;
	else if (st->rec.held && st->rec.on)
		walk_word(st, st->rec.held_addr, st->rec.held_val);
	st->rec.held = false;
	return st->bp;
}

/*
 * Read the stack around the kept walk's word i at addr into st->span: the bytes walk_word planned
 * for it, or the word alone. Everything between two words a walk read lies on its stack, so the
 * planned read takes in nothing else; if it fails anyway (a page swapped out), the word is read
 * alone. The span shares its memory with the walk's chunk: a replay comes before any walk, and
 * leaves no chunk behind.
 */
static __always_inline bool replay_read(struct mt_ustate *st, const struct mt_walk *w, __u32 i, __u64 addr)
{
	__u32 back = w->read[i].back & (MT_REPLAY_READ - 8), n = w->read[i].len;

	if (n > MT_REPLAY_READ || n < back + 8 || (addr & 7)) {	/* rewritten, or unaligned */
		back = 0;
		n = 8;
	}
	if (bpf_probe_read_user(st->span, n, (void *)(addr - back))) {
		back = 0;
		n = 8;
		if (bpf_probe_read_user(st->span, n, (void *)addr)) {
			st->span_len = 0;
			return false;
		}
	}
	st->chunk_base = 0;
	st->span_base = addr - back;
	st->span_len = n;
	return true;
}

/* Do the words the kept walk read hold the same values now? A global function: checked once. */
__noinline int walk_words_same(struct mt_ustate *st)
{
	struct mt_walk *w;
	__u64 addr, at;

	if (!st)
		return 0;
	w = walk_slot(st);
	if (!w)
		return 0;
	for (__u32 i = 0; i < MT_WALK_READS; i++) {
		if (i >= w->nreads)
			return 1;
		addr = st->sp + w->off[i];
		at = addr - st->span_base;
		if (addr < st->span_base || at + 8 > st->span_len || (at & 7)) {
			if (!replay_read(st, w, i, addr))
				return 0;
			at = addr - st->span_base;
		}
		if (st->span[at / 8 & (MT_REPLAY_READ / 8 - 1)] != w->val[i])
			return 0;
	}
	return 1;
}

/* A walk's start, in 32 bits, never 0: a slot's tag (0: empty or being written). */
static __always_inline __u32 walk_tag(const struct mt_ustate *st)
{
	__u64 h = (st->ip ^ st->sp * 31 ^ (__u64)st->pid << 40) * 0x9e3779b97f4a7c15ull;

	return (h >> 32) | 1;
}

/* Is the walk in st's slot one from st's start, and are the words it read unchanged? */
static __always_inline __u32 walk_try(struct mt_ustate *st, __u64 *frames)
{
	struct mt_walk *w = walk_slot(st);
	__u32 gen, n;
	__u64 h;

	if (!w)
		return 0;
	gen = w->gen;
	if (w->tgid != st->pid || w->seq != st->seq || w->ip != st->ip || w->sp != st->sp ||
	    (w->uses_bp && w->bp != st->bp))
		return 0;
	n = w->nframes;
	if (!walk_words_same(st))
		return 0;
	for (__u32 i = 0; i < MT_WALK_FRAMES && i < n; i++)	/* n's lines only: they are cold */
		frames[i] = w->frames[i];
	h = w->frames_h;
	if (w->gen != gen || n > MT_WALK_FRAMES)	/* rewritten while we read: the walk that */
		return 0;				/* follows hashes from the seed, not from h */
	st->frames_h = h;
	return n;
}

/*
 * Way `way` of set `set`. The mask is kept through a barrier: the compiler knows the sum is
 * below MT_WALK_SLOTS and drops it, and 6.1's verifier, having lost set's bound on the way, then
 * refuses the index ("math between map_value pointer and register with unbounded min value").
 */
static __always_inline __u32 walk_way(__u32 set, __u32 way)
{
	__u32 slot = set * MT_WALK_WAYS + way;

	barrier_var(slot);
	return slot & (MT_WALK_SLOTS - 1);
}

/*
 * The frames of a kept walk from st's start into frames[], or 0 when none applies; then a slot
 * is taken for the walk that follows to be recorded in (walk_keep).
 */
static __always_inline __u32 walk_replay(struct mt_ustate *st, __u64 *frames)
{
	__u32 zero = 0, tag = walk_tag(st), set, slot, n, way;
	struct mt_walk_tags *tags = bpf_map_lookup_elem(&walk_tags, &zero);
	struct mt_walk *w;

	if (!tags || !st->cache)
		return 0;
	set = tag >> 8 & (MT_WALK_SETS - 1);
	for (way = 0; way < MT_WALK_WAYS; way++) {
		slot = walk_way(set, way);
		if (tags->tag[slot] != tag)
			continue;
		st->rec.slot = slot;
		n = walk_try(st, frames);
		if (n)
			return n;
	}
	way = tags->next[set] & (MT_WALK_WAYS - 1);
	tags->next[set] = way + 1;
	slot = walk_way(set, way);
	st->rec.slot = slot;
	w = walk_slot(st);
	if (!w)
		return 0;
	tags->tag[slot] = 0;
	w->gen++;
	w->owner = st->tid;
	st->rec.gen = w->gen;
	st->rec.tag = tag;
	st->rec.ip0 = st->ip;
	st->rec.sp0 = st->sp;
	st->rec.bp0 = st->bp;
	st->rec.on = true;
	return 0;
}

/* Keep the walk just recorded, if it is clean and the slot is still its own. */
static __always_inline void walk_keep(struct mt_ustate *st, const __u64 *frames)
{
	__u32 zero = 0, slot = st->rec.slot;
	struct mt_walk_tags *tags = bpf_map_lookup_elem(&walk_tags, &zero);
	struct mt_walk *w = walk_slot(st);

	barrier_var(slot);
	slot &= MT_WALK_SLOTS - 1;
	if (!tags || !w || !st->rec.on || st->rec.lossy || st->truncated || st->n > MT_WALK_FRAMES ||
	    w->gen != st->rec.gen || w->owner != st->tid)
		return;
	w->tgid = st->pid;
	w->seq = st->seq;
	w->ip = st->rec.ip0;
	w->sp = st->rec.sp0;
	w->bp = st->rec.bp0;
	w->uses_bp = st->rec.uses_bp;
	w->nframes = st->n;
	w->nreads = st->rec.nreads;
	w->frames_h = st->frames_h;
	__builtin_memcpy(w->frames, frames, sizeof(w->frames));
	if (w->gen == st->rec.gen && w->owner == st->tid)
		tags->tag[slot] = st->rec.tag;
}

#endif /* MT_WALK_BPF_H */
