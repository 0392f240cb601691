/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * --leak-check of one process: its threads stopped, their registers, the roots and the heap
 * blocks read, the threads let go; then memcheck's marking (model/leakcheck.c), its verdicts
 * into the model by stack.
 */
#ifndef MT_LEAKSCAN_H
#define MT_LEAKSCAN_H

#include <stdbool.h>

#include "model/aggregate.h"

struct leakscan_opts {
	bool at_exit;		/* held at its exit (its leader in our ptrace stop); else running (-p) */
	bool all_blocks_known;	/* traced from its start (-- CMD): the heap holds no unknown block */
	int timeout_ms;		/* for its threads to stop */
};

/*
 * Check pid. What it found (or why it could not) goes into its agg_proc's leak. Returns 0, or
 * -errno having said why (mt_err) and with the process let go as it was.
 */
int leakscan__run(struct agg *a, int pid, const struct leakscan_opts *o);

#endif
