// SPDX-License-Identifier: BSD-2-Clause
/*
 * Which allocator a process really uses. Every family's entry points are one table; each
 * function is bound, as the dynamic linker binds it, to the first object in lookup order that
 * defines it. So an LD_PRELOADed jemalloc gets malloc while libc keeps reallocarray (which calls
 * malloc through the PLT: the nesting logic in BPF folds that inner call), and a static
 * executable, searched first, gets everything it defines.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "probe/allocator.h"
#include "probe/elfsym.h"
#include "probe/ldso.h"
#include "lib/procmaps.h"
#include "lib/procmem.h"
#include "lib/util.h"

#define CALL(f, prog, fam) { f, prog, ALLOC_CALL, fam }
#define FREE(f, fam) { f, "free_enter", ALLOC_FREE, fam }
#define WRAP(f, fam) { f, "free_call_enter", ALLOC_FREE_WRAP, fam }

/*
 * Order matters: aliases (tcmalloc's tc_malloc is malloc) are probed once, as the first name at
 * their address; so base functions come before the names that may alias them.
 */
static const struct alloc_spec specs[] = {
	CALL("malloc", "malloc_enter", "glibc"),
	CALL("calloc", "calloc_enter", "glibc"),
	CALL("realloc", "realloc_enter", "glibc"),
	FREE("free", "glibc"),
	CALL("reallocarray", "reallocarray_enter", "glibc"),
	CALL("posix_memalign", "posix_memalign_enter", "glibc"),
	CALL("memalign", "memalign_enter", "glibc"),
	CALL("aligned_alloc", "aligned_alloc_enter", "glibc"),
	CALL("valloc", "valloc_enter", "glibc"),
	CALL("pvalloc", "pvalloc_enter", "glibc"),
	CALL("mmap", "mmap_enter", "glibc"),
	{ "munmap", "munmap_enter", ALLOC_FREE, "glibc" },
	CALL("mremap", "mremap_enter", "glibc"),
	/* jemalloc: its own API, and every name again with the je_ prefix of static builds. */
	CALL("je_malloc", "malloc_enter", "jemalloc"),
	CALL("je_calloc", "calloc_enter", "jemalloc"),
	CALL("je_realloc", "realloc_enter", "jemalloc"),
	FREE("je_free", "jemalloc"),
	CALL("je_posix_memalign", "posix_memalign_enter", "jemalloc"),
	CALL("je_memalign", "memalign_enter", "jemalloc"),
	CALL("je_aligned_alloc", "aligned_alloc_enter", "jemalloc"),
	CALL("je_valloc", "valloc_enter", "jemalloc"),
	CALL("mallocx", "malloc_enter", "jemalloc"),	/* (size, flags) */
	CALL("rallocx", "realloc_enter", "jemalloc"),	/* (ptr, size, flags) */
	WRAP("dallocx", "jemalloc"),
	WRAP("sdallocx", "jemalloc"),
	CALL("je_mallocx", "malloc_enter", "jemalloc"),
	CALL("je_rallocx", "realloc_enter", "jemalloc"),
	WRAP("je_dallocx", "jemalloc"),
	WRAP("je_sdallocx", "jemalloc"),
	/* tcmalloc (gperftools) */
	CALL("tc_malloc", "malloc_enter", "tcmalloc"),
	CALL("tc_calloc", "calloc_enter", "tcmalloc"),
	CALL("tc_realloc", "realloc_enter", "tcmalloc"),
	FREE("tc_free", "tcmalloc"),
	WRAP("tc_free_sized", "tcmalloc"),
	WRAP("tc_cfree", "tcmalloc"),
	CALL("tc_memalign", "memalign_enter", "tcmalloc"),
	CALL("tc_posix_memalign", "posix_memalign_enter", "tcmalloc"),
	CALL("tc_valloc", "valloc_enter", "tcmalloc"),
	CALL("tc_pvalloc", "pvalloc_enter", "tcmalloc"),
	CALL("tc_new", "malloc_enter", "tcmalloc"),
	CALL("tc_newarray", "malloc_enter", "tcmalloc"),
	CALL("tc_new_nothrow", "malloc_enter", "tcmalloc"),
	CALL("tc_newarray_nothrow", "malloc_enter", "tcmalloc"),
	WRAP("tc_delete", "tcmalloc"),
	WRAP("tc_deletearray", "tcmalloc"),
	/* mimalloc */
	CALL("mi_malloc", "malloc_enter", "mimalloc"),
	CALL("mi_zalloc", "malloc_enter", "mimalloc"),
	CALL("mi_calloc", "calloc_enter", "mimalloc"),
	CALL("mi_mallocn", "calloc_enter", "mimalloc"),		/* (count, size) */
	CALL("mi_realloc", "realloc_enter", "mimalloc"),
	CALL("mi_reallocn", "reallocarray_enter", "mimalloc"),	/* (p, count, size) */
	CALL("mi_reallocarray", "reallocarray_enter", "mimalloc"),
	FREE("mi_free", "mimalloc"),
	WRAP("mi_free_size", "mimalloc"),
	WRAP("mi_free_aligned", "mimalloc"),
	WRAP("mi_free_size_aligned", "mimalloc"),
	CALL("mi_malloc_aligned", "malloc_enter", "mimalloc"),	/* (size, align) */
	CALL("mi_zalloc_aligned", "malloc_enter", "mimalloc"),
	CALL("mi_calloc_aligned", "calloc_enter", "mimalloc"),	/* (count, size, align) */
	CALL("mi_realloc_aligned", "realloc_enter", "mimalloc"),	/* (p, size, align) */
	CALL("mi_posix_memalign", "posix_memalign_enter", "mimalloc"),
	CALL("mi_memalign", "memalign_enter", "mimalloc"),
	CALL("mi_aligned_alloc", "aligned_alloc_enter", "mimalloc"),
	CALL("mi_valloc", "valloc_enter", "mimalloc"),
	CALL("mi_pvalloc", "pvalloc_enter", "mimalloc"),
	CALL("mi_new", "malloc_enter", "mimalloc"),
	/*
	 * C++. operator new is probed wherever it binds: libstdc++'s calls malloc (folded into it),
	 * and its return gives the program's own frame as the caller. operator delete only where an
	 * allocator defines it: libstdc++'s just jumps to free, which is probed already.
	 */
	CALL("_Znwm", "malloc_enter", "c++"),
	CALL("_Znam", "malloc_enter", "c++"),
	CALL("_ZnwmRKSt9nothrow_t", "malloc_enter", "c++"),
	CALL("_ZnamRKSt9nothrow_t", "malloc_enter", "c++"),
	CALL("_ZnwmSt11align_val_t", "malloc_enter", "c++"),
	CALL("_ZnamSt11align_val_t", "malloc_enter", "c++"),
	CALL("_ZnwmSt11align_val_tRKSt9nothrow_t", "malloc_enter", "c++"),
	CALL("_ZnamSt11align_val_tRKSt9nothrow_t", "malloc_enter", "c++"),
	WRAP("_ZdlPv", "c++"),
	WRAP("_ZdaPv", "c++"),
	WRAP("_ZdlPvm", "c++"),
	WRAP("_ZdaPvm", "c++"),
	WRAP("_ZdlPvRKSt9nothrow_t", "c++"),
	WRAP("_ZdaPvRKSt9nothrow_t", "c++"),
	WRAP("_ZdlPvSt11align_val_t", "c++"),
	WRAP("_ZdaPvSt11align_val_t", "c++"),
	WRAP("_ZdlPvmSt11align_val_t", "c++"),
	WRAP("_ZdaPvmSt11align_val_t", "c++"),
	WRAP("_ZdlPvSt11align_val_tRKSt9nothrow_t", "c++"),
	WRAP("_ZdaPvSt11align_val_tRKSt9nothrow_t", "c++"),
};
#define NSPECS (sizeof(specs) / sizeof(specs[0]))

