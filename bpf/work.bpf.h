/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Per-CPU working records and how events leave through the ring buffer.
 *
 * An event with its stack, and the state of the walk that fills it, do not fit the 512 bytes of
 * stack every kernel allows a program's whole call chain: they are built in a per-CPU record.
 * Per CPU is not per run, though: uprobe programs run with migration disabled, not preemption,
 * so on a preemptible kernel one task's program can be preempted halfway and another task's run
 * on the same CPU. So each CPU has MT_WORK_SLOTS records, and a run takes a free one with an
 * atomic test-and-set of its bit, which preemption cannot split, and gives it back when done.
 * When all are taken the event is lost, and counted (MT_LOSS_WORK_BUSY).
 */
#ifndef MT_WORK_BPF_H
#define MT_WORK_BPF_H

#include "maps.bpf.h"

static __always_inline __u32 *work_mask(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&work_busy, &zero);
}

/* A free working record of this CPU, taken; NULL (counted) when there is none. */
static __always_inline struct mt_work *work_take(void)
{
	__u32 *busy = work_mask();
	struct mt_work *w;

	if (!busy)
		return NULL;
	for (__u32 i = 0; i < MT_WORK_SLOTS; i++) {
		__u32 bit = 1u << i;

		if (__sync_fetch_and_or(busy, bit) & bit)
			continue;
		w = bpf_map_lookup_elem(&work, &i);
		if (!w) {
			__sync_fetch_and_and(busy, ~bit);
			return NULL;
		}
		w->slot = i;
		if (i)
			__sync_fetch_and_add(&work_nested, 1);
		return w;
	}
	count_loss(MT_LOSS_WORK_BUSY);
	return NULL;
}

static __always_inline void work_give(struct mt_work *w)
{
	__u32 *busy = work_mask();

	if (busy)
		__sync_fetch_and_and(busy, ~(1u << (w->slot & (MT_WORK_SLOTS - 1))));
}

/*
 * A block's birth is timed (its age, the growth rates, the peak's moment); a free, an unmap or a
 * fault is not: nothing reads when they happened. To the tick (1-10 ms), which ages and rates
 * do not miss: the fine clock (kvm-clock's pvclock) was a tenth of an allocation's program, the
 * tick counter is one load. (bpf_ktime_get_coarse_ns is refused to tracing programs.)
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

/*
 * Wake the consumer only when the ring has filled past a batch's worth. Each wake-up is an
 * irq_work whose self-interrupt costs microseconds in a VM, more than the rest of the program;
 * user space also reads on a 100 ms timeout, so an event left unannounced waits at most that long.
 * Two CPUs crossing the mark together may both skip the wake-up: the timeout covers that too.
 */
#define MT_WAKEUP_BYTES (256u << 10)

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

/* Send the first len bytes of e; false (counted) when the ring is full. */
static __always_inline bool ring_output(struct mt_event *e, __u64 len, bool quiet)
{
	if (len > sizeof(*e))	/* never true; keeps the verifier's bound on len */
		return false;
	if (bpf_ringbuf_output(&events, e, len, quiet ? BPF_RB_NO_WAKEUP : wakeup_flag(len))) {
		count_loss(MT_LOSS_RINGBUF_FULL);
		return false;
	}
	return true;
}

/* Send e with its nframes frames. Faults come by the thousand: the poll timeout collects them. */
static __always_inline void event_output(struct mt_event *e, bool quiet)
{
	ring_output(e, MT_EVENT_HDR_SIZE + (e->nframes & MT_FRAMES_MASK) * 8, quiet);
}

/* A release of len bytes (a constant: the ring takes no other), written straight into the ring. */
static __always_inline void release_output(__u32 op, __u64 id, __u64 addr, __u64 size, const __u32 len)
{
	struct mt_release *r = bpf_ringbuf_reserve(&events, len, 0);

	if (!r) {
		count_loss(MT_LOSS_RINGBUF_FULL);
		return;
	}
	r->op = op;
	r->pid = id >> 32;
	r->tid = (__u32)id;
	r->nframes = 0;
	r->addr = addr;
	if (len >= MT_UNMAP_SIZE)
		r->size = size;
	bpf_ringbuf_submit(r, wakeup_flag(len));
}

/*
 * A free or an unmap: no stack, so no working record and no copy out of one, and short
 * (memtrace.h: struct mt_release). A free is the most frequent event, and the ring's memory is
 * cold after the trap: every byte not written counts.
 */
static __always_inline void send_release(__u32 op, __u64 id, __u64 addr, __u64 size)
{
	if (op == MT_OP_FREE)
		release_output(op, id, addr, 0, MT_FREE_SIZE);
	else
		release_output(op, id, addr, size, MT_UNMAP_SIZE);
}

#endif /* MT_WORK_BPF_H */
