/* SPDX-License-Identifier: BSD-2-Clause */
/* An OOM kill of a traced process: its event completed where the machine is, then said and saved. */
#ifndef MT_OOM_KILL_H
#define MT_OOM_KILL_H

#include <stdbool.h>

#include "memtrace.h"
#include "model/model.h"
#include "model/snapshot.h"
#include "session/pprof_dir.h"

/*
 * The OOM killer chose raw->pid. Into out: the event, with the limit of the victim's memory
 * cgroup and, where the kernel gave no count, its last RSS sample. False when memtrace does not
 * trace the process (with -a the BPF side sends every victim).
 */
bool oomkill__complete(const struct model *m, const struct mt_event *raw, struct mt_event *out);

/*
 * Say what pid held when it was chosen (one line on stderr when say), and write it as
 * DIR/oom-<pid>-<time>.pb.gz when pd is not NULL; s is a snapshot built after the event.
 */
void oomkill__report(const struct mt_snapshot *s, uint32_t pid, struct pprof_dir *pd, bool say);

#endif
