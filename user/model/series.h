/* SPDX-License-Identifier: BSD-2-Clause */
/* Memory over time: RSS from the kernel and outstanding heap, per process, in a bounded series. */
#ifndef MT_SERIES_H
#define MT_SERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/aggregate.h"
#include "model/proc.h"
#include "model/snapshot.h"

/* Points kept per process; when full, neighbours merge and each point covers twice the time. */
#define MT_SERIES_MAX 1024
#define MT_SERIES_INTERVAL_NS 100000000ull	/* 100 ms to start with */

struct series;

/* The series keeps its per-process state in procs' entries (PROC_SERIES). */
struct series *series__new(struct procs *procs);
void series__free(struct series *s);

/* Sample every live process of the aggregate if the interval has passed since the last time. */
void series__tick(struct series *s, const struct agg *a, uint64_t now_ns);
/* Sample one process now (at its exit stop, at the end), whatever the interval. */
void series__sample(struct series *s, const struct agg *a, uint32_t pid, uint64_t now_ns);

/* Told of each sample read from /proc (a recording keeps them: replay adds them back). */
typedef void (*series_sample_fn)(void *ctx, uint32_t pid, const struct mt_sample *x, uint64_t hwm_bytes);
void series__on_sample(struct series *s, series_sample_fn fn, void *ctx);

/* Add one sample (what sampling does after reading /proc; replay and tests call it directly). */
void series__add(struct series *s, uint32_t pid, const struct mt_sample *x, uint64_t hwm_bytes);

/* The process's latest sample; false when it has none. */
bool series__last(const struct series *s, uint32_t pid, struct mt_sample *out);

/* The process's samples and sampled peaks for a snapshot; samples are copied (free them). */
void series__fill(const struct series *s, uint32_t pid, struct mt_proc *out);

#endif
