/* SPDX-License-Identifier: BSD-2-Clause */
/* -f: follow a traced process's children across fork and exec, probes in before they run. */
#ifndef MT_TREE_H
#define MT_TREE_H

#include <stddef.h>

#include "model/model.h"
#include "probe/probe.h"
#include "session/target.h"

struct tree;

struct tree *tree__new(struct probe *probe, struct model *m);
void tree__free(struct tree *tr);

/* Make t followed: its forks and execs come to this tree (call before target__seize). */
void tree__follow(struct tree *tr, struct target *t);

/*
 * Take in the children forked since the last call: attach their probes while ptrace holds them
 * at their first instruction, and append them to *ts (growing it). Returns how many were added.
 */
int tree__adopt(struct tree *tr, struct target **ts, int *n, size_t *cap);

#endif
