/* SPDX-License-Identifier: BSD-2-Clause */
/* Turns on the page-fault programs for a traced process: per-thread minor/major fault events. */
#ifndef MT_FAULTS_H
#define MT_FAULTS_H

struct memtrace;
struct probe;

/* Between open and load: leave out programs whose tracepoint this kernel lacks. */
void faults__configure(struct memtrace *skel);

/*
 * Open the minor and major page-fault software events of every thread of pid (inherited by the
 * threads and children it creates later) and attach the fault programs. Returns 0 or -errno.
 */
int faults__attach(struct probe *p, int pid);

#endif
