/* SPDX-License-Identifier: BSD-2-Clause */
/* The live view: a top-like ncurses screen of outstanding memory by stack, refreshed each interval. */
#ifndef MT_LIVE_H
#define MT_LIVE_H

#include <stdbool.h>

#include "model/snapshot.h"

struct live;

/* Take over the terminal on stdout; NULL, having said why, when it cannot be done. */
struct live *live__open(double interval_s);
/* Whether the view wants a new snapshot now: an interval has passed and it is not paused. */
bool live__due(const struct live *lv);
/* Show a new snapshot; the view owns it from now on. */
void live__show(struct live *lv, struct mt_snapshot *snap);
/* Handle pending keys without ever blocking; true once the user has asked to quit. */
bool live__keys(struct live *lv);
/* Give the terminal back as it was and free the view; NULL is fine. */
void live__close(struct live *lv);

#endif
