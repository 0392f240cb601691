/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The BPF programs' private state: per-thread, per-CPU and per-run records. Nothing here crosses
 * to user space (that is memtrace.h); maps.bpf.h declares the maps that hold these.
 */
#ifndef MT_STATE_BPF_H
#define MT_STATE_BPF_H

#include "memtrace.h"
#include "python.h"

/*
 * Each thread's state: the allocator call in flight on it, and the page fault being tallied.
 * Task-local storage, not a hash by thread id: it is found from the task in a few loads, dies with
 * the thread (a thread killed mid-call cannot pin anything), and needs no delete, which on an LRU
 * hash cost 0.1-1.6 us per event.
 */
struct mt_thread {
	struct mt_call call;	/* valid while in_call */
	__u64 outer_sp;		/* stack pointer at the outer call's entry */
	__u64 fault_bytes;	/* bytes mapped by the fault in progress (valid while in_fault) */
	__u64 gc_start_ns;	/* when the collection in progress began (valid while in_gc) */
	__u64 gc_generation;
	__u32 gc_count;		/* collections this thread has run */
	bool in_call;
	bool in_fault;
	bool in_gc;		/* CPython's cycle collector runs on this thread: frees are its */
};

/* The fine clock as it read at this CPU's first allocation in the current scheduler tick. */
struct mt_tick {
	__u64 jiffies;
	__u64 ns;
};

/* Where a stack walk starts: a return probe's registers, or a sampled call's caller. */
struct mt_ustart {
	__u64 ip, sp, bp;
};

/* A mapping, as the unwinder and the fault events need it (vma.bpf.h). */
struct mt_vma {
	__u64 start, end;
	__u64 pgoff;			/* in pages */
	__u64 dev, ino;			/* the file's (kernel-encoded dev, inode); 0 when anonymous */
	__u64 huge_bytes;		/* page size of a hugetlb mapping, else 0 */
	__u64 mm;			/* the address space it is in (a reused pid has another) */
	__u32 kind;			/* enum mt_map */
	bool uprobes;			/* the kernel's uprobe page, not the program's memory */
};

#define MT_VMA_CACHE_SIZE 8		/* a power of two */

struct mt_vma_cached {
	__u32 tgid;			/* 0: empty, or being written */
	__u32 seq;
	struct mt_vma vma;
};

#define MT_VMA_CODE_SIZE 8		/* a power of two */
#define MT_MAPLE_NODE 256		/* bytes in a node of the kernel's VMA tree (vma.bpf.h) */

/*
 * A lookup in the kernel's VMA tree (vma_read_tree), in the walk's working record: not on the
 * stack, and not per CPU, where a program that preempted this one could change it under it.
 */
struct mt_vma_tree {
	__u64 node[MT_MAPLE_NODE / 8];	/* the node being read */
	__u64 addr, e;			/* the address looked up; the node, then the VMA */
	__u32 seq;			/* the address space's version it is looked up at */
	bool cacheable;			/* seq is known (vma_find's) */
	__u64 flags, file, inode, sb;	/* the VMA's, and its file's */
	struct mt_vma check;		/* bpf_find_vma's answer, with MEMTRACE_CHECK_VMA */
};

struct mt_vma_cache {
	struct mt_vma_cached e[MT_VMA_CACHE_SIZE];
	__u32 next;			/* the slot to fill next: round robin */
	/* Code mappings the unwinder found, each once (vma_recent); seq unused. Apart from e[],
	 * which page faults fill with the data mappings they hit. */
	__u32 next_code;
	struct mt_vma_cached code[MT_VMA_CODE_SIZE];
};

/* Rows already found by the unwinder, by the pc looked up (unwind.bpf.h). */
#define MT_ROW_CACHE_SIZE 1024

struct mt_row_cached {
	__u64 pc;			/* 0: empty, or being written */
	__u32 tgid;
	__u32 seq;			/* the mm's mm_lock_seq when the row was found */
	struct mt_unwind_row row;
	__u32 pad;
};

