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

/* What an event says happened; each op's body is the member of struct mt_event's union named. */
enum mt_op {
	/* An allocator call (body: call): addr = the new block, size = the request. */
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
	 * A user page fault the kernel resolved, counted as minor (body: fault). Its stack starts at
	 * the faulting instruction, not at a return address.
	 */
	MT_OP_FAULT,
	MT_OP_FAULT_MAJOR,	/* the same, where the kernel had to read the page in (I/O) */
	/* The process ended (whole-machine tracing only; body: proc, its comm). No stack. */
	MT_OP_EXIT,
	/*
	 * The process became a new program (body: proc): the new program's comm, and the one it
	 * had before, which user space fills in before it applies the event, so that a recording
	 * replays it. No stack: args in place of the frames, the new program's command line.
	 */
	MT_OP_EXEC,
	/*
	 * A block libmemtrace-sample.so sampled (body: sampled). Its stack starts at the direct
	 * caller of malloc. Frees of sampled blocks (a realloc's old block too) come as MT_OP_FREE.
	 */
	MT_OP_SAMPLED_ALLOC,
	/*
	 * One file mapping of a process that is exiting (whole-machine tracing only; sent before its
	 * MT_OP_EXIT; body: map, and file in place of the frames).
	 */
	MT_OP_EXIT_MAP,
	/*
	 * A block freed while CPython's cycle collector ran on this thread (body: call; old_addr =
	 * the collection's id): garbage only the collector could reclaim. No stack.
	 */
	MT_OP_GC_FREE,
	/* A collection by CPython's cycle collector ended (body: gc). No stack. */
	MT_OP_GC,
	/*
	 * The kernel's OOM killer chose this process (body: oom), before the kill and the reaper
	 * free anything. No stack. User space adds the memory cgroup's limit (and, where the kernel
	 * gave no task to read the resident memory from, its own last sample) before the event is
	 * applied or recorded, so that a replay sees what the live trace saw.
	 */
	MT_OP_OOM,
	MT_OP__COUNT,
};

/* The kind of mapping a page fault hit (the low byte of a fault's map). */
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
	/*
	 * An event named its stack by an id user space had no frames for (user/probe/stackid.c):
	 * counted there, not by the programs. The event is kept, with no stack.
	 */
	MT_LOSS_STACK_ID,
	MT_LOSS__COUNT,
};

/* With MEMTRACE_CHECK_VMA set (the tests): the VMA tree's answers against the kernel's. */
enum mt_vma_check {
	MT_VMA_CHECK_SAME = 0,		/* bpf_find_vma found the same mapping, or none either */
	MT_VMA_CHECK_DIFFER,
	MT_VMA_CHECK_BUSY,		/* bpf_find_vma could not answer (lock held, or in a fault) */
	MT_VMA_CHECK_GAVE_UP,		/* the tree could not answer (it changed while read): not compared */
	MT_VMA_CHECK__COUNT,
};

/* Bytes of a file path an exit map, or of the arguments an exec, carries at the most. */
#define MT_PATH_BYTES (8 * (MT_MAX_FRAMES - 1))

/*
 * An event: a header, a body that depends on op (one union member each), then the frames of its
 * user stack. Sent cut after its nframes frames: an event without a stack is the header and body.
 */
struct mt_event {
	__u32 op;		/* enum mt_op */
	__u32 pid;		/* thread group id */
	__u32 tid;
	__u32 nframes;		/* valid entries in frames[] (for an exit map, 8-byte words of file) */
	__u64 ts_ns;		/* CLOCK_MONOTONIC, of allocations and OOM kills; 0 for the rest */
	union {
		struct {			/* call: an allocator call */
			__u64 addr;		/* the block (or mapping) made, freed or moved */
			__u64 size;
			__u64 old_addr;		/* realloc, mremap: the block before */
			__u64 old_size;		/* mremap: the mapping's size before */
		};
		struct {			/* fault: a page fault */
			__u64 addr;		/* the faulting address */
			__u64 bytes;		/* what it mapped: a whole folio for a huge page, 0
						 * for a read that mapped the zero page */
			__u64 map_start;	/* the start of the mapping hit */
			__u64 map;		/* enum mt_map | MT_FAULT_SIZED when bytes was measured */
		} fault;
		struct {			/* sampled: a block libmemtrace-sample.so sampled */
			__u64 addr, size;	/* the block */
			__u64 zero;
			__u64 mean;		/* the mean sampling interval T in bytes: the block stands
						 * for size / p bytes, p = 1 - exp(-size / T) */
		} sampled;
		struct {			/* proc: an exit or an exec */
			char comm[16];		/* NUL-padded: the process's, or the new program's */
			char old_comm[16];	/* exec: the program's before (set by user space) */
		} proc;
		struct {			/* gc: a collection of CPython's cycle collector */
			__u64 id;		/* tid << 32 | the thread's count of collections */
			__u64 duration_ns;	/* from gc_collect_main's entry to its return */
			__u64 generation;	/* the oldest generation collected (0-2) */
			__u64 result;		/* what gc_collect_main returned: objects collected */
		} gc;
		struct {			/* oom: the OOM killer's victim */
			__u64 rss_bytes;	/* resident: anonymous, file and shared memory pages */
			__u64 anon_bytes;	/* of which anonymous */
			__u64 limit_bytes;	/* its memory cgroup's limit (set by user space); 0: none */
			__u32 tid;		/* the thread the kernel named */
			__u32 flags;		/* MT_OOM_* */
		} oom;
		struct {			/* map: one file mapping of an exiting process */
			__u64 start, size;
			__u64 offset;		/* in the file */
			__u64 inode;
		} map;
	};
	union {
		__u64 frames[MT_MAX_FRAMES];	/* user return addresses, innermost first */
		struct {			/* an exit map's file, in place of frames */
			__u32 dev;		/* kernel encoding: major << 20 | minor */
			__u32 perms;		/* read 1, write 2, execute 4 */
			char path[MT_PATH_BYTES];	/* NUL-terminated */
		} file;
		struct {			/* an exec's command line, in place of frames */
			__u32 len;		/* bytes sent in bytes[]: 0 where it could not be read */
			__u32 full_len;		/* bytes the arguments take: more than len when cut */
			char bytes[MT_PATH_BYTES];	/* the arguments, each NUL-terminated */
		} args;
	};
};

