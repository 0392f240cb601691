/* SPDX-License-Identifier: BSD-2-Clause */
/* memtrace report: a recording read back into the same aggregate and snapshot as a live trace. */
#ifndef MT_REPLAY_H
#define MT_REPLAY_H

#include <stdbool.h>
#include <stdio.h>

#include "session/env.h"
#include "model/snapshot.h"

struct replay;

/* replay__load's how: */
enum {
	/* processes whose symbols were never written (memtrace was killed) are resolved from the
	 * local binaries, when their build ids match */
	REPLAY_OPEN_LOCAL = 1,
	REPLAY_QUIET = 2,	/* no progress line, even on a terminal (another load draws one) */
};

/*
 * Read a whole recording from f (name for messages) and build its snapshot (how: REPLAY_*).
 * 0, or -EBADMSG having said what is wrong and where. Loads of different files may run at once,
 * one thread each.
 */
int replay__load(FILE *f, const char *name, unsigned how, struct replay **out);
/* The same from a path; a file that cannot be opened is said too (-errno). */
int replay__open(const char *path, struct replay **out);
const struct mt_snapshot *replay__snapshot(const struct replay *r);
void replay__free(struct replay *r);

/* memtrace report FILE: every output asked for, as a live trace writes them. An exit status. */
int replay__run(const struct env *env);

#endif
