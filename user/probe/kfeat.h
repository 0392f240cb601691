/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What this kernel and this process offer memtrace's BPF programs, probed before anything loads:
 * the programs are configured from it (bpf/maps.bpf.h's have_* settings), and each capability
 * that is missing is said once, with what the user loses (kfeat__explain).
 */
#ifndef MT_KFEAT_H
#define MT_KFEAT_H

#include <stdbool.h>
#include <stdio.h>

/* Each capability; the table in features.c names it and says what needs it. */
enum mt_feature {
	MT_FEAT_PRIVILEGES,	/* CAP_BPF + CAP_PERFMON, or CAP_SYS_ADMIN */
	MT_FEAT_BTF,		/* /sys/kernel/btf/vmlinux */
	MT_FEAT_RINGBUF,	/* BPF ring buffer map (5.8) */
	MT_FEAT_TASK_STORAGE,	/* task-local storage from tracing programs (5.11) */
	MT_FEAT_ATOMICS,	/* BPF atomic fetch operations (5.12) */
	MT_FEAT_LOOP,		/* bpf_loop (5.17) */
	MT_FEAT_FIND_VMA,	/* bpf_find_vma (5.17) */
	MT_FEAT_FAULT_TP,	/* page_fault_user tracepoint (x86) */
	MT_FEAT_PAGE_ALLOC_TP,	/* mm_page_alloc tracepoint */
	MT_FEAT_MM_SEQ,		/* mm_struct.mm_lock_seq: a counter (6.4), a seqcount (6.12) */
	MT_FEAT_VMA_TREE,	/* mm_lock_seq a seqcount: the VMA tree read without its lock (6.12) */
	MT_FEAT_VMA_ITER,	/* bpf_iter_task_vma kfuncs (6.4) */
	MT_FEAT_EXIT_MM,	/* the address space still there at sched_process_exit (6.16) */
	MT_FEAT_URETPROBE_SYSCALL, /* return probes without a trap (6.11, x86) */
	MT_FEAT_UPROBE_NOP5,	/* entry probes on a 5-byte nop without a trap (6.17, x86) */
	MT_FEAT_UPROBE_MULTI,	/* uprobe_multi links (6.6) */
	MT_FEAT_TRACEFS,	/* tracefs mounted (not needed: listed for bug reports) */
	MT_FEAT_OOM_TP,		/* oom:mark_victim tracepoint (4.13) */
	MT_FEAT_OOM_TASK,	/* mark_victim hands over the victim's task (6.9; Debian's 6.1 too) */
	MT_FEAT__COUNT,
};

struct mt_features {
	bool have[MT_FEAT__COUNT];
	bool probed[MT_FEAT__COUNT];	/* false: could not be asked (no privileges) */
	char release[128];		/* uname -r */
	char machine[65];		/* uname -m */
};

void kfeat__probe(struct mt_features *f);
/* The effective capabilities alone, without asking the kernel anything. */
bool kfeat__privileged(void);

static inline bool kfeat__have(const struct mt_features *f, enum mt_feature x)
{
	return f->have[x];
}

/* The capability's name, what needs it and since when ("bpf_loop", "5.17"), for --check. */
const char *kfeat__name(enum mt_feature x);
const char *kfeat__since(enum mt_feature x);
/* What memtrace does without it, in a phrase ("Python frames are not walked"). */
const char *kfeat__without(enum mt_feature x);
/* True when memtrace cannot trace at all without it. */
bool kfeat__required(enum mt_feature x);

#endif
