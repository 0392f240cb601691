/* SPDX-License-Identifier: BSD-2-Clause */
/* Everything the command line decides, in one place; each field's default is set in main.c. */
#ifndef MT_ENV_H
#define MT_ENV_H

#include <stdbool.h>

#include "folded.h"
#include "pyreport.h"
#include "pytrace.h"

#define MT_MAX_PIDS 64

struct env {
	int pids[MT_MAX_PIDS];		/* -p */
	int npids;
	char **cmd;			/* after -- */
	double duration;		/* -d, seconds; 0 = until stopped */
	int top;			/* -n */
	const char *output;		/* -o: text report file; NULL = stderr */
	const char *json;		/* --json */
	const char *folded;		/* --folded: folded stacks file */
	enum mt_folded_value folded_value; /* --folded-value */
	const char *pprof;		/* --pprof: gzip profile.proto file */
	const char *flamegraph;		/* --flamegraph: HTML file */
	bool live;			/* the live view: stdout is a terminal and no --no-live */
	double interval;		/* -i, seconds between live view refreshes; 1 */
	int unwind;			/* --unwind: enum mt_unwind_mode; auto */
	enum mt_py_frames python_frames; /* --python-frames; mixed */
	enum mt_py_group group_by;	/* --group-by: the Python view of the text report; line */
};

#endif
