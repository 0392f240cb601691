/* SPDX-License-Identifier: BSD-2-Clause */
/* Prometheus metrics: the text exposition of a snapshot, and the HTTP endpoint that serves it. */
#ifndef MT_METRICS_H
#define MT_METRICS_H

#include <stdint.h>
#include <stdio.h>

#include "model/snapshot.h"

#define MT_METRICS_TOP_DEFAULT 20

/*
 * The text exposition format (version 0.0.4) of s: per-process heap gauges and counters for the
 * top processes by outstanding heap bytes, the rest summed under pid="other". rss_bytes[i] is
 * procs[i]'s resident set, 0 when unknown (exited); rss_bytes may be NULL.
 */
void metrics__format(const struct mt_snapshot *s, const uint64_t *rss_bytes, int top, FILE *f);

/* A single-threaded HTTP/1.0 endpoint, serviced from the session's poll loop; never blocks. */
struct metrics_server;
typedef struct mt_snapshot *(*metrics_snapshot_fn)(void *ctx);	/* caller frees the result */

/* Listen on "ADDR:PORT" ("127.0.0.1:9464", "[::1]:9464"): 0 or -errno, said with mt_err. */
int metrics__listen(struct metrics_server **out, const char *addr_port, int top);
/* Accept, read and answer whatever is ready; builds one snapshot when a scrape needs it. */
void metrics__service(struct metrics_server *m, metrics_snapshot_fn build, void *ctx);
void metrics__close(struct metrics_server *m);

#endif
