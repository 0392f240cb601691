// SPDX-License-Identifier: BSD-2-Clause
/*
 * The labels fleets group processes by, read once a process is seen and again when it runs a new
 * program: each pprof sample and metric series carries them, so a profile from a hundred hosts
 * can be cut by service or container.
 */
#include <stdlib.h>

#include "lib/cgroup.h"
#include "lib/procmem.h"
#include "session/labels.h"

void labels__read(struct proc *p, bool all)
{
	struct proc_labels l = { 0 };
	char *memcg = cgroup__memory_dir((int)p->pid);

	l.exe = procmem__exe((int)p->pid);
	l.cgroup = cgroup__v2_path((int)p->pid);
	l.container_id = cgroup__container_id(l.cgroup);
	/* OpenTelemetry's own name for a service: what the process was started with. */
	l.service_name = procmem__env((int)p->pid, "OTEL_SERVICE_NAME");
	procs__set_labels(p, &l, all);
	if (memcg || all) {
		free(p->memcg);
		p->memcg = memcg;
	}
}
