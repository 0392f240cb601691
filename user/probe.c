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

#include "elfsym.h"
#include "faults.h"
#include "memtrace.skel.h"
#include "probe.h"
#include "procmaps.h"
#include "util.h"

struct probe {
	struct memtrace *skel;
	struct bpf_link **links;
	size_t nlinks, cap_links;
};

/*
 * The allocator entry points. "entry" runs at the call; "ret" (when set) at its return, where
 * the result and the stack are taken. Optional functions may be missing from an allocator.
 */
static const struct probe_spec specs[] = {
	{ "malloc", "malloc_enter", true, true },
	{ "calloc", "calloc_enter", true, true },
	{ "realloc", "realloc_enter", true, true },
	{ "free", "free_enter", false, true },
	{ "reallocarray", "reallocarray_enter", true, false },
	{ "posix_memalign", "posix_memalign_enter", true, false },
	{ "memalign", "memalign_enter", true, false },
	{ "aligned_alloc", "aligned_alloc_enter", true, false },
	{ "valloc", "valloc_enter", true, false },
	{ "pvalloc", "pvalloc_enter", true, false },
	{ "mmap", "mmap_enter", true, false },
	{ "munmap", "munmap_enter", false, false },
	{ "mremap", "mremap_enter", true, false },
};
#define NSPECS (sizeof(specs) / sizeof(specs[0]))

const struct probe_spec *probe__specs(size_t *n)
{
	*n = NSPECS;
	return specs;
}

static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (!mt_verbose && level != LIBBPF_WARN)
		return 0;
	if (!mt_verbose)	/* warnings are explained by our own errors; show them with -v */
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static const char *load_hint(int err)
{
	if (err == -EPERM || err == -EACCES)
		return "run memtrace as root (it needs CAP_BPF and CAP_PERFMON)";
	if (err == -ENOENT || err == -ESRCH || err == -EINVAL)
		return "the kernel needs BTF (/sys/kernel/btf/vmlinux) and BPF ring buffers (5.8 or newer)";
	return "run with -v to see the BPF loader's log";
}

int probe__load(struct probe **out, int unwind_mode)
{
	struct probe *p = xcalloc(1, sizeof(*p));
	int err;

	libbpf_set_print(print_libbpf);
	p->skel = memtrace__open();
	if (!p->skel) {
		err = -errno;
		mt_err(load_hint(err), "failed to open BPF object: %s", strerror(-err));
		goto fail;
	}
	faults__configure(p->skel);
	p->skel->rodata->unwind_mode = unwind_mode;
	err = memtrace__load(p->skel);
	if (err) {
		mt_err(unwind_mode == MT_UNWIND_FP ? load_hint(err) :
		       "--unwind dwarf|auto needs bpf_loop and bpf_find_vma (5.17+); try --unwind fp",
		       "failed to load BPF programs: %s", strerror(-err));
		goto fail;
	}
	err = memtrace__attach(p->skel);	/* only the tracepoint: uprobes attach per process */
	if (err) {
		mt_err(load_hint(err), "failed to attach thread-exit tracepoint: %s", strerror(-err));
		goto fail;
	}
	*out = p;
	return 0;
fail:
	probe__destroy(p);
	return err;
}

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
	p->nlinks = 0;
}

void probe__destroy(struct probe *p)
{
	if (!p)
		return;
	detach_all(p);
	free(p->links);
	memtrace__destroy(p->skel);
	free(p);
}

static bool is_libc(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	return !strncmp(base, "libc.so", 7) || (!strncmp(base, "libc-", 5) && strstr(base, ".so"));
}

static bool defines_malloc(const char *path)
{
	static const char *const name[] = { "malloc" };
	uint64_t off;

	return elfsym__offsets(path, name, 1, &off) == 1;
}

char *probe__allocator_of_pid(int pid)
{
	struct procmaps m;
	char *found = NULL;

	if (procmaps__read(pid, &m))
		return NULL;
	for (size_t i = 0; i < m.n && !found; i++)
		if (is_libc(m.maps[i].path))
			found = xasprintf("/proc/%d/root%s", pid, m.maps[i].path);
	procmaps__release(&m);
	if (!found) {
		char *exe = xasprintf("/proc/%d/exe", pid);

		if (defines_malloc(exe))
			return exe;
		free(exe);
	}
	return found;
}

char *probe__allocator_of_exe(const char *exe)
{
	/* A dynamic program loads the system's C library: the one memtrace itself runs on. */
	if (elfsym__is_static(exe))
		return defines_malloc(exe) ? xstrdup(exe) : NULL;
	return probe__allocator_of_pid(getpid());
}

