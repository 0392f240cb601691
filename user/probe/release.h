/* SPDX-License-Identifier: BSD-2-Clause */
/* Uprobes freed after memtrace has ended, by a child that holds them; and waited for by the next. */
#ifndef MT_RELEASE_H
#define MT_RELEASE_H

#include <stddef.h>

/*
 * Starts memtrace-detach, a child holding a copy of fds[0..n) (BPF links) until memtrace has
 * ended: the kernel frees them as the child exits. Returns 0 or -errno (then nothing started).
 */
int release__hand_over(const int *fds, size_t n);

/* Waits (at most a few seconds) until no memtrace-detach is freeing probes any more. */
void release__wait(void);

#endif
