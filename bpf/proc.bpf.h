/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Whole machine: a process's exit and exec, which end what user space keeps of it. */
#ifndef MT_PROC_BPF_H
#define MT_PROC_BPF_H

#include "exit_maps.bpf.h"
#include "filter.bpf.h"

/* An event that carries only its header (and the exit's comm). */
static __always_inline void send_proc_event(__u32 op, __u64 id)
{
	struct mt_work *w = work_take();

	if (!w)
		return;
	event_header(&w->e, op, id);
	w->e.addr = 0;
	w->e.size = 0;
	if (op == MT_OP_EXIT)	/* the comm: the process may be gone before its events are read */
		bpf_get_current_comm(MT_EVENT_COMM(&w->e), 16);
	event_output(&w->e, false);
	work_give(w);
}

/* The leader's exit ends a process; user space may drop its blocks and mappings. */
static __always_inline int exit_seen(void)
{
	__u64 id = bpf_get_current_pid_tgid();

	if (!report_exits || (__u32)id != id >> 32 || !traced(id >> 32))
		return 0;
	send_exit_maps(id);
	send_proc_event(MT_OP_EXIT, id);
	return 0;
}

/* An exec replaces the process's memory and program; user space starts afresh. */
static __always_inline int exec_seen(void)
{
	__u64 id = bpf_get_current_pid_tgid();

	if (report_exits && traced(id >> 32))
		send_proc_event(MT_OP_EXEC, id);
	return 0;
}

#endif /* MT_PROC_BPF_H */
