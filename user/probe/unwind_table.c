// SPDX-License-Identifier: BSD-2-Clause
/*
 * Compact unwind tables from .eh_frame. libdw interprets the CFI (dwarf_cfi_addrframe gives the
 * rules in force at a pc and the range they cover); this file walks every function listed in
 * .eh_frame_hdr range by range and keeps only what the BPF unwinder needs on x86-64: how to find
 * the CFA, where the caller's rbp was saved, and that the return address sits just below the CFA.
 * Rows whose rules differ only in other registers are merged, so a table is a few bytes per
 * function.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probe/unwind_table.h"
#include "lib/util.h"

/* DWARF register numbers on x86-64. */
enum { REG_RBP = 6, REG_RSP = 7, REG_RA = 16 };

/* The classic PLT CFA expression: rsp + A + (((rip & 15) >= B) << 3). */
static const uint8_t plt_expr[] = { DW_OP_breg7, DW_OP_breg16, DW_OP_lit15, DW_OP_and, 0,
				    DW_OP_ge,    DW_OP_lit3,   DW_OP_shl,   DW_OP_plus };

static bool is_plt(const Dwarf_Op *ops, size_t n, struct mt_unwind_row *r)
{
	if (n != sizeof(plt_expr))
		return false;
	for (size_t i = 0; i < n; i++)
		if (plt_expr[i] && ops[i].atom != plt_expr[i])
			return false;
	if (ops[1].number || ops[4].atom < DW_OP_lit0 || ops[4].atom > DW_OP_lit31)
		return false;
	r->cfa_rule = MT_CFA_PLT;
	r->cfa_offset = (int32_t)ops[0].number;
	r->rbp_offset = ops[4].atom - DW_OP_lit0;	/* the threshold */
	return true;
}

static bool fits(int64_t v, int64_t lo, int64_t hi) { return v >= lo && v <= hi; }

static void set_cfa(struct mt_unwind_row *r, uint8_t rule, int64_t off)
{
	r->cfa_rule = fits(off, INT32_MIN, INT32_MAX) ? rule : MT_CFA_UNSUPPORTED;
	r->cfa_offset = (int32_t)off;
}

static void cfa_rule(Dwarf_Frame *f, bool signal, struct mt_unwind_row *r)
{
	Dwarf_Op *ops;
	size_t n;

	r->cfa_rule = MT_CFA_UNSUPPORTED;
	if (dwarf_frame_cfa(f, &ops, &n) || n == 0)
		return;
	if (n == 1 && ops[0].atom == DW_OP_bregx && (ops[0].number == REG_RSP || ops[0].number == REG_RBP))
		set_cfa(r, ops[0].number == REG_RSP ? MT_CFA_RSP : MT_CFA_RBP, (int64_t)ops[0].number2);
	else if (n == 2 && ops[1].atom == DW_OP_deref && ops[0].atom == DW_OP_breg6 && !signal)
		set_cfa(r, MT_CFA_DEREF_RBP, (int64_t)ops[0].number);
	else if (n == 2 && ops[1].atom == DW_OP_deref && ops[0].atom == DW_OP_breg7 && signal)
		set_cfa(r, MT_CFA_SIGNAL, (int64_t)ops[0].number);
	else
		is_plt(ops, n, r);
}

/* Classify a register rule: 1 undefined, 0 same value, 2 "at CFA + *off", 3 "at breg + *off". */
static int reg_rule(Dwarf_Frame *f, int reg, int *breg, int64_t *off)
{
	Dwarf_Op mem[3], *ops;
	size_t n;

	if (dwarf_frame_register(f, reg, mem, &ops, &n))
		return -1;
	if (n == 0)
		return ops == mem ? 1 : 0;
	if (ops[0].atom == DW_OP_call_frame_cfa && (n == 1 || (n == 2 && ops[1].atom == DW_OP_plus_uconst))) {
		*off = n == 2 ? (int64_t)ops[1].number : 0;
		return 2;
	}
	/* DW_CFA_expression: libdw pushes the CFA first, as DWARF says; the expression ignores it. */
	if (n == 2 && ops[0].atom == DW_OP_call_frame_cfa && ops[1].atom >= DW_OP_breg0 &&
	    ops[1].atom <= DW_OP_breg31) {
		*breg = ops[1].atom - DW_OP_breg0;
		*off = (int64_t)ops[1].number;
		return 3;
	}
	return -1;
}

/*
 * The return address: at CFA - 8 in every ordinary frame. A signal frame's "CFA" is the
 * interrupted sp read from the ucontext; its pc is saved right after it (struct sigcontext).
 */
static void ra_rule(Dwarf_Frame *f, struct mt_unwind_row *r)
{
	int64_t off = 0;
	int breg = -1;
	int rule = reg_rule(f, REG_RA, &breg, &off);

	if (rule == 1)
		r->cfa_rule = MT_CFA_END;
	else if (r->cfa_rule == MT_CFA_SIGNAL)
		r->cfa_rule = rule == 3 && breg == REG_RSP && off == r->cfa_offset + 8 ?
				      MT_CFA_SIGNAL : MT_CFA_UNSUPPORTED;
	else if (rule != 2 || off != -8)
		r->cfa_rule = MT_CFA_UNSUPPORTED;
}

