/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Allocator calls: each call's arguments remembered at its entry, its result reported at its
 * return with the caller's stack; releases reported at entry.
 */
#ifndef MT_ALLOC_BPF_H
#define MT_ALLOC_BPF_H

#include "filter.bpf.h"
#include "stack.bpf.h"

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

/* The block an allocating call returned, from its arguments and its result. */
static __always_inline void alloc_result(struct mt_event *e, const struct mt_call *call, __u64 ret)
{
	e->addr = ret;
	e->size = call->arg0;
	switch (call->op) {
	case MT_OP_CALLOC:
	case MT_OP_REALLOCARRAY:
		e->size = call->arg1 * call->arg2;
		e->old_addr = call->op == MT_OP_REALLOCARRAY ? call->arg0 : 0;
		break;
	case MT_OP_REALLOC:
		e->old_addr = call->arg0;
		e->size = call->arg1;
		break;
	case MT_OP_POSIX_MEMALIGN:
		e->addr = 0;
		if (ret == 0)
			bpf_probe_read_user(&e->addr, sizeof(e->addr), (void *)call->arg1);
		e->size = call->arg2;
		break;
	case MT_OP_MMAP:
		if (ret == (__u64)-1)
			e->addr = 0;
		break;
	case MT_OP_MREMAP:
		e->old_addr = call->arg0;
		e->old_size = call->arg1;
		e->size = call->arg2;
		if (ret == (__u64)-1)
			e->addr = 0;
		break;
	}
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
	struct mt_work *w;
	__u32 op;

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
	t->in_call = false;
	op = t->call.op;
	if (!op)		/* a call entered only to track nesting (file-backed mmap) */
		return 0;
	if (op == MT_OP_FREE) {	/* a wrapper (operator delete): reported once, at its return */
		if (t->call.arg0)
			send_release(MT_OP_FREE, id, t->call.arg0, 0);
		return 0;
	}
	w = work_take();
	if (!w)
		return 0;
	event_header(&w->e, op, id);
	event_time(&w->e);
	alloc_result(&w->e, &t->call, ret);
	start_at_regs(w, ctx);
	send_stack(w, false);
	work_give(w);
	return 0;
}

/* A block the cycle collector freed: a free, and which collection freed it. */
static __always_inline void send_gc_free(__u64 id, __u64 addr, const struct mt_thread *t)
{
	struct mt_event *e = bpf_ringbuf_reserve(&events, MT_EVENT_HDR_SIZE, 0);

	if (!e) {
		count_loss(MT_LOSS_RINGBUF_FULL);
		return;
	}
	event_header(e, MT_OP_GC_FREE, id);
	e->addr = addr;
	e->size = 0;
	e->old_addr = (id << 32) | t->gc_count;
	bpf_ringbuf_submit(e, wakeup_flag(MT_EVENT_HDR_SIZE));
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
	if (op == MT_OP_FREE && t->in_gc) {	/* garbage of a reference cycle */
		send_gc_free(bpf_get_current_pid_tgid(), addr, t);
		return 0;
	}
	send_release(op, bpf_get_current_pid_tgid(), addr, size);
	return 0;
}

/*
 * CPython's cycle collector (gc_collect_main, found per interpreter by user/probe/pyproc.c):
 * while it runs on a thread, the blocks that thread frees are the collector's garbage. It runs
 * once at a time per interpreter (gcstate->collecting), never nested.
 */
static __always_inline int gc_begin(__u64 generation)
{
	struct mt_thread *t = traced_thread(true);

	if (!t)
		return 0;
	t->in_gc = true;
	t->gc_count++;
	t->gc_generation = generation;
	t->gc_start_ns = bpf_ktime_get_ns();
	return 0;
}

static __always_inline int gc_end(__u64 result)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct mt_thread *t = traced_thread(false);
	struct mt_event *e;

	if (!t || !t->in_gc)
		return 0;
	t->in_gc = false;
	e = bpf_ringbuf_reserve(&events, MT_EVENT_HDR_SIZE, 0);
	if (!e) {
		count_loss(MT_LOSS_RINGBUF_FULL);
		return 0;
	}
	event_header(e, MT_OP_GC, id);
	e->ts_ns = t->gc_start_ns;
	e->gc.id = (id << 32) | t->gc_count;
	e->gc.duration_ns = bpf_ktime_get_ns() - t->gc_start_ns;
	e->gc.generation = t->gc_generation;
	e->gc.result = result;
	bpf_ringbuf_submit(e, wakeup_flag(MT_EVENT_HDR_SIZE));
	return 0;
}

/*
 * Sampling mode (libmemtrace-sample.so, sample/hooks.h): the allocation hook is a leaf called by
 * a malloc wrapper built with frame pointers, so rbp is the wrapper's frame: the stack starts at
 * that frame's return address, in the direct caller of malloc, with the caller's sp and rbp as
 * they are once malloc returns -- the state a return probe on glibc's malloc would see, so
 * sampled stacks and traced stacks are the same and none of the library's frames appear.
 */
static __always_inline int sampled(struct pt_regs *ctx, __u64 addr, __u64 size, __u64 mean)
{
	__u64 id = bpf_get_current_pid_tgid(), frame = PT_REGS_FP(ctx);
	struct mt_work *w;

	if (!traced(id >> 32))
		return 0;
	w = work_take();
	if (!w)
		return 0;
	event_header(&w->e, MT_OP_SAMPLED_ALLOC, id);
	event_time(&w->e);	/* to the tick, as every birth (work.bpf.h) */
	w->e.sampled.addr = addr;
	w->e.sampled.size = size;
	w->e.sampled.mean = mean;
	w->at.sp = frame + 16;
	if (!read_u64(frame + 8, &w->at.ip) || !read_u64(frame, &w->at.bp)) {
		count_loss(MT_LOSS_STACK);
		event_output(&w->e, false);
	} else {
		send_stack(w, false);
	}
	work_give(w);
	return 0;
}

#endif /* MT_ALLOC_BPF_H */
