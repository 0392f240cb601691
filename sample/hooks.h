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
 * A sampled block: its address and size, the mean sampling interval in bytes (the estimator needs
 * it), the frame of the allocator wrapper (memtrace starts the stack at that frame's caller), and
 * the sampled block a realloc replaced (0 when none).
 */
void memtrace_sample_alloc(void *addr, size_t size, size_t mean, void *frame, void *old);
/* A sampled block went away. */
void memtrace_sample_free(void *addr);

#endif
