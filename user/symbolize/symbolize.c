// SPDX-License-Identifier: BSD-2-Clause
/*
 * Addresses to functions, source files and lines, per process. Objects (objfile.c) are opened
 * while the process lives and kept open, keyed by (device, inode), so one libc serves every
 * process and a process that has exited still resolves. Lookups are cached per object and address.
 */
#include <errno.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "python.h"
#include "lib/htab.h"
#include "lib/procmaps.h"
#include "symbolize/debuginfod.h"
#include "symbolize/demangle.h"
#include "symbolize/objfile.h"
#include "symbolize/symstore.h"
#include "symbolize/symbolize.h"
#include "lib/util.h"

const char *sym_debuginfod_urls;

/* Replay: the frames of an address as the recording process resolved them. */
struct chain {
	uint32_t n;
	struct mt_frame *v;		/* function demangled, mangled set when it differs */
};

/* Where an address was when its stack was first seen: valid even after the mapping goes away. */
struct pin {
	struct mt_mapping *mapping;
	struct objfile *module;		/* NULL for non-file mappings */
	uint64_t vaddr;			/* ELF address in module, or the address itself */
	bool in_module;			/* vaddr is a valid ELF address of module */
};

/* A process's part (PROC_SYMBOLS in the registry). */
struct proc_maps {
	int pid;
	struct htab *pins;		/* address -> struct pin */
	struct pmap *maps;		/* sorted */
	size_t n;
	struct mt_mapping **mappings;	/* parallel to maps */
	struct objfile **modules;	/* parallel to maps; NULL for non-file mappings */
	uint64_t last_refresh_ns;
	struct htab *preloaded;		/* replay: address + 1 -> struct chain, as recorded */
	struct mt_mapping **owned;	/* every mapping made for it, current or pinned */
	size_t nowned, cap_owned;
};

struct symbolizer {
	struct objfile **mods;
	size_t nmods, cap_mods;
	struct procs *procs;
	struct symstore *store;		/* everything handed out, freed at the end */
	struct mt_mapping **mappings;	/* replay's kept mappings; processes own their own */
	size_t nmappings, cap_mappings;
	sym_maps_fn on_maps;		/* told of every mapping list read: the recorder keeps them */
	void *on_maps_ctx;
};

static void drop_part(void *owner, struct proc *proc);

struct symbolizer *sym__new(struct procs *procs)
{
	struct symbolizer *s = xcalloc(1, sizeof(*s));

	elf_version(EV_CURRENT);
	s->store = symstore__new(debuginfod__new(sym_debuginfod_urls ? sym_debuginfod_urls :
						 getenv("DEBUGINFOD_URLS")));
	s->procs = procs;
	procs__own(procs, PROC_SYMBOLS, drop_part, s);
	return s;
}

static void free_mapping(struct mt_mapping *m)
{
	free((char *)m->path);
	free(m);
}

/* Everything kept for one process: its mappings (all it ever had, pinned by its stacks) too. */
static void proc_release(struct proc_maps *p)
{
	struct procmaps pm = { p->maps, p->n };

	procmaps__release(&pm);
	htab__free(p->pins);
	htab__free(p->preloaded);
	free(p->mappings);
	free(p->modules);
	for (size_t i = 0; i < p->nowned; i++)
		free_mapping(p->owned[i]);
	free(p->owned);
	free(p);
}

/*
 * The registry forgets the process, or an exec ends its program: its mappings go. Objects stay:
 * other processes map them.
 */
static void drop_part(void *owner, struct proc *proc)
{
	(void)owner;
	proc_release(proc->part[PROC_SYMBOLS]);
}

void sym__free(struct symbolizer *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nmods; i++)
		objfile__free(s->mods[i]);
	for (size_t i = 0; i < s->nmappings; i++)
		free_mapping(s->mappings[i]);
	symstore__free(s->store);	/* stops a fetch under way */
	free(s->mods);
	free(s->mappings);
	free(s);
}

/*
 * Replay: a module as recorded. It is opened from the local file system only when asked (the
 * recording has no resolved symbols for the process) and the local file's build id is the
 * recorded one (both absent counts as the same); otherwise it is a name and a build id.
 */
static struct objfile *module_recorded(const struct pmap *pm, const char *build_id, bool open_local)
{
	struct objfile *m = open_local ? objfile__open(xstrdup(pm->path), pm) : objfile__stub(pm);

	if (m->dw && !(build_id ? m->build_id && !strcmp(build_id, m->build_id) : !m->build_id)) {
		mt_debug("%s: build id %s, recorded %s: not used", pm->path,
			 m->build_id ? m->build_id : "none", build_id ? build_id : "none");
		objfile__close(m);
	}
	free(m->build_id);
	m->build_id = build_id ? xstrdup(build_id) : NULL;
	return m;
}

