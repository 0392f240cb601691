/* SPDX-License-Identifier: BSD-2-Clause */
/* Loads the BPF programs and attaches them to the allocator functions of traced processes. */
#ifndef MT_PROBE_H
#define MT_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "probe/allocator.h"
#include "probe/loader.h"

#include "memtrace.h"

struct probe;

/*
 * Probe the kernel's features, then open and load the BPF object as far as this kernel allows
 * (user/probe/loader.c). Errors are reported here, with a hint; returns -errno.
 */
int probe__load(struct probe **out, const struct probe_opts *opts);
/* What was loaded (the walker, faults, Python frames), and what the kernel offers. */
const struct loaded *probe__loaded(const struct probe *p);
const struct mt_features *probe__features(const struct probe *p);
void probe__destroy(struct probe *p);

/* Record pid as traced (the BPF side ignores everyone else). */
int probe__target(struct probe *p, int pid);

/*
 * Attach the plan's probes for pid (-1: every process that maps the objects), skipping objects
 * already attached for it. Errors are reported here. Returns 0 or -errno.
 */
int probe__attach_plan(struct probe *p, int pid, const struct alloc_plan *plan);

/*
 * The address each of the plan's functions is probed at (at[i] for plan->sites[i]): its entry,
 * or an equivalent cheaper site under --probe-sites (user/probe/probesite.c). The bench's floor uses it.
 */
void probe__sites(const struct alloc_plan *plan, uint64_t *at);
/*
 * Sampling mode: attach to the hooks of libmemtrace-sample.so (lib) for pid, instead of its
 * allocator: only sampled blocks and their frees are seen. Returns 0 or -errno.
 */
int probe__attach_sampler(struct probe *p, int pid, const char *lib);

/*
 * --leak-check: probe _exit where it binds for pid (the first of the plan's objects defining it:
 * libc, or a static program) and arm the stop there (bpf/proc.bpf.h). Returns 0, -ENOENT when
 * no object defines _exit, or -errno; says why.
 */
int probe__attach_exit_stop(struct probe *p, int pid, const struct alloc_plan *plan);
/* The stop's state for pid (enum mt_exit_stop; 0 when none) and clearing it (taken, or not wanted). */
int probe__exit_stop_state(const struct probe *p, int pid);
void probe__exit_stop_clear(struct probe *p, int pid);

int probe__events_fd(const struct probe *p);
/*
 * An event read from the ring as a whole event: a short release or allocation (bpf/memtrace.h)
 * with the header's other fields 0, and a stack in full where the programs sent its id alone
 * (user/probe/stackid.c). Valid until the next call; *size is its length. NULL: too short for
 * what it says it is.
 */
const struct mt_event *probe__event(struct probe *p, const void *data, size_t *size);
/* The process pid ended: what the probes keep of it in user space goes (its stacks' ids). */
void probe__forget(struct probe *p, uint32_t pid);
/* The loaded skeleton, for modules that attach programs of their own (faults.c). */
struct memtrace *probe__skel(const struct probe *p);
/* Keep link attached until the probe is destroyed, and destroy it then. */
struct bpf_link;
void probe__keep_link(struct probe *p, struct bpf_link *link);
/* The fd of a BPF map by name (for modules that fill maps: user/probe/unwind.c); -1 if none. */
int probe__map_fd(const struct probe *p, const char *name);
/* The BPF flag that turns the walk of Python stacks on (user/symbolize/pytrace.c sets it). */
volatile bool *probe__python_on(const struct probe *p);
/*
 * The trace starts: every probe of the first targets is in. Attaching to running processes
 * takes a while, site by site, return probe first (probe.c: attach_site), and a call entered
 * before its entry probe went in returns without one: such a call began before the trace, as
 * the blocks a process held before it did, and is not counted as a loss.
 */
void probe__start(struct probe *p);
/* Loss counters by enum mt_loss, summed over CPUs, since probe__start. */
void probe__losses(const struct probe *p, uint64_t out[MT_LOSS__COUNT]);
/* Number of uprobes attached (for progress and tests). */
int probe__nlinks(const struct probe *p);
/* With -v, each program's run count and time (counted only while kernel.bpf_stats_enabled=1). */
void probe__log_stats(const struct probe *p);

#endif
