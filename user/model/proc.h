/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The process registry: one entry per traced process, found by pid in one hash lookup. The entry
 * holds what the process is (pid, comm, command line, the programs it exec'd from) and owns each
 * module's state of it, one part per module; forgetting a process is one call (procs__forget)
 * that gives every part back to its module.
 */
#ifndef MT_MODEL_PROC_H
#define MT_MODEL_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Programs a process ran before its current one (exec), oldest first; the last ones kept. */
#define MT_EXEC_CHAIN 8

/* The modules that keep state per process, each in its own part of the entry. */
enum proc_part {
	PROC_AGG,		/* model/aggregate.c: blocks, regions, sums */
	PROC_RESIDENT,		/* model/resident.c: page faults by mapping and file */
	PROC_SERIES,		/* model/series.c: memory over time */
	PROC_SYMBOLS,		/* symbolize/symbolize.c: mappings and their objects */
	PROC_PYTHON,		/* symbolize/pytrace.c: the interpreter found in it */
	PROC_EXIT_MAPS,		/* session/machine.c: mappings reported as it exits */
	PROC_OOM,		/* model/oom.c: what it held when the OOM killer chose it */
	PROC__PARTS,
};

/* What fleets group a process by, read from /proc while it lives; each NULL when unknown. */
struct proc_labels {
	char *exe;			/* the program's path (/proc/PID/exe) */
	char *cgroup;			/* its cgroup v2 path */
	char *container_id;		/* the container its cgroup path names, if any */
	char *service_name;		/* OTEL_SERVICE_NAME in its environment */
};

struct proc {
	uint32_t pid;
	char comm[16];
	char *cmdline;				/* NULL when unknown; owned */
	char exec_from[MT_EXEC_CHAIN][16];	/* the comms before each exec, oldest first */
	uint32_t nexec;				/* execs seen (only the last MT_EXEC_CHAIN kept) */
	bool exited;
	uint64_t sample_bytes;		/* sampled by libmemtrace-sample.so at this mean; 0: traced */
	struct proc_labels labels;	/* owned */
	char *memcg;			/* its memory cgroup's directory, for an OOM kill's limit; owned */
	void *part[PROC__PARTS];	/* each module's state, owned by that module */
};

struct procs;

/* How a module gives back its part of a process (p->part[its part] is not NULL). */
typedef void (*proc_drop_fn)(void *owner, struct proc *p);

struct procs *procs__new(void);
/* Every process forgotten, then the registry. */
void procs__free(struct procs *r);
/* The module owner keeps part; drop gives one process's part back. */
void procs__own(struct procs *r, enum proc_part part, proc_drop_fn drop, void *owner);

/* The process's entry, created on first use; or NULL when there is none (find). */
struct proc *procs__get(struct procs *r, uint32_t pid);
struct proc *procs__find(const struct procs *r, uint32_t pid);
/* The processes in order of first sight. */
size_t procs__n(const struct procs *r);
struct proc *procs__at(const struct procs *r, size_t i);

/* Give one part of the process back to its module (an exec ends the old program's state). */
void procs__drop_part(struct procs *r, struct proc *p, enum proc_part part);
/*
 * Take l's labels into p (l is left empty). A NULL field keeps what p knew (a read at its exit
 * that failed), unless all: a new program (exec) has all its labels anew.
 */
void procs__set_labels(struct proc *p, struct proc_labels *l, bool all);
/* Forget the process: every part given back, then the entry. */
void procs__forget(struct procs *r, uint32_t pid);

#endif
