/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Every map and every setting of memtrace's BPF programs, in one place. Settings are const
 * volatile: user space sets them between open and load, and the verifier reads them as
 * constants, so code behind a setting that is off (a helper this kernel lacks) is never checked.
 */
#ifndef MT_MAPS_BPF_H
#define MT_MAPS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "memtrace.h"
#include "python.h"
#include "state.bpf.h"

/* What is traced (user/probe/probe.c). */
const volatile bool filter_pids = true;	/* false only for whole-machine tracing */
const volatile bool report_exits = false;	/* whole-machine: say when a process ends */
const volatile bool filter_comm = false;
const volatile char comm_filter[16] = {};
const volatile __u64 cgroup_id = 0;	/* 0: any cgroup */
const volatile int cgroup_level = 0;
const volatile __u32 self_tgid = 0;	/* memtrace itself: never traced, or its events feed back */
const volatile __u32 unwind_mode = MT_UNWIND_FP;	/* --unwind */

/*
 * What this kernel has (user/probe/kfeat.c probes it before load). Each guards the only calls of
 * its helper, so a program that can do without it still loads where it is missing.
 */
const volatile bool have_loop = true;		/* bpf_loop (5.17): DWARF and Python walks, paths */
const volatile bool have_find_vma = true;	/* bpf_find_vma (5.17): DWARF walks, fault kinds */
const volatile bool oom_arg_task = true;	/* oom:mark_victim hands over the task, not its pid */
const volatile bool vma_check = false;	/* MEMTRACE_CHECK_VMA: the VMA tree's answers checked */

/* Changed while tracing, by user space or by the programs. */
bool wake_consumer = false;	/* an unwind table to load: wake the consumer now */
bool python_on = false;		/* py_procs holds a process */
bool faults_on = false;		/* the first fault event is open */
__u64 page_size = 4096;
__u64 work_nested = 0;		/* runs that took a second record: a preempted run held one */
__u64 vma_checks[MT_VMA_CHECK__COUNT];	/* with vma_check: tree answers the kernel's agreed with */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MT_LOSS__COUNT);
	__type(key, __u32);
	__type(value, __u64);
} losses SEC(".maps");

static __always_inline void count_loss(__u32 reason)
{
	__u64 *n = bpf_map_lookup_elem(&losses, &reason);

	if (n)
		__sync_fetch_and_add(n, 1);
}

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct mt_thread);
} threads SEC(".maps");

/*
 * Thread group ids being traced (when filter_pids). Never removed from: a thread's state stands
 * for its process being traced (filter.bpf.h), so most events skip this lookup.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u8);
} targets SEC(".maps");

/* Working records (work.bpf.h): MT_WORK_SLOTS per CPU, and which of them are taken. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MT_WORK_SLOTS);
	__type(key, __u32);
	__type(value, struct mt_work);
} work SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} work_busy SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mt_tick);
} tick SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MT_SENT_PAGES);
	__type(key, __u32);
	__type(value, struct mt_sent);
} stacks_sent SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mt_vma_cache);
} vma_cache SEC(".maps");

struct unwind_rows {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_INNER_MAP);	/* inner arrays may differ in size (5.10+) */
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct mt_unwind_row));	/* clang 14 emits the type as a FWD here */
};

/* Table slot -> that object's rows. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, MT_UNWIND_MAX_OBJECTS);
	__type(key, __u32);
	__array(values, struct unwind_rows);
} unwind_tables SEC(".maps");

/* Object (dev, inode) -> its table; written by user space. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MT_UNWIND_MAX_OBJECTS);
	__type(key, struct mt_unwind_key);
	__type(value, struct mt_unwind_obj);
} unwind_objs SEC(".maps");

/* Objects met in a stack but not loaded -> a pid that maps them; user space loads and deletes. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, struct mt_unwind_key);
	__type(value, __u32);
} unwind_missing SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mt_row_cache);
} row_cache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mt_walk_tags);
} walk_tags SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MT_WALK_SLOTS);
	__type(key, __u32);
	__type(value, struct mt_walk);
} walks SEC(".maps");

/* Thread group id -> where its interpreter keeps things; only Python processes are present. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct mt_py_proc);
} py_procs SEC(".maps");

/* --leak-check: thread group id -> enum mt_exit_stop; user space arms and clears (proc.bpf.h). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u32);
} exit_stops SEC(".maps");

#endif /* MT_MAPS_BPF_H */
