// SPDX-License-Identifier: BSD-2-Clause
/*
 * Finds CPython in a traced process: the executable or a libpython it maps that defines
 * _PyRuntime, its version from Py_Version (3.11+) or its file name, the layout for that version,
 * and whether memtrace can read its threads' state. Then tells the BPF walk through py_procs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "lib/htab.h"
#include "lib/procmaps.h"
#include "lib/procmem.h"
#include "probe/pyproc.h"
#include "python.h"
#include "lib/util.h"

enum { SYM_RUNTIME, SYM_VERSION, SYM_CODE_TYPE, SYM_EVAL, SYM_STR_TYPE, NSYMS };
static const char *const sym_names[NSYMS] = {
	"_PyRuntime", "Py_Version", "PyCode_Type", "_PyEval_EvalFrameDefault", "PyUnicode_Type",
};

struct interp {
	const struct pmap *map;		/* a mapping of the object (for its path, dev and inode) */
	uint64_t bias;			/* runtime address - ELF address */
	uint64_t value[NSYMS], size[NSYMS];
};

static void scan_symtab(Elf *elf, Elf_Scn *scn, struct interp *in)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	GElf_Shdr sh;

	if (!data || !gelf_getshdr(scn, &sh) || !sh.sh_entsize)
		return;
	for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
		GElf_Sym sym;
		const char *name;

		if (!gelf_getsym(data, i, &sym) || sym.st_shndx == SHN_UNDEF || !sym.st_value)
			continue;
		name = elf_strptr(elf, sh.sh_link, sym.st_name);
		for (int k = 0; name && k < NSYMS; k++)
			if (!in->value[k] && !strcmp(name, sym_names[k])) {
				in->value[k] = sym.st_value;
				in->size[k] = sym.st_size;
			}
	}
}

/* The ELF address its first loadable segment (file offset 0) is linked at. */
static uint64_t first_load_vaddr(Elf *elf)
{
	size_t n;

	if (elf_getphdrnum(elf, &n))
		return 0;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(elf, i, &ph) && ph.p_type == PT_LOAD && ph.p_offset == 0)
			return ph.p_vaddr & ~0xfffull;
	}
	return 0;
}

