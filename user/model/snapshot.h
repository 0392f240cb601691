/* SPDX-License-Identifier: BSD-2-Clause */
/* An immutable, symbolized picture of the trace at one moment: the one input of every presenter. */
#ifndef MT_SNAPSHOT_H
#define MT_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum mt_kind { MT_KIND_HEAP = 0, MT_KIND_MMAP = 1, MT_KIND__COUNT };

/* Counters kept by valgrind's conventions (a realloc of a live block is one free + one alloc). */
struct mt_summary {
	uint64_t allocations;
	uint64_t frees;
	uint64_t allocated_bytes;
	uint64_t freed_bytes;
	uint64_t outstanding_bytes;
	uint64_t outstanding_allocations;
	uint64_t peak_outstanding_bytes;
	uint64_t peak_ts_ns;		/* when the peak was reached (CLOCK_MONOTONIC) */
	uint64_t unknown_frees;		/* frees of blocks allocated before tracing began */
	uint64_t lost_events;
};

/* The object a frame's address falls in, as the process mapped it. */
struct mt_mapping {
	uint64_t start, end, file_offset;
	const char *path;		/* as in /proc/PID/maps; "[anon]" etc. for non-file mappings */
	const char *build_id;		/* lower-case hex, or NULL */
};

/*
 * One function of a stack. An address where calls were inlined is several frames, innermost
 * first, all with its addr: each inlined function (inlined set) at the line the next one in
 * reached, then the function the code lies in, at the line of the outermost inlined call.
 */
struct mt_frame {
	uint64_t addr;			/* return address as captured */
	uint64_t module_offset;		/* addr as an ELF virtual address in its module */
	const char *function;		/* demangled (unless --no-demangle); NULL when unknown */
	const char *file;		/* NULL when no debug info */
	int line;			/* 0 when unknown */
	bool inlined;			/* inlined into the next frame, which has the same addr */
	const struct mt_mapping *mapping; /* NULL when the address is in no known mapping */
	const char *mangled;		/* the name as the object spells it, when not function */
};

/* memcheck's leak categories (valgrind's manual: Memcheck, "Memory leak detection"). */
enum mt_leak_kind {
	MT_LEAK_DEFINITE,	/* no pointer to it anywhere: definitely lost */
	MT_LEAK_INDIRECT,	/* pointed to only from lost blocks: indirectly lost */
	MT_LEAK_POSSIBLE,	/* reached only through pointers into its interior: possibly lost */
	MT_LEAK_REACHABLE,	/* a pointer to its start in the roots or a reachable block */
	MT_LEAK__COUNT,
};

struct mt_leak_tally {
	uint64_t bytes, blocks;
};

struct mt_stack {
	uint32_t id;			/* stable for a trace: same stack, same id in every snapshot */
	enum mt_kind kind;
	uint64_t outstanding_bytes;
	uint64_t outstanding_allocations;
	uint64_t allocated_bytes;	/* everything this stack ever allocated */
	uint64_t allocations;
	uint64_t oldest_ts_ns;		/* birth of the oldest outstanding block; 0 when none */
	uint32_t nframes;
	const struct mt_frame *frames;	/* innermost first, inlined calls expanded */
	int site;			/* index of the call site: first frame outside allocator plumbing */
	uint64_t peak_bytes;		/* outstanding when its process's heap peaked (struct mt_peak) */
	uint64_t peak_allocations;
	/* What CPython's cycle collector freed of what it allocated: reference-cycle garbage. */
	uint64_t gc_reclaimed_bytes, gc_reclaimed_blocks;
	uint64_t gc_collections;	/* the collections that freed any of it */
	/* --leak-check: its outstanding blocks by category, and the indirectly lost bytes that hang
	 * off its definitely lost ones (valgrind's "N (D direct, I indirect) bytes"). */
	struct mt_leak_tally leak[MT_LEAK__COUNT];
	uint64_t leak_indirect_behind;
};

