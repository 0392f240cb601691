// SPDX-License-Identifier: BSD-2-Clause
/*
 * One object as the symbolizer reads it. Each is its own Dwfl, reported at bias 0, so lookups
 * use the object's own ELF addresses. Names come from the ELF symbol around the address, lines
 * from DWARF's line table, and the calls inlined there from DWARF's scopes (inlines.c): an
 * address becomes one frame per inlined call, each named after the function whose line it shows.
 *
 * Debug info is looked for where the object is (its own sections, /usr/lib/debug by build id,
 * its .gnu_debuglink beside it) by a find_debuginfo callback of our own: elfutils' standard one
 * would also ask debuginfod, in the middle of a lookup. Missing debug info is fetched from
 * debuginfod when servers are given (debuginfod.c), on a thread: until it comes, the object's
 * frames are what its ELF symbols say, and are not cached. A fetched file is then opened as a
 * second Dwfl of its own (a separate debug file has the object's addresses and a full symbol
 * table), together with its dwz file when it has one.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <elfutils/libdwelf.h>
#include <elfutils/libdwfl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "lib/htab.h"
#include "lib/util.h"
#include "symbolize/debuginfod.h"
#include "symbolize/inlines.h"
#include "symbolize/objfile.h"
#include "symbolize/symstore.h"

#define DEBUG_DIR "/usr/lib/debug"

enum debug_state {
	DEBUG_UNKNOWN,			/* not looked for yet */
	DEBUG_LOCAL,			/* the object's Dwfl found it */
	DEBUG_NONE,			/* nowhere: ELF symbols only */
	DEBUG_FETCHING,			/* asked of debuginfod */
	DEBUG_FETCHED,			/* dbg_mod is the fetched file */
};

struct entry {
	uint32_t n;
	const struct sym_line *v;
};

struct objfile_dw {
	Dwfl *dwfl;
	Dwfl_Module *mod;		/* NULL when the file is not ELF */
	GElf_Phdr *loads;		/* PT_LOAD headers, to turn file offsets into ELF addresses */
	size_t nloads;
	char *opened;			/* the path it was opened at (/proc/PID/root/...) */
	char *link;			/* its .gnu_debuglink, or NULL */
	struct htab *cache;		/* ELF address + 1 -> struct entry */
	enum debug_state debug;
	Dwfl *dbg_dwfl;			/* DEBUG_FETCHED: the debug file as a module of its own */
	Dwfl_Module *dbg_mod;
	char *alt_id;			/* the fetched file's dwz file's build id; "" for none */
	char *alt_path;			/* that dwz file, fetched as well */
	struct inlines *inl;		/* NULL until an address needs it */
	struct inline_call *calls;	/* scratch for inlines__at() */
	size_t cap_calls;
};

/* ------------------------------------------------------------------------------------------ */
/* Finding debug info where the object is */

static bool build_id_is(Elf *elf, const char *want)
{
	const unsigned char *bits;
	ssize_t len = elf ? dwelf_elf_gnu_build_id(elf, (const void **)&bits) : -1;
	char hex[3];

	if (len <= 0 || strlen(want) != 2 * (size_t)len)
		return false;
	for (ssize_t i = 0; i < len; i++) {
		snprintf(hex, sizeof(hex), "%02x", bits[i]);
		if (memcmp(hex, want + 2 * i, 2))
			return false;
	}
	return true;
}

static bool crc_is(int fd, GElf_Word want)
{
	unsigned char buf[65536];
	uLong crc = crc32(0, NULL, 0);
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		crc = crc32(crc, buf, (uInt)n);
	lseek(fd, 0, SEEK_SET);
	return n == 0 && crc == want;
}

/* path, if it is the debug file of o: same build id, or (o has none) the CRC debuglink gave. */
static int try_debug_file(const struct objfile *o, const char *path, GElf_Word crc, char **name)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool good;

	if (fd < 0)
		return -1;
	if (o->build_id) {
		Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);

		good = build_id_is(elf, o->build_id);
		elf_end(elf);
	} else {
		good = crc_is(fd, crc);
	}
	if (!good) {
		close(fd);
		return -1;
	}
	*name = xstrdup(path);
	return fd;
}

/*
 * .gnu_debuglink's file where gdb looks: beside the object, in .debug/ there, and under
 * /usr/lib/debug by the object's directory -- in the process's root first (a container), then
 * in ours.
 */
