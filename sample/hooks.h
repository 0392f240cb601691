/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The two functions memtrace probes in a sampled process. Each starts with a 5-byte nop, which the
 * kernel turns into a call when a uprobe is put there (no trap); without memtrace they return at
 * once. Arguments are the ABI memtrace reads (bpf/memtrace.bpf.c: sample_alloc, sample_free).
 */
#ifndef MT_SAMPLE_HOOKS_H
#define MT_SAMPLE_HOOKS_H

#include <stddef.h>

/*
 * A sampled block: its address and size, and the mean sampling interval in bytes (the estimator
 * needs it). Called straight from a malloc wrapper, whose frame pointer memtrace finds in rbp: the
 * stack starts at that frame's caller. Three arguments, no more: the fourth travels in rcx, which
 * the kernel's optimized uprobe does not report (its trampoline enters the kernel by syscall,
 * which overwrites rcx; on 6.18 the probe read the trampoline's address there).
 */
void memtrace_sample_alloc(void *addr, size_t size, size_t mean);
/* A sampled block went away. */
void memtrace_sample_free(void *addr);

#endif
