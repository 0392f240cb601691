/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Stacks sent by id.
 *
 * An allocation site's stack is the same, event after event. Sent whole each time, its frames
 * were a few hundred bytes of ring buffer per event, memory the program meets cold after the
 * trap: a fifth of the return probe where stacks are deep. So the first time this CPU sends a
 * stack it goes in full with its id, and afterwards as the id alone; user space
 * (user/probe/stackid.c) puts back the frames it kept.
 *
 * The id is a 64-bit hash of the frames and of the process: its tgid and its start time, so that
 * no later process under the same pid has the ids of one before, and user space can drop a
 * process's stacks when it ends. Which ids this CPU has sent is a direct-mapped table per CPU,
 * written only once the full event is in the ring: the ring keeps the order of reservation, and
 * a later event of this CPU reserves after the full one committed, so an id never reaches user
 * space before its frames. A failed send leaves the slot as it was; two ids in one slot cost a
 * resend. Two stacks of one process with one id would be merged: about one chance in 40 million
 * for a process with a million distinct stacks.
 */
#ifndef MT_STACKID_BPF_H
#define MT_STACKID_BPF_H

#include "work.bpf.h"

/* The current process's start time: its leader's. */
static __always_inline __u64 process_start(void)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 start = 0;

	/* A read, not a load: before 6.2 a uprobe program's walk from a task stops at a scalar. */
	bpf_probe_read_kernel(&start, sizeof(start), &task->group_leader->start_time);
	return start;
}

#define MT_SID_STEP 8		/* frames a call of stack_id_step takes in */

/*
 * Frames i * MT_SID_STEP on into the id. A bpf_loop() callback: the verifier checks it once,
 * not once per frame, and each call takes several frames, as a call costs about what a frame's
 * hashing does.
 */
static long stack_id_step(__u64 i, void *ctx)
{
	struct mt_work *w = ((struct mt_loop *)ctx)->w;
	__u32 at = w->sid.at + i * MT_SID_STEP, n = w->sid.n;
	__u64 h = w->sid.h;

	for (__u32 j = 0; j < MT_SID_STEP; j++) {
		if (at + j >= n || at + j >= MT_MAX_FRAMES)
			break;
		h = frames_mix(h, w->e.frames[at + j]);
	}
	w->sid.h = h;
	return 0;
}

/*
 * The id of w's n frames in this process: the frames hashed in order (those of a replayed walk
 * come hashed: w->nhashed), then the process and the count.
 */
static __always_inline __u64 stack_id(struct mt_work *w, __u32 n)
{
	struct mt_loop loop = { .w = w };
	__u32 at = w->nhashed <= n ? w->nhashed : 0;
	__u64 h;

	w->sid.h = at ? w->hashed : MT_FRAMES_SEED;
	w->sid.at = at;
	w->sid.n = n;
	bpf_loop((n - at + MT_SID_STEP - 1) / MT_SID_STEP, stack_id_step, &loop, 0);
	h = frames_mix(w->sid.h, process_start() ^ bpf_get_current_pid_tgid() >> 32 << 32 ^ n);
	return h | 1;	/* odd: never an empty slot */
}

/* Can e go as a short allocation (struct mt_alloc_by_id)? */
static __always_inline bool alloc_fits_short(const struct mt_event *e)
{
	return mt_op_allocates(e->op) && !e->old_addr && !e->old_size &&
	       !(e->size >> 32);
}

/* e as a short allocation with its stack's id, written straight into the ring. */
static __always_inline void alloc_by_id_output(const struct mt_event *e, __u64 id, bool quiet)
{
	struct mt_alloc_by_id *a = bpf_ringbuf_reserve(&events, MT_ALLOC_BY_ID_SIZE, 0);

	if (!a) {
		count_loss(MT_LOSS_RINGBUF_FULL);
		return;
	}
	a->op = e->op;
	a->pid = e->pid;
	a->tid = e->tid;
	a->size = e->size;
	a->ts_ns = e->ts_ns;
	a->addr = e->addr;
	a->stack_id = id;
	bpf_ringbuf_submit(a, quiet ? BPF_RB_NO_WAKEUP : wakeup_flag(MT_ALLOC_BY_ID_SIZE));
}

/*
 * Send w's event with its n frames, by id where this CPU sent them before. Without bpf_loop
 * (before 5.17) every stack goes in full.
 */
static __always_inline void stack_output(struct mt_work *w, __u32 n, bool quiet)
{
	struct mt_event *e = &w->e;
	__u64 id, *slot;
	struct mt_sent *sent;
	__u32 page;

	e->nframes = n;
	if (!have_loop || n < 2 || n >= MT_MAX_FRAMES) {	/* or an id would save nothing */
		event_output(e, quiet);
		return;
	}
	id = stack_id(w, n);
	page = id >> 32 & (MT_SENT_PAGES - 1);
	sent = bpf_map_lookup_elem(&stacks_sent, &page);
	if (!sent) {
		event_output(e, quiet);
		return;
	}
	slot = &sent->id[id >> 40 & (MT_SENT_SLOTS - 1)];
	if (*slot == id && alloc_fits_short(e)) {
		alloc_by_id_output(e, id, quiet);
		return;
	}
	if (*slot == id) {
		e->frames[0] = id;
		e->nframes = n | MT_FRAMES_BY_ID;
		ring_output(e, MT_EVENT_HDR_SIZE + 8, quiet);
		return;
	}
	e->frames[n & MT_FRAMES_MASK] = id;
	e->nframes = n | MT_FRAMES_NEW;
	if (ring_output(e, MT_EVENT_HDR_SIZE + 8 * (n + 1), quiet))
		*slot = id;
}

#endif /* MT_STACKID_BPF_H */
