// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Allocator probes: remember each call's arguments at entry, report its result with a user stack. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "memtrace.h"

#define MAP_ANONYMOUS 0x20

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by user space before load. */
const volatile bool filter_pids = true;	/* false only for whole-machine tracing */
const volatile bool report_exits = false;	/* whole-machine: say when a process ends */
const volatile bool filter_comm = false;
const volatile char comm_filter[16] = {};
const volatile __u64 cgroup_id = 0;	/* 0: any cgroup */
const volatile int cgroup_level = 0;
const volatile __u32 self_tgid = 0;	/* memtrace itself: never traced, or its events feed back */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 << 20);
} events SEC(".maps");

/*
 * Each thread's state: the allocator call in flight on it, and the page fault being tallied.
 * Task-local storage, not a hash by thread id: it is found from the task in a few loads, dies with
 * the thread (a thread killed mid-call cannot pin anything), and needs no delete, which on an LRU
 * hash cost 0.1-1.6 us per event here.
 */
struct mt_thread {
	struct mt_call call;	/* valid while in_call */
	__u64 outer_sp;		/* stack pointer at the outer call's entry */
	__u64 fault_bytes;	/* bytes mapped by the fault in progress (valid while in_fault) */
	bool in_call;
	bool in_fault;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct mt_thread);
} threads SEC(".maps");

static __always_inline struct mt_thread *thread_state(bool create)
{
	return bpf_task_storage_get(&threads, bpf_get_current_task_btf(), NULL,
				    create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
}

/*
 * Thread group ids being traced (when filter_pids). Belt and braces over the uprobe's own pid
 * filter. Never removed from: a thread's state stands for its process being traced
 * (traced_thread), so most events skip this lookup.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u8);
} targets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MT_LOSS__COUNT);
	__type(key, __u32);
	__type(value, __u64);
} losses SEC(".maps");

/* Per-CPU scratch: an event with a full stack is too big for the BPF stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mt_event);
} scratch SEC(".maps");

static __always_inline void count_loss(__u32 reason)
{
	__u64 *n = bpf_map_lookup_elem(&losses, &reason);

	if (n)
		__sync_fetch_and_add(n, 1);
}

static __always_inline bool comm_matches(void)
{
	char comm[16];

	bpf_get_current_comm(comm, sizeof(comm));
	for (int i = 0; i < 16; i++) {
		if (comm[i] != comm_filter[i])
			return false;
		if (!comm[i])
			break;
	}
	return true;
}

#include "python.bpf.h"

static __always_inline bool traced(__u32 tgid)
{
	if (filter_pids)
		return bpf_map_lookup_elem(&targets, &tgid);
	if (tgid == self_tgid)
		return false;
	if (filter_comm && !comm_matches())
		return false;
	return !cgroup_id || bpf_get_current_ancestor_cgroup_id(cgroup_level) == cgroup_id;
}

/*
 * The state of this thread if its process is traced, else NULL; created if need be when create.
 * With -p or a command (filter_pids) a thread gets state only once its process is found in
 * targets, which keeps every pid it was given: the state is the verdict, and the hash lookup,
 * whose bucket and element are cold after every trap, is skipped. The state is looked up anyway:
 * malloc's entry program went from ~206 to ~166 ns here.
 */
static __always_inline struct mt_thread *traced_thread(bool create)
{
	struct mt_thread *t = thread_state(false);

	if (t && filter_pids)
		return t;
	if (!traced(bpf_get_current_pid_tgid() >> 32))
		return NULL;
	if (t || !create)
		return t;
	t = thread_state(true);
	if (!t)
		count_loss(MT_LOSS_SCRATCH_FULL);
	return t;
}

/*
 * Is an outer allocator call in flight on this thread? glibc's allocators call each other through
 * their public entry points (memalign -> malloc, realloc(p, 0) -> free, malloc -> mmap); only the
 * outermost call is the program's, so inner ones are folded into it. A slot left by a call that
 * never returned (longjmp, thread killed) is recognised by its stack pointer: a truly nested call
 * runs deeper on the stack (lower address) than the outer call's entry, or at the same depth when
 * the outer function tail-calls it (glibc's reallocarray jumps into realloc, which jumps into
 * malloc); each return probe then fires once on the one return.
 */
static __always_inline bool in_outer_call(const struct mt_thread *t, __u64 sp)
{
	return t && t->in_call && sp <= t->outer_sp;
}

static __always_inline int enter(struct pt_regs *ctx, __u32 op, __u64 a0, __u64 a1, __u64 a2)
{
	__u64 sp = PT_REGS_SP(ctx);
	struct mt_call call = { .op = op, .arg0 = a0, .arg1 = a1, .arg2 = a2 };
	struct mt_thread *t;

	t = traced_thread(true);
	if (!t)
		return 0;
	if (in_outer_call(t, sp)) {
		t->call.depth++;
		return 0;
	}
	t->call = call;
	t->outer_sp = sp;
	t->in_call = true;
	return 0;
}

/* The fine clock as it read at this CPU's first allocation in the current scheduler tick. */
struct mt_tick {
	__u64 jiffies;
	__u64 ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mt_tick);
} tick SEC(".maps");

