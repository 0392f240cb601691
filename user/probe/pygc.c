// SPDX-License-Identifier: BSD-2-Clause
/*
 * Where CPython's cycle collector starts in an interpreter object: gc_collect_main. By its symbol
 * where the object keeps a symbol table (builds from source, pyenv's); in a stripped one
 * (Debian's python3.11) from the exported PyGC_Collect, which calls the collector directly or
 * through gc_collect_with_callback: the collector is by far the largest function it reaches
 * within two calls (5 KiB in Debian's 3.11, against a few dozen bytes for the callback helpers).
 * A function runs from its start to the next function's, the starts read from .eh_frame_hdr's
 * search table (user/probe/unwind_table.c); calls are read with capstone.
 */
#include <capstone/capstone.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/util.h"
#include "probe/elfsym.h"
#include "probe/pygc.h"
#include "probe/unwind_table.h"

#define MIN_COLLECTOR_BYTES 1024	/* gc_collect_main is kilobytes of code in every version */
#define MAX_CALLS 64

struct object {
	int fd;
	Elf *elf;
	uint64_t *starts;		/* every function's start, sorted */
	size_t nstarts;
	uint64_t *exported;		/* addresses of exported functions: never the collector */
	size_t nexported, cap_exported;
	uint64_t gc_main, gc_api;	/* gc_collect_main's and PyGC_Collect's addresses, or 0 */
};

static void read_symbols(struct object *o)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(o->elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM) ||
		    !sh.sh_entsize || !(d = elf_getdata(scn, NULL)))
			continue;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym s;
			const char *name;

			if (!gelf_getsym(d, i, &s) || GELF_ST_TYPE(s.st_info) != STT_FUNC || !s.st_value)
				continue;
			name = elf_strptr(o->elf, sh.sh_link, s.st_name);
			if (name && !strcmp(name, "gc_collect_main"))
				o->gc_main = s.st_value;
			if (name && !strcmp(name, "PyGC_Collect"))
				o->gc_api = s.st_value;
			if (sh.sh_type == SHT_DYNSYM && s.st_shndx != SHN_UNDEF) {
				xgrow(&o->exported, &o->cap_exported, o->nexported + 1, sizeof(uint64_t));
				o->exported[o->nexported++] = s.st_value;
			}
		}
	}
}

static bool is_exported(const struct object *o, uint64_t addr)
{
	for (size_t i = 0; i < o->nexported; i++)
		if (o->exported[i] == addr)
			return true;
	return false;
}

/* The function that starts at addr: [*start, *end), up to the next function's start. */
static bool extent(const struct object *o, uint64_t addr, uint64_t *start, uint64_t *end)
{
	size_t lo = 0, hi = o->nstarts;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (o->starts[mid] <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || o->starts[lo - 1] != addr || lo == o->nstarts)
		return false;
	*start = addr;
	*end = o->starts[lo];
	return true;
}

/* The direct calls and tail jumps of the function at addr, into out (at most max). */
static size_t calls_of(const struct object *o, uint64_t addr, uint64_t *out, size_t max)
{
	uint64_t start, end, off = elfsym__file_offset(o->elf, addr), at;
	size_t n = 0, len;
	uint8_t *code;
	const uint8_t *p;
	csh h;
	cs_insn *insn;

	if (!off || !extent(o, addr, &start, &end) || start != addr || end - start > (1 << 20))
		return 0;
	len = end - start;
	code = xmalloc(len);
	if (pread(o->fd, code, len, (off_t)off) != (ssize_t)len || cs_open(CS_ARCH_X86, CS_MODE_64, &h)) {
		free(code);
		return 0;
	}
	cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
	insn = cs_malloc(h);
	p = code;
	at = start;
	while (n < max && cs_disasm_iter(h, &p, &len, &at, insn)) {
		const cs_x86 *x = &insn->detail->x86;
		bool call = insn->id == X86_INS_CALL, jump = insn->id == X86_INS_JMP;

		if ((call || jump) && x->op_count == 1 && x->operands[0].type == X86_OP_IMM) {
			uint64_t to = (uint64_t)x->operands[0].imm;

			if (call || to < start || to >= end)	/* a jump out of it is a tail call */
				out[n++] = to;
		}
	}
	cs_free(insn, 1);
	cs_close(&h);
	free(code);
	return n;
}

/* The largest function PyGC_Collect reaches within two calls, exported ones aside. */
static uint64_t collector_by_calls(const struct object *o)
{
	uint64_t first[MAX_CALLS], second[MAX_CALLS], best = 0, best_size = 0, s, e;
	size_t n = calls_of(o, o->gc_api, first, MAX_CALLS);

	for (size_t i = 0; i < n; i++) {
		size_t m = is_exported(o, first[i]) ? 0 : calls_of(o, first[i], second, MAX_CALLS);

		for (size_t j = 0; j <= m; j++) {
			uint64_t f = j < m ? second[j] : first[i];

			if (is_exported(o, f) || !extent(o, f, &s, &e) || s != f)
				continue;
			if (e - s > best_size) {
				best = f;
				best_size = e - s;
			}
		}
	}
	return best_size >= MIN_COLLECTOR_BYTES ? best : 0;
}

int pygc__find(const char *path, bool by_symbol, uint64_t *offset)
{
	struct object o = { .fd = open(path, O_RDONLY | O_CLOEXEC) };
	uint64_t vaddr = 0;

	*offset = 0;
	if (o.fd < 0)
		return -errno;
	elf_version(EV_CURRENT);
	o.elf = elf_begin(o.fd, ELF_C_READ_MMAP, NULL);
	if (o.elf) {
		read_symbols(&o);
		if (o.gc_api)	/* no PyGC_Collect defined: no CPython, whatever else it has */
			unwind_table__starts(o.elf, &o.starts, &o.nstarts);
		if (o.gc_api && by_symbol && o.gc_main)
			vaddr = o.gc_main;
		else if (o.gc_api)
			vaddr = collector_by_calls(&o);
		if (vaddr)
			*offset = elfsym__file_offset(o.elf, vaddr);
	}
	free(o.starts);
	if (o.elf)
		elf_end(o.elf);
	free(o.exported);
	close(o.fd);
	return *offset ? 0 : -ENOENT;
}
