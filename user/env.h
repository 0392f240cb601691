/* SPDX-License-Identifier: BSD-2-Clause */
/* Everything the command line decides, in one place; each field's default is set in main.c. */
#ifndef MT_ENV_H
#define MT_ENV_H

#include <stdbool.h>

#define MT_MAX_PIDS 64

struct env {
	int pids[MT_MAX_PIDS];		/* -p */
	int npids;
	char **cmd;			/* after -- */
	double duration;		/* -d, seconds; 0 = until stopped */
	int top;			/* -n */
	const char *output;		/* -o: text report file; NULL = stderr */
	const char *json;		/* --json */
	int unwind;			/* --unwind: enum mt_unwind_mode; auto */
};

#endif