/* Offsets of every spec in one object (0 = not defined there). */
static int object_offsets(const struct alloc_obj *o, bool with_symtab, uint64_t offs[NSPECS])
{
	const char *names[NSPECS];

	for (size_t i = 0; i < NSPECS; i++)
		names[i] = specs[i].func;
	return elfsym__offsets_in(o->open_path, names, NSPECS, offs, with_symtab);
}

static void add_obj(struct alloc_plan *p, size_t *cap, const char *path, const char *open_path,
		    uint64_t dev, uint64_t inode)
{
	struct alloc_obj *o;

	for (size_t i = 0; i < p->nobjs; i++)
		if (p->objs[i].inode == inode && p->objs[i].dev == dev && !strcmp(p->objs[i].path, path))
			return;
	xgrow(&p->objs, cap, p->nobjs + 1, sizeof(*p->objs));
	o = &p->objs[p->nobjs++];
	o->path = xstrdup(path);
	o->open_path = xstrdup(open_path);
	o->dev = dev;
	o->inode = inode;
}

static void add_site(struct alloc_plan *p, size_t *cap, size_t spec, size_t obj, uint64_t off)
{
	xgrow(&p->sites, cap, p->nsites + 1, sizeof(*p->sites));
	p->sites[p->nsites++] = (struct alloc_site){ &specs[spec], obj, off };
}

