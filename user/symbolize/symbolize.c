// SPDX-License-Identifier: BSD-2-Clause
/*
 * Addresses to function, source file and line. Objects are opened while the process lives and
 * kept open, keyed by (device, inode), so one libc serves every process and a process that has
 * exited still resolves. Lookups are cached per object and address.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <elfutils/libdwfl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "lib/htab.h"
#include "lib/procmaps.h"
#include "symbolize/symbolize.h"
#include "lib/util.h"

struct module {
	uint64_t dev, inode;
	char *path;
	Dwfl *dwfl;		/* NULL when the object could not be opened */
	Dwfl_Module *mod;
	GElf_Phdr *loads;	/* PT_LOAD headers, to turn file offsets into ELF addresses */
	size_t nloads;
	char *build_id;
	struct htab *cache;	/* ELF address -> struct sym_entry */
};

struct sym_entry {
	const char *function, *file;
	int line;
};

/* Where an address was when its stack was first seen: valid even after the mapping goes away. */
struct pin {
	struct mt_mapping *mapping;
	struct module *module;		/* NULL for non-file mappings */
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
	struct module **modules;	/* parallel to maps; NULL for non-file mappings */
	uint64_t last_refresh_ns;
	struct htab *preloaded;		/* replay: address + 1 -> struct mt_frame, as recorded */
	struct mt_mapping **owned;	/* every mapping made for it, current or pinned */
	size_t nowned, cap_owned;
};

struct symbolizer {
	struct module **mods;
	size_t nmods, cap_mods;
	struct procs *procs;
	char **strings;			/* everything handed out, freed at the end */
	size_t nstrings, cap_strings;
	struct mt_mapping **mappings;	/* replay's kept mappings; processes own their own */
	size_t nmappings, cap_mappings;
	sym_maps_fn on_maps;		/* told of every mapping list read: the recorder keeps them */
	void *on_maps_ctx;
};

static const char *keep(struct symbolizer *s, const char *str)
{
	if (!str)
		return NULL;
	xgrow(&s->strings, &s->cap_strings, s->nstrings + 1, sizeof(char *));
	return s->strings[s->nstrings++] = xstrdup(str);
}

static void drop_part(void *owner, struct proc *proc);

struct symbolizer *sym__new(struct procs *procs)
{
	struct symbolizer *s = xcalloc(1, sizeof(*s));

	elf_version(EV_CURRENT);
	s->procs = procs;
	procs__own(procs, PROC_SYMBOLS, drop_part, s);
	return s;
}

static void module_free(struct module *m)
{
	if (m->dwfl)
		dwfl_end(m->dwfl);
	htab__free(m->cache);
	free(m->loads);
	free(m->build_id);
	free(m->path);
	free(m);
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
		module_free(s->mods[i]);
	for (size_t i = 0; i < s->nstrings; i++)
		free(s->strings[i]);
	for (size_t i = 0; i < s->nmappings; i++)
		free_mapping(s->mappings[i]);
	free(s->mods);
	free(s->strings);
	free(s->mappings);
	free(s);
}

static const Dwfl_Callbacks offline_callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.section_address = dwfl_offline_section_address,
};

static void module_read_loads(struct module *m, Elf *elf)
{
	size_t n;

	if (elf_getphdrnum(elf, &n))
		return;
	m->loads = xcalloc(n, sizeof(*m->loads));
	for (size_t i = 0; i < n; i++)
		if (gelf_getphdr(elf, i, &m->loads[m->nloads]) && m->loads[m->nloads].p_type == PT_LOAD)
			m->nloads++;
}

static void module_read_build_id(struct module *m)
{
	const unsigned char *bits;
	GElf_Addr vaddr;
	int len = dwfl_module_build_id(m->mod, &bits, &vaddr);

	if (len <= 0)
		return;
	m->build_id = xmalloc(2 * len + 1);
	for (int i = 0; i < len; i++)
		sprintf(m->build_id + 2 * i, "%02x", bits[i]);
}

static struct module *module_stub(const struct pmap *pm)
{
	struct module *m = xcalloc(1, sizeof(*m));

	m->dev = pm->dev;
	m->inode = pm->inode;
	m->path = xstrdup(pm->path);
	m->cache = htab__new(sizeof(struct sym_entry));
	return m;
}

/* Open the object behind a mapping at path (freed); one that cannot be opened is a name only. */
static struct module *module_open(char *path, const struct pmap *pm)
{
	struct module *m = module_stub(pm);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Dwarf_Addr bias;

	if (fd < 0) {
		mt_debug("cannot open %s: %s", path, strerror(errno));
		free(path);
		return m;
	}
	m->dwfl = dwfl_begin(&offline_callbacks);
	/* One Dwfl per object, reported at bias 0: lookups use the object's own ELF addresses. */
	m->mod = m->dwfl ? dwfl_report_elf(m->dwfl, pm->path, path, fd, 0, false) : NULL;
	if (!m->mod) {
		mt_debug("cannot read %s as ELF: %s", path, dwfl_errmsg(-1));
		close(fd);
	} else {
		dwfl_report_end(m->dwfl, NULL, NULL);
		module_read_loads(m, dwfl_module_getelf(m->mod, &bias));
		module_read_build_id(m);
	}
	free(path);
	return m;
}

/*
 * Replay: a module as recorded. It is opened from the local file system only when asked (the
 * recording has no resolved symbols for the process) and the local file's build id is the
 * recorded one (both absent counts as the same); otherwise it is a name and a build id.
 */
