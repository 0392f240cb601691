/* SPDX-License-Identifier: BSD-2-Clause */
/* Reading another process's memory (process_vm_readv): no ptrace stop needed, faults reported. */
#ifndef MT_PROCMEM_H
#define MT_PROCMEM_H

#include <stddef.h>
#include <stdint.h>

/* Read exactly len bytes at addr in process pid. Returns 0 or -errno (-EFAULT: short read). */
int procmem__read(int pid, uint64_t addr, void *buf, size_t len);

/* Read up to len bytes at addr: the count, short at the first page that cannot be read; -errno. */
long procmem__read_some(int pid, uint64_t addr, void *buf, size_t len);

/*
 * Read n ranges [start, end) of process pid into buf, one after the other, in as few system
 * calls as IOV_MAX allows. Returns 0 or -errno (-EFAULT: a range could not be read whole).
 */
struct procmem_range {
	uint64_t start, end;
};
int procmem__read_ranges(int pid, const struct procmem_range *r, size_t n, void *buf);

/*
 * The value of name in pid's initial environment (/proc/PID/environ: what it was started with,
 * as getenv would find it first), malloc'd; NULL when absent or unreadable.
 */
char *procmem__env(int pid, const char *name);

/* pid's command line, arguments joined by spaces (the first 4 KiB), malloc'd; NULL when it has
 * none (a kernel thread, a zombie) or is gone. */
char *procmem__cmdline(int pid);
/* Arguments as the kernel keeps them (each NUL-terminated, n bytes), joined by spaces, malloc'd;
 * NULL when n is 0. */
char *procmem__join_args(const char *args, size_t n);
/* The path of the program pid runs (/proc/PID/exe), malloc'd; NULL when unreadable or gone. */
char *procmem__exe(int pid);

#endif
