// SPDX-License-Identifier: BSD-2-Clause
/* Loads the BPF programs and attaches them, from one table, to the allocators of traced processes. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "probe/elfsym.h"
#include "lib/htab.h"
#include "probe/loader.h"
#include "memtrace.skel.h"
#include "probe/probe.h"
#include "probe/pygc.h"
#include "probe/probesite.h"
#include "probe/release.h"
#include "probe/stackid.h"
#include "lib/util.h"

struct probe {
	struct memtrace *skel;
	struct mt_features features;
	struct loaded loaded;		/* what the kernel took: the walker, faults, Python */
	struct htab *attached;		/* hash of (pid, dev, inode) already probed */
	uint64_t no_entry_at_start;	/* returns of calls entered before the probes were in */
	struct stackids *ids;		/* the stacks sent in full, for events that send an id */
	struct mt_event release;	/* the last short release, made whole (probe__event) */
	struct bpf_link **links;
	size_t nlinks, cap_links;
};

int probe__load(struct probe **out, const struct probe_opts *opts)
{
	struct probe *p = xcalloc(1, sizeof(*p));
	int err;

	p->attached = htab__new(1);
	kfeat__probe(&p->features);
	err = loader__load(opts, &p->features, &p->skel, &p->loaded);
	if (err)
		goto fail;
	p->ids = stackids__new();
	release__wait();	/* an earlier memtrace's probes are freed before any of these go in */
	err = memtrace__attach(p->skel);	/* only the tracepoints: uprobes attach per process */
	if (err) {
		mt_err("run with -v to see the BPF loader's log", "failed to attach the tracepoints: %s",
		       strerror(-err));
		goto fail;
	}
	*out = p;
	return 0;
fail:
	probe__destroy(p);
	return err;
}

const struct loaded *probe__loaded(const struct probe *p) { return &p->loaded; }
const struct mt_features *probe__features(const struct probe *p) { return &p->features; }

struct detach_slice {
	struct bpf_link **links;
	size_t n;
};

static void *detach_slice(void *arg)
{
	struct detach_slice *d = arg;

	for (size_t i = 0; i < d->n; i++)
		bpf_link__destroy(d->links[i]);
	return NULL;
}

/*
 * Each uprobe waits for an RCU grace period as it goes (tens of ms on a virtualized machine):
 * one after the other, 66 probes of three processes took 10 s. Threads let the waits overlap.
 * Only when no memtrace-detach child holds the links (release_later): else each close is cheap.
 */
static void detach_all(struct probe *p)
{
	enum { THREADS = 16 };
	struct detach_slice slices[THREADS];
	pthread_t tids[THREADS];
	bool started[THREADS] = { false };
	size_t per = (p->nlinks + THREADS - 1) / THREADS;

	for (int t = 0; t < THREADS; t++) {
		size_t from = t * per < p->nlinks ? t * per : p->nlinks;

		slices[t].links = p->links + from;
		slices[t].n = p->nlinks - from < per ? p->nlinks - from : per;
		if (slices[t].n)
			started[t] = !pthread_create(&tids[t], NULL, detach_slice, &slices[t]);
		if (slices[t].n && !started[t])
			detach_slice(&slices[t]);	/* no thread: do it here */
	}
	for (int t = 0; t < THREADS; t++)
		if (started[t])
			pthread_join(tids[t], NULL);
}

/*
 * Exit stops disarmed, so that no probe stops a process once memtrace is gone; then handed over.
 * False when no child took them: memtrace frees them itself.
 */
static bool release_later(struct probe *p)
{
	int *fds = xcalloc(p->nlinks, sizeof(*fds)), stops = bpf_map__fd(p->skel->maps.exit_stops);
	size_t n = 0;
	__u32 tgid;
	int err;

	while (!bpf_map_get_next_key(stops, NULL, &tgid) && !bpf_map_delete_elem(stops, &tgid))
		;
	for (size_t i = 0; i < p->nlinks; i++)
		if (bpf_link__fd(p->links[i]) >= 0)
			fds[n++] = bpf_link__fd(p->links[i]);
	err = release__hand_over(fds, n);
	if (err)
		mt_debug("probes are freed before memtrace ends: no child to hand them to");
	free(fds);
	return !err;
}

void probe__destroy(struct probe *p)
{
	if (!p)
		return;
	if (p->nlinks && release_later(p))
		detach_slice(&(struct detach_slice){ p->links, p->nlinks });	/* cheap: held elsewhere */
	else
		detach_all(p);
	p->nlinks = 0;
	free(p->links);
	htab__free(p->attached);
	stackids__free(p->ids);
	memtrace__destroy(p->skel);
	free(p);
}