/* Read the symbols memtrace needs from one mapped object; false if it has no _PyRuntime. */
static bool read_object(int pid, const struct pmap *m, struct interp *in)
{
	char *path = xasprintf("/proc/%d/root%s", pid, m->path);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf *elf = NULL;
	Elf_Scn *scn = NULL;

	free(path);
	memset(in, 0, sizeof(*in));
	if (fd < 0)
		return false;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	while (elf && (scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;

		if (gelf_getshdr(scn, &sh) && (sh.sh_type == SHT_DYNSYM || sh.sh_type == SHT_SYMTAB))
			scan_symtab(elf, scn, in);
	}
	in->map = m;
	in->bias = m->start - first_load_vaddr(elf);
	elf_end(elf);
	close(fd);
	return in->value[SYM_RUNTIME] != 0;
}

static const char *base_name(const char *path)
{
	const char *b = strrchr(path, '/');

	return b ? b + 1 : path;
}

/* "python3.10" or "libpython3.10.so.1.0" -> "3.10"; false for other names. */
static bool version_from_name(const char *path, char *out, size_t len)
{
	const char *b = base_name(path);
	int major, minor;

	if (!strncmp(b, "lib", 3))
		b += 3;
	if (sscanf(b, "python%d.%d", &major, &minor) != 2)
		return false;
	snprintf(out, len, "%d.%d", major, minor);
	return true;
}

/* Mappings of the file at offset 0 that may hold an interpreter: the executable, any libpython. */
static bool find_interp(int pid, const struct procmaps *pm, struct interp *in, const struct pmap **named)
{
	char exe_link[64], exe[4096];
	ssize_t n;

	snprintf(exe_link, sizeof(exe_link), "/proc/%d/exe", pid);
	n = readlink(exe_link, exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = 0;
	*named = NULL;
	for (size_t i = 0; i < pm->n; i++) {
		const struct pmap *m = &pm->maps[i];
		bool is_exe = !strcmp(m->path, exe), is_lib = !strncmp(base_name(m->path), "libpython", 9);

		if (m->offset || !m->path[0] || !(is_exe || is_lib))
			continue;
		if (read_object(pid, m, in))
			return true;
		if (!*named && version_from_name(m->path, (char[16]){ 0 }, 16))
			*named = m;
	}
	return false;
}

static void unavailable(struct pyproc *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void unavailable(struct pyproc *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&p->why, fmt, ap) < 0)
		p->why = NULL;
	va_end(ap);
	p->state = PYPROC_UNAVAILABLE;
}

/* 3.13+: the interpreter describes itself; refuse a build whose layout differs from the table. */
static int check_debug_offsets(int pid, uint64_t runtime, const struct py_offsets *o)
{
	uint64_t d[44];

	if (procmem__read(pid, runtime, d, sizeof(d)))
		return -EFAULT;
	if (memcmp(d, "xdebugpy", 8))
		return -EPROTO;
	if (d[2])
		return -ENOTSUP;	/* free-threaded build: another frame and object layout */
	/* thread_state.current_frame; interpreter_frame.{previous, executable, instr_ptr, owner};
	 * code_object.{filename, qualname, linetable, firstlineno, co_code_adaptive} */
	if (d[23] != o->tstate_frame || d[29] != o->frame_previous || d[30] != o->frame_code ||
	    d[31] != o->frame_instr || d[33] != o->frame_owner || d[35] != o->code_filename ||
	    d[37] != o->code_qualname || d[38] != o->code_linetable ||
	    d[39] != o->code_firstlineno || d[43] != o->code_adaptive)
		return -EPROTO;
	return 0;
}

/* Is pid's C library the very file memtrace runs on (whose thread layout it measured)? */
static bool same_libc(const struct procmaps *pm)
{
	static struct pmap own;
	static bool known;
	struct procmaps self;

	if (!known && !procmaps__read(getpid(), &self)) {
		for (size_t i = 0; i < self.n; i++)
			if (!strncmp(base_name(self.maps[i].path), "libc.so", 7))
				own = (struct pmap){ .dev = self.maps[i].dev, .inode = self.maps[i].inode };
		procmaps__release(&self);
		known = true;
	}
	for (size_t i = 0; i < pm->n; i++)
		if (!strncmp(base_name(pm->maps[i].path), "libc.so", 7))
			return pm->maps[i].dev == own.dev && pm->maps[i].inode == own.inode;
	return false;
}

/*
 * How far before the TSS key the GIL holder's thread state lies, for the BPF walk to read both in
 * one copy, and the span from PyThreadState's frame field through thread_id that it then reads
 * in another; MT_PY_NONE where the version has no GIL holder in _PyRuntime or the layout does not
 * fit those copies (bpf/python.bpf.h, py_gil_holder).
 */
static uint16_t gil_back(const struct py_offsets *o)
{
	unsigned back = o->runtime_tss_key - o->runtime_gil_holder;

	if (o->runtime_gil_holder == MT_PY_NONE || o->tstate_thread_id == MT_PY_NONE ||
	    o->runtime_gil_holder > o->runtime_tss_key || back > MT_PY_GIL_BACK_MAX || (back & 7) ||
	    o->tstate_thread_id <= o->tstate_frame ||
	    o->tstate_thread_id + 8 - o->tstate_frame > MT_PY_TSTATE_SPAN_MAX ||
	    ((o->tstate_thread_id | o->tstate_frame) & 7))
		return MT_PY_NONE;
	return back;
}

static void configure(struct pyproc *p, const struct interp *in, const struct glibc_tsd *tsd,
		      int map_fd)
{
	const struct py_offsets *o = p->off;
	struct mt_py_proc cfg = {
		.tss_key_addr = in->bias + in->value[SYM_RUNTIME] + o->runtime_tss_key,
		.tsd_first = tsd->first,
		.tsd_second = tsd->second,
		.tstate_frame = o->tstate_frame,
		.cframe_frame = o->cframe_frame,
		.frame_code = o->frame_code,
		.frame_previous = o->frame_previous,
		.frame_instr = o->frame_instr,
		.frame_owner = o->frame_owner,
		.frame_is_entry = o->frame_is_entry,
		.code_adaptive = o->code_adaptive,
		.gil_back = gil_back(o),
		.tstate_thread_id = o->tstate_thread_id,
	};
	__u32 key = p->pid;

	if (bpf_map_update_elem(map_fd, &key, &cfg, BPF_ANY)) {
		unavailable(p, "the BPF map of Python processes is full (%s)", strerror(errno));
		return;
	}
	p->state = PYPROC_ON;
}

static void detect(struct pyproc *p, const struct procmaps *pm, const struct glibc_tsd *tsd,
		   int map_fd)
{
	const struct pmap *named;
	struct interp in;
	uint32_t hex;

	if (!find_interp(p->pid, pm, &in, &named)) {
		if (!named)
			return;		/* not Python */
		p->path = xstrdup(named->path);
		version_from_name(named->path, p->version, sizeof(p->version));
		unavailable(p, "Python %s is not supported (memtrace reads CPython %s)", p->version,
			    py_offsets__supported());
		return;
	}
	p->path = xstrdup(in.map->path);
	if (!in.value[SYM_VERSION] ||
	    procmem__read(p->pid, in.bias + in.value[SYM_VERSION], &hex, sizeof(hex))) {
		if (!version_from_name(p->path, p->version, sizeof(p->version)))
			snprintf(p->version, sizeof(p->version), "3.?");
		unavailable(p, "Python %s is not supported (memtrace reads CPython %s)", p->version,
			    py_offsets__supported());
		return;
	}
	snprintf(p->version, sizeof(p->version), "%u.%u.%u", hex >> 24, hex >> 16 & 0xff, hex >> 8 & 0xff);
	p->off = py_offsets__find(hex >> 24, hex >> 16 & 0xff);
	if (!p->off) {
		unavailable(p, "Python %s is not supported (memtrace reads CPython %s)", p->version,
			    py_offsets__supported());
		return;
	}
	if (p->off->minor >= 13) {
		int err = check_debug_offsets(p->pid, in.bias + in.value[SYM_RUNTIME], p->off);

		if (err) {
			unavailable(p, "this Python %s build %s", p->version,
				    err == -ENOTSUP ? "is free-threaded, which memtrace does not read" :
				    "lays out its frames unlike CPython's release (_Py_DebugOffsets differ)");
			return;
		}
	}
	if (!tsd) {
		unavailable(p, "memtrace could not find glibc's thread-specific data layout");
		return;
	}
	if (!same_libc(pm)) {
		unavailable(p, "it runs another C library than memtrace, whose thread layout memtrace did not measure");
		return;
	}
	if (!in.value[SYM_CODE_TYPE]) {
		unavailable(p, "%s exports no PyCode_Type", p->path);
		return;
	}
	p->code_type = in.bias + in.value[SYM_CODE_TYPE];
	p->str_type = in.value[SYM_STR_TYPE] ? in.bias + in.value[SYM_STR_TYPE] : 0;
	if (in.value[SYM_EVAL]) {
		p->eval_lo = in.bias + in.value[SYM_EVAL];
		p->eval_hi = p->eval_lo + in.size[SYM_EVAL];
	}
	configure(p, &in, tsd, map_fd);
}

void pyproc__detect(struct pyproc *p, int pid, const struct glibc_tsd *tsd, int map_fd)
{
	struct procmaps pm;

	p->pid = pid;
	p->state = PYPROC_NONE;
	if (procmaps__read(pid, &pm))
		return;
	detect(p, &pm, tsd, map_fd);
	procmaps__release(&pm);
	if (p->state != PYPROC_NONE) {
		p->pythonmalloc = procmem__env(pid, "PYTHONMALLOC");
		p->codes = htab__new(sizeof(uint32_t));
	}
	mt_debug("pid %d: %s%s%s%s", pid, p->state == PYPROC_NONE ? "no CPython" : "CPython ",
		 p->state == PYPROC_NONE ? "" : p->version, p->why ? ": " : "", p->why ? p->why : "");
}

void pyproc__release(struct pyproc *p)
{
	free(p->path);
	free(p->why);
	free(p->pythonmalloc);
	htab__free(p->codes);
	memset(p, 0, sizeof(*p));
}
