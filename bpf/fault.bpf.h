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
 * (it is x86's) still gets the events, unsized.
 */
#ifndef MEMTRACE_FAULT_BPF_H
#define MEMTRACE_FAULT_BPF_H

#include <bpf/bpf_core_read.h>

#define GFP_MOVABLE 0x08	/* ___GFP_MOVABLE: unchanged since 2.6 */

/* Set by user space once it opens the first fault event: until then the hooks do nothing. */
bool faults_on = false;
__u64 page_size = 4096;

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

SEC("tp_btf/page_fault_user")
int BPF_PROG(fault_user, unsigned long address) { return fault_begin(); }

/*
 * Pages a fault allocates for the process (user pages are movable; page tables are not): one
 * folio of 2 MiB for a transparent huge page, nothing for a read that maps the shared zero page.
 * Only inside a fault: madvise(MADV_POPULATE_*) or mlock have no tally open.
 */
SEC("tp_btf/mm_page_alloc")
int BPF_PROG(fault_alloc, struct page *page, unsigned int order, gfp_t gfp)
{
	struct mt_thread *t;

	if (!faults_on || !(gfp & GFP_MOVABLE))
		return 0;
	t = thread_state(false);
	if (t && t->in_fault)
		t->fault_bytes += page_size << order;
	return 0;
}

static __always_inline int fault_done(struct bpf_perf_event_data *ctx, __u32 op)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct mt_vma v = {};
	struct mt_thread *t;
	struct mt_event *e;
	__u32 seq = 0;
	bool cacheable;

	t = fault_thread();
	if (!t)
		return 0;
	e = new_event(op, id);
	if (!e)
		return 0;
	e->addr = ctx->addr;
	e->size = 0;
	if (t->in_fault) {
		e->size = t->fault_bytes;
		e->old_size = MT_FAULT_SIZED;
		t->in_fault = false;
	}
	/* Fails (-EBUSY) when a writer waits for the mm's lock: the kind stays "unknown". */
	cacheable = mm_version(&seq);
	if (!vma_find(id >> 32, seq, cacheable, ctx->addr, &v))
		__builtin_memset(&v, 0, sizeof(v));
	if (v.uprobes)
		return 0;
	if (v.huge_bytes) {
		e->size = v.huge_bytes;
		e->old_size = MT_FAULT_SIZED;
	}
	e->old_addr = v.start;
	e->old_size |= v.kind;
	send(e, true, (struct pt_regs *)ctx);
	return 0;
}

SEC("perf_event")
int fault_minor(struct bpf_perf_event_data *ctx) { return fault_done(ctx, MT_OP_FAULT); }
SEC("perf_event")
int fault_major(struct bpf_perf_event_data *ctx) { return fault_done(ctx, MT_OP_FAULT_MAJOR); }

#endif /* MEMTRACE_FAULT_BPF_H */
