/* SPDX-License-Identifier: BSD-2-Clause */
/* --pprof-dir: a pprof heap profile every few seconds, for continuous-profiling backends. */
#ifndef MT_PPROF_DIR_H
#define MT_PPROF_DIR_H

#include <stdbool.h>
#include <stdint.h>

#include "model/snapshot.h"

struct pprof_dir;

/* Checks that dir is a writable directory: 0 or -errno, said with mt_err. */
int pprof_dir__open(struct pprof_dir **out, const char *dir, double every_s);
bool pprof_dir__due(const struct pprof_dir *pd);
/*
 * DIR/memtrace-<pid, or "all" when pid is 0>-<UTC time>.pb.gz, written under a hidden temporary
 * name and renamed, so a collector never reads half a profile. Schedules the next one.
 */
int pprof_dir__write(struct pprof_dir *pd, const struct mt_snapshot *s, uint32_t pid);
/* DIR/oom-<pid>-<UTC time>.pb.gz, written the same way: its path (free it), or NULL (said). */
char *pprof_dir__write_oom(struct pprof_dir *pd, const struct mt_snapshot *s, uint32_t pid);
void pprof_dir__free(struct pprof_dir *pd);

#endif
