/* SPDX-License-Identifier: BSD-2-Clause */
/* Where CPython's cycle collector (gc_collect_main) starts in an interpreter object. */
#ifndef MT_PYGC_H
#define MT_PYGC_H

#include <stdbool.h>
#include <stdint.h>

/*
 * The file offset of gc_collect_main in the object at path (the executable or libpython): by its
 * symbol when by_symbol and the object has one, else from the calls of the exported
 * PyGC_Collect. 0, or -ENOENT when neither finds it, or -errno.
 */
int pygc__find(const char *path, bool by_symbol, uint64_t *offset);

#endif
