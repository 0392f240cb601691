/* SPDX-License-Identifier: BSD-2-Clause */
/* Turns on the page-fault programs: per-thread minor/major fault events, or per-CPU ones for -a. */
#ifndef MT_FAULTS_H
#define MT_FAULTS_H

struct probe;

/*
 * Open the minor and major page-fault software events of every thread of pid (inherited by the
 * threads and children it creates later) and attach the fault programs. Returns 0 or -errno.
 */
int faults__attach(struct probe *p, int pid);
/*
 * -a: the same events on every CPU, for every task; the fault programs keep those of traced
 * processes (--comm, --cgroup, never memtrace itself). Returns 0 or -errno.
 */
int faults__attach_all(struct probe *p);

#endif
