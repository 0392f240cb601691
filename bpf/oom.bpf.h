/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The OOM killer's choice (oom:mark_victim): sent as it is made, before the victim is killed and
 * the reaper frees its memory, so user space can freeze what the victim held. OOM kills are rare:
 * the event is built straight in the ring, with the victim's resident memory from its counters.
 */
#ifndef MT_OOM_BPF_H
#define MT_OOM_BPF_H

#include <bpf/bpf_core_read.h>
#include "work.bpf.h"

/*
 * Before 6.2 an mm's counters were atomics in one struct; since commit f1a7941243c1 ("mm:
 * convert mm's rss stats into percpu_counter") each is a percpu_counter, whose count is what
 * get_mm_counter() reads (as the kernel's own OOM report does: both are approximate).
 */
struct mm_rss_stat___pre62 {
	atomic_long_t count[4];
};

struct mm_struct___pre62 {
	struct mm_rss_stat___pre62 rss_stat;
};

#define MM_PAGES(mm, member)                                                                \
	(bpf_core_type_exists(struct mm_rss_stat___pre62) ?                                 \
		 BPF_CORE_READ((struct mm_struct___pre62 *)(mm), rss_stat.count[member].counter) : \
		 BPF_CORE_READ(mm, rss_stat[member].count))

static __always_inline __u64 pages_bytes(__s64 pages)
{
	return pages > 0 ? (__u64)pages * page_size : 0;
}

/* The victim's resident memory, as the kernel counted it at the choice. */
static __always_inline void oom_rss(struct task_struct *task, struct mt_event *e)
{
	struct mm_struct *mm = BPF_CORE_READ(task, mm);

	if (!mm)
		return;
	e->oom.anon_bytes = pages_bytes(MM_PAGES(mm, MM_ANONPAGES));
	e->oom.rss_bytes = e->oom.anon_bytes + pages_bytes(MM_PAGES(mm, MM_FILEPAGES)) +
			   pages_bytes(MM_PAGES(mm, MM_SHMEMPAGES));
	e->oom.flags = MT_OOM_RSS;
}

/*
 * ctx[0] is the victim: its task since the tracepoint grew fields (upstream 6.9, backported
 * to Debian's 6.1), its pid before (oom_arg_task, from this kernel's BTF). The pid is the
 * thread the killer picked, nearly always the process's leader.
 */
static __always_inline int oom_seen(__u64 *ctx)
{
	struct task_struct *task = oom_arg_task ? (struct task_struct *)ctx[0] : NULL;
	__u32 tid = task ? BPF_CORE_READ(task, pid) : (__u32)ctx[0];
	__u32 tgid = task ? BPF_CORE_READ(task, tgid) : tid;
	struct mt_event *e;

	if (filter_pids ? !bpf_map_lookup_elem(&targets, &tgid) : tgid == self_tgid)
		return 0;	/* -a: any victim; user space keeps those it traced */
	e = bpf_ringbuf_reserve(&events, MT_EVENT_HDR_SIZE, 0);
	if (!e) {
		count_loss(MT_LOSS_RINGBUF_FULL);
		return 0;
	}
	event_header(e, MT_OP_OOM, (__u64)tgid << 32 | tid);
	e->ts_ns = bpf_ktime_get_ns();
	__builtin_memset(&e->oom, 0, sizeof(e->oom));
	e->oom.tid = tid;
	if (task)
		oom_rss(task, e);
	bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);	/* now: the victim is about to go */
	return 0;
}

#endif /* MT_OOM_BPF_H */
