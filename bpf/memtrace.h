/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The ABI between memtrace's BPF programs and its user-space daemon: one definition, both sides. */
#ifndef MEMTRACE_ABI_H
#define MEMTRACE_ABI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/*
 * Frames an event carries, native and Python together; deeper stacks are truncated, and counted.
 * Python's imports nest (site's .pth files, a package's __init__ importing the next), and each
 * level costs about eighteen native and Python frames: the kernel's 127 cut real startup stacks.
 */
#define MT_MAX_FRAMES 255
#define MT_FRAMES_MASK 0xff		/* nframes & this is always a valid count (for the verifier) */
#define MT_STR(x) MT_STR_(x)
#define MT_STR_(x) #x

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
	/*
	 * A user page fault the kernel resolved (counted as minor or major). addr = faulting address;
	 * size = bytes the fault mapped (a whole folio for a huge page; 0 when it mapped nothing new,
	 * as a read mapping the zero page); old_addr = start of the mapping hit; old_size = the
	 * mapping's enum mt_map, ORed with MT_FAULT_SIZED when size was measured (else it is unknown).
	 * The stack starts at the faulting instruction, not at a return address.
	 */
	MT_OP_FAULT,
	MT_OP_FAULT_MAJOR,	/* the same, where the kernel had to read the page in (I/O) */
	MT_OP_EXIT,		/* the process ended (whole-machine tracing only); carries no stack,
				 * and its comm in the 16 bytes of addr and size (MT_EVENT_COMM) */
	/*
	 * The process became a new program; carries no stack. The new program's comm is in the 16
	 * bytes of addr and size (MT_EVENT_COMM); user space puts the old one in old_addr and
	 * old_size (MT_EVENT_OLD_COMM) before it applies the event, so a recording replays it.
	 */
	MT_OP_EXEC,
	/*
	 * A block libmemtrace-sample.so sampled (README: "Sampling mode"): addr, size = the block;
	 * old_size = the mean sampling interval T in bytes, so the block stands for size / p bytes,
	 * p = 1 - exp(-size / T); old_addr = 0. Its stack starts at the direct caller of malloc.
	 * Frees of sampled blocks (a realloc's old block too) come as MT_OP_FREE.
	 */
	MT_OP_SAMPLED_ALLOC,
	/*
	 * One file mapping of a process that is exiting (whole-machine tracing only; sent before
	 * its MT_OP_EXIT): addr, size = the mapping; old_addr = its file offset; old_size = the
	 * file's inode; frames[0] = the file's device (kernel encoding: major << 20 | minor) in the
	 * low 32 bits, its read/write/exec permission bits (1, 2, 4) above; from frames[1], the
	 * file's path, NUL-terminated (MT_PATH_BYTES at most).
	 */
	MT_OP_EXIT_MAP,
	MT_OP__COUNT,
};

/* The kind of mapping a page fault hit. */
enum mt_map {
	MT_MAP_UNKNOWN = 0,	/* the mapping could not be looked up (lock contended) */
	MT_MAP_HEAP,		/* the brk heap */
	MT_MAP_ANON,		/* anonymous mmap: malloc's big blocks and arenas, thread stacks */
	MT_MAP_STACK,		/* the main thread's stack */
	MT_MAP_FILE,		/* file-backed, shared memory included */
	MT_MAP__COUNT,
};

#define MT_FAULT_MAP_MASK 0xffull
#define MT_FAULT_SIZED 0x100ull

/* Why an event or part of one was lost. Each reason is a slot of a per-CPU counter array. */
enum mt_loss {
	MT_LOSS_RINGBUF_FULL = 0,	/* bpf_ringbuf_output failed: consumer too slow */
	MT_LOSS_SCRATCH_FULL,		/* no room to remember a call's arguments until it returns */
	MT_LOSS_STACK,			/* no stack could be started (sampling hook): sent without one */
	MT_LOSS_STACK_TRUNCATED,	/* stack deeper than MT_MAX_FRAMES (event still sent) */
	MT_LOSS_NO_ENTRY,		/* a return without its entry (attached mid-call) */
	/* Frames the CFI unwinder could not step (each then steps by frame pointer; see unwind.bpf.h). */
	MT_LOSS_UNWIND_NO_TABLE,	/* pc in no object with a table (JIT, anon, gap, not loaded yet) */
	MT_LOSS_UNWIND_UNSUPPORTED,	/* CFI rule the BPF unwinder does not implement */
	MT_LOSS_UNWIND_READ_FAULT,	/* stack memory unreadable, or a frame not above the last one */
	MT_LOSS_FAULT_STACK_TRUNCATED,	/* a page fault's stack deeper than MT_MAX_FRAMES (still sent) */
	MT_LOSS_PY_STACK,		/* a Python frame could not be read: Python stack cut there */
	MT_LOSS_PY_TRUNCATED,		/* Python stack deeper than the walk (event still sent) */
	/*
	 * Every per-CPU work record was taken: programs of tasks that preempted each other on one
	 * CPU held them all (work.bpf.h). The event is lost.
	 */
	MT_LOSS_WORK_BUSY,
	MT_LOSS__COUNT,
};