static void rbp_rule(Dwarf_Frame *f, struct mt_unwind_row *r)
{
	int64_t off = 0;
	int breg = -1;
	int rule = reg_rule(f, REG_RBP, &breg, &off);
	bool signal = r->cfa_rule == MT_CFA_SIGNAL;

	r->rbp_rule = MT_RBP_SAME;
	if (rule == 0 || rule == 1 || r->cfa_rule == MT_CFA_END || r->cfa_rule == MT_CFA_PLT)
		return;
	if (rule == 2 && !signal && fits(off, INT16_MIN, INT16_MAX)) {
		r->rbp_rule = MT_RBP_AT_CFA;
	} else if (rule == 3 && breg == (signal ? REG_RSP : REG_RBP) && fits(off, INT16_MIN, INT16_MAX)) {
		r->rbp_rule = signal ? MT_RBP_SAME : MT_RBP_AT_RBP;	/* signal: implied by the row */
	} else {
		r->cfa_rule = MT_CFA_UNSUPPORTED;
		return;
	}
	r->rbp_offset = (int16_t)off;
}

static struct mt_unwind_row row_of(Dwarf_Frame *f, uint64_t pc, bool signal)
{
	struct mt_unwind_row r = { .pc = (uint32_t)pc };

	cfa_rule(f, signal, &r);
	if (r.cfa_rule != MT_CFA_UNSUPPORTED)
		ra_rule(f, &r);
	if (r.cfa_rule != MT_CFA_UNSUPPORTED)
		rbp_rule(f, &r);
	if (r.cfa_rule == MT_CFA_UNSUPPORTED || r.cfa_rule == MT_CFA_END)
		r.cfa_offset = r.rbp_offset = 0, r.rbp_rule = MT_RBP_SAME;
	return r;
}

static bool same_rules(const struct mt_unwind_row *a, const struct mt_unwind_row *b)
{
	return a->cfa_rule == b->cfa_rule && a->cfa_offset == b->cfa_offset &&
	       a->rbp_rule == b->rbp_rule && a->rbp_offset == b->rbp_offset;
}

static void push(struct unwind_table *t, struct mt_unwind_row r)
{
	struct mt_unwind_row *last = t->n ? &t->rows[t->n - 1] : NULL;

	if (last && r.pc <= last->pc) {		/* overlapping FDEs: the later one wins */
		*last = r;
		if (t->n > 1 && same_rules(&t->rows[t->n - 2], last))
			t->n--;
		return;
	}
	if (last && same_rules(last, &r))
		return;
	xgrow(&t->rows, &t->cap, t->n + 1, sizeof(*t->rows));
	t->rows[t->n++] = r;
}

/* Rows of one function, from its first pc until its rules end or the next function begins. */
static void add_function(struct unwind_table *t, Dwarf_CFI *cfi, uint64_t pc, uint64_t next,
			 uint32_t *nrbp)
{
	bool uses_rbp = false;

	while (pc < next && pc <= UINT32_MAX) {
		Dwarf_Frame *f = NULL;
		Dwarf_Addr start, end;
		bool signal = false;
		struct mt_unwind_row r;

		if (dwarf_cfi_addrframe(cfi, pc, &f) || !f) {
			push(t, (struct mt_unwind_row){ .pc = (uint32_t)pc, .cfa_rule = MT_CFA_NONE });
			break;
		}
		dwarf_frame_info(f, &start, &end, &signal);
		r = row_of(f, pc, signal);
		free(f);
		t->nunsupported += r.cfa_rule == MT_CFA_UNSUPPORTED;
		uses_rbp |= r.cfa_rule == MT_CFA_RBP;
		push(t, r);
		if (end <= pc)
			break;
		pc = end;
	}
	*nrbp += uses_rbp;
	t->nfdes++;
}

/* Read an encoded count or pointer of .eh_frame_hdr; only the encodings linkers emit. */
static int read_encoded(const uint8_t **p, const uint8_t *end, uint8_t enc, int64_t *v)
{
	switch (enc & 0x0f) {
	case DW_EH_PE_udata4:
	case DW_EH_PE_sdata4: {
		int32_t x;

		if (end - *p < 4)
			return -EINVAL;
		memcpy(&x, *p, 4);
		*v = (enc & 0x0f) == DW_EH_PE_udata4 ? (int64_t)(uint32_t)x : x;
		*p += 4;
		return 0;
	}
	case DW_EH_PE_udata8:
	case DW_EH_PE_sdata8:
		if (end - *p < 8)
			return -EINVAL;
		memcpy(v, *p, 8);
		*p += 8;
		return 0;
	}
	return -ENOTSUP;
}

