/* SPDX-License-Identifier: BSD-2-Clause */
/* How every presenter names things: frames, kinds, losses, mappings, where a stack's own frames begin. */
#ifndef MT_LABEL_H
#define MT_LABEL_H

#include <stddef.h>

#include "model/snapshot.h"

enum label_style {
	LABEL_NAME,	/* the function, else "module+0xoffset", else "0xaddress" (exports) */
	LABEL_WHERE,	/* "function (file.c:12)" or "function (module)", with " [inlined]" after
			 * an inlined call's, else "module+0xoffset", else "[unknown] 0xaddress"
			 * (reports, the live view) */
};

/* The frame as style says; returns buf, or the name itself. */
const char *label__frame(const struct mt_frame *f, enum label_style style, char *buf, size_t size);
/* "heap" or "mmap". */
const char *label__kind(enum mt_kind kind);
/* An enum mt_loss reason: machine-readable (JSON keys, metric labels), or in words (text). */
const char *label__loss_key(unsigned int reason);
const char *label__loss_text(unsigned int reason);
/* "heap", "anon", "stack", "file" or "unknown" for an enum mt_map. */
const char *label__map(uint32_t map);
/* Index of the first frame presenters show: the call site, so allocator plumbing stays out. */
uint32_t label__first_frame(const struct mt_stack *st);

#endif
