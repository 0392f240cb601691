/* SPDX-License-Identifier: BSD-2-Clause */
/* Reading another process's memory (process_vm_readv): no ptrace stop needed, faults reported. */
#ifndef MT_PROCMEM_H
#define MT_PROCMEM_H

#include <stddef.h>
#include <stdint.h>

/* Read exactly len bytes at addr in process pid. Returns 0 or -errno (-EFAULT: short read). */
int procmem__read(int pid, uint64_t addr, void *buf, size_t len);

#endif
