/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * An event's user stack: by frame pointers, or by the CFI unwinder (--unwind), then Python's
 * frames; and the event sent with it.
 */
#ifndef MT_STACK_BPF_H
#define MT_STACK_BPF_H

#include <bpf/bpf_tracing.h>
#include "python.bpf.h"
#include "stackid.bpf.h"
#include "unwind.bpf.h"
#include "work.bpf.h"

/*
 * --unwind fp: the user stack by its frame-pointer chain, the walk of
 * bpf_get_stack(BPF_F_USER_STACK), but ending where the chain ends. The kernel's walker reads on
 * through a frame register that holds data, faulting on nearly every event; this one stops
 * before it reads a link that is not on the stack above the last (frame_link_ok).
 */
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

/* The stack starts at the probe's own registers. */
static __always_inline void start_at_regs(struct mt_work *w, struct pt_regs *ctx)
{
	w->at.ip = PT_REGS_IP(ctx);
	w->at.sp = PT_REGS_SP(ctx);
	w->at.bp = PT_REGS_FP(ctx);
}

/*
 * The event's user stack from w->at, then Python's frames (not for page faults, which are not
 * calls). The CFI unwinder steps by bpf_loop and finds objects by bpf_find_vma: without both,
 * stacks are walked by frame pointers (user/probe/kfeat.c says so and sets unwind_mode).
 */
static __always_inline __u32 take_stack(struct mt_work *w, bool fault)
{
	__u32 n;

	w->nhashed = 0;
	w->st.span_len = 0;	/* no replay span (python.bpf.h reads one) until a replay reads it */
	if (unwind_mode != MT_UNWIND_FP && have_loop && have_find_vma)
		n = unwind_user_stack(w, fault);
	else
		n = user_stack(&w->at, w->e.frames, fault ? MT_LOSS_FAULT_STACK_TRUNCATED : MT_LOSS_STACK_TRUNCATED);
	return fault ? n : py_append(w, n & MT_FRAMES_MASK);
}

/* Send w's event with the user stack from w->at. */
static __always_inline void send_stack(struct mt_work *w, bool fault)
{
	stack_output(w, take_stack(w, fault) & MT_FRAMES_MASK, fault);
}

#endif /* MT_STACK_BPF_H */
