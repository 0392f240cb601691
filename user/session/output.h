/* SPDX-License-Identifier: BSD-2-Clause */
/* Writes every output the command line asked for from one final snapshot. */
#ifndef MT_OUTPUT_H
#define MT_OUTPUT_H

#include "session/env.h"
#include "model/snapshot.h"

/*
 * Before a trace or a replay: can every output file asked for be written? 0, or -1 after saying
 * which cannot, so a long trace does not end with nowhere to put its report.
 */
int output__check_all(const struct env *env);

/* Returns 0, or -1 after saying which output could not be written. */
int output__write_all(const struct env *env, const struct mt_snapshot *s);

#endif