static int attach_one(struct probe *p, struct bpf_program *prog, int pid, const char *obj,
		      uint64_t off, bool ret)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = ret);
	struct bpf_link *link = bpf_program__attach_uprobe_opts(prog, pid, obj, off, &opts);

	if (!link)
		return -errno;
	probe__keep_link(p, link);
	return 0;
}

/*
 * The return probe goes in first. A call that enters between the two attaches then has its return
 * probed but no entry (counted as no_entry); the other order would leave that call's slot behind,
 * and the slot would fold the thread's later calls at the same depth into it, silently.
 */
static int attach_site(struct probe *p, int pid, const struct alloc_plan *plan,
		       const struct alloc_site *site, uint64_t at)
{
	const struct alloc_obj *o = &plan->objs[site->obj];
	struct bpf_program *prog = bpf_object__find_program_by_name(p->skel->obj, site->spec->prog);
	int err = prog ? 0 : -ENOENT;

	if (!err && site->spec->how != ALLOC_FREE)
		err = attach_one(p, p->skel->progs.alloc_return, pid, o->open_path, at, true);
	if (!err)
		err = attach_one(p, prog, pid, o->open_path, at, false);
	if (err) {
		mt_err(err == -EPERM ? "run memtrace as root" : "run with -v for details",
		       "failed to attach uprobe to %s() in %s for pid %d: %s", site->spec->func,
		       o->path, pid, strerror(-err));
		return err;
	}
	mt_debug("attached %s+0x%llx (%s) for pid %d", o->path, (unsigned long long)at,
		 site->spec->func, pid);
	return 0;
}

/*
 * Where object o's functions are probed: each entry, or an equivalent cheaper site
 * (user/probe/probesite.c). The return probe goes on the same address: it only swaps the return
 * address at [rsp], which a site keeps in place, and a breakpoint left at the entry would still
 * pay the single-step the site avoids.
 */
static void choose_sites(const struct alloc_plan *plan, size_t o, uint64_t *at)
{
	const char **names = xcalloc(plan->nsites + 1, sizeof(*names));
	uint64_t *entries = xcalloc(plan->nsites + 1, sizeof(*entries));
	uint64_t *moved = xcalloc(plan->nsites + 1, sizeof(*moved));
	size_t *idx = xcalloc(plan->nsites + 1, sizeof(*idx)), n = 0;

	for (size_t i = 0; i < plan->nsites; i++) {
		if (plan->sites[i].obj != o)
			continue;
		names[n] = plan->sites[i].spec->func;
		entries[n] = plan->sites[i].offset;
		idx[n++] = i;
	}
	probesite__sites(plan->objs[o].open_path, names, entries, n, moved);
	for (size_t k = 0; k < n; k++)
		at[idx[k]] = moved[k];
	free(names);
	free(entries);
	free(moved);
	free(idx);
}

void probe__sites(const struct alloc_plan *plan, uint64_t *at)
{
	for (size_t o = 0; o < plan->nobjs; o++)
		choose_sites(plan, o, at);
}

int probe__target(struct probe *p, int pid)
{
	__u32 tgid = pid;
	__u8 one = 1;

	return bpf_map__update_elem(p->skel->maps.targets, &tgid, sizeof(tgid), &one, 1, BPF_ANY) ?
		       -errno : 0;
}

/* Each (pid, object) is attached once: a fork child or an exec may name objects seen before. */
static bool attached_before(struct probe *p, int pid, const struct alloc_obj *o)
{
	uint64_t key = mt_hash(&o->inode, sizeof(o->inode), o->dev ^ ((uint64_t)(uint32_t)pid << 32));
	bool existed;

	htab__insert(p->attached, key ? key : 1, &existed);
	return existed;
}

/*
 * CPython's cycle collector, probed at its entry and return so that the blocks it frees are told
 * apart. With the allocators: a plan is made before the program runs (at its exec), so even the
 * collections of the interpreter's start are seen. Optional: a failure is said, not fatal.
 */
static void attach_collector(struct probe *p, int pid, const struct alloc_obj *o)
{
	uint64_t off;
	int err;

	if (pygc__find(o->open_path, true, &off))
		return;		/* no CPython in this object */
	err = attach_one(p, p->skel->progs.gc_return, pid, o->open_path, off, true);
	if (!err)
		err = attach_one(p, p->skel->progs.gc_enter, pid, o->open_path, off, false);
	if (err)
		mt_warn("pid %d: cannot probe Python's cycle collector in %s: %s", pid, o->path,
			strerror(-err));
	else
		mt_debug("attached %s+0x%llx (gc_collect_main) for pid %d", o->path,
			 (unsigned long long)off, pid);
}

