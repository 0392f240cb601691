/* SPDX-License-Identifier: BSD-2-Clause */
/* Keeps the BPF unwinder's tables loaded for the objects traced processes map (--unwind). */
#ifndef MT_UNWIND_H
#define MT_UNWIND_H

#include <stdint.h>

#include "memtrace.h"
#include "probe/probe.h"

struct unwinder;

/* "fp", "dwarf", "auto" -> enum mt_unwind_mode; -EINVAL for anything else. */
int unwind__parse_mode(const char *s);
const char *unwind__mode_name(int mode);

/* The tables of one session. With MT_UNWIND_FP every call below does nothing. */
struct unwinder *unwind__new(struct probe *p, int mode);
void unwind__free(struct unwinder *u);

/*
 * Load the tables of a program pid is about to execute: the executable, its dynamic loader and
 * the libraries the loader will map (asked as ldd does), so its first allocations unwind whole.
 */
void unwind__preload(struct unwinder *u, int pid, const char *exe);
/* Load the table of every object pid maps; objects it no longer maps stop counting it as a user. */
void unwind__refresh(struct unwinder *u, int pid);
/*
 * pid exec'd exe (a path memtrace can open, such as /proc/PID/exe): its tables are loaded as for
 * a command about to run, and pid stops using those of objects the new program does not load.
 * Tables of objects both programs map (the dynamic loader, libc) stay loaded.
 */
void unwind__renew(struct unwinder *u, int pid, const char *exe);
/* Load the objects the BPF unwinder met without a table (dlopen). Cheap; call on each poll. */
void unwind__service(struct unwinder *u);
/* pid is gone: drop the tables no traced process maps any more. */
void unwind__forget(struct unwinder *u, int pid);

/* What the tables cost, over the trace (the snapshot's mt_unwind_stats says the same). */
struct unwind_cost {
	const char *mode;		/* "fp", "dwarf" or "auto" */
	uint32_t objects, fp_objects, failed_objects;	/* loaded; frame pointers (auto); no .eh_frame */
	uint64_t rows, bytes, peak_bytes;	/* rows loaded; their BPF memory now and at most */
	uint64_t load_ns;		/* time spent reading .eh_frame and loading maps */
};

void unwind__stats(const struct unwinder *u, struct unwind_cost *out);

#endif
