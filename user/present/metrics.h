/* SPDX-License-Identifier: BSD-2-Clause */
/* Prometheus metrics: the text exposition of a snapshot (session/metrics_http.c serves it). */
#ifndef MT_METRICS_H
#define MT_METRICS_H

#include <stdint.h>
#include <stdio.h>

#include "model/snapshot.h"

#define MT_METRICS_TOP_DEFAULT 20

/*
 * The text exposition format (version 0.0.4) of s: per-process heap gauges and counters for the
 * top processes by outstanding heap bytes, the rest summed under pid="other". A process's series
 * carry its labels: pid, comm, and exe, cgroup, container_id, service_name when known.
 * rss_bytes[i] is procs[i]'s resident set, 0 when unknown (exited); rss_bytes may be NULL.
 */
void metrics__format(const struct mt_snapshot *s, const uint64_t *rss_bytes, int top, FILE *f);

#endif
