// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * memtrace's BPF programs: the handlers only. What each does is in the headers, by stage:
 * alloc (allocator calls), fault (page faults), proc (exit, exec), oom (the OOM killer's choice);
 * they send events built in a working record (work) with a stack (stack: unwind, walk, python);
 * maps and settings in maps.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "alloc.bpf.h"
#include "fault.bpf.h"
#include "oom.bpf.h"
#include "proc.bpf.h"

#define MAP_ANONYMOUS 0x20

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("uprobe")
int BPF_KPROBE(malloc_enter, __u64 size) { return enter(ctx, MT_OP_MALLOC, size, 0, 0); }
SEC("uprobe")
int BPF_KPROBE(calloc_enter, __u64 n, __u64 size) { return enter(ctx, MT_OP_CALLOC, 0, n, size); }
SEC("uprobe")
int BPF_KPROBE(realloc_enter, __u64 p, __u64 size) { return enter(ctx, MT_OP_REALLOC, p, size, 0); }
SEC("uprobe")
int BPF_KPROBE(reallocarray_enter, __u64 p, __u64 n, __u64 size)
{
	return enter(ctx, MT_OP_REALLOCARRAY, p, n, size);
}
SEC("uprobe")
int BPF_KPROBE(posix_memalign_enter, __u64 memptr, __u64 align, __u64 size)
{
	return enter(ctx, MT_OP_POSIX_MEMALIGN, align, memptr, size);
}
SEC("uprobe")
int BPF_KPROBE(aligned_alloc_enter, __u64 align, __u64 size)
{
	return enter(ctx, MT_OP_ALIGNED_ALLOC, size, align, 0);
}
SEC("uprobe")
int BPF_KPROBE(memalign_enter, __u64 align, __u64 size) { return enter(ctx, MT_OP_MEMALIGN, size, align, 0); }
SEC("uprobe")
int BPF_KPROBE(valloc_enter, __u64 size) { return enter(ctx, MT_OP_VALLOC, size, 0, 0); }
SEC("uprobe")
int BPF_KPROBE(pvalloc_enter, __u64 size) { return enter(ctx, MT_OP_PVALLOC, size, 0, 0); }
SEC("uprobe")
int BPF_KPROBE(mmap_enter, __u64 addr, __u64 len, __u64 prot, __u64 flags)
{
	/* File mappings are entered too (op 0) so that calls nested in them stay balanced. */
	return enter(ctx, (flags & MAP_ANONYMOUS) ? MT_OP_MMAP : 0, len, 0, 0);
}
SEC("uprobe")
int BPF_KPROBE(mremap_enter, __u64 old, __u64 old_len, __u64 new_len)
{
	return enter(ctx, MT_OP_MREMAP, old, old_len, new_len);
}

SEC("uretprobe")
int BPF_KRETPROBE(alloc_return, __u64 ret) { return leave(ctx, ret); }

SEC("uprobe")
int BPF_KPROBE(free_enter, __u64 p) { return release(ctx, MT_OP_FREE, p, 0); }
/* A release entry point that may forward to a probed free: entered, so that free folds into it. */
SEC("uprobe")
int BPF_KPROBE(free_call_enter, __u64 p) { return enter(ctx, MT_OP_FREE, p, 0, 0); }
SEC("uprobe")
int BPF_KPROBE(munmap_enter, __u64 addr, __u64 len) { return release(ctx, MT_OP_MUNMAP, addr, len); }

/* CPython's cycle collector: gc_collect_main(tstate, generation, ...) and its return. */
SEC("uprobe")
int BPF_KPROBE(gc_enter, __u64 tstate, __u64 generation) { return gc_begin(generation); }
SEC("uretprobe")
int BPF_KRETPROBE(gc_return, __u64 ret) { return gc_end(ret); }

/* Sampling mode: libmemtrace-sample.so's two hooks (sample/hooks.h). */
SEC("uprobe")
int BPF_KPROBE(sample_alloc, __u64 addr, __u64 size, __u64 mean) { return sampled(ctx, addr, size, mean); }
SEC("uprobe")
int BPF_KPROBE(sample_free, __u64 addr)
{
	__u64 id = bpf_get_current_pid_tgid();

	if (addr && traced(id >> 32))
		send_release(MT_OP_FREE, id, addr, 0);
	return 0;
}

/* Whole machine: processes ending and changing program. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(thread_exit) { return exit_seen(); }
SEC("tp_btf/sched_process_exec")
int BPF_PROG(proc_exec) { return exec_seen(); }

/* --leak-check: _exit, where a process is held before its other threads die. */
SEC("uprobe")
int BPF_KPROBE(exit_enter) { return exit_stop(); }

/* The OOM killer's victim, before it is killed and reaped. */
SEC("tp_btf/mark_victim")
int BPF_PROG(oom_victim) { return oom_seen(ctx); }

/* Page faults of traced processes. */
SEC("tp_btf/page_fault_user")
int BPF_PROG(fault_user, unsigned long address) { return fault_begin(); }
SEC("tp_btf/mm_page_alloc")
int BPF_PROG(fault_alloc, struct page *page, unsigned int order, gfp_t gfp) { return fault_page(order, gfp); }
SEC("perf_event")
int fault_minor(struct bpf_perf_event_data *ctx) { return fault_done(ctx, MT_OP_FAULT); }
SEC("perf_event")
int fault_major(struct bpf_perf_event_data *ctx) { return fault_done(ctx, MT_OP_FAULT_MAJOR); }