/* Aliases share an address: probe it once, as the first spec that names it. */
static bool alias_seen(const uint64_t *offs, size_t i)
{
	for (size_t k = 0; k < i; k++)
		if (offs[k] == offs[i])
			return true;
	return false;
}

static bool defines_free(const uint64_t *offs)
{
	for (size_t i = 0; i < NSPECS; i++)
		if (offs[i] && specs[i].how == ALLOC_FREE && strcmp(specs[i].func, "munmap"))
			return true;
	return false;
}

/* Object 0 is the executable: its full symbol table counts (static or built-in allocators). */
static void bind_sites(struct alloc_plan *p)
{
	uint64_t (*offs)[NSPECS] = xcalloc(p->nobjs ? p->nobjs : 1, sizeof(*offs));
	size_t cap = 0;
	int bound[NSPECS];

	for (size_t o = 0; o < p->nobjs; o++)
		if (object_offsets(&p->objs[o], o == 0, offs[o]) < 0)
			mt_debug("cannot read symbols of %s: %s", p->objs[o].path, strerror(errno));
	for (size_t i = 0; i < NSPECS; i++) {
		bound[i] = -1;
		for (size_t o = 0; o < p->nobjs && bound[i] < 0; o++)
			if (offs[o][i])
				bound[i] = (int)o;
	}
	for (size_t i = 0; i < NSPECS; i++) {
		int o = bound[i];

		if (o < 0 || alias_seen(offs[o], i))
			continue;
		if (specs[i].how == ALLOC_FREE_WRAP && !defines_free(offs[o]))
			continue;
		add_site(p, &cap, i, o, offs[o][i]);
	}
	free(offs);
}

/* The family malloc really belongs to: the first family-specific name its object defines. */
static const char *family_of_malloc(const struct alloc_plan *p)
{
	size_t mobj = (size_t)-1;

	for (size_t i = 0; i < p->nsites; i++)
		if (!strcmp(p->sites[i].spec->func, "malloc"))
			mobj = p->sites[i].obj;
	if (mobj == (size_t)-1)
		return NULL;
	for (size_t i = 0; i < p->nsites; i++) {
		const char *fam = p->sites[i].spec->family;

		if (p->sites[i].obj == mobj && strcmp(fam, "glibc") && strcmp(fam, "c++"))
			return fam;
	}
	return "glibc";
}

static int finish_plan(struct alloc_plan *p, const char *who, bool running)
{
	bind_sites(p);
	p->family = family_of_malloc(p);
	if (!p->family) {
		mt_err("memtrace traces programs that call malloc (glibc, jemalloc, tcmalloc, mimalloc)",
		       running ? "%s maps no C library with malloc to probe" :
				 "%s has no malloc to probe", who);
		return -ENOENT;
	}
	if (mt_verbose)
		for (size_t i = 0; i < p->nsites; i++)
			mt_debug("%s: %s() in %s", who, p->sites[i].spec->func,
				 p->objs[p->sites[i].obj].path);
	return 0;
}

