/* SPDX-License-Identifier: BSD-2-Clause */
/* -a: every process on the machine, probes shared by inode, bounded state for ended processes. */
#ifndef MT_SYSTEM_H
#define MT_SYSTEM_H

#include <stdbool.h>

#include "memtrace.h"
#include "model/model.h"
#include "probe/probe.h"
#include "symbolize/symbolize.h"

struct system;

/*
 * Probe every allocator object mapped anywhere now; returns NULL after saying why. Ended
 * processes are forgotten from m's registry, past a bound; faults: page faults are traced.
 */
struct system *system__start(struct probe *probe, struct model *m, struct symbolizer *sym, bool faults);
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