/* An exited process's object: the path as it saw it, if that is still the file it mapped. */
static struct objfile *module_exited(const struct pmap *pm)
{
	struct stat st;

	if (stat(pm->path, &st) || st.st_ino != pm->inode) {
		mt_debug("%s: not the file an exited process mapped (inode %llu)", pm->path,
			 (unsigned long long)pm->inode);
		return objfile__stub(pm);
	}
	return objfile__open(xstrdup(pm->path), pm);
}

struct module_src {
	int pid;			/* 0: the process has exited; paths are opened from here */
	const char *const *build_ids;	/* replay: parallel to the maps; NULL when live */
	bool open_local;
};

static struct objfile *module_get(struct symbolizer *s, const struct module_src *src,
				 const struct pmap *pm, size_t i)
{
	struct objfile *m;

	for (size_t k = 0; k < s->nmods; k++)
		if (s->mods[k]->dev == pm->dev && s->mods[k]->inode == pm->inode &&
		    !strcmp(s->mods[k]->path, pm->path))
			return s->mods[k];
	if (src->build_ids)
		m = module_recorded(pm, src->build_ids[i], src->open_local);
	else if (!src->pid)
		m = module_exited(pm);
	else	/* through /proc/PID/root, so objects inside containers are found */
		m = objfile__open(xasprintf("/proc/%d/root%s", src->pid, pm->path), pm);
	xgrow(&s->mods, &s->cap_mods, s->nmods + 1, sizeof(*s->mods));
	return s->mods[s->nmods++] = m;
}

static struct proc_maps *proc_get(struct symbolizer *s, int pid, bool create)
{
	struct proc *proc = create ? procs__get(s->procs, pid) : procs__find(s->procs, pid);
	struct proc_maps *p = proc ? proc->part[PROC_SYMBOLS] : NULL;

	if (p || !create)
		return p;
	p = xcalloc(1, sizeof(*p));
	p->pid = pid;
	p->pins = htab__new(sizeof(struct pin));
	proc->part[PROC_SYMBOLS] = p;
	return p;
}

static bool is_object(const struct pmap *pm)
{
	return pm->inode && pm->path[0] == '/';
}

/* Make fresh the process's mapping list (taking ownership of it), opening its objects. */
static void install_maps(struct symbolizer *s, struct proc_maps *p, struct procmaps *fresh,
			 const struct module_src *src)
{
	struct procmaps old = { p->maps, p->n };

	procmaps__release(&old);
	free(p->mappings);
	free(p->modules);
	p->maps = fresh->maps;
	p->n = fresh->n;
	p->mappings = xcalloc(p->n, sizeof(*p->mappings));
	p->modules = xcalloc(p->n, sizeof(*p->modules));
	for (size_t i = 0; i < p->n; i++) {
		const struct pmap *pm = &p->maps[i];
		struct mt_mapping *mm = xcalloc(1, sizeof(*mm));

		if (is_object(pm))
			p->modules[i] = module_get(s, src, pm, i);
		mm->start = pm->start;
		mm->end = pm->end;
		mm->file_offset = pm->offset;
		mm->path = xstrdup(pm->path[0] ? pm->path : "[anon]");	/* freed with mm */
		mm->build_id = p->modules[i] ? p->modules[i]->build_id : NULL;
		xgrow(&p->owned, &p->cap_owned, p->nowned + 1, sizeof(*p->owned));
		p->owned[p->nowned++] = p->mappings[i] = mm;
	}
}

static void tell_maps(struct symbolizer *s, const struct proc_maps *p)
{
	const char **build_ids = xcalloc(p->n, sizeof(*build_ids));

	for (size_t i = 0; i < p->n; i++)
		build_ids[i] = p->mappings[i]->build_id;
	s->on_maps(s->on_maps_ctx, p->pid, p->maps, p->n, build_ids);
	free(build_ids);
}

int sym__refresh(struct symbolizer *s, int pid)
{
	struct proc_maps *p = proc_get(s, pid, true);
	struct module_src src = { .pid = pid };
	struct procmaps fresh;
	int err = procmaps__read(pid, &fresh);

	p->last_refresh_ns = mt_now_ns();
	if (err)
		return err;	/* keep what we had: the process may be gone */
	install_maps(s, p, &fresh, &src);
	if (s->on_maps)
		tell_maps(s, p);
	return 0;
}

