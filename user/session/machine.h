/* SPDX-License-Identifier: BSD-2-Clause */
/* -a: every process on the machine, probes shared by inode, bounded state for ended processes. */
#ifndef MT_SYSTEM_H
#define MT_SYSTEM_H

#include "model/aggregate.h"
#include "memtrace.h"
#include "probe/probe.h"
#include "model/series.h"
#include "symbolize/symbolize.h"

struct system;
struct resident;

/* Probe every allocator object mapped anywhere now; returns NULL after saying why. */
/* res (page faults; NULL when not traced) forgets ended processes with the rest. */
struct system *system__start(struct probe *probe, struct agg *agg, struct symbolizer *sym,
			     struct series *series, struct resident *res);
void system__free(struct system *sy);

/* Called now and then: probe objects that new processes (other containers) brought. */
void system__tick(struct system *sy);

/* Called on every event before it is applied: names new processes, retires ended ones. */
void system__event(struct system *sy, const struct mt_event *e);

/* The id and depth of a cgroup v2 (PATH under /sys/fs/cgroup) for --cgroup; 0 or -errno. */
int system__cgroup(const char *path, uint64_t *id, int *level);

/* Processes forgotten to keep memory bounded (their bytes stay in the totals). */
uint64_t system__forgotten(const struct system *sy);

#endif
