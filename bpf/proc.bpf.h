/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A process's exit (whole machine) and exec (any traced process): each ends what user space keeps
 * of the program that ran.
 */
#ifndef MT_PROC_BPF_H
#define MT_PROC_BPF_H

#include "exit_maps.bpf.h"
#include "filter.bpf.h"

/*
 * The new program's arguments, as the kernel just copied them to the top of its stack: a
 * program that lives for a few milliseconds is gone before user space could read
 * /proc/PID/cmdline. Returns the words of frames[] they take: 0 without an address space, 1
 * (the lengths) when they could not be read.
 */
static __always_inline __u32 read_args(struct mt_event *e)
{
	struct mm_struct *mm = bpf_get_current_task_btf()->mm;
	__u64 start, full, len;

	if (!mm)
		return 0;
	start = BPF_CORE_READ(mm, arg_start);
	full = BPF_CORE_READ(mm, arg_end) - start;
	/* In 64 bits: older verifiers (6.1, 6.12) lose a 32-bit copy's bounds and refuse the read. */
	len = full < MT_PATH_BYTES ? full : MT_PATH_BYTES;
	e->args.full_len = full < 0xffffffffu ? full : 0xffffffffu;
	e->args.len = 0;
	if (len && !bpf_probe_read_user(e->args.bytes, len, (void *)start))
		e->args.len = len;
	return 1 + (e->args.len + 7) / 8;
}

/* An event that carries the comm: the exit's, or the new program's with its arguments. */
static __always_inline void send_proc_event(__u32 op, __u64 id)
{
	struct mt_work *w = work_take();

	if (!w)
		return;
	event_header(&w->e, op, id);
	__builtin_memset(&w->e.proc, 0, sizeof(w->e.proc));
	/* The process may be gone, or have exec'd again, before its events are read. */
	bpf_get_current_comm(w->e.proc.comm, sizeof(w->e.proc.comm));
	if (op == MT_OP_EXEC)
		w->e.nframes = read_args(&w->e);
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

/*
 * An exec replaces the process's memory and program: user space renews what it knows of it.
 * Sent for every traced process: a shim or wrapper script that execs the real program is how
 * most programs (Python's above all) are started.
 */
static __always_inline int exec_seen(void)
{
	__u64 id = bpf_get_current_pid_tgid();

	if (traced(id >> 32))
		send_proc_event(MT_OP_EXEC, id);
	return 0;
}

#define SIGSTOP 19

/*
 * --leak-check: the process called _exit, and exit_group is about to kill its other threads. Its
 * leader, the thread ptrace holds, is stopped here with SIGSTOP, which memtrace takes and never
 * delivers; memtrace then stops the other threads while they live, reads every thread's
 * registers and the memory, and lets the exit go on. Another thread calling _exit is not stopped
 * (ptrace does not hold it, and job control would stop the whole process): the exit stop of the
 * leader serves instead, without the other threads' registers.
 */
static __always_inline int exit_stop(void)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, *state;

	if ((__u32)id != tgid)
		return 0;
	state = bpf_map_lookup_elem(&exit_stops, &tgid);
	if (!state || *state != MT_EXIT_STOP_ARMED)
		return 0;
	*state = bpf_send_signal_thread(SIGSTOP) ? MT_EXIT_STOP_FAILED : MT_EXIT_STOP_SENT;
	return 0;
}

#endif /* MT_PROC_BPF_H */
