/* SPDX-License-Identifier: BSD-2-Clause */
/* A tracing session: start or find the targets, attach, drain events until done, report. */
#ifndef MT_TRACE_H
#define MT_TRACE_H

#include "session/env.h"

/* Runs the whole session; returns memtrace's exit status (the command's, with -- CMD). */
int trace__run(const struct env *env);

#endif
