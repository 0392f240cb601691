/* SPDX-License-Identifier: BSD-2-Clause */
/* The labels fleets group processes by (pid, comm, exe, cgroup, container, service), read from /proc. */
#ifndef MT_LABELS_H
#define MT_LABELS_H

#include <stdbool.h>

#include "model/proc.h"

/*
 * Read p's exe, cgroup v2 path, container id and OTEL_SERVICE_NAME, and its memory cgroup, while
 * it lives. all: it runs a new program (exec), whose labels replace every old one; otherwise a
 * label that cannot be read (the process is going) keeps what was known.
 */
void labels__read(struct proc *p, bool all);

#endif
