/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Page faults of traced processes: the user stack that touched memory, the mapping it hit, and
 * how many bytes the fault made resident. Included by memtrace.bpf.c (it shares its maps).
 *
 * Three hooks, because no single one tells everything:
 *  - the page_fault_user tracepoint fires when a fault starts: it opens a per-thread tally;
 *  - the mm_page_alloc tracepoint adds the real size of the pages the fault allocates (a
 *    transparent huge page is one 2 MiB folio, a read of untouched memory allocates nothing);
 *  - the minor/major page-fault software events fire when the kernel accounts a finished fault
 *    (failed and retried attempts are not counted): they send the event, with the tally.
 * (fentry on the rmap functions would also see file pages mapped without allocating, but
 * trampolines are not always permitted; tracepoints are.) A kernel without page_fault_user
 * (it is x86's) still gets the events, unsized. Until user space opens the first fault event
 * (faults_on), the hooks do nothing.
 */
#ifndef MEMTRACE_FAULT_BPF_H
#define MEMTRACE_FAULT_BPF_H

#include "filter.bpf.h"
#include "stack.bpf.h"

#define GFP_MOVABLE 0x08	/* ___GFP_MOVABLE: unchanged since 2.6 */

/* This thread's state if its faults are traced. */
static __always_inline struct mt_thread *fault_thread(void)
{
	return faults_on ? traced_thread(true) : NULL;
}

static __always_inline int fault_begin(void)
{
	struct mt_thread *t = fault_thread();

	if (t) {
		t->fault_bytes = 0;
		t->in_fault = true;
	}
	return 0;
}

/*
 * Pages a fault allocates for the process (user pages are movable; page tables are not): one
 * folio of 2 MiB for a transparent huge page, nothing for a read that maps the shared zero page.
 * Only inside a fault: madvise(MADV_POPULATE_*) or mlock have no tally open.
 */
static __always_inline int fault_page(unsigned int order, gfp_t gfp)
{
	struct mt_thread *t;

	if (!faults_on || !(gfp & GFP_MOVABLE))
		return 0;
	t = thread_state(false);
	if (t && t->in_fault)
		t->fault_bytes += page_size << order;
	return 0;
}

/* The fault is accounted: send it, with its mapping, its bytes and the stack that touched it. */
static __always_inline int fault_done(struct bpf_perf_event_data *ctx, __u32 op)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct mt_thread *t;
	struct mt_vma *v;
	struct mt_work *w;
	__u32 seq = 0;
	bool cacheable;

	t = fault_thread();
	if (!t)
		return 0;
	w = work_take();
	if (!w)
		return 0;
	v = &w->st.vm;	/* the walk starts afresh below: its mapping can be borrowed until then */
	/* Fails (-EBUSY) when a writer waits for the mm's lock: the kind stays "unknown". */
	cacheable = mm_version(&seq);
	if (vma_find(seq, cacheable, ctx->addr, v, &w->st.tree) <= 0)
		__builtin_memset(v, 0, sizeof(*v));
	if (v->uprobes)
		goto out;
	event_header(&w->e, op, id);
	w->e.fault.addr = ctx->addr;
	w->e.fault.bytes = 0;
	if (t->in_fault) {
		w->e.fault.bytes = t->fault_bytes;
		w->e.fault.map = MT_FAULT_SIZED;
		t->in_fault = false;
	}
	if (v->huge_bytes) {
		w->e.fault.bytes = v->huge_bytes;
		w->e.fault.map = MT_FAULT_SIZED;
	}
	w->e.fault.map_start = v->start;
	w->e.fault.map |= v->kind;
	/*
	 * The walk starts at the faulting instruction: the fault events count user mode only
	 * (exclude_kernel, user/probe/faults.c), so their registers are the user's. (The kernel's walk,
	 * bpf_get_stack, reads on through the frame register of code built without frame pointers,
	 * faulting, microseconds a fault.)
	 */
	start_at_regs(w, (struct pt_regs *)ctx);
	send_stack(w, true);
out:
	work_give(w);
	return 0;
}

#endif /* MEMTRACE_FAULT_BPF_H */
