/* SPDX-License-Identifier: BSD-2-Clause */
/* The addresses of the sampled blocks still live, shared by every thread of the process. */
#ifndef MT_SAMPLE_BLOCKSET_H
#define MT_SAMPLE_BLOCKSET_H

#include <stdbool.h>
#include <stdint.h>

/* Remember a sampled block. False when there is no memory to (the block then goes unsampled). */
bool blockset__add(uintptr_t addr);
/* Forget addr; true if it was a sampled block. Costs one load for most unsampled blocks. */
bool blockset__remove(uintptr_t addr);
/* Make fork safe: hold every lock across fork() (pthread_atfork). */
void blockset__init(void);

#endif
