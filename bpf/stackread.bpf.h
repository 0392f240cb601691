/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Reading a user stack: a word at a time, or through the walk's chunk. */
#ifndef MT_STACKREAD_BPF_H
#define MT_STACKREAD_BPF_H

#include "maps.bpf.h"

static __always_inline bool read_u64(__u64 addr, __u64 *v)
{
	return bpf_probe_read_user(v, sizeof(*v), (void *)addr) == 0;
}

/*
 * Code built without frame pointers (Debian's libc, where every stack ends, and most of Debian's
 * programs) leaves 0 or any value in the frame register; reading through it takes a page fault in
 * the kernel, microseconds each. A real chain lies on this thread's stack, above the stack
 * pointer, and moves up it frame by frame: a link that does not is never read.
 */
#define MT_STACK_SPAN (8ull << 20)	/* glibc's default thread stack; the main one grows past */

/* Can fp be a frame-pointer link of the stack whose pointer is sp? (Read it only then.) */
static __always_inline bool frame_link_ok(__u64 fp, __u64 sp)
{
	return fp >= sp && fp - sp <= MT_STACK_SPAN && !(fp & 7);
}

/*
 * The word at addr, through the walk's chunk. Each frame reads a word or two just above the
 * last, and a copy from user memory costs about the same whatever its size up to a few hundred
 * bytes: one copy of an aligned chunk serves the reads of several frames. A chunk never crosses
 * a page, so it is readable whenever the word is. The chunk is the walk's own (its working
 * record), valid for this walk only.
 */
static __always_inline int stack_word(struct mt_ustate *st, __u64 addr, __u64 *v)
{
	__u64 base = addr & ~(__u64)(MT_STACK_CHUNK - 1);

	if (addr & 7)
		return read_u64(addr, v);
	if (st->chunk_base != base) {
		st->chunk_base = 0;
		if (bpf_probe_read_user(st->chunk, sizeof(st->chunk), (void *)base))
			return read_u64(addr, v);
		st->chunk_base = base;
	}
	*v = st->chunk[(addr - base) / 8 & (MT_STACK_CHUNK / 8 - 1)];
	return true;
}

#endif /* MT_STACKREAD_BPF_H */