/*
 * A block's birth is timed (its age, the growth rates, the peak's moment); a free, an unmap or a
 * fault is not: nothing reads when they happened. To the tick (1-10 ms), which ages and rates
 * do not miss: the fine clock (kvm-clock's pvclock here) cost ~13% of an allocation's program,
 * the tick counter is one load. (bpf_ktime_get_coarse_ns is refused to tracing programs.)
 */
static __always_inline void event_time(struct mt_event *e)
{
	__u64 j = bpf_jiffies64();
	__u32 zero = 0;
	struct mt_tick *t = bpf_map_lookup_elem(&tick, &zero);

	if (!t) {
		e->ts_ns = bpf_ktime_get_ns();
		return;
	}
	if (t->jiffies != j) {
		t->ns = bpf_ktime_get_ns();
		t->jiffies = j;
	}
	e->ts_ns = t->ns;
}

/* The header every event starts with; addr and size are the caller's. */
static __always_inline void event_header(struct mt_event *e, __u32 op, __u64 id)
{
	e->op = op;
	e->pid = id >> 32;
	e->tid = (__u32)id;
	e->nframes = 0;
	e->ts_ns = 0;	/* set by allocations only (event_time) */
	e->old_addr = 0;
	e->old_size = 0;
}

/* An event in the per-CPU scratch buffer, for those sent with a stack (send). */
static __always_inline struct mt_event *new_event(__u32 op, __u64 id)
{
	__u32 zero = 0;
	struct mt_event *e = bpf_map_lookup_elem(&scratch, &zero);

	if (e)
		event_header(e, op, id);
	return e;
}

/*
 * Wake the consumer only when the ring has filled past a batch's worth. Each wake-up is an
 * irq_work whose self-interrupt cost ~4 us per event in a VM, more than the rest of the program;
 * user space also reads on a 100 ms timeout, so an event left unannounced waits at most that long.
 * Two CPUs crossing the mark together may both skip the wake-up: the timeout covers that too.
 */
#define MT_WAKEUP_BYTES (256u << 10)

/* Set when user space has work that cannot wait for the batch: an object's unwind table to load. */
bool wake_consumer = false;

static __always_inline __u64 wakeup_flag(__u64 len)
{
	__u64 avail;

	if (wake_consumer) {
		wake_consumer = false;
		return BPF_RB_FORCE_WAKEUP;
	}
	avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);

	return avail < MT_WAKEUP_BYTES && avail + len >= MT_WAKEUP_BYTES ? BPF_RB_FORCE_WAKEUP :
									    BPF_RB_NO_WAKEUP;
}

/*
 * --unwind fp: the user stack by its frame-pointer chain, the walk of
 * bpf_get_stack(BPF_F_USER_STACK), but ending where the chain ends. Code built without frame
 * pointers (Debian's libc, where every stack ends: __libc_start_call_main, start_thread; most of
 * Debian's programs) leaves 0 or any value in the frame register; the kernel's walker reads through it and takes a page fault on
 * nearly every event, which cost ~5 us here, more than the rest of the event. A real chain lies
 * on this thread's stack, above the stack pointer, and moves up it frame by frame: a link that
 * does not ends the walk before it is read, so the walk does not fault on such values.
 */
#define MT_STACK_SPAN (8ull << 20)	/* glibc's default thread stack; the main one grows past */

/* Can fp be a frame-pointer link of the stack whose pointer is sp? (Read it only then.) */
static __always_inline bool frame_link_ok(__u64 fp, __u64 sp)
{
	return fp >= sp && fp - sp <= MT_STACK_SPAN && !(fp & 7);
}

/* Where a stack walk starts: a return probe's registers, or a sampled call's caller (sample_alloc). */
struct mt_ustart {
	__u64 ip, sp, bp;
};

static __always_inline struct mt_ustart regs_start(struct pt_regs *ctx)
{
	struct mt_ustart at = { PT_REGS_IP(ctx), PT_REGS_SP(ctx), PT_REGS_FP(ctx) };

	return at;
}

