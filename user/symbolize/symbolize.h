/* SPDX-License-Identifier: BSD-2-Clause */
/* Addresses to function, source file and line, per process, with libdw. */
#ifndef MT_SYMBOLIZE_H
#define MT_SYMBOLIZE_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/procmaps.h"
#include "model/proc.h"
#include "model/snapshot.h"

struct symbolizer;

/*
 * Where debug info an object lacks is fetched from: --debuginfod URL, read by every symbolizer
 * made after it is set; NULL: $DEBUGINFOD_URLS, the servers elfutils' tools ask.
 */
extern const char *sym_debuginfod_urls;

/* The symbolizer keeps each process's mappings in procs' entries (PROC_SYMBOLS). */
struct symbolizer *sym__new(struct procs *procs);
void sym__free(struct symbolizer *s);

/*
 * Read the process's mappings again and open every object it maps (through /proc/PID/root, so
 * containers work), so its addresses resolve even after it exits. Returns 0 or -errno.
 */
int sym__refresh(struct symbolizer *s, int pid);

/* Forget a process's mappings (an exec): they are freed; the objects stay, shared by others. */
void sym__forget(struct symbolizer *s, int pid);

/*
 * Whole machine: a process's file mappings as it exited (MT_OP_EXIT_MAP), taken (maps is
 * emptied). Added to what /proc/PID/maps said, where it said nothing: the process was gone
 * before its first stack was read, or loaded an object after its last. Objects new here are
 * opened by path from memtrace's own view, and only when that file is the mapped inode.
 */
void sym__load_exit_maps(struct symbolizer *s, int pid, struct procmaps *maps);

/* Make sure every address of a new stack lies in a known mapping, re-reading them if not. */
void sym__cover(struct symbolizer *s, int pid, const uint64_t *addrs, uint32_t n);

/* Told of each mapping list read from /proc; build_ids[i] (NULL when unknown) goes with maps[i]. */
typedef void (*sym_maps_fn)(void *ctx, int pid, const struct pmap *maps, size_t n,
			    const char *const *build_ids);
void sym__on_maps(struct symbolizer *s, sym_maps_fn fn, void *ctx);

/*
 * Replay, where /proc is not the recorded process's: take its mappings as recorded (copied).
 * Objects are opened from local paths only with open_local, and only used when their build id
 * is the recorded one. Addresses with no sym__preload() resolve through these.
 */
void sym__load_maps(struct symbolizer *s, int pid, const struct pmap *maps, size_t n,
		    const char *const *build_ids, bool open_local);
/* Replay: a copy of a recorded mapping that lives as long as the symbolizer. */
const struct mt_mapping *sym__keep_mapping(struct symbolizer *s, const struct mt_mapping *m);
/*
 * Replay: the n frames at f->addr (innermost first) as the recording process resolved them,
 * functions named as their objects spell them. Mappings must live as long as the symbolizer
 * (sym__keep_mapping()); the strings are copied.
 */
void sym__preload(struct symbolizer *s, int pid, const struct mt_frame *f, uint32_t n);

/*
 * Resolve a return address into its frames, innermost first: the calls inlined there (inlined
 * set), then the function it lies in. Writes at most max (>= 1) frames to out and returns how
 * many the address has, at least 1: call again with room for them all when that is more than
 * max. Strings in out live as long as the symbolizer.
 */
uint32_t sym__resolve(struct symbolizer *s, int pid, uint64_t addr, struct mt_frame *out, uint32_t max);

/* True while the frames at addr may still improve: its object's debug info is being fetched. */
bool sym__pending(struct symbolizer *s, int pid, uint64_t addr);

/* Whether debug info is fetched (debuginfod); then waiting until all that was asked for came. */
bool sym__fetches(const struct symbolizer *s);
void sym__wait(struct symbolizer *s);

#endif
