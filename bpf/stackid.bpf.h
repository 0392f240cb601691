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
 * resend. Two stacks of one process with one id would be merged: about one chance in 10^8 among
 * a million distinct stacks.
 */
#ifndef MT_STACKID_BPF_H
#define MT_STACKID_BPF_H

#include "work.bpf.h"

static __always_inline __u64 stack_id(const __u64 *frames, __u32 n)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 h = (task->group_leader->start_time ^ (__u64)task->tgid << 32 ^ n) * 0x9e3779b97f4a7c15ull;

	for (__u32 i = 0; i < MT_MAX_FRAMES && i < n; i++) {
		h = (h ^ frames[i]) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	return h | 1;	/* odd: never an empty slot */
}

/* Send e with its n frames, by id where this CPU sent them before. */
static __always_inline void stack_output(struct mt_event *e, __u32 n, bool quiet)
{
	__u64 id, *slot;
	struct mt_sent *sent;
	__u32 page;

	e->nframes = n;
	if (n < 2 || n >= MT_MAX_FRAMES) {	/* an id would save nothing; or no room for it */
		event_output(e, quiet);
		return;
	}
	id = stack_id(e->frames, n);
	page = id >> 32 & (MT_SENT_PAGES - 1);
	sent = bpf_map_lookup_elem(&stacks_sent, &page);
	if (!sent) {
		event_output(e, quiet);
		return;
	}
	slot = &sent->id[id >> 40 & (MT_SENT_SLOTS - 1)];
	if (*slot == id) {
		e->frames[0] = id;
		e->nframes = n | MT_FRAMES_BY_ID;
		ring_output(e, MT_EVENT_HDR_SIZE + 8, quiet);
		return;
	}
	e->frames[n] = id;
	e->nframes = n | MT_FRAMES_NEW;
	if (ring_output(e, MT_EVENT_HDR_SIZE + 8 * (n + 1), quiet))
		*slot = id;
}

#endif /* MT_STACKID_BPF_H */