/* The sorted start addresses of every function, from the binary-search table of .eh_frame_hdr. */
static int read_fde_starts(Elf *elf, uint64_t **starts, size_t *n)
{
	const uint8_t *p, *end, *enc;
	Elf_Data *d = NULL;
	int err;
	int64_t ptr, count;
	GElf_Phdr ph;
	size_t nph;

	if (elf_getphdrnum(elf, &nph))
		return -EINVAL;
	for (size_t i = 0; i < nph && !d; i++)
		if (gelf_getphdr(elf, i, &ph) && ph.p_type == PT_GNU_EH_FRAME)
			d = elf_getdata_rawchunk(elf, ph.p_offset, ph.p_filesz, ELF_T_BYTE);
	if (!d)
		return -ENOENT;
	p = d->d_buf;
	end = p + d->d_size;
	/* version 1; the table must be datarel sdata4 pairs, which is what ld, gold and lld write */
	if (d->d_size < 4 || p[0] != 1 || p[3] != (DW_EH_PE_datarel | DW_EH_PE_sdata4))
		return -ENOTSUP;
	enc = p;
	p += 4;
	if ((err = read_encoded(&p, end, enc[1], &ptr)) || (err = read_encoded(&p, end, enc[2], &count)))
		return err;
	if (count < 0 || count > (end - p) / 8)
		return -EINVAL;
	*starts = xcalloc(count + 1, sizeof(**starts));
	for (int64_t i = 0; i < count; i++, p += 8) {
		int32_t rel;

		memcpy(&rel, p, 4);
		(*starts)[i] = ph.p_vaddr + (int64_t)rel;	/* datarel: from the header's start */
	}
	*n = count;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Static executables have no .eh_frame_hdr (gcc asks ld for one only when linking dynamically),
 * so the function starts come from the symbol table instead: libdw finds their CFI in .eh_frame
 * by itself. Aliases collapse to one start.
 */
static int read_symbol_starts(Elf *elf, uint64_t **starts, size_t *n)
{
	Elf_Scn *scn = NULL;
	size_t m = 0, cap = 0;

	*starts = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB || !(d = elf_getdata(scn, NULL)))
			continue;
		for (size_t i = 0; sh.sh_entsize && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;

			if (!gelf_getsym(d, i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC || !sym.st_value)
				continue;
			xgrow(starts, &cap, m + 1, sizeof(**starts));
			(*starts)[m++] = sym.st_value;
		}
	}
	if (!m)
		return -ENOENT;
	qsort(*starts, m, sizeof(**starts), cmp_u64);
	*n = 0;
	for (size_t i = 0; i < m; i++)
		if (!*n || (*starts)[*n - 1] != (*starts)[i])
			(*starts)[(*n)++] = (*starts)[i];
	return 0;
}

static void read_segments(Elf *elf, struct unwind_table *t)
{
	GElf_Phdr ph;
	size_t nph;

	if (elf_getphdrnum(elf, &nph))
		return;
	for (size_t i = 0; i < nph; i++)
		if (gelf_getphdr(elf, i, &ph) && ph.p_type == PT_LOAD && (ph.p_flags & PF_X)) {
			t->vaddr_adjust = (int64_t)(ph.p_vaddr - ph.p_offset);
			return;
		}
}

int unwind_table__starts(Elf *elf, uint64_t **starts, size_t *n)
{
	int err = read_fde_starts(elf, starts, n);

	return err == -ENOENT ? read_symbol_starts(elf, starts, n) : err;
}

int unwind_table__build(Elf *elf, struct unwind_table *t)
{
	uint64_t *starts = NULL;
	uint32_t nrbp = 0;
	Dwarf_CFI *cfi;
	size_t n = 0;
	int err;

	memset(t, 0, sizeof(*t));
	err = unwind_table__starts(elf, &starts, &n);
	if (err)
		return err;
	cfi = dwarf_getcfi_elf(elf);
	if (!cfi) {
		free(starts);
		return -ENOENT;
	}
	read_segments(elf, t);
	for (size_t i = 0; i < n; i++)
		add_function(t, cfi, starts[i], i + 1 < n ? starts[i + 1] : UINT64_MAX, &nrbp);
	dwarf_cfi_end(cfi);
	free(starts);
	/* With -fno-omit-frame-pointer nearly every function switches its CFA to rbp; without, few do. */
	t->has_fp = t->nfdes && nrbp * 2 > t->nfdes;
	if (t->n > MT_UNWIND_MAX_ROWS) {
		unwind_table__release(t);
		return -E2BIG;
	}
	return 0;
}

int unwind_table__build_file(const char *path, struct unwind_table *t)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf *elf;
	int err;

	memset(t, 0, sizeof(*t));
	if (fd < 0)
		return -errno;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	err = elf ? unwind_table__build(elf, t) : -EINVAL;
	if (elf)
		elf_end(elf);
	close(fd);
	return err;
}

void unwind_table__release(struct unwind_table *t)
{
	free(t->rows);
	memset(t, 0, sizeof(*t));
}

const struct mt_unwind_row *unwind_table__find(const struct unwind_table *t, uint64_t vaddr)
{
	size_t lo = 0, hi = t->n;

	if (vaddr > UINT32_MAX)
		return NULL;
	while (lo < hi) {	/* first row above vaddr */
		size_t mid = lo + (hi - lo) / 2;

		if (t->rows[mid].pc <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? &t->rows[lo - 1] : NULL;
}