static int attach_one(struct probe *p, struct bpf_program *prog, int pid, const char *obj,
		      uint64_t off, bool ret)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = ret);
	struct bpf_link *link = bpf_program__attach_uprobe_opts(prog, pid, obj, off, &opts);

	if (!link)
		return -errno;
	xgrow(&p->links, &p->cap_links, p->nlinks + 1, sizeof(*p->links));
	p->links[p->nlinks++] = link;
	return 0;
}

/* glibc aliases some entry points (aligned_alloc is memalign): probe each address once. */
static bool seen_before(const uint64_t *offs, size_t i)
{
	for (size_t k = 0; k < i; k++)
		if (offs[k] == offs[i])
			return true;
	return false;
}

int probe__attach(struct probe *p, int pid, const char *obj)
{
	const char *names[NSPECS];
	uint64_t offs[NSPECS];
	struct bpf_program *ret_prog = p->skel->progs.alloc_return;
	__u32 tgid = pid;
	__u8 one = 1;
	int err;

	for (size_t i = 0; i < NSPECS; i++)
		names[i] = specs[i].func;
	err = elfsym__offsets(obj, names, NSPECS, offs);
	if (err < 0) {
		mt_err(NULL, "failed to read symbols of %s: %s", obj, strerror(-err));
		return err;
	}
	if (bpf_map__update_elem(p->skel->maps.targets, &tgid, sizeof(tgid), &one, 1, BPF_ANY))
		return -errno;
	for (size_t i = 0; i < NSPECS; i++) {
		struct bpf_program *prog;

		if (!offs[i] || seen_before(offs, i)) {
			if (!offs[i] && specs[i].required) {
				mt_err("memtrace traces the C library's malloc family",
				       "%s has no %s() to probe", obj, specs[i].func);
				return -ENOENT;
			}
			continue;
		}
		prog = bpf_object__find_program_by_name(p->skel->obj, specs[i].entry);
		err = attach_one(p, prog, pid, obj, offs[i], false);
		if (!err && specs[i].ret)
			err = attach_one(p, ret_prog, pid, obj, offs[i], true);
		if (err) {
			mt_err(err == -EPERM ? "run memtrace as root" : "run with -v for details",
			       "failed to attach uprobe to %s() in %s for pid %d: %s", specs[i].func,
			       obj, pid, strerror(-err));
			return err;
		}
		mt_debug("attached %s+0x%llx (%s) for pid %d", obj, (unsigned long long)offs[i],
			 specs[i].func, pid);
	}
	return 0;
}

/* The hooks of libmemtrace-sample.so (sample/hooks.h): entry probes only, both required. */
static const struct probe_spec sampler_specs[] = {
	{ "memtrace_sample_alloc", "sample_alloc", false, true },
	{ "memtrace_sample_free", "sample_free", false, true },
};
#define NSAMPLER (sizeof(sampler_specs) / sizeof(sampler_specs[0]))

int probe__attach_sampler(struct probe *p, int pid, const char *lib)
{
	const char *names[NSAMPLER];
	uint64_t offs[NSAMPLER];
	__u32 tgid = pid;
	__u8 one = 1;
	int err;

	for (size_t i = 0; i < NSAMPLER; i++)
		names[i] = sampler_specs[i].func;
	err = elfsym__offsets(lib, names, NSAMPLER, offs);
	if (err < 0 || !offs[0] || !offs[1]) {
		mt_err("rebuild it with make; memtrace and the library must come from one build",
		       "%s has no sampling hooks to probe", lib);
		return err < 0 ? err : -ENOENT;
	}
	if (bpf_map__update_elem(p->skel->maps.targets, &tgid, sizeof(tgid), &one, 1, BPF_ANY))
		return -errno;
	for (size_t i = 0; i < NSAMPLER; i++) {
		struct bpf_program *prog =
			bpf_object__find_program_by_name(p->skel->obj, sampler_specs[i].entry);

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
int probe__nlinks(const struct probe *p) { return (int)p->nlinks; }

void probe__losses(const struct probe *p, uint64_t out[MT_LOSS__COUNT])
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

	bpf_object__for_each_program(prog, p->skel->obj) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);

		if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) || !info.run_cnt)
			continue;
		mt_debug("bpf %s run_cnt=%llu run_time_ns=%llu", bpf_program__name(prog),
			 (unsigned long long)info.run_cnt, (unsigned long long)info.run_time_ns);
	}
}
