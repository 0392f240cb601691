/* SPDX-License-Identifier: BSD-2-Clause */
/* memtrace diff BEFORE AFTER: the command. */
#ifndef MT_SESSION_DIFF_H
#define MT_SESSION_DIFF_H

#include "model/diff.h"
#include "session/env.h"

/* Add a whole input file, a recording or a JSON report, as run side: 0, or -errno having said
 * what is wrong with the file and where. */
int diff__load(struct diff *d, int side, const char *path);
/* Both sides, before then after, each as diff__load; two recordings are replayed at once. */
int diff__load_both(struct diff *d, const char *before, const char *after);

/* memtrace diff BEFORE AFTER: an exit status (6 when it grew more than --fail-if-grows). */
int diff__run(const struct env *env);

#endif
