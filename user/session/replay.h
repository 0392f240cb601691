/* SPDX-License-Identifier: BSD-2-Clause */
/* memtrace report: a recording read back into the same aggregate and snapshot as a live trace. */
#ifndef MT_REPLAY_H
#define MT_REPLAY_H

#include <stdbool.h>
#include <stdio.h>

#include "session/env.h"
#include "model/snapshot.h"

struct replay;

/*
 * Read a whole recording from f (name for messages) and build its snapshot. open_local lets
 * processes whose symbols were never written (memtrace was killed) be resolved from the local
 * binaries, when their build ids match. 0, or -EBADMSG having said what is wrong and where.
 */
int replay__load(FILE *f, const char *name, bool open_local, struct replay **out);
/* The same from a path; a file that cannot be opened is said too (-errno). */
int replay__open(const char *path, struct replay **out);
const struct mt_snapshot *replay__snapshot(const struct replay *r);
void replay__free(struct replay *r);

/* memtrace report FILE: every output asked for, as a live trace writes them. An exit status. */
int replay__run(const struct env *env);

#endif