static int refuse_go(const char *exe, const char *who)
{
	if (!elfsym__is_go(exe))
		return 0;
	mt_err("uretprobes corrupt Go's movable goroutine stacks; use runtime/pprof's heap profile",
	       "refusing to trace %s: it is a Go program", who);
	return -ENOTSUP;
}

bool allocator__is_candidate(const char *path)
{
	return path[0] == '/' && strncmp(path, "/dev/", 5) && strncmp(path, "/memfd:", 7) &&
	       !strstr(path, "/locale/") && !strstr(path, " (deleted)");
}

static bool in_preload(const char *preload, const char *path)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	char *list, *tok, *save = NULL;
	bool hit = false;

	if (!preload)
		return false;
	list = xstrdup(preload);
	for (tok = strtok_r(list, " :", &save); tok && !hit; tok = strtok_r(NULL, " :", &save))
		hit = !strcmp(tok, path) || !strcmp(tok, base);
	free(list);
	return hit;
}

static int by_start_desc(const void *x, const void *y)
{
	const struct pmap *a = *(const struct pmap *const *)x, *b = *(const struct pmap *const *)y;

	return a->start < b->start ? 1 : a->start > b->start ? -1 : 0;
}

/*
 * Lookup order of a running process: the executable, its LD_PRELOAD libraries, then the other
 * objects from the highest address down (ld.so maps each library below the previous one).
 */
static void objects_of_pid(int pid, const struct procmaps *m, struct alloc_plan *p)
{
	const struct pmap **first = xcalloc(m->n ? m->n : 1, sizeof(*first));
	char exe_link[64], *preload = procmem__env(pid, "LD_PRELOAD");	/* space- or colon-separated */
	struct stat exe;
	size_t n = 0, cap = 0;

	snprintf(exe_link, sizeof(exe_link), "/proc/%d/exe", pid);
	if (stat(exe_link, &exe))
		exe.st_ino = 0;
	for (size_t i = 0; i < m->n; i++) {
		const struct pmap *pm = &m->maps[i];
		bool dup = false;

		if (!pm->inode || !allocator__is_candidate(pm->path) || strstr(pm->path, "/ld-linux"))
			continue;
		for (size_t k = 0; k < n && !dup; k++)
			dup = first[k]->inode == pm->inode && first[k]->dev == pm->dev;
		if (!dup)
			first[n++] = pm;
	}
	qsort(first, n, sizeof(*first), by_start_desc);
	for (int pass = 0; pass < 3; pass++) {
		for (size_t k = 0; k < n; k++) {
			const struct pmap *pm = first[k];
			bool is_exe = pm->inode == exe.st_ino;
			bool pre = in_preload(preload, pm->path);
			char *open_path;

			if ((pass == 0) != is_exe || (pass == 1) != (pre && !is_exe))
				continue;
			open_path = xasprintf("/proc/%d/map_files/%llx-%llx", pid,
					      (unsigned long long)pm->start, (unsigned long long)pm->end);
			add_obj(p, &cap, pm->path, open_path, pm->dev, pm->inode);
			free(open_path);
		}
	}
	free(preload);
	free(first);
}

int allocator__plan_pid(int pid, struct alloc_plan *out)
{
	char who[64], exe[64], comm[32] = "";
	struct procmaps m;
	FILE *f;
	int err;

	memset(out, 0, sizeof(*out));
	snprintf(exe, sizeof(exe), "/proc/%d/comm", pid);
	if ((f = fopen(exe, "re"))) {
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = 0;
		comm[strcspn(comm, "\n")] = 0;
		fclose(f);
	}
	snprintf(who, sizeof(who), "process %d (%s)", pid, comm);
	snprintf(exe, sizeof(exe), "/proc/%d/exe", pid);
	err = refuse_go(exe, who);
	if (err)
		return err;
	err = procmaps__read(pid, &m);
	if (err) {
		mt_err(NULL, "failed to read the mappings of %s: %s", who, strerror(-err));
		return err;
	}
	objects_of_pid(pid, &m, out);
	procmaps__release(&m);
	return finish_plan(out, who, true);
}