static __always_inline __u32 user_stack(const struct mt_ustart *at, __u64 *frames, __u32 truncated)
{
	__u64 sp = at->sp, fp = at->bp, frame[2];	/* caller's fp, return address */
	__u32 n = 1;

	frames[0] = at->ip;
	for (; n < MT_MAX_FRAMES; n++) {
		if (!frame_link_ok(fp, sp) || bpf_probe_read_user(frame, sizeof(frame), (void *)fp))
			break;
		frames[n] = frame[1];
		if (frame[0] <= fp)
			return n + 1;
		fp = frame[0];
	}
	if (n == MT_MAX_FRAMES)
		count_loss(truncated);
	return n;
}

#include "vma.bpf.h"
#include "unwind.bpf.h"

/* e's user stack from `at`, Python's frames after it (not for page faults, which are not calls). */
static __always_inline __u32 take_stack(struct mt_event *e, const struct mt_ustart *at, bool fault)
{
	__u32 n;

	if (unwind_mode != MT_UNWIND_FP)
		n = unwind_user_stack(at, e->pid, fault);
	else
		n = user_stack(at, e->frames, fault ? MT_LOSS_FAULT_STACK_TRUNCATED : MT_LOSS_STACK_TRUNCATED);
	return fault ? n : py_append(e, n & 0x7f);
}

/*
 * Send e with its nframes frames; with_stack, they are its stack, taken from `at` or, when at is
 * NULL, from the probe's own registers (ctx is not read otherwise).
 */
static __always_inline void send_at(struct mt_event *e, bool with_stack, struct pt_regs *ctx,
				    const struct mt_ustart *at)
{
	__u64 len = MT_EVENT_HDR_SIZE;
	bool fault = e->op == MT_OP_FAULT || e->op == MT_OP_FAULT_MAJOR;
	struct mt_ustart regs;

	if (with_stack) {
		/*
		 * A page fault's walk starts at the faulting instruction: the fault events count user
		 * mode only (exclude_kernel, user/faults.c), so their registers are the user's. (The
		 * kernel's walk, bpf_get_stack, cost ~5-10 us a fault here: it reads on through the
		 * frame register of code built without frame pointers, faulting.)
		 */
		if (fault || !at) {
			regs = regs_start(ctx);
			at = &regs;
		}
		e->nframes = take_stack(e, at, fault) & 0x7f;
	}
	len += (e->nframes & 0x7f) * 8;	/* frames filled here, or by the caller (an exit map) */
	if (len > sizeof(*e))	/* never true; keeps the verifier's bound on len */
		return;
	/* Faults come by the thousand: the consumer's poll timeout collects them without a wakeup each. */
	if (bpf_ringbuf_output(&events, e, len, fault ? BPF_RB_NO_WAKEUP : wakeup_flag(len)))
		count_loss(MT_LOSS_RINGBUF_FULL);
}

static __always_inline void send(struct mt_event *e, bool with_stack, struct pt_regs *ctx)
{
	send_at(e, with_stack, ctx, NULL);
}

#include "exit_maps.bpf.h"

/*
 * An event without a stack (a free, an unmap), written straight into the ring: it skips the
 * scratch event's page and the copy out of it. free_enter, interleaved runs: 448 -> 424 ns on
 * bench_malloc, 451 -> 347 ns on sqlite3 (medians of 8 and 6).
 */
static __always_inline void send_release(__u32 op, __u64 id, __u64 addr, __u64 size)
{
	struct mt_event *e = bpf_ringbuf_reserve(&events, MT_EVENT_HDR_SIZE, 0);

	if (!e) {
		count_loss(MT_LOSS_RINGBUF_FULL);
		return;
	}
	event_header(e, op, id);
	e->addr = addr;
	e->size = size;
	bpf_ringbuf_submit(e, wakeup_flag(MT_EVENT_HDR_SIZE));
}

/*
 * At an allocator's return the kernel has put back the caller's return address as the
 * instruction pointer, so the user stack taken here starts at the direct caller. (At the entry
 * uprobe a frame-pointer walk would skip it: the return address sits at [rsp], above no frame.)
 */