/*
 * A free or an unmap is sent short: the header's first 16 bytes, the block's address and, for an
 * unmap, its length, in place of ts_ns and addr; a release has nothing else. User space
 * (user/probe/probe.c) makes it a whole event again before anything reads it.
 */
struct mt_release {
	__u32 op, pid, tid, nframes;	/* as an event's; nframes 0 */
	__u64 addr;
	__u64 size;			/* MT_UNMAP_SIZE only */
};

#define MT_FREE_SIZE 24u		/* a free's bytes: no size */
#define MT_UNMAP_SIZE 32u

/*
 * An allocation whose stack this CPU sent in full before (bpf/stackid.bpf.h), with no old block
 * (not a realloc's) and under 4 GiB, is sent short too: 40 bytes where a whole event with the id
 * takes 64, and the ring's memory is cold after the trap. Its frame count is the id's.
 */
struct mt_alloc_by_id {
	__u32 op, pid, tid;
	__u32 size;
	__u64 ts_ns;
	__u64 addr;
	__u64 stack_id;
};

#define MT_ALLOC_BY_ID_SIZE 40u

/* Ops that may go as a short allocation: those that make a block or a mapping, with a stack. */
static inline int mt_op_allocates(__u32 op)
{
	return op >= MT_OP_MALLOC && op <= MT_OP_MREMAP && op != MT_OP_FREE && op != MT_OP_MUNMAP;
}

/*
 * Stacks sent by id (bpf/stackid.bpf.h). nframes carries these flags above MT_FRAMES_MASK; the
 * count below them is the stack's frames either way.
 */
#define MT_FRAMES_NEW 0x100u	/* in full, and frames[nframes] is its id: remember it */
#define MT_FRAMES_BY_ID 0x200u	/* frames[0] is the id of a stack sent in full before */

#define MT_OOM_RSS 1u		/* rss_bytes, anon_bytes: the kernel's counters at the kill */
#define MT_OOM_RSS_SAMPLED 2u	/* rss_bytes: memtrace's last sample before it (user space) */

#define MT_EVENT_HDR_SIZE 56u		/* header and body: where frames[] begin */
_Static_assert(sizeof(struct mt_event) == MT_EVENT_HDR_SIZE + 8 * MT_MAX_FRAMES,
	       "mt_event layout changed: BPF and user space must agree");
_Static_assert(__builtin_offsetof(struct mt_event, frames) == MT_EVENT_HDR_SIZE, "header and body: 56 bytes");
_Static_assert(__builtin_offsetof(struct mt_event, fault.map) == __builtin_offsetof(struct mt_event, old_size),
	       "each body lies in the same 32 bytes");
_Static_assert(sizeof(((struct mt_event *)0)->proc) == 32, "proc body: two comms");
_Static_assert(sizeof(struct mt_alloc_by_id) == MT_ALLOC_BY_ID_SIZE, "a short allocation: 40 bytes");
_Static_assert(sizeof(((struct mt_event *)0)->oom) == 32, "oom body: within the 32 bytes");
/* A sampled block is a heap block: the aggregate files it as an allocation's addr and size. */
_Static_assert(__builtin_offsetof(struct mt_event, sampled.addr) == __builtin_offsetof(struct mt_event, addr) &&
	       __builtin_offsetof(struct mt_event, sampled.size) == __builtin_offsetof(struct mt_event, size),
	       "a sampled block's addr and size are an allocation's");

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

/*
 * --leak-check: a process's stop at _exit (map exit_stops, bpf/proc.bpf.h): user space arms it,
 * the probe sends the stop once, user space takes it (user/session/leakscan.c).
 */
enum mt_exit_stop {
	MT_EXIT_STOP_ARMED = 1,
	MT_EXIT_STOP_SENT = 2,		/* SIGSTOP sent to the leader, which ptrace will report */
	MT_EXIT_STOP_FAILED = 3,	/* the kernel would not send it: the exit stop serves instead */
};

#endif /* MEMTRACE_ABI_H */
