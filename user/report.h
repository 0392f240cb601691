/* SPDX-License-Identifier: BSD-2-Clause */
/* The final report: text for people, JSON for scripts. Pure functions of a snapshot. */
#ifndef MT_REPORT_H
#define MT_REPORT_H

#include <stdio.h>

#include "snapshot.h"

int report__text(const struct mt_snapshot *s, FILE *f, int top_n);
int report__json(const struct mt_snapshot *s, FILE *f);

/* "function (file:line)" or "module+0xoff" for a frame, into buf. */
const char *report__frame_label(const struct mt_frame *fr, char *buf, size_t len);

#endif
