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

#include "htab.h"
#include "procmaps.h"
#include "symbolize.h"
#include "util.h"

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

struct proc_maps {
	int pid;
	struct pmap *maps;		/* sorted */
	size_t n;
	struct mt_mapping **mappings;	/* parallel to maps */
	struct module **modules;	/* parallel to maps; NULL for non-file mappings */
	uint64_t last_refresh_ns;
};

struct symbolizer {
	struct module **mods;
	size_t nmods, cap_mods;
	struct proc_maps *procs;
	size_t nprocs, cap_procs;
	char **strings;			/* everything handed out, freed at the end */
	size_t nstrings, cap_strings;
	struct mt_mapping **mappings;
	size_t nmappings, cap_mappings;
};

static const char *keep(struct symbolizer *s, const char *str)
{
	if (!str)
		return NULL;
	xgrow(&s->strings, &s->cap_strings, s->nstrings + 1, sizeof(char *));
	return s->strings[s->nstrings++] = xstrdup(str);
}

struct symbolizer *sym__new(void)
{
	elf_version(EV_CURRENT);
	return xcalloc(1, sizeof(struct symbolizer));
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

void sym__free(struct symbolizer *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nmods; i++)
		module_free(s->mods[i]);
	for (size_t i = 0; i < s->nprocs; i++) {
		struct procmaps pm = { s->procs[i].maps, s->procs[i].n };

		procmaps__release(&pm);
		free(s->procs[i].mappings);
		free(s->procs[i].modules);
	}
	for (size_t i = 0; i < s->nstrings; i++)
		free(s->strings[i]);
	for (size_t i = 0; i < s->nmappings; i++) {
		free((char *)s->mappings[i]->path);
		free(s->mappings[i]);
	}
	free(s->mods);
	free(s->procs);
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

/* Open the object behind a mapping; a module that cannot be opened stays as a name only. */
static struct module *module_open(int pid, const struct pmap *pm)
{
	struct module *m = xcalloc(1, sizeof(*m));
	char *path = xasprintf("/proc/%d/root%s", pid, pm->path);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Dwarf_Addr bias;

	m->dev = pm->dev;
	m->inode = pm->inode;
	m->path = xstrdup(pm->path);
	m->cache = htab__new(sizeof(struct sym_entry));
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

static struct module *module_get(struct symbolizer *s, int pid, const struct pmap *pm)
{
	for (size_t i = 0; i < s->nmods; i++)
		if (s->mods[i]->dev == pm->dev && s->mods[i]->inode == pm->inode &&
		    !strcmp(s->mods[i]->path, pm->path))
			return s->mods[i];
	xgrow(&s->mods, &s->cap_mods, s->nmods + 1, sizeof(*s->mods));
	return s->mods[s->nmods++] = module_open(pid, pm);
}

static struct proc_maps *proc_get(struct symbolizer *s, int pid, bool create)
{
	for (size_t i = 0; i < s->nprocs; i++)
		if (s->procs[i].pid == pid)
			return &s->procs[i];
	if (!create)
		return NULL;
	xgrow(&s->procs, &s->cap_procs, s->nprocs + 1, sizeof(*s->procs));
	memset(&s->procs[s->nprocs], 0, sizeof(*s->procs));	/* the slot may be a forgotten one */
	s->procs[s->nprocs].pid = pid;
	return &s->procs[s->nprocs++];
}

static bool is_object(const struct pmap *pm)
{
	return pm->inode && pm->path[0] == '/';
}

int sym__refresh(struct symbolizer *s, int pid)
{
	struct proc_maps *p = proc_get(s, pid, true);
	struct procmaps fresh, old = { p->maps, p->n };
	int err = procmaps__read(pid, &fresh);

	p->last_refresh_ns = mt_now_ns();
	if (err)
		return err;	/* keep what we had: the process may be gone */
	procmaps__release(&old);
	free(p->mappings);
	free(p->modules);
	p->maps = fresh.maps;
	p->n = fresh.n;
	p->mappings = xcalloc(p->n, sizeof(*p->mappings));
	p->modules = xcalloc(p->n, sizeof(*p->modules));
	for (size_t i = 0; i < p->n; i++) {
		const struct pmap *pm = &p->maps[i];
		struct mt_mapping *mm = xcalloc(1, sizeof(*mm));

		if (is_object(pm))
			p->modules[i] = module_get(s, pid, pm);
		mm->start = pm->start;
		mm->end = pm->end;
		mm->file_offset = pm->offset;
		mm->path = xstrdup(pm->path[0] ? pm->path : "[anon]");	/* freed with mm */
		mm->build_id = p->modules[i] ? p->modules[i]->build_id : NULL;
		xgrow(&s->mappings, &s->cap_mappings, s->nmappings + 1, sizeof(*s->mappings));
		s->mappings[s->nmappings++] = p->mappings[i] = mm;
	}
	return 0;
}

/* Drop everything kept for pid (whole-machine tracing forgets exited processes). */
void sym__forget(struct symbolizer *s, int pid)
{
	struct proc_maps *p = proc_get(s, pid, false);
	struct procmaps pm;
	size_t keep_n = 0;

	if (!p)
		return;
	for (size_t i = 0; i < s->nmappings; i++) {
		bool mine = false;

		for (size_t k = 0; k < p->n && !mine; k++)
			mine = s->mappings[i] == p->mappings[k];
		if (mine) {
			free((char *)s->mappings[i]->path);
			free(s->mappings[i]);
		} else {
			s->mappings[keep_n++] = s->mappings[i];
		}
	}
	s->nmappings = keep_n;
	pm = (struct procmaps){ p->maps, p->n };
	procmaps__release(&pm);
	free(p->mappings);
	free(p->modules);
	*p = s->procs[--s->nprocs];	/* order of procs does not matter */
}

static ssize_t find_map(const struct proc_maps *p, uint64_t addr)
{
	struct procmaps pm = { p->maps, p->n };
	const struct pmap *m = procmaps__find(&pm, addr);

	return m ? m - p->maps : -1;
}

void sym__cover(struct symbolizer *s, int pid, const uint64_t *addrs, uint32_t n)
{
	struct proc_maps *p = proc_get(s, pid, false);

	if (p && mt_now_ns() - p->last_refresh_ns < 1000000)
		return;	/* re-read at most once a millisecond: the mapping may be truly absent */
	for (uint32_t i = 0; p && i < n; i++)
		if (find_map(p, addrs[i]) < 0)
			p = NULL;
	if (!p)
		sym__refresh(s, pid);
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

void sym__resolve(struct symbolizer *s, int pid, uint64_t addr, struct mt_frame *out)
{
	struct proc_maps *p = proc_get(s, pid, false);
	ssize_t i = p ? find_map(p, addr) : -1;
	struct module *m;
	struct sym_entry e;
	bool ok;

	memset(out, 0, sizeof(*out));
	out->addr = addr;
	out->module_offset = addr;
	if (i < 0)
		return;
	out->mapping = p->mappings[i];
	m = p->modules[i];
	if (!m)
		return;
	out->module_offset = file_offset_to_vaddr(m, addr - p->maps[i].start + p->maps[i].offset, &ok);
	if (!ok)
		return;
	e = lookup(s, m, out->module_offset);
	out->function = e.function;
	out->file = e.file;
	out->line = e.line;
}
