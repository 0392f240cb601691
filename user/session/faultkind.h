/* SPDX-License-Identifier: BSD-2-Clause */
/* The mapping of a page fault that BPF could not look up, found in /proc/PID/maps instead. */
#ifndef MT_FAULTKIND_H
#define MT_FAULTKIND_H

#include <stdbool.h>

#include "memtrace.h"

struct faultkind;

struct faultkind *faultkind__new(void);
void faultkind__free(struct faultkind *fk);

/* True for a fault event whose mapping kind is unknown: complete a copy of it. */
bool faultkind__wanted(const struct mt_event *e);

/*
 * e (a fault event, writable) gets its mapping's kind and start from the process's mappings as
 * they are now; it stays unknown when the process is gone or the address is no longer mapped.
 */
void faultkind__complete(struct faultkind *fk, struct mt_event *e);

#endif