struct mt_row_cache {
	struct mt_row_cached e[MT_ROW_CACHE_SIZE];
};

/* What walk.bpf.h needs to keep a walk for replay. */
struct mt_walk_rec {
	__u64 ip0, sp0, bp0;		/* where the walk started; reads are kept as offsets from sp0 */
	__u32 slot;			/* in walks */
	__u32 gen;			/* the slot's stamp when this walk took it */
	__u32 tag;			/* walk_tag() of the start */
	__u32 nreads;
	bool on;			/* recording this walk's reads */
	bool bp_initial;		/* rbp still holds its starting value */
	bool uses_bp;			/* a rule read it while it did */
	bool hold;			/* the word being read is rbp's: hold it until rbp is used */
	bool held;			/* rbp came from the word held_addr, not yet used */
	__u64 held_addr, held_val;
	bool lossy;			/* a frame was lost: not kept */
	__u32 run, run_off;		/* the words a replay reads at once: the first's index and
					 * offset, */
	__u32 lo, hi;			/* and the stretch they lie in (walk_word) */
};

/*
 * The stack, read a chunk at a time (stackread.bpf.h): one copy of an aligned 512-byte chunk
 * serves the reads of several frames.
 */
#define MT_STACK_CHUNK 512

/*
 * A replay checks the kept walk's words against the stack with as few reads as it can: a read
 * costs about what copying a few KiB does, so words closer than MT_REPLAY_GAP are read together,
 * up to MT_REPLAY_READ bytes at a time (walk.bpf.h).
 */
#define MT_REPLAY_READ 4096
#define MT_REPLAY_GAP 1024

/*
 * How a stack's id hashes its frames, one after the other from MT_FRAMES_SEED (stackid.bpf.h). A
 * walk hashes its frames as it stores them, so a replayed walk's hash is known without hashing.
 */
#define MT_FRAMES_SEED 0x9e3779b97f4a7c15ull

static __always_inline __u64 frames_mix(__u64 h, __u64 frame)
{
	h = (h ^ frame) * 0xff51afd7ed558ccdull;
	return h ^ h >> 32;
}

/* One stack walk in progress (unwind.bpf.h). */
struct mt_ustate {
	__u64 ip, sp, bp;
	struct mt_vma vm;		/* the mapping of the last object found: most frames reuse it */
	struct mt_vma_tree tree;	/* vma_find's, finding vm */
	struct mt_unwind_key key;
	struct mt_unwind_obj obj;
	__u32 pid;
	__u32 tid;
	__u32 seq;			/* the address space's version (mm_version) */
	__u64 frames_h;			/* the frames stored, hashed as stack ids hash them */
	bool cache;			/* seq is known and no mmap writer was at work: use the caches */
	__u32 n;			/* frames stored */
	bool have_obj;			/* obj is the object of vm */
	bool exact_ip;			/* ip was interrupted, not a return address (a fault, a signal frame) */
	bool fault;			/* a page fault's stack: its unwinding losses are not counted */
	bool truncated;
	bool undo;			/* the frame just stored was the uretprobe trampoline: replace it */
	bool tramp_read;		/* tramp and ri read (once a walk, when first needed) */
	__u64 tramp;			/* this process's uretprobe trampoline */
	__u64 ri;			/* the next return instance to take the real address from */
	struct mt_walk_rec rec;
	__u64 chunk_base;		/* where chunk was read from in this walk (0: not yet) */
	__u64 span_base;		/* where a replay's span was read from, */
	__u32 span_len;			/* and how much (0: none yet) */
	union {
		__u64 chunk[MT_STACK_CHUNK / 8];
		__u64 span[MT_REPLAY_READ / 8];	/* a replay's read (walk.bpf.h) */
	};
};

/* Walks kept for replay (walk.bpf.h). */
#define MT_WALK_SLOTS 256		/* a power of two */
#define MT_WALK_FRAMES 48
#define MT_WALK_READS 96
#define MT_WALK_READS_MASK 127		/* the power of two less one above MT_WALK_READS */
#define MT_WALK_WAYS 4			/* walks from one start: paths that meet at the same (ip, sp) */
#define MT_WALK_SETS (MT_WALK_SLOTS / MT_WALK_WAYS)

