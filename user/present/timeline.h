/* SPDX-License-Identifier: BSD-2-Clause */
/* Memory over time, like `mprof plot`: RSS and outstanding heap per process, the peaks marked. */
#ifndef MT_TIMELINE_H
#define MT_TIMELINE_H

#include <stdbool.h>
#include <stdio.h>

#include "model/snapshot.h"

/*
 * svg: the chart alone as an SVG file; else a self-contained HTML page (user/timeline.html,
 * compiled in) with the chart and, below it, the stacks that held the most at each heap peak.
 * Fetches nothing. Returns 0 or -errno.
 */
int timeline__write(const struct mt_snapshot *s, FILE *f, bool svg);

/* Whether a file name asks for SVG (ends in .svg). */
bool timeline__wants_svg(const char *path);

#endif
