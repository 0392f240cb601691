/* SPDX-License-Identifier: BSD-2-Clause */
/* Python stacks in memtrace's traces: detection, frame identities, merging, resolution. */
#ifndef MT_PYTRACE_H
#define MT_PYTRACE_H

#include <stdbool.h>
#include <stdint.h>

#include "memtrace.h"
#include "python.h"
#include "model/proc.h"
#include "model/snapshot.h"

/* --python-frames */
enum mt_py_frames {
	MT_PY_MIXED = 0,	/* Python frames in place of the eval loop's native frames */
	MT_PY_ONLY,		/* Python frames alone (native ones when a stack has none) */
	MT_PY_OFF,		/* native frames only; Python processes are still detected */
};

int mt_py_frames_parse(const char *s, enum mt_py_frames *out);

struct pytrace;

/* map_fd: the BPF py_procs map. */
/*
 * map_fd: the BPF map of Python processes; python_on: the BPF flag set once a process is in it
 * (until then the probes skip that map's lookup).
 */
/* The tracer keeps each process's interpreter in procs' entries (PROC_PYTHON). */
struct pytrace *pytrace__new(enum mt_py_frames mode, int map_fd, volatile bool *python_on,
			     struct procs *procs);
void pytrace__free(struct pytrace *py);

/* py may be NULL (no Python tracing: recordings) in pytrace__attach and pytrace__event. */

/* Look at a process now (for -p: before its first event). Later processes are looked at on
 * their first event from the allocator's probes (a page fault can come before the loader has
 * mapped libc and libpython). */
void pytrace__attach(struct pytrace *py, int pid);
/*
 * An exec: what was known of pid's interpreter goes, here and in the BPF walk's map; the new
 * program is looked at by its first allocation, once the loader has mapped its libraries (at
 * the exec stop, neither libpython nor libc is there yet).
 */
void pytrace__forget(struct pytrace *py, int pid);

/*
 * The event as the aggregator should see it: Python frames given stable code identities and
 * merged with the native ones as the mode says. Returns e itself or a copy valid until the next
 * call.
 */
const struct mt_event *pytrace__event(struct pytrace *py, const struct mt_event *e);

/* Leading native frames of an event from the probes (its Python frames follow them). */
uint32_t pytrace__nnative(const struct mt_event *e);

/* A Python frame of a stack returned by pytrace__event; strings live as long as py. */
void pytrace__resolve(const struct pytrace *py, uint64_t addr, struct mt_frame *out);

/* Has pid's program been looked at for CPython yet (at its first allocation)? py may be NULL. */
bool pytrace__looked(const struct pytrace *py, uint32_t pid);

/* NULL unless pid runs CPython. */
const struct mt_py_info *pytrace__info(const struct pytrace *py, uint32_t pid);

#endif
