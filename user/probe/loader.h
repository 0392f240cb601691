/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Loading the BPF object on this kernel: its features decide the settings, and when a program
 * still fails the verifier, the load steps down to what this kernel can do, saying what is lost.
 */
#ifndef MT_LOADER_H
#define MT_LOADER_H

#include <stdbool.h>
#include <stdint.h>

#include "probe/kfeat.h"

struct memtrace;

/* How the BPF side is set up before it is loaded. */
struct probe_opts {
	int unwind_mode;		/* enum mt_unwind_mode: the stack walker asked for */
	bool faults;			/* page-fault programs wanted */
	bool all;			/* every process (no pid filter), exits reported */
	const char *comm;		/* only processes with this comm */
	uint64_t cgroup_id;		/* only processes in this cgroup or below it (0: any) */
	int cgroup_level;		/* the cgroup's depth, for the ancestor check */
	bool stats;			/* keep each program's verifier statistics (--check) */
	bool quiet;			/* say nothing of lost capabilities (--check lists them itself) */
};

/* What was loaded, once the steps down are taken. */
struct loaded {
	int unwind_mode;		/* the walker in use */
	bool faults;			/* the page-fault programs loaded */
	bool python;			/* Python frames walked */
	bool proc_events;		/* exit and exec events (needed by -a) */
	bool oom;			/* the OOM killer's choices (oom:mark_victim) */
	const char *steps[6];		/* each step down, in words; NULL-terminated */
};

/* One program's verifier statistics (opts.stats). */
struct prog_stats {
	char name[32];
	bool loaded;
	long insns;			/* instructions processed; -1: not reported */
	int stack[16];			/* each subprogram's stack depth, as the verifier lists them */
	int nstack;
};

/*
 * Open, configure and load the object. Errors are reported here: the program and the
 * verifier's own reason; returns -errno.
 */
int loader__load(const struct probe_opts *o, const struct mt_features *f, struct memtrace **skel,
		 struct loaded *out);

/* After a load with opts.stats: the statistics of each program of the object. */
int loader__stats(struct memtrace *skel, struct prog_stats *out, int max);

#endif