int probe__attach_plan(struct probe *p, int pid, const struct alloc_plan *plan)
{
	int err = pid > 0 ? probe__target(p, pid) : 0;

	uint64_t *at = xcalloc(plan->nsites + 1, sizeof(*at));

	probe__sites(plan, at);
	for (size_t o = 0; o < plan->nobjs && !err; o++) {
		if (plan->objs[o].inode && attached_before(p, pid, &plan->objs[o]))
			continue;
		for (size_t i = 0; i < plan->nsites && !err; i++)
			if (plan->sites[i].obj == o)
				err = attach_site(p, pid, plan, &plan->sites[i], at[i]);
		if (!err)
			attach_collector(p, pid, &plan->objs[o]);
	}
	free(at);
	return err;
}

static int exit_stop_set(struct probe *p, int pid, __u32 state)
{
	__u32 tgid = pid;

	return bpf_map__update_elem(p->skel->maps.exit_stops, &tgid, sizeof(tgid), &state,
				    sizeof(state), BPF_ANY) ? -errno : 0;
}

/* Attached once per (pid, object) like the allocators; an exec keeps it, and arms it again. */
int probe__attach_exit_stop(struct probe *p, int pid, const struct alloc_plan *plan)
{
	static const char *const name[] = { "_exit" };

	for (size_t o = 0; o < plan->nobjs; o++) {
		const struct alloc_obj *obj = &plan->objs[o];
		uint64_t off = 0, key = mt_hash("_exit", 5, obj->inode ^ obj->dev ^ (uint64_t)pid << 32);
		bool existed;
		int err;

		if (elfsym__offsets(obj->open_path, name, 1, &off) <= 0 || !off)
			continue;
		htab__insert(p->attached, key ? key : 1, &existed);
		err = existed ? 0 : attach_one(p, p->skel->progs.exit_enter, pid, obj->open_path, off, false);
		if (!err)
			err = exit_stop_set(p, pid, MT_EXIT_STOP_ARMED);
		if (err)
			mt_err("run with -v for details", "failed to probe _exit() in %s for pid %d: %s",
			       obj->path, pid, strerror(-err));
		else
			mt_debug("attached %s+0x%llx (_exit, leak check stop) for pid %d", obj->path,
				 (unsigned long long)off, pid);
		return err;
	}
	return -ENOENT;
}

int probe__exit_stop_state(const struct probe *p, int pid)
{
	__u32 tgid = pid, state = 0;

	if (bpf_map__lookup_elem(p->skel->maps.exit_stops, &tgid, sizeof(tgid), &state, sizeof(state), 0))
		return 0;
	return (int)state;
}

void probe__exit_stop_clear(struct probe *p, int pid)
{
	__u32 tgid = pid;

	bpf_map__delete_elem(p->skel->maps.exit_stops, &tgid, sizeof(tgid), 0);
}

/* The hooks of libmemtrace-sample.so (sample/hooks.h): entry probes only, both required. */
static const struct { const char *func, *prog; } sampler_specs[] = {
	{ "memtrace_sample_alloc", "sample_alloc" },
	{ "memtrace_sample_free", "sample_free" },
};
#define NSAMPLER (sizeof(sampler_specs) / sizeof(sampler_specs[0]))

int probe__attach_sampler(struct probe *p, int pid, const char *lib)
{
	const char *names[NSAMPLER];
	uint64_t offs[NSAMPLER];
	int err;

	for (size_t i = 0; i < NSAMPLER; i++)
		names[i] = sampler_specs[i].func;
	err = elfsym__offsets(lib, names, NSAMPLER, offs);
	if (err < 0 || !offs[0] || !offs[1]) {
		mt_err("rebuild it with make; memtrace and the library must come from one build",
		       "%s has no sampling hooks to probe", lib);
		return err < 0 ? err : -ENOENT;
	}
	if ((err = probe__target(p, pid)))
		return err;
	for (size_t i = 0; i < NSAMPLER; i++) {
		struct bpf_program *prog =
			bpf_object__find_program_by_name(p->skel->obj, sampler_specs[i].prog);

		err = attach_one(p, prog, pid, lib, offs[i], false);
		if (err) {
			mt_err(err == -EPERM ? "run memtrace as root" : "run with -v for details",
			       "failed to attach uprobe to %s() in %s for pid %d: %s",
			       sampler_specs[i].func, lib, pid, strerror(-err));
			return err;
		}
		mt_debug("attached %s+0x%llx (%s, sampling hook) for pid %d", lib,
			 (unsigned long long)offs[i], sampler_specs[i].func, pid);
	}
	return 0;
}

struct memtrace *probe__skel(const struct probe *p) { return p->skel; }

void probe__keep_link(struct probe *p, struct bpf_link *link)
{
	xgrow(&p->links, &p->cap_links, p->nlinks + 1, sizeof(*p->links));
	p->links[p->nlinks++] = link;
}

