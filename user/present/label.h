/* SPDX-License-Identifier: BSD-2-Clause */
/* How the export presenters name things: frames, kinds, and where a stack's own frames begin. */
#ifndef MT_LABEL_H
#define MT_LABEL_H

#include <stddef.h>

#include "model/snapshot.h"

/* The frame's function, else "module+0xoffset", else "0xaddress"; returns buf or the name itself. */
const char *label__frame(const struct mt_frame *f, char *buf, size_t size);
/* "heap" or "mmap". */
const char *label__kind(enum mt_kind kind);
/* Index of the first frame presenters show: the call site, so allocator plumbing stays out. */
uint32_t label__first_frame(const struct mt_stack *st);

#endif