struct listed {
	struct alloc_plan *plan;
	size_t *cap;
};

/* One object the dynamic linker would load; the linker itself is no allocator. */
static void add_listed(const char *path, void *ctx)
{
	struct listed *l = ctx;
	struct stat st;

	if (!strstr(path, "/ld-linux") && !stat(path, &st))
		add_obj(l->plan, l->cap, path, path, st.st_dev, st.st_ino);
}

/* A script runs its "#!" interpreter: that is the program to plan. NULL if exe is no script. */
static char *script_interpreter(const char *exe)
{
	char line[256];
	FILE *f = fopen(exe, "re");
	bool script = f && fgets(line, sizeof(line), f) && !strncmp(line, "#!", 2);

	if (f)
		fclose(f);
	if (!script)
		return NULL;
	line[2 + strspn(line + 2, " \t") + strcspn(line + 2 + strspn(line + 2, " \t"), " \t\n")] = 0;
	return xstrdup(line + 2 + strspn(line + 2, " \t"));
}

int allocator__plan_exe(const char *exe, char *const envp[], struct alloc_plan *out)
{
	char *interp = script_interpreter(exe);
	struct stat st;
	size_t cap = 0;
	int err;

	if (interp) {
		err = interp[0] == '/' ? allocator__plan_exe(interp, envp, out) : -ENOEXEC;
		free(interp);
		return err;
	}
	memset(out, 0, sizeof(*out));
	err = refuse_go(exe, exe);
	if (err)
		return err;
	if (stat(exe, &st))
		return -errno;
	add_obj(out, &cap, exe, exe, st.st_dev, st.st_ino);
	interp = elfsym__interp(exe);
	if (interp) {
		struct listed l = { out, &cap };

		err = ldso__list(interp, exe, envp, add_listed, &l);
		free(interp);
		if (err)
			mt_debug("cannot list the libraries of %s: %s", exe, strerror(-err));
	}
	return finish_plan(out, exe, false);
}

/* The program a process has just exec'd (held at the exec stop): its libraries are not mapped yet. */
int allocator__plan_exec(int pid, struct alloc_plan *out)
{
	char path[64], *buf = xmalloc(1 << 20), **envp;
	size_t n = 0, k = 0;
	FILE *f;
	int err;

	snprintf(path, sizeof(path), "/proc/%d/environ", pid);
	f = fopen(path, "re");
	if (f) {
		n = fread(buf, 1, (1 << 20) - 1, f);
		fclose(f);
	}
	buf[n] = 0;
	envp = xcalloc(n / 2 + 2, sizeof(*envp));
	for (size_t i = 0; i < n; i += strlen(buf + i) + 1)
		envp[k++] = buf + i;
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	err = allocator__plan_exe(path, envp, out);
	free(envp);
	free(buf);
	return err;
}

int allocator__plan_object(const char *path, const char *open_path, uint64_t dev, uint64_t inode,
			   struct alloc_plan *out)
{
	uint64_t offs[NSPECS];
	struct alloc_obj o = { .path = (char *)path, .open_path = (char *)open_path };
	size_t cap = 0, ocap = 0;

	int n;

	memset(out, 0, sizeof(*out));
	n = object_offsets(&o, elfsym__is_static(open_path), offs);
	if (n <= 0)
		return n;	/* -errno: unreadable now (its process went away), try again later */
	add_obj(out, &ocap, path, open_path, dev, inode);
	for (size_t i = 0; i < NSPECS; i++) {
		if (!offs[i] || alias_seen(offs, i))
			continue;
		if (specs[i].how == ALLOC_FREE_WRAP && !defines_free(offs))
			continue;
		add_site(out, &cap, i, 0, offs[i]);
	}
	out->family = family_of_malloc(out);
	return 0;
}

void allocator__release(struct alloc_plan *p)
{
	for (size_t i = 0; i < p->nobjs; i++) {
		free(p->objs[i].path);
		free(p->objs[i].open_path);
	}
	free(p->objs);
	free(p->sites);
	memset(p, 0, sizeof(*p));
}
