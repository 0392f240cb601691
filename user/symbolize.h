/* SPDX-License-Identifier: BSD-2-Clause */
/* Addresses to function, source file and line, per process, with libdw. */
#ifndef MT_SYMBOLIZE_H
#define MT_SYMBOLIZE_H

#include <stdint.h>

#include "snapshot.h"

struct symbolizer;

struct symbolizer *sym__new(void);
void sym__free(struct symbolizer *s);

/*
 * Read the process's mappings again and open every object it maps (through /proc/PID/root, so
 * containers work), so its addresses resolve even after it exits. Returns 0 or -errno.
 */
int sym__refresh(struct symbolizer *s, int pid);

/* Forget a process: its mappings are freed (the objects stay, shared by others). */
void sym__forget(struct symbolizer *s, int pid);

/* Make sure every address of a new stack lies in a known mapping, re-reading them if not. */
void sym__cover(struct symbolizer *s, int pid, const uint64_t *addrs, uint32_t n);

/* Resolve a return address; strings in *out live as long as the symbolizer. */
void sym__resolve(struct symbolizer *s, int pid, uint64_t addr, struct mt_frame *out);

#endif