struct mt_walk {
	__u32 gen;			/* bumped by each writer as it starts */
	__u32 owner;			/* the thread that wrote last */
	__u32 tgid, seq;		/* the process and the version of its address space */
	__u32 nframes, nreads;
	bool uses_bp;			/* a rule read the starting rbp: it must match too */
	__u64 ip, sp, bp;		/* where the walk started */
	__u64 frames[MT_WALK_FRAMES];
	__u64 frames_h;			/* the frames, hashed (stackid.bpf.h) */
	__u32 off[MT_WALK_READS];	/* the words read: at sp + off[i] ... */
	__u64 val[MT_WALK_READS];	/* ... was val[i] */
	struct {			/* a replay's read from word i: len bytes from back below it */
		__u16 back, len;
	} read[MT_WALK_READS_MASK + 1];	/* indexed through the mask: see walk_word */
};

/* The slots' tags, apart: a lookup reads one cache line, not a page per way. */
struct mt_walk_tags {
	__u32 tag[MT_WALK_SLOTS];	/* walk_tag() of the slot's start; 0: empty, or being written */
	__u8 next[MT_WALK_SETS];	/* the way each set replaces next */
};

/*
 * The stack ids this CPU has sent in full, direct-mapped by id (stackid.bpf.h); 0: empty. In
 * pages: a per-CPU value is at most 32 KiB.
 */
#define MT_SENT_SLOTS 2048		/* a power of two */
#define MT_SENT_PAGES 4			/* a power of two */

struct mt_sent {
	__u64 id[MT_SENT_SLOTS];
};

/* A Python stack walk in progress (python.bpf.h). */
#define MT_PY_FRAME_BYTES 128		/* a power of two: a frame's fields lie in its first 128 bytes */

struct mt_py_walk {
	struct mt_py_proc cfg;		/* the process's interpreter layout, copied once per event */
	__u64 frame;			/* the next _PyInterpreterFrame */
	__u32 first;			/* slot of the first Python frame */
	__u32 at;			/* next free slot in frames[] */
	__u32 span;			/* bytes of a frame that hold the fields read */
	bool ok;
	bool full;
	__u64 head[MT_PY_FRAME_BYTES / 8];	/* the current frame's first span bytes */
};

/* An exiting process's file path, built backwards from its end (exit_maps.bpf.h). */
#define MT_NAME_MAX 256			/* a path component's bytes, its NUL included */
#define MT_PATH_BUF (MT_PATH_BYTES + MT_NAME_MAX + 8)

/*
 * One program run's working record (work.bpf.h): the event it builds, and the state of the stack
 * walk that fills the event's frames or the path an exit map carries. Far past the 512 bytes of
 * BPF stack that every kernel allows a whole call chain, so it lives in a per-CPU map.
 */
struct mt_work {
	struct mt_event e;
	struct mt_ustart at;		/* where the event's stack starts */
	__u32 slot;			/* this record's index, to give it back */
	__u32 nhashed;			/* the first frames whose hash is known (a replayed walk's), */
	__u64 hashed;			/* and that hash (frames_mix) */
	struct mt_py_walk py;		/* Python's walk, which reads the native walk's replay span */
	union {				/* one after the other, never at once: */
		struct mt_ustate st;	/* the native walk, */
		struct {		/* then the stack's id, hashed (stackid.bpf.h); */
			__u64 h;
			__u32 at, n;
		} sid;
		char path[MT_PATH_BUF];	/* or an exit map's path */
	};
};

/*
 * What a bpf_loop callback is handed: the run's working record. bpf_loop takes its context only
 * on the stack (before 6.x), and this keeps that to one pointer.
 */
struct mt_loop {
	struct mt_work *w;
};

#define MT_WORK_SLOTS 4			/* runs that may hold a record at once on one CPU */

#endif /* MT_STATE_BPF_H */