static int find_by_debuglink(const struct objfile *o, const char *opened, const char *link,
			     GElf_Word crc, char **name)
{
	size_t plen = strlen(o->path), olen = strlen(opened);
	const char *slash = strrchr(opened, '/'), *pslash = strrchr(o->path, '/');
	int dlen = slash ? (int)(slash - opened) : 0, pdlen = pslash ? (int)(pslash - o->path) : 0;
	int rlen = olen >= plen && !strcmp(opened + olen - plen, o->path) ? (int)(olen - plen) : 0;
	char *cand[4];
	int fd = -1;

	if (!link || !*link || strchr(link, '/'))
		return -1;
	cand[0] = xasprintf("%.*s/%s", dlen, opened, link);
	cand[1] = xasprintf("%.*s/.debug/%s", dlen, opened, link);
	cand[2] = xasprintf("%.*s" DEBUG_DIR "%.*s/%s", rlen, opened, pdlen, o->path, link);
	cand[3] = xasprintf(DEBUG_DIR "%.*s/%s", pdlen, o->path, link);
	for (int i = 0; i < 4; i++) {
		if (fd < 0 && strcmp(cand[i], opened) && (i < 3 || rlen))
			fd = try_debug_file(o, cand[i], crc, name);
		free(cand[i]);
	}
	return fd;
}

/*
 * libdwfl asks for the object's separate debug file, or once it has DWARF, for the dwz file
 * holding what its DWARF shares with other objects' (.gnu_debugaltlink).
 */
static int find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, GElf_Addr base,
			  const char *file_name, const char *debuglink, GElf_Word crc, char **name)
{
	struct objfile *o = *userdata;
	int fd = dwfl_build_id_find_debuginfo(mod, userdata, modname, base, file_name, debuglink, crc,
					      name);
	bool alt;

	if (fd >= 0 || !o || !o->dw)
		return fd;
	/*
	 * The dwz file is asked for by its .gnu_debugaltlink name, the debug file by the object's
	 * .gnu_debuglink (or none). (Asking libdwfl whether the DWARF is loaded would not do: the
	 * symbol table's search comes here first, and that question would start the DWARF's.)
	 */
	alt = debuglink && !(o->dw->link && !strcmp(debuglink, o->dw->link));
	if (!alt)
		fd = find_by_debuglink(o, o->dw->opened, debuglink, crc, name);
	else if (o->dw->alt_path && (fd = open(o->dw->alt_path, O_RDONLY | O_CLOEXEC)) >= 0)
		*name = xstrdup(o->dw->alt_path);
	errno = 0;	/* as dwfl_standard_find_debuginfo: nothing found is not an error */
	return fd;
}

static const Dwfl_Callbacks callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = find_debuginfo,
	.section_address = dwfl_offline_section_address,
};

/* One Dwfl holding the ELF file at path (fd taken); its module, or NULL. */
static Dwfl_Module *report(struct objfile *o, const char *path, int fd, Dwfl **dwfl)
{
	Dwfl_Module *mod;
	void **userdata;

	*dwfl = dwfl_begin(&callbacks);
	mod = *dwfl ? dwfl_report_elf(*dwfl, o->path, path, fd, 0, false) : NULL;
	if (!mod) {
		mt_debug("cannot read %s as ELF: %s", path, dwfl_errmsg(-1));
		close(fd);
		return NULL;
	}
	dwfl_report_end(*dwfl, NULL, NULL);
	dwfl_module_info(mod, &userdata, NULL, NULL, NULL, NULL, NULL, NULL);
	*userdata = o;
	return mod;
}

/* ------------------------------------------------------------------------------------------ */
/* Opening */

struct objfile *objfile__stub(const struct pmap *pm)
{
	struct objfile *o = xcalloc(1, sizeof(*o));

	o->dev = pm->dev;
	o->inode = pm->inode;
	o->path = xstrdup(pm->path);
	return o;
}

static void read_loads(struct objfile_dw *dw, Elf *elf)
{
	size_t n;

	if (!elf || elf_getphdrnum(elf, &n))
		return;
	dw->loads = xcalloc(n, sizeof(*dw->loads));
	for (size_t i = 0; i < n; i++)
		if (gelf_getphdr(elf, (int)i, &dw->loads[dw->nloads]) &&
		    dw->loads[dw->nloads].p_type == PT_LOAD)
			dw->nloads++;
}

static void read_build_id(struct objfile *o)
{
	const unsigned char *bits;
	GElf_Addr vaddr;
	int len = dwfl_module_build_id(o->dw->mod, &bits, &vaddr);

	if (len <= 0)
		return;
	o->build_id = xmalloc(2 * (size_t)len + 1);
	for (int i = 0; i < len; i++)
		sprintf(o->build_id + 2 * i, "%02x", bits[i]);
}