static __always_inline int leave(struct pt_regs *ctx, __u64 ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct mt_thread *t;
	struct mt_call call;
	struct mt_event *e;

	t = traced_thread(false);
	if (!t || !t->in_call) {
		if (t || traced(id >> 32))	/* a thread with no state has entered nothing */
			count_loss(MT_LOSS_NO_ENTRY);
		return 0;
	}
	if (t->call.depth) {
		t->call.depth--;
		return 0;
	}
	call = t->call;
	t->in_call = false;
	if (!call.op)		/* a call entered only to track nesting (file-backed mmap) */
		return 0;
	if (call.op == MT_OP_FREE) {	/* a wrapper (operator delete): reported once, at its return */
		if (call.arg0)
			send_release(MT_OP_FREE, id, call.arg0, 0);
		return 0;
	}

	e = new_event(call.op, id);
	if (!e)
		return 0;
	e->addr = ret;
	event_time(e);
	e->size = call.arg0;
	switch (call.op) {
	case MT_OP_CALLOC:
	case MT_OP_REALLOCARRAY:
		e->size = call.arg1 * call.arg2;
		e->old_addr = call.op == MT_OP_REALLOCARRAY ? call.arg0 : 0;
		break;
	case MT_OP_REALLOC:
		e->old_addr = call.arg0;
		e->size = call.arg1;
		break;
	case MT_OP_POSIX_MEMALIGN:
		e->addr = 0;
		if (ret == 0)
			bpf_probe_read_user(&e->addr, sizeof(e->addr), (void *)call.arg1);
		e->size = call.arg2;
		break;
	case MT_OP_MMAP:
		if (ret == (__u64)-1)
			e->addr = 0;
		break;
	case MT_OP_MREMAP:
		e->old_addr = call.arg0;
		e->old_size = call.arg1;
		e->size = call.arg2;
		if (ret == (__u64)-1)
			e->addr = 0;
		break;
	}
	send(e, true, ctx);
	return 0;
}

/* Frees and unmaps report at entry: they need no result and no stack. */
static __always_inline int release(struct pt_regs *ctx, __u32 op, __u64 addr, __u64 size)
{
	struct mt_thread *t;

	if (!addr)
		return 0;
	t = traced_thread(true);
	if (!t)
		return 0;
	if (in_outer_call(t, PT_REGS_SP(ctx)))
		return 0;	/* the allocator's own plumbing (realloc -> free, free -> munmap) */
	send_release(op, bpf_get_current_pid_tgid(), addr, size);
	return 0;
}

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

/* Whole machine: the leader's exit ends a process; user space may drop its blocks and mappings. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(thread_exit)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct mt_event *e;

	if (!report_exits || (__u32)id != id >> 32 || !traced(id >> 32))
		return 0;
	send_exit_maps(id);
	e = new_event(MT_OP_EXIT, id);
	if (!e)
		return 0;
	e->addr = 0;
	e->size = 0;
	bpf_get_current_comm(MT_EVENT_COMM(e), 16);	/* it may be gone before it is read */
	send(e, false, (struct pt_regs *)ctx);
	return 0;
}

/* Whole machine: an exec replaces the process's memory and program; user space starts afresh. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(proc_exec)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct mt_event *e;

	if (report_exits && traced(id >> 32) && (e = new_event(MT_OP_EXEC, id))) {
		e->addr = 0;
		e->size = 0;
		send(e, false, (struct pt_regs *)ctx);
	}
	return 0;
}

/*
 * Sampling mode (libmemtrace-sample.so, sample/hooks.h): two hooks, probed at their first
 * instruction, a 5-byte nop the kernel turns into a call. The allocation hook is a leaf called
 * by a malloc wrapper built with frame pointers, so rbp is the wrapper's frame: the stack starts
 * at that frame's return address, in the direct caller of malloc, with the caller's sp and rbp
 * as they are once malloc returns -- the state a return probe on glibc's malloc would see, so
 * sampled stacks and traced stacks are the same and none of the library's frames appear.
 */
SEC("uprobe")
int BPF_KPROBE(sample_alloc, __u64 addr, __u64 size, __u64 mean)
{
	__u64 id = bpf_get_current_pid_tgid(), frame = PT_REGS_FP(ctx);
	struct mt_ustart at = { .sp = frame + 16 };
	struct mt_event *e;

	if (!traced(id >> 32))
		return 0;
	e = new_event(MT_OP_SAMPLED_ALLOC, id);
	if (!e)
		return 0;
	e->ts_ns = bpf_ktime_get_ns();	/* fine: it seeds the rounding of the block's weight */
	e->addr = addr;
	e->size = size;
	e->old_size = mean;
	if (!read_u64(frame + 8, &at.ip) || !read_u64(frame, &at.bp)) {
		count_loss(MT_LOSS_STACK);
		send_at(e, false, ctx, NULL);
		return 0;
	}
	send_at(e, true, ctx, &at);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(sample_free, __u64 addr)
{
	__u64 id = bpf_get_current_pid_tgid();

	if (addr && traced(id >> 32))
		send_release(MT_OP_FREE, id, addr, 0);
	return 0;
}

#include "fault.bpf.h"
