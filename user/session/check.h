/* SPDX-License-Identifier: BSD-2-Clause */
/* memtrace check: this machine's capabilities and the BPF programs as the verifier saw them. */
#ifndef MT_CHECK_H
#define MT_CHECK_H

#include "session/env.h"

/* Exit status: 0 memtrace can trace here; 3 it cannot; 4 a -p PID cannot be traced. */
int check__run(const struct env *env);

#endif
