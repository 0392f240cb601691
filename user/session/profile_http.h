/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * /debug/pprof/heap and /debug/pprof/allocs on the --metrics listener, as Go's net/http/pprof
 * serves them: a gzip pprof heap profile, ?pid=N for one process, ?seconds=N for the difference
 * over the next N seconds. One profile is made at a time: the snapshot and its encoding in the
 * poll loop (the model is the loop's), the compression on a worker thread, so tracing goes on.
 */
#ifndef MT_PROFILE_HTTP_H
#define MT_PROFILE_HTTP_H

#include <stdbool.h>

#include "model/snapshot.h"
#include "session/http_conn.h"

struct profiles;

/* The turn's snapshot, built on its first use (the listener's). */
typedef const struct mt_snapshot *(*profiles_snapshot_fn)(void *ctx);

struct profiles *profiles__new(void);
/* Waits for the worker; requests still waiting are forgotten (profiles__abandon answers them). */
void profiles__free(struct profiles *p);

/*
 * A request for /debug/pprof/heap (allocs false) or /debug/pprof/allocs with its query: answered
 * at once when it is wrong (400 bad seconds or pid, 404 no such process), else c waits.
 */
void profiles__request(struct profiles *p, struct conn *c, bool allocs, const char *query,
		       profiles_snapshot_fn snap, void *ctx);
/* Move on what waits: deltas that are due, the next profile made, a made one answered. */
void profiles__service(struct profiles *p, profiles_snapshot_fn snap, void *ctx);
/* c is being closed (its peer hung up): forget what it waited for. */
void profiles__forget(struct profiles *p, const struct conn *c);
/* Tracing ends: each waiting request gets a 503 and its one line. */
void profiles__abandon(struct profiles *p);

#endif