/* Page faults and the memory they made resident (what the machine pays, beside what was asked). */
struct mt_faults {
	uint64_t minor, major;
	uint64_t bytes;			/* pages the faults allocated, huge pages at their real size */
	uint64_t unsized;		/* faults the kernel could not size: counted as one page each */
};

/* Faults by the user stack that touched the memory (innermost frame: the faulting instruction). */
struct mt_fault_stack {
	uint32_t id;
	uint32_t map;			/* enum mt_map: the kind of mapping touched */
	struct mt_faults faults;
	uint32_t naddrs;
	const uint64_t *addrs;		/* the stack as captured, innermost first (the model's) */
	uint32_t nframes;
	const struct mt_frame *frames;	/* the same, named, inlined calls expanded (NULL until
					 * symbolized: nframes is naddrs until then) */
	int site;			/* first frame outside the C library (memset and friends) */
};

struct mt_fault_file {
	const char *path;
	struct mt_faults faults;
};

struct mt_resident {
	struct mt_faults total;
	struct mt_faults by_map[8];	/* by enum mt_map */
	size_t nstacks;
	const struct mt_fault_stack *stacks;	/* by bytes, largest first */
	size_t nfiles;
	const struct mt_fault_file *files;	/* file-backed mappings by path, by bytes */
};

/* One point of the memory-over-time series, sampled on the session's interval. */
struct mt_sample {
	uint64_t ts_ns;			/* CLOCK_MONOTONIC */
	uint64_t rss_bytes;		/* VmRSS: the kernel's own accounting */
	uint64_t heap_bytes;		/* outstanding heap by memtrace's count */
	uint64_t mmap_bytes;		/* outstanding anonymous mmap */
};

struct mt_peak {
	uint64_t heap_bytes, heap_ts_ns;	/* exact: kept on every event */
	uint64_t rss_bytes, rss_ts_ns;		/* the largest sample (0 when never sampled) */
	uint64_t rss_hwm_bytes;			/* VmHWM: the kernel's exact high-water mark, undated */
};

/* What memtrace knows of the CPython a process runs (docs/python.md). */
struct mt_py_info {
	const char *version;		/* "3.11.2" */
	const char *path;		/* the object holding the interpreter */
	const char *frames;		/* "mixed", "only", "off", or "unavailable" */
	const char *why;		/* why Python frames are unavailable; NULL when they are shown */
	const char *coverage;		/* which allocations of Python objects memtrace sees */
	bool complete;			/* every object allocation is seen (PYTHONMALLOC=malloc) */
};

/* CPython's cycle collector in a process: its collections and what they freed. */
struct mt_gc {
	uint64_t collections;
	uint64_t pause_ns, longest_pause_ns;
	uint64_t reclaimed_bytes, reclaimed_blocks;	/* of blocks memtrace saw allocated */
};

/* One process's --leak-check: what it found, and what the check cost. */
struct mt_leak_check {
	bool asked;			/* --leak-check was given and applies to this process */
	bool done;			/* false: it could not be done; why says why */
	char why[224];
	bool at_exit;			/* as the process exited; else while it ran (-p, at the end) */
	bool unknown_blocks;		/* -p: blocks from before the attach are roots, not judged */
	uint32_t threads;		/* threads whose registers were read */
	uint32_t threads_gone;		/* threads already gone: registers unknown, stacks read whole */
	uint64_t pause_ns;		/* how long the process's threads were stopped for it */
	uint64_t root_bytes;		/* roots read: stacks, writable data (registers not counted) */
	uint64_t block_bytes;		/* heap blocks read */
	struct mt_leak_tally kind[MT_LEAK__COUNT];
	struct mt_leak_tally heuristic;	/* of still reachable: reached only through an interior
					 * pointer that one of memcheck's heuristics accepts */
};

/* What fleets group a process by; each NULL when unknown (model/proc.h). */
struct mt_labels {
	const char *exe, *cgroup, *container_id, *service_name;
};