struct objfile *objfile__open(char *path, const struct pmap *pm)
{
	struct objfile *o = objfile__stub(pm);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Dwarf_Addr bias;

	if (fd < 0) {
		mt_debug("cannot open %s: %s", path, strerror(errno));
		free(path);
		return o;
	}
	o->dw = xcalloc(1, sizeof(*o->dw));
	o->dw->opened = path;
	o->dw->cache = htab__new(sizeof(struct entry));
	o->dw->mod = report(o, path, fd, &o->dw->dwfl);
	if (o->dw->mod) {
		Elf *elf = dwfl_module_getelf(o->dw->mod, &bias);
		GElf_Word crc;
		const char *link = elf ? dwelf_elf_gnu_debuglink(elf, &crc) : NULL;

		read_loads(o->dw, elf);
		read_build_id(o);
		o->dw->link = link ? xstrdup(link) : NULL;
	}
	return o;
}

void objfile__close(struct objfile *o)
{
	struct objfile_dw *dw = o->dw;

	if (!dw)
		return;
	if (dw->dwfl)
		dwfl_end(dw->dwfl);
	if (dw->dbg_dwfl)
		dwfl_end(dw->dbg_dwfl);
	inlines__free(dw->inl);
	htab__free(dw->cache);
	free(dw->calls);
	free(dw->loads);
	free(dw->opened);
	free(dw->link);
	free(dw->alt_id);
	free(dw->alt_path);
	free(dw);
	o->dw = NULL;
}

void objfile__free(struct objfile *o)
{
	if (!o)
		return;
	objfile__close(o);
	free(o->build_id);
	free(o->path);
	free(o);
}

bool objfile__vaddr(const struct objfile *o, uint64_t off, uint64_t *vaddr)
{
	*vaddr = off;
	for (size_t i = 0; o->dw && i < o->dw->nloads; i++) {
		const GElf_Phdr *ph = &o->dw->loads[i];

		if (off >= ph->p_offset && off < ph->p_offset + ph->p_filesz) {
			*vaddr = off - ph->p_offset + ph->p_vaddr;
			return true;
		}
	}
	return false;
}

/* ------------------------------------------------------------------------------------------ */
/* Debug info fetched from debuginfod */

/* The build id of the dwz file a debug file refers to (malloc'd hex), or NULL. */
static char *alt_build_id(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf *elf = fd >= 0 ? elf_begin(fd, ELF_C_READ_MMAP, NULL) : NULL;
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	char *hex = NULL;

	while (elf && !hex && !elf_getshdrstrndx(elf, &shstrndx) && (scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *name = gelf_getshdr(scn, &sh) ? elf_strptr(elf, shstrndx, sh.sh_name) : NULL;
		Elf_Data *data = name && !strcmp(name, ".gnu_debugaltlink") ? elf_getdata(scn, NULL) : NULL;
		const unsigned char *p = data ? data->d_buf : NULL;
		size_t at = p ? strnlen((const char *)p, data->d_size) + 1 : 0;

		if (!p || at >= data->d_size)
			continue;
		hex = xcalloc(2 * (data->d_size - at) + 1, 1);
		for (size_t i = at; i < data->d_size; i++)
			sprintf(hex + 2 * (i - at), "%02x", p[i]);
	}
	elf_end(elf);
	if (fd >= 0)
		close(fd);
	return hex;
}

static bool have_local(const char *build_id)
{
	char *path = xasprintf(DEBUG_DIR "/.build-id/%.2s/%s.debug", build_id, build_id + 2);
	bool yes = strlen(build_id) > 2 && !access(path, R_OK);

	free(path);
	return yes;
}

static void open_fetched(struct objfile *o, const char *path)
{
	struct objfile_dw *dw = o->dw;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		mt_debug("cannot open %s: %s", path, strerror(errno));
		return;
	}
	dw->dbg_mod = report(o, path, fd, &dw->dbg_dwfl);
	if (!dw->dbg_mod && dw->dbg_dwfl) {
		dwfl_end(dw->dbg_dwfl);
		dw->dbg_dwfl = NULL;
	}
	mt_debug("%s: debug info from debuginfod, %s", o->path, path);
}

