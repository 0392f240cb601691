/* SPDX-License-Identifier: BSD-2-Clause */
/* Loads the BPF programs and attaches them to the allocator functions of traced processes. */
#ifndef MT_PROBE_H
#define MT_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memtrace.h"

struct probe;
struct memtrace;

/*
 * One row of the attach table: an allocator function, the program run at its entry, and whether
 * its return is probed too (by alloc_return).
 */
struct probe_spec {
	const char *func;
	const char *entry;
	bool ret;
	bool required;
};

/* The attach table, as probe__attach walks it (the bench's probe floor attaches from it too). */
const struct probe_spec *probe__specs(size_t *n);

/*
 * Open and load the BPF object; unwind_mode (enum mt_unwind_mode) picks the stack walker. Errors
 * are reported here, with a hint; returns -errno.
 */
int probe__load(struct probe **out, int unwind_mode);
void probe__destroy(struct probe *p);

/*
 * The object whose allocator a process uses, as a path memtrace can open (through
 * /proc/PID/root, so a process in a container is resolved in its own file system): the C library
 * it maps, or the executable itself when that defines malloc (static linking). NULL if neither.
 */
char *probe__allocator_of_pid(int pid);
/* The same for a command about to be executed (exe: the resolved path of the program). */
char *probe__allocator_of_exe(const char *exe);

/* Attach every allocator probe in obj for pid (the pid's whole process). Returns 0 or -errno. */
int probe__attach(struct probe *p, int pid, const char *obj);
/*
 * Sampling mode: attach to the hooks of libmemtrace-sample.so (lib) for pid, instead of its
 * allocator: only sampled blocks and their frees are seen. Returns 0 or -errno.
 */
int probe__attach_sampler(struct probe *p, int pid, const char *lib);

int probe__events_fd(const struct probe *p);
/* The loaded skeleton, for modules that attach programs of their own (faults.c). */
struct memtrace *probe__skel(const struct probe *p);
/* Keep link attached until the probe is destroyed, and destroy it then. */
struct bpf_link;
void probe__keep_link(struct probe *p, struct bpf_link *link);
/* The fd of a BPF map by name (for modules that fill maps: user/unwind.c); -1 if none. */
int probe__map_fd(const struct probe *p, const char *name);
/* Loss counters by enum mt_loss, summed over CPUs. */
void probe__losses(const struct probe *p, uint64_t out[MT_LOSS__COUNT]);
/* Number of uprobes attached (for progress and tests). */
int probe__nlinks(const struct probe *p);
/* With -v, each program's run count and time (counted only while kernel.bpf_stats_enabled=1). */
void probe__log_stats(const struct probe *p);

#endif