struct mt_event {
	__u32 op;		/* enum mt_op */
	__u32 pid;		/* thread group id */
	__u32 tid;
	__u32 nframes;		/* valid entries in frames[]; the event is sent cut after them */
	__u64 ts_ns;		/* CLOCK_MONOTONIC, of allocations; 0 for the rest */
	__u64 addr;
	__u64 size;
	__u64 old_addr;
	__u64 old_size;
	__u64 frames[MT_MAX_FRAMES]; /* user return addresses, innermost first */
};

#define MT_EVENT_HDR_SIZE 56u
/* An exit map event's path: where frames[1] and on are. */
#define MT_PATH_BYTES (8 * (MT_MAX_FRAMES - 1))
/* An exit event's comm: it lies where addr and size are (16 bytes, NUL-padded). */
#define MT_EVENT_COMM(e) ((char *)&(e)->addr)
/* An exec event's comm before the exec, where old_addr and old_size are (set by user space). */
#define MT_EVENT_OLD_COMM(e) ((char *)&(e)->old_addr)
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

/* How user stacks are taken (--unwind). */
enum mt_unwind_mode {
	MT_UNWIND_FP = 0,	/* the frame-pointer chain, walked in BPF (user_stack) */
	MT_UNWIND_DWARF,	/* CFI tables from .eh_frame for every object, frame pointers as fallback */
	MT_UNWIND_AUTO,		/* CFI tables only for objects built without frame pointers */
};

/* How the BPF unwinder finds the caller's frame (CFA: the caller's sp, just above the return address). */
enum mt_cfa_rule {
	MT_CFA_NONE = 0,	/* no CFI covers this pc: a gap between functions */
	MT_CFA_RSP,		/* CFA = rsp + cfa_offset */
	MT_CFA_RBP,		/* CFA = rbp + cfa_offset */
	MT_CFA_DEREF_RBP,	/* CFA = *(rbp + cfa_offset): stack-realigning functions */
	MT_CFA_PLT,		/* CFA = rsp + cfa_offset + ((pc & 15) >= rbp_offset ? 8 : 0): PLT stubs */
	MT_CFA_SIGNAL,		/* signal trampoline: the ucontext is at rsp; see unwind.bpf.h */
	MT_CFA_END,		/* return address undefined: the outermost frame (_start, clone) */
	MT_CFA_UNSUPPORTED,	/* any other rule */
};

/* Where the caller's rbp is. */
enum mt_rbp_rule {
	MT_RBP_SAME = 0,	/* unchanged (or undefined: kept for the frame-pointer fallback) */
	MT_RBP_AT_CFA,		/* saved at CFA + rbp_offset */
	MT_RBP_AT_RBP,		/* saved at rbp + rbp_offset */
};

/* One row of an object's unwind table: the rules from pc up to the next row's pc. */
struct mt_unwind_row {
	__u32 pc;		/* ELF virtual address in the object */
	__s32 cfa_offset;
	__s16 rbp_offset;
	__u8 cfa_rule;		/* enum mt_cfa_rule */
	__u8 rbp_rule;		/* enum mt_rbp_rule */
};

_Static_assert(sizeof(struct mt_unwind_row) == 12, "mt_unwind_row layout changed");

/* An object file as the kernel names it: the (dev, inode) of a mapping's file. */
struct mt_unwind_key {
	__u64 dev;		/* kernel encoding: major << 20 | minor */
	__u64 ino;
};

#define MT_UNWIND_OBJ_FP 1	/* built with frame pointers: step by rbp, no table (auto mode) */

struct mt_unwind_obj {
	__u32 table;		/* slot in the unwind_tables map of maps */
	__u32 nrows;		/* 0: no table (step by frame pointer, count MT_LOSS_UNWIND_NO_TABLE) */
	__s64 vaddr_adjust;	/* p_vaddr - p_offset of the executable segment */
	__u32 flags;		/* MT_UNWIND_OBJ_* */
	__u32 pad;
};

_Static_assert(sizeof(struct mt_unwind_obj) == 24, "mt_unwind_obj layout changed");

#define MT_UNWIND_MAX_OBJECTS 1024
#define MT_UNWIND_MAX_ROWS (1u << 24)	/* per object: the BPF binary search takes 24 steps */

#endif /* MEMTRACE_ABI_H */