/* What debuginfod said of the object's debug file: true once it is settled, either way. */
static bool poll_fetch(struct objfile *o, struct debuginfod *d)
{
	struct objfile_dw *dw = o->dw;
	const char *path, *alt_path;

	switch (debuginfod__get(d, o->build_id, &path)) {
	case DEBUGINFOD_PENDING:
		return false;
	case DEBUGINFOD_NONE:
		dw->debug = DEBUG_NONE;
		return true;
	case DEBUGINFOD_FOUND:
		break;
	}
	if (!dw->alt_id) {	/* read once: this runs at each lookup until the dwz file came */
		char *alt = alt_build_id(path);

		dw->alt_id = alt && !have_local(alt) ? alt : xstrdup("");
		if (dw->alt_id != alt)
			free(alt);
	}
	if (*dw->alt_id) {
		switch (debuginfod__get(d, dw->alt_id, &alt_path)) {
		case DEBUGINFOD_PENDING:
			return false;
		case DEBUGINFOD_FOUND:
			dw->alt_path = xstrdup(alt_path);
			break;
		case DEBUGINFOD_NONE:
			break;	/* the DWARF without what it shares: most names still read */
		}
	}
	open_fetched(o, path);
	dw->debug = dw->dbg_mod ? DEBUG_FETCHED : DEBUG_NONE;
	return true;
}

/* Where the object's debug info comes from, decided at its first lookup. */
static void settle_debug(struct objfile *o, struct symstore *st)
{
	struct objfile_dw *dw = o->dw;
	Dwarf_Addr bias;

	if (dw->debug == DEBUG_UNKNOWN) {
		if (dwfl_module_getdwarf(dw->mod, &bias))
			dw->debug = DEBUG_LOCAL;
		else if (symstore__fetcher(st) && o->build_id)
			dw->debug = DEBUG_FETCHING;
		else
			dw->debug = DEBUG_NONE;
	}
	if (dw->debug == DEBUG_FETCHING && poll_fetch(o, symstore__fetcher(st))) {
		htab__free(dw->cache);	/* frames read without it */
		dw->cache = htab__new(sizeof(struct entry));
	}
}

/* ------------------------------------------------------------------------------------------ */
/* Lookups */

static void resolve(struct objfile *o, struct symstore *st, uint64_t vaddr, struct entry *e)
{
	struct objfile_dw *dw = o->dw;
	Dwfl_Module *mod = dw->dbg_mod ? dw->dbg_mod : dw->mod;
	/* A return address points after the call: look up the call instruction itself. */
	Dwarf_Addr pc = vaddr - 1, bias;
	const char *fn, *file = NULL;
	Dwarf_Die *cu = NULL;
	struct sym_line *v;
	int lineno = 0;
	Dwfl_Line *line;
	GElf_Off off;
	GElf_Sym sym;
	size_t n = 0;

	fn = dwfl_module_addrinfo(mod, pc, &off, &sym, NULL, NULL, NULL);
	line = dwfl_module_getsrc(mod, pc);
	if (line)
		file = dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL);
	if (dw->debug == DEBUG_LOCAL || dw->debug == DEBUG_FETCHED)
		cu = dwfl_module_addrdie(mod, pc, &bias);
	if (cu) {
		if (!dw->inl)
			dw->inl = inlines__new();
		n = inlines__at(dw->inl, cu, pc - bias, &dw->calls, &dw->cap_calls);
	}
	/*
	 * Innermost first. The innermost inlined function is at the address's own line; each one
	 * further out at the line where it called the one inside it; the function the code lies in
	 * (named by its ELF symbol) at the line of the outermost call.
	 */
	v = symstore__alloc(st, (n + 1) * sizeof(*v));
	for (size_t i = 0; i <= n; i++) {
		v[i].function = symstore__name(st, i < n ? dw->calls[i].name : fn);
		v[i].file = symstore__keep(st, i ? dw->calls[i - 1].call_file : file);
		v[i].line = i ? dw->calls[i - 1].call_line : lineno;
		v[i].inlined = i < n;
	}
	e->n = (uint32_t)n + 1;
	e->v = v;
}

uint32_t objfile__lookup(struct objfile *o, struct symstore *st, uint64_t vaddr,
			 const struct sym_line **lines, bool *pending)
{
	struct objfile_dw *dw = o->dw;
	struct entry *e;
	bool existed;

	*lines = NULL;
	*pending = false;
	if (!dw || !dw->mod)
		return 0;
	settle_debug(o, st);
	e = htab__insert(dw->cache, vaddr + 1, &existed);
	if (!existed)
		resolve(o, st, vaddr, e);
	*lines = e->v;
	*pending = dw->debug == DEBUG_FETCHING;
	return e->n;
}