static struct module *module_recorded(const struct pmap *pm, const char *build_id, bool open_local)
{
	struct module *m = open_local ? module_open(xstrdup(pm->path), pm) : module_stub(pm);

	if (m->dwfl && !(build_id ? m->build_id && !strcmp(build_id, m->build_id) : !m->build_id)) {
		mt_debug("%s: build id %s, recorded %s: not used", pm->path,
			 m->build_id ? m->build_id : "none", build_id ? build_id : "none");
		dwfl_end(m->dwfl);
		m->dwfl = NULL;
		m->mod = NULL;
		m->nloads = 0;
	}
	free(m->build_id);
	m->build_id = build_id ? xstrdup(build_id) : NULL;
	return m;
}

/* An exited process's object: the path as it saw it, if that is still the file it mapped. */
static struct module *module_exited(const struct pmap *pm)
{
	struct stat st;

	if (stat(pm->path, &st) || st.st_ino != pm->inode) {
		mt_debug("%s: not the file an exited process mapped (inode %llu)", pm->path,
			 (unsigned long long)pm->inode);
		return module_stub(pm);
	}
	return module_open(xstrdup(pm->path), pm);
}

struct module_src {
	int pid;			/* 0: the process has exited; paths are opened from here */
	const char *const *build_ids;	/* replay: parallel to the maps; NULL when live */
	bool open_local;
};

static struct module *module_get(struct symbolizer *s, const struct module_src *src,
				 const struct pmap *pm, size_t i)
{
	struct module *m;

	for (size_t k = 0; k < s->nmods; k++)
		if (s->mods[k]->dev == pm->dev && s->mods[k]->inode == pm->inode &&
		    !strcmp(s->mods[k]->path, pm->path))
			return s->mods[k];
	if (src->build_ids)
		m = module_recorded(pm, src->build_ids[i], src->open_local);
	else if (!src->pid)
		m = module_exited(pm);
	else	/* through /proc/PID/root, so objects inside containers are found */
		m = module_open(xasprintf("/proc/%d/root%s", src->pid, pm->path), pm);
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
	mm->build_id = keep(s, m->build_id);
	xgrow(&s->mappings, &s->cap_mappings, s->nmappings + 1, sizeof(*s->mappings));
	s->mappings[s->nmappings++] = mm;
	return mm;
}

void sym__preload(struct symbolizer *s, int pid, const struct mt_frame *f)
{
	struct proc_maps *p = proc_get(s, pid, true);
	struct mt_frame *e;

	if (f->addr == UINT64_MAX)	/* no key for it: resolves alike without help, in no mapping */
		return;
	if (!p->preloaded)
		p->preloaded = htab__new(sizeof(struct mt_frame));
	e = htab__insert(p->preloaded, f->addr + 1, NULL);
	*e = *f;
	e->function = keep(s, f->function);
	e->file = keep(s, f->file);
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

static uint64_t file_offset_to_vaddr(const struct module *m, uint64_t off, bool *ok)
{
	for (size_t i = 0; i < m->nloads; i++) {
		const GElf_Phdr *ph = &m->loads[i];

		if (off >= ph->p_offset && off < ph->p_offset + ph->p_filesz) {
			*ok = true;
			return off - ph->p_offset + ph->p_vaddr;
		}
	}
	*ok = false;
	return off;
}

static struct sym_entry lookup(struct symbolizer *s, struct module *m, uint64_t vaddr)
{
	struct sym_entry *e;
	bool existed;
	Dwfl_Line *line;
	GElf_Off off;
	GElf_Sym sym;

	e = htab__insert(m->cache, vaddr + 1, &existed);
	if (existed || !m->mod)
		return *e;
	/* A return address points after the call: look up the call instruction itself. */
	e->function = keep(s, dwfl_module_addrinfo(m->mod, vaddr - 1, &off, &sym, NULL, NULL, NULL));
	line = dwfl_module_getsrc(m->mod, vaddr - 1);
	if (line) {
		int lineno = 0;
		const char *file = dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL);

		e->file = keep(s, file);
		e->line = lineno;
	}
	return *e;
}

/* Find addr in the process's current mappings. */
static bool locate(const struct proc_maps *p, uint64_t addr, struct pin *pin)
{
	ssize_t i = find_map(p, addr);

	memset(pin, 0, sizeof(*pin));
	pin->vaddr = addr;
	if (i < 0)
		return false;
	pin->mapping = p->mappings[i];
	pin->module = p->modules[i];
	if (pin->module)
		pin->vaddr = file_offset_to_vaddr(pin->module, addr - p->maps[i].start + p->maps[i].offset,
						  &pin->in_module);
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

void sym__resolve(struct symbolizer *s, int pid, uint64_t addr, struct mt_frame *out)
{
	struct proc_maps *p = proc_get(s, pid, false);
	struct pin *pinned = p ? htab__lookup(p->pins, addr) : NULL;
	struct mt_frame *pre = p && p->preloaded ? htab__lookup(p->preloaded, addr + 1) : NULL;
	struct pin pin = { .vaddr = addr };
	struct sym_entry e;

	if (pre) {	/* replay: as the recording process resolved it, mapping and all */
		*out = *pre;
		return;
	}
	memset(out, 0, sizeof(*out));
	if (pinned)
		pin = *pinned;
	else if (p)
		locate(p, addr, &pin);
	out->addr = addr;
	out->module_offset = pin.vaddr;
	out->mapping = pin.mapping;
	if (!pin.module || !pin.in_module)
		return;
	e = lookup(s, pin.module, pin.vaddr);
	out->function = e.function;
	out->file = e.file;
	out->line = e.line;
}