static int by_start(const void *a, const void *b)
{
	const struct pmap *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/*
 * Exit mappings where /proc's list (if any) had none: a process gone before its first read, or
 * one that loaded an object after its last. The list is rebuilt; objects already open are kept
 * (module_get finds them), and pins keep pointing at the mappings they were made with (owned).
 */
void sym__load_exit_maps(struct symbolizer *s, int pid, struct procmaps *maps)
{
	struct proc_maps *p = proc_get(s, pid, true);
	struct procmaps old = { p->maps, p->n }, all = { 0 };
	struct module_src src = { .pid = 0 };
	size_t added = 0;

	for (size_t i = 0; i < maps->n; i++)
		added += !procmaps__find(&old, maps->maps[i].start);
	if (!added) {	/* the usual case: /proc was read while it lived */
		procmaps__release(maps);
		return;
	}
	all.maps = xcalloc(p->n + added, sizeof(*all.maps));
	for (size_t i = 0; i < p->n; i++) {
		all.maps[all.n] = p->maps[i];
		all.maps[all.n++].path = xstrdup(p->maps[i].path);
	}
	for (size_t i = 0; i < maps->n; i++)
		if (!procmaps__find(&old, maps->maps[i].start)) {
			all.maps[all.n++] = maps->maps[i];
			maps->maps[i].path = NULL;	/* moved */
		}
	procmaps__release(maps);
	qsort(all.maps, all.n, sizeof(*all.maps), by_start);
	mt_debug("pid %d: %zu file mappings taken from its exit", pid, added);
	install_maps(s, p, &all, &src);
	if (s->on_maps)
		tell_maps(s, p);
}

void sym__on_maps(struct symbolizer *s, sym_maps_fn fn, void *ctx)
{
	s->on_maps = fn;
	s->on_maps_ctx = ctx;
}

void sym__load_maps(struct symbolizer *s, int pid, const struct pmap *maps, size_t n,
		    const char *const *build_ids, bool open_local)
{
	struct module_src src = { .pid = pid, .build_ids = build_ids, .open_local = open_local };
	struct procmaps copy = { xcalloc(n, sizeof(*maps)), n };

	for (size_t i = 0; i < n; i++) {
		copy.maps[i] = maps[i];
		copy.maps[i].path = xstrdup(maps[i].path);
	}
	install_maps(s, proc_get(s, pid, true), &copy, &src);
}

const struct mt_mapping *sym__keep_mapping(struct symbolizer *s, const struct mt_mapping *m)
{
	struct mt_mapping *mm = xcalloc(1, sizeof(*mm));

	*mm = *m;
	mm->path = xstrdup(m->path ? m->path : "[anon]");	/* freed with mm */
	mm->build_id = symstore__keep(s->store, m->build_id);
	xgrow(&s->mappings, &s->cap_mappings, s->nmappings + 1, sizeof(*s->mappings));
	s->mappings[s->nmappings++] = mm;
	return mm;
}

void sym__preload(struct symbolizer *s, int pid, const struct mt_frame *f, uint32_t n)
{
	struct proc_maps *p = proc_get(s, pid, true);
	struct chain *c;

	if (!n || f->addr == UINT64_MAX)	/* no key: resolves alike without help, in no mapping */
		return;
	if (!p->preloaded)
		p->preloaded = htab__new(sizeof(struct chain));
	c = htab__insert(p->preloaded, f->addr + 1, NULL);
	c->n = n;
	c->v = symstore__alloc(s->store, n * sizeof(*c->v));
	for (uint32_t i = 0; i < n; i++) {
		/* Recorded as the object spells them: Python's names are Python's own. */
		struct sym_name name = mt_py_is_frame(f->addr) ?
			(struct sym_name){ symstore__keep(s->store, f[i].function), NULL } :
			symstore__name(s->store, f[i].function);

		c->v[i] = f[i];
		c->v[i].addr = f->addr;
		c->v[i].function = name.demangled ? name.demangled : name.raw;
		c->v[i].mangled = name.demangled ? name.raw : NULL;
		c->v[i].file = symstore__keep(s->store, f[i].file);
	}
}

void sym__forget(struct symbolizer *s, int pid)
{
	struct proc *proc = procs__find(s->procs, pid);

	if (proc)
		procs__drop_part(s->procs, proc, PROC_SYMBOLS);
}

static ssize_t find_map(const struct proc_maps *p, uint64_t addr)
{
	struct procmaps pm = { p->maps, p->n };
	const struct pmap *m = procmaps__find(&pm, addr);

	return m ? m - p->maps : -1;
}

/*
 * Find addr, a frame's pc, in the process's current mappings: in code only. A mapping known not
 * to be executable is not its object: the loader maps /etc/ld.so.cache for a moment while it
 * loads a library, and may map it where an unloaded library was, whose frames are still unread.
 */
static bool locate(const struct proc_maps *p, uint64_t addr, struct pin *pin)
{
	ssize_t i = find_map(p, addr);

	memset(pin, 0, sizeof(*pin));
	pin->vaddr = addr;
	if (i < 0 || (p->maps[i].perms[0] && p->maps[i].perms[2] != 'x'))
		return false;
	pin->mapping = p->mappings[i];
	pin->module = p->modules[i];
	if (pin->module)
		pin->in_module = objfile__vaddr(pin->module, addr - p->maps[i].start + p->maps[i].offset,
						&pin->vaddr);
	return true;
}

/*
 * A new stack: pin each address to the mapping it is in now, re-reading the mappings when one
 * is unknown (a library loaded since). Pinned, a frame names the right object even if that
 * object is unloaded later and another one mapped at the same address.
 */
void sym__cover(struct symbolizer *s, int pid, const uint64_t *addrs, uint32_t n)
{
	struct proc_maps *p = proc_get(s, pid, false);
	bool refreshed = false;

	if (!p) {
		sym__refresh(s, pid);
		p = proc_get(s, pid, true);
		refreshed = true;
	}
	for (uint32_t i = 0; i < n; i++) {
		struct pin pin;
		bool existed;

		if (!addrs[i] || htab__lookup(p->pins, addrs[i]))
			continue;
		/* Re-read at most once per 10 ms: an address may lie in no mapping at all. */
		if (!locate(p, addrs[i], &pin) && !refreshed &&
		    mt_now_ns() - p->last_refresh_ns > 10000000) {
			sym__refresh(s, pid);
			refreshed = true;
			locate(p, addrs[i], &pin);
		}
		if (pin.mapping)
			*(struct pin *)htab__insert(p->pins, addrs[i], &existed) = pin;
	}
}

/* The name --no-demangle asks for, or the one people read. */
static void name_frame(struct mt_frame *f, const char *raw, const char *demangled)
{
	f->function = mt_demangle && demangled ? demangled : raw;
	f->mangled = mt_demangle && demangled ? raw : NULL;
}

/* Where addr lies in the process, as pinned when its stack was first seen. */
static struct pin find_pin(struct symbolizer *s, struct proc_maps *p, uint64_t addr)
{
	struct pin *pinned = p ? htab__lookup(p->pins, addr) : NULL;
	struct pin pin = { .vaddr = addr };

	if (pinned)
		pin = *pinned;
	else if (p)
		locate(p, addr, &pin);
	return pin;
}

uint32_t sym__resolve(struct symbolizer *s, int pid, uint64_t addr, struct mt_frame *out, uint32_t max)
{
	struct proc_maps *p = proc_get(s, pid, false);
	struct chain *pre = p && p->preloaded ? htab__lookup(p->preloaded, addr + 1) : NULL;
	const struct sym_line *v = NULL;
	struct mt_frame base = { .addr = addr };
	struct pin pin;
	uint32_t n = 0;
	bool pending;

	if (pre) {	/* replay: as the recording process resolved it, mapping and all */
		for (uint32_t i = 0; i < pre->n && i < max; i++) {
			out[i] = pre->v[i];
			name_frame(&out[i], pre->v[i].mangled ? pre->v[i].mangled : pre->v[i].function,
				   pre->v[i].mangled ? pre->v[i].function : NULL);
		}
		return pre->n;
	}
	pin = find_pin(s, p, addr);
	base.module_offset = pin.vaddr;
	base.mapping = pin.mapping;
	if (pin.module && pin.in_module)
		n = objfile__lookup(pin.module, s->store, pin.vaddr, &v, &pending);
	if (!n) {
		if (max)
			out[0] = base;
		return 1;
	}
	for (uint32_t i = 0; i < n && i < max; i++) {
		out[i] = base;
		name_frame(&out[i], v[i].function.raw, v[i].function.demangled);
		out[i].file = v[i].file;
		out[i].line = v[i].line;
		out[i].inlined = v[i].inlined;
	}
	return n;
}

bool sym__pending(struct symbolizer *s, int pid, uint64_t addr)
{
	struct proc_maps *p = proc_get(s, pid, false);
	const struct sym_line *v;
	struct pin pin;
	bool pending = false;

	if (p && p->preloaded && htab__lookup(p->preloaded, addr + 1))
		return false;
	pin = find_pin(s, p, addr);
	if (pin.module && pin.in_module)
		objfile__lookup(pin.module, s->store, pin.vaddr, &v, &pending);
	return pending;
}

bool sym__fetches(const struct symbolizer *s)
{
	return symstore__fetcher(s->store) != NULL;
}

void sym__wait(struct symbolizer *s)
{
	symstore__wait(s->store);
}