/* What a process held when the kernel's OOM killer chose it, frozen before it was reaped. */
struct mt_oom {
	uint64_t ts_ns;			/* when it was chosen (CLOCK_MONOTONIC) */
	uint64_t rss_bytes;		/* resident then: anonymous, file and shared memory; 0: unknown */
	uint64_t anon_bytes;		/* of which anonymous */
	bool rss_sampled;		/* rss from memtrace's last sample before the kill, not the kernel's count at it */
	uint64_t limit_bytes;		/* its memory cgroup's limit (the least up the tree); 0: none */
	struct mt_summary kind[MT_KIND__COUNT];	/* as they stood then */
	size_t nstacks;
	const struct mt_stack *stacks;	/* each stack's figures then, frames shared with the
					 * process's own stacks; largest outstanding first */
};

struct mt_proc {
	uint32_t pid;
	char comm[16];
	const char (*exec_from)[16];	/* the programs it ran before, oldest first (exec) */
	uint32_t nexec_from;		/* entries in exec_from */
	uint32_t nexec;			/* execs seen (more than kept when the chain was long) */
	const char *cmdline;		/* may be NULL */
	bool exited;
	struct mt_summary kind[MT_KIND__COUNT];
	size_t nstacks;
	const struct mt_stack *stacks;	/* sorted by outstanding bytes, largest first */
	struct mt_resident resident;
	struct mt_peak peak;
	size_t nsamples;
	const struct mt_sample *samples;	/* oldest first; evenly spaced, coarser on long runs */
	const struct mt_py_info *python; /* NULL unless the process runs CPython */
	uint64_t sample_bytes;		/* heap sampled at this mean interval, counts estimated; 0: all */
	uint64_t rss_bytes;		/* resident now (a live trace's snapshot); 0: unknown */
	struct mt_gc gc;
	struct mt_leak_check leak;	/* --leak-check; leak.asked false otherwise */
	struct mt_labels labels;
	const struct mt_oom *oom;	/* NULL unless the OOM killer chose it */
};

/* The CFI unwinder's tables (--unwind dwarf|auto): what they cost. Counts are over the trace. */
struct mt_unwind_stats {
	const char *mode;		/* "fp", "dwarf" or "auto" */
	uint32_t objects;		/* objects whose table was loaded */
	uint32_t fp_objects;		/* objects unwound by frame pointer (auto) */
	uint32_t failed_objects;	/* objects without a usable .eh_frame */
	uint64_t rows;			/* table rows loaded */
	uint64_t bytes, peak_bytes;	/* BPF memory of the rows: now (tables of exited processes
					 * are dropped) and at most */
	uint64_t load_ns;		/* time spent reading .eh_frame and loading maps */
};

struct mt_snapshot {
	uint64_t start_ns, now_ns;	/* CLOCK_MONOTONIC: trace start and this snapshot */
	uint64_t loss[16];		/* enum mt_loss counters, summed over CPUs */
	struct mt_unwind_stats unwind;
	size_t nprocs;
	const struct mt_proc *procs;
	struct mt_summary total[MT_KIND__COUNT];
	struct mt_faults faults;	/* over every process */
};

/* Age of a stack's oldest outstanding block in milliseconds at the snapshot's moment. */
static inline uint64_t mt_stack_age_ms(const struct mt_snapshot *s, const struct mt_stack *st)
{
	return st->oldest_ts_ns && s->now_ns > st->oldest_ts_ns ?
		       (s->now_ns - st->oldest_ts_ns) / 1000000 : 0;
}

/* Give back what a snapshot owns (symbolize/snapshot_build.c made it). */
void snapshot__free(struct mt_snapshot *s);

/* The mean sampling interval of the first sampled process; 0 when every process is traced whole. */
uint64_t mt_snapshot_sample_bytes(const struct mt_snapshot *s);


#endif /* MT_SNAPSHOT_H */
