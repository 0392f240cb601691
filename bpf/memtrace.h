/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The ABI between memtrace's BPF programs and its user-space daemon: one definition, both sides. */
#ifndef MEMTRACE_ABI_H
#define MEMTRACE_ABI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Matches the kernel's default perf_event_max_stack: deeper stacks are truncated, and counted. */
#define MT_MAX_FRAMES 127

/* What the traced call did. Allocating ops carry the new block in addr, the request in size. */
enum mt_op {
	MT_OP_MALLOC = 1,
	MT_OP_CALLOC,
	MT_OP_REALLOC,		/* old_addr = block passed in; addr = result (0 on failure) */
	MT_OP_REALLOCARRAY,
	MT_OP_POSIX_MEMALIGN,	/* addr read through the out-pointer when the call returned 0 */
	MT_OP_ALIGNED_ALLOC,
	MT_OP_MEMALIGN,
	MT_OP_VALLOC,
	MT_OP_PVALLOC,
	MT_OP_FREE,		/* addr = block freed; carries no stack */
	MT_OP_MMAP,		/* anonymous mappings only; addr = start, size = length */
	MT_OP_MUNMAP,		/* addr, size = range unmapped; carries no stack */
	MT_OP_MREMAP,		/* old_addr/old_size -> addr/size */
	MT_OP_EXIT,		/* the process ended (whole-machine tracing only); carries no stack,
				 * and its comm in the 16 bytes of addr and size (MT_EVENT_COMM) */
	MT_OP_EXEC,		/* the process became a new program (whole-machine tracing only) */
	MT_OP__COUNT,
};

/* Why an event or part of one was lost. Each reason is a slot of a per-CPU counter array. */
enum mt_loss {
	MT_LOSS_RINGBUF_FULL = 0,	/* bpf_ringbuf_output failed: consumer too slow */
	MT_LOSS_SCRATCH_FULL,		/* no room to remember a call's arguments until it returns */
	MT_LOSS_STACK,			/* bpf_get_stack failed: event sent without a stack */
	MT_LOSS_STACK_TRUNCATED,	/* stack deeper than MT_MAX_FRAMES (event still sent) */
	MT_LOSS_NO_ENTRY,		/* a return without its entry (attached mid-call) */
	MT_LOSS__COUNT,
};

struct mt_event {
	__u32 op;		/* enum mt_op */
	__u32 pid;		/* thread group id */
	__u32 tid;
	__u32 nframes;		/* valid entries in frames[]; the event is sent cut after them */
	__u64 ts_ns;		/* CLOCK_MONOTONIC */
	__u64 addr;
	__u64 size;
	__u64 old_addr;
	__u64 old_size;
	__u64 frames[MT_MAX_FRAMES]; /* user return addresses, innermost first */
};

#define MT_EVENT_HDR_SIZE 56u
/* An exit event's comm: it lies where addr and size are (16 bytes, NUL-padded). */
#define MT_EVENT_COMM(e) ((char *)&(e)->addr)
_Static_assert(sizeof(struct mt_event) == MT_EVENT_HDR_SIZE + 8 * MT_MAX_FRAMES,
	       "mt_event layout changed: BPF and user space must agree");

/* Per-thread state kept from an allocator's entry to its return. */
struct mt_call {
	__u32 op;
	__u32 depth;		/* allocator calls nested inside this one (e.g. memalign -> malloc) */
	__u64 arg0;		/* size, or block for realloc */
	__u64 arg1;		/* second size, or out-pointer for posix_memalign */
	__u64 arg2;
};

_Static_assert(sizeof(struct mt_call) == 32, "mt_call layout changed");

#endif /* MEMTRACE_ABI_H */
