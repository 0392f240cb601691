/* SPDX-License-Identifier: BSD-2-Clause */
/* Everything the command line decides, in one place; each field's default is set in main.c. */
#ifndef MT_ENV_H
#define MT_ENV_H

#include <stdbool.h>

#include "folded.h"

#define MT_MAX_PIDS 64

struct env {
	int pids[MT_MAX_PIDS];		/* -p */
	int npids;
	char **cmd;			/* after -- */
	bool follow;			/* -f: children across fork and exec too */
	bool all;			/* -a: every process on the machine */
	const char *comm;		/* --comm: with -a, only processes of this name */
	const char *cgroup;		/* --cgroup: with -a, only this cgroup (and below) */
	double min_bytes;		/* --min-bytes: hide processes holding less */
	double duration;		/* -d, seconds; 0 = until stopped */
	int top;			/* -n */
	const char *output;		/* -o: text report file; NULL = stderr */
	const char *json;		/* --json */
	const char *folded;		/* --folded: folded stacks file */
	enum mt_folded_value folded_value; /* --folded-value */
	const char *pprof;		/* --pprof: gzip profile.proto file */
	const char *flamegraph;		/* --flamegraph: HTML file */
};

#endif
