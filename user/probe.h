/* SPDX-License-Identifier: BSD-2-Clause */
/* Loads the BPF programs and attaches them to the allocator functions of traced processes. */
#ifndef MT_PROBE_H
#define MT_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "allocator.h"

#include "memtrace.h"

struct probe;

/* Open and load the BPF object. Errors are reported here, with a hint; returns -errno. */
int probe__load(struct probe **out);

/* What the BPF side should trace when not given pids (memtrace -a). */
struct probe_opts {
	bool all;			/* every process (no pid filter), exits reported */
	const char *comm;		/* only processes with this comm */
	uint64_t cgroup_id;		/* only processes in this cgroup or below it (0: any) */
	int cgroup_level;		/* the cgroup's depth, for the ancestor check */
};

int probe__load_opts(struct probe **out, const struct probe_opts *opts);
void probe__destroy(struct probe *p);

/* Record pid as traced (the BPF side ignores everyone else). */
int probe__target(struct probe *p, int pid);

/*
 * Attach the plan's probes for pid (-1: every process that maps the objects), skipping objects
 * already attached for it. Errors are reported here. Returns 0 or -errno.
 */
int probe__attach_plan(struct probe *p, int pid, const struct alloc_plan *plan);

int probe__events_fd(const struct probe *p);
/* Loss counters by enum mt_loss, summed over CPUs. */
void probe__losses(const struct probe *p, uint64_t out[MT_LOSS__COUNT]);
/* Number of uprobes attached (for progress and tests). */
int probe__nlinks(const struct probe *p);

#endif
