/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Which tasks are traced, and each traced thread's state. */
#ifndef MT_FILTER_BPF_H
#define MT_FILTER_BPF_H

#include "maps.bpf.h"

static __always_inline struct mt_thread *thread_state(bool create)
{
	return bpf_task_storage_get(&threads, bpf_get_current_task_btf(), NULL,
				    create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
}

static __always_inline bool comm_matches(void)
{
	char comm[16];

	bpf_get_current_comm(comm, sizeof(comm));
	for (int i = 0; i < 16; i++) {
		if (comm[i] != comm_filter[i])
			return false;
		if (!comm[i])
			break;
	}
	return true;
}

static __always_inline bool traced(__u32 tgid)
{
	if (filter_pids)
		return bpf_map_lookup_elem(&targets, &tgid);
	if (tgid == self_tgid)
		return false;
	if (filter_comm && !comm_matches())
		return false;
	return !cgroup_id || bpf_get_current_ancestor_cgroup_id(cgroup_level) == cgroup_id;
}

/*
 * The state of this thread if its process is traced, else NULL; created if need be when create.
 * With -p or a command (filter_pids) a thread gets state only once its process is found in
 * targets, which keeps every pid it was given: the state is the verdict, and the hash lookup,
 * whose bucket and element are cold after every trap, is skipped.
 */
static __always_inline struct mt_thread *traced_thread(bool create)
{
	struct mt_thread *t = thread_state(false);

	if (t && filter_pids)
		return t;
	if (!traced(bpf_get_current_pid_tgid() >> 32))
		return NULL;
	if (t || !create)
		return t;
	t = thread_state(true);
	if (!t)
		count_loss(MT_LOSS_SCRATCH_FULL);
	return t;
}

/*
 * Is an outer allocator call in flight on this thread? glibc's allocators call each other through
 * their public entry points (memalign -> malloc, realloc(p, 0) -> free, malloc -> mmap); only the
 * outermost call is the program's, so inner ones are folded into it. A slot left by a call that
 * never returned (longjmp, thread killed) is recognised by its stack pointer: a truly nested call
 * runs deeper on the stack (lower address) than the outer call's entry, or at the same depth when
 * the outer function tail-calls it (glibc's reallocarray jumps into realloc, which jumps into
 * malloc); each return probe then fires once on the one return.
 */
static __always_inline bool in_outer_call(const struct mt_thread *t, __u64 sp)
{
	return t && t->in_call && sp <= t->outer_sp;
}

#endif /* MT_FILTER_BPF_H */
