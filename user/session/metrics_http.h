/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The --metrics listener: Prometheus' /metrics, and the pprof endpoints continuous profilers
 * scrape (/debug/pprof/heap, /debug/pprof/allocs, /debug/pprof/). Single-threaded HTTP/1.0,
 * serviced from the session's poll loop; it never blocks it.
 */
#ifndef MT_METRICS_HTTP_H
#define MT_METRICS_HTTP_H

#include "model/snapshot.h"

struct metrics_server;
typedef struct mt_snapshot *(*metrics_snapshot_fn)(void *ctx);	/* caller frees the result */

/* Listen on "ADDR:PORT" ("127.0.0.1:9464", "[::1]:9464"): 0 or -errno, said with mt_err. */
int metrics__listen(struct metrics_server **out, const char *addr_port, int top);
/* Accept, read and answer whatever is ready; builds one snapshot when a request needs it. */
void metrics__service(struct metrics_server *m, metrics_snapshot_fn build, void *ctx);
/* Requests still waiting for a profile get a 503 (sent if the socket takes it), then all close. */
void metrics__close(struct metrics_server *m);

#endif
