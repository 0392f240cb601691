/* SPDX-License-Identifier: BSD-2-Clause */
/* Writes every output the command line asked for from one final snapshot. */
#ifndef MT_OUTPUT_H
#define MT_OUTPUT_H

#include "session/env.h"
#include "model/snapshot.h"

/* Returns 0, or -1 after saying which output could not be written. */
int output__write_all(const struct env *env, const struct mt_snapshot *s);

#endif