int probe__events_fd(const struct probe *p) { return bpf_map__fd(p->skel->maps.events); }
int probe__map_fd(const struct probe *p, const char *name)
{
	return bpf_object__find_map_fd_by_name(p->skel->obj, name);
}
volatile bool *probe__python_on(const struct probe *p) { return &p->skel->bss->python_on; }
int probe__nlinks(const struct probe *p) { return (int)p->nlinks; }

static void count_losses(const struct probe *p, uint64_t out[MT_LOSS__COUNT]);

void probe__start(struct probe *p)
{
	uint64_t loss[MT_LOSS__COUNT];

	count_losses(p, loss);
	p->no_entry_at_start = loss[MT_LOSS_NO_ENTRY];
}

void probe__losses(const struct probe *p, uint64_t out[MT_LOSS__COUNT])
{
	struct stackid_stats ids;

	count_losses(p, out);
	out[MT_LOSS_NO_ENTRY] -= out[MT_LOSS_NO_ENTRY] >= p->no_entry_at_start ? p->no_entry_at_start : 0;
	stackids__stats(p->ids, &ids);
	out[MT_LOSS_STACK_ID] = ids.unknown;
}

/* A short release (bpf/memtrace.h: struct mt_release) as a whole event; NULL if it is none. */
static const struct mt_event *release_event(struct probe *p, const void *data, size_t *size)
{
	const struct mt_release *r = data;
	struct mt_event *e = &p->release;

	if (*size < MT_FREE_SIZE || (r->op != MT_OP_FREE && r->op != MT_OP_MUNMAP) ||
	    (r->op == MT_OP_MUNMAP && *size < MT_UNMAP_SIZE))
		return NULL;
	memset(e, 0, MT_EVENT_HDR_SIZE);
	e->op = r->op;
	e->pid = r->pid;
	e->tid = r->tid;
	e->addr = r->addr;
	e->size = r->op == MT_OP_MUNMAP ? r->size : 0;
	*size = MT_EVENT_HDR_SIZE;
	return e;
}

const struct mt_event *probe__event(struct probe *p, const void *data, size_t *size)
{
	if (*size == MT_ALLOC_BY_ID_SIZE)
		return stackids__expand_short(p->ids, data, size);
	if (*size < MT_EVENT_HDR_SIZE)
		return release_event(p, data, size);
	return stackids__expand(p->ids, data, size);
}

void probe__forget(struct probe *p, uint32_t pid) { stackids__forget(p->ids, pid); }

static void count_losses(const struct probe *p, uint64_t out[MT_LOSS__COUNT])
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 *vals = xcalloc(ncpu > 0 ? ncpu : 1, sizeof(*vals));

	for (__u32 k = 0; k < MT_LOSS__COUNT; k++) {
		out[k] = 0;
		if (ncpu > 0 && !bpf_map__lookup_elem(p->skel->maps.losses, &k, sizeof(k), vals,
						      ncpu * sizeof(*vals), 0))
			for (int c = 0; c < ncpu; c++)
				out[k] += vals[c];
	}
	free(vals);
}

void probe__log_stats(const struct probe *p)
{
	struct bpf_program *prog;
	struct stackid_stats ids;

	stackids__stats(p->ids, &ids);
	mt_debug("stack ids: full=%llu by_id=%llu unknown=%llu clashes=%llu processes=%zu kept_kib=%zu",
		 (unsigned long long)ids.full, (unsigned long long)ids.by_id,
		 (unsigned long long)ids.unknown, (unsigned long long)ids.clashes, ids.processes,
		 ids.bytes >> 10);
	mt_debug("work records: %llu runs took a second record (a run preempted on their CPU held one)",
		 (unsigned long long)p->skel->bss->work_nested);
	if (p->skel->rodata->vma_check) {
		const __u64 *c = p->skel->bss->vma_checks;

		mt_debug("vma tree checks: same=%llu differ=%llu busy=%llu gave_up=%llu",
			 (unsigned long long)c[MT_VMA_CHECK_SAME], (unsigned long long)c[MT_VMA_CHECK_DIFFER],
			 (unsigned long long)c[MT_VMA_CHECK_BUSY], (unsigned long long)c[MT_VMA_CHECK_GAVE_UP]);
		if (c[MT_VMA_CHECK_DIFFER])	/* a test's failure, whether or not it runs with -v */
			mt_warn("MEMTRACE_CHECK_VMA: %llu of the VMA tree's answers differed from bpf_find_vma's",
				(unsigned long long)c[MT_VMA_CHECK_DIFFER]);
	}
	bpf_object__for_each_program(prog, p->skel->obj) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);

		if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) || !info.run_cnt)
			continue;
		mt_debug("bpf %s run_cnt=%llu run_time_ns=%llu", bpf_program__name(prog),
			 (unsigned long long)info.run_cnt, (unsigned long long)info.run_time_ns);
	}
}
