// SPDX-License-Identifier: BSD-2-Clause
/*
 * The BPF stack budget, checked on the object file before anything loads it. Every kernel allows
 * a program 512 bytes of stack for its whole call chain (some builds give tracing programs a
 * private stack and hide an overrun; most do not), counting each frame of the chain rounded up
 * to 32 bytes, as the verifier does, bpf_loop and bpf_find_vma callbacks included, and the 24
 * bytes the verifier adds to a frame that calls bpf_loop (where it inlines the loop). This reads
 * each function's frame from the instructions that address it and walks every program's calls.
 *
 * Usage: bpf_stack [-b BUDGET] [-v] OBJECT.bpf.o
 * Prints each program's deepest chain; exits 1 when one is over BUDGET bytes (default 384).
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <linux/bpf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_FUNCS 256
#define MAX_EDGES 32

struct func {
	const char *name;
	size_t sec;		/* section index */
	uint64_t off, size;	/* in bytes */
	bool prog;		/* an entry point: a function outside .text */
	int depth;		/* bytes of stack it addresses */
	int callee[MAX_EDGES];
	int ncallees;
	int chain;		/* deepest chain from here, frames rounded (-1: not yet known) */
	int next;		/* the callee on that chain */
	bool visiting;
};

static struct func funcs[MAX_FUNCS];
static int nfuncs;

static int func_at(size_t sec, uint64_t off)
{
	for (int i = 0; i < nfuncs; i++)
		if (funcs[i].sec == sec && off >= funcs[i].off && off < funcs[i].off + funcs[i].size)
			return i;
	return -1;
}

static void add_edge(struct func *f, int to)
{
	for (int i = 0; i < f->ncallees; i++)
		if (f->callee[i] == to)
			return;
	if (to >= 0 && f->ncallees < MAX_EDGES)
		f->callee[f->ncallees++] = to;
}

/* A relocation at byte offset `at` of section `sec`: the symbol it names, or NULL. */
struct relo {
	size_t sec;
	uint64_t at;
	size_t sym_sec;
	uint64_t sym_value;
	int sym_type;
};

static struct relo *relos;
static size_t nrelos;

static const struct relo *relo_at(size_t sec, uint64_t at)
{
	for (size_t i = 0; i < nrelos; i++)
		if (relos[i].sec == sec && relos[i].at == at)
			return &relos[i];
	return NULL;
}

static int fail(const char *what, const char *path)
{
	fprintf(stderr, "bpf_stack: failed to %s %s: %s\n", what, path, elf_errmsg(-1));
	return 2;
}

static int read_symbols(Elf *elf, const char *path)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return fail("read the section names of", path);
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_REL))
			continue;
		d = elf_getdata(scn, NULL);
		if (sh.sh_type == SHT_SYMTAB) {
			for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
				GElf_Sym s;
				Elf_Scn *in;
				GElf_Shdr ish;

				if (!gelf_getsym(d, i, &s) || GELF_ST_TYPE(s.st_info) != STT_FUNC ||
				    nfuncs == MAX_FUNCS)
					continue;
				in = elf_getscn(elf, s.st_shndx);
				if (!in || !gelf_getshdr(in, &ish))
					continue;
				funcs[nfuncs] = (struct func){
					.name = elf_strptr(elf, sh.sh_link, s.st_name),
					.sec = s.st_shndx, .off = s.st_value, .size = s.st_size,
					.prog = strcmp(elf_strptr(elf, shstrndx, ish.sh_name), ".text") != 0,
					.chain = -1, .next = -1,
				};
				nfuncs++;
			}
		}
	}
	return 0;
}

static int read_relocations(Elf *elf)
{
	Elf_Scn *scn = NULL, *symscn = NULL;
	Elf_Data *syms = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn)))
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB)
			symscn = scn;
	if (!symscn)
		return 0;
	syms = elf_getdata(symscn, NULL);
	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_REL)
			continue;
		d = elf_getdata(scn, NULL);
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Rel r;
			GElf_Sym s;

			if (!gelf_getrel(d, i, &r) || !gelf_getsym(syms, GELF_R_SYM(r.r_info), &s))
				continue;
			relos = realloc(relos, (nrelos + 1) * sizeof(*relos));
			if (!relos)
				return -ENOMEM;
			relos[nrelos++] = (struct relo){
				.sec = sh.sh_info, .at = r.r_offset, .sym_sec = s.st_shndx,
				.sym_value = s.st_value, .sym_type = GELF_ST_TYPE(s.st_info),
			};
		}
	}
	return 0;
}

static bool is_code(Elf *elf, size_t sec)
{
	Elf_Scn *scn = elf_getscn(elf, sec);
	GElf_Shdr sh;

	return scn && gelf_getshdr(scn, &sh) && (sh.sh_flags & SHF_EXECINSTR);
}

/*
 * One function's frame and calls. A register copied from r10 and moved by a constant points into
 * the frame: what is read or written through it, or handed to a helper, is stack too.
 */
static void scan(Elf *elf, struct func *f, const struct bpf_insn *code)
{
	int64_t fp_off[11] = { 0 };
	bool is_fp[11] = { false }, loops = false;
	size_t n = f->size / 8, first = f->off / 8;

	is_fp[BPF_REG_10] = true;
	for (size_t k = 0; k < n; k++) {
		const struct bpf_insn *in = &code[first + k];
		uint8_t cls = BPF_CLASS(in->code);
		int64_t at = 0;
		const struct relo *r = relo_at(f->sec, (first + k) * 8);

		if ((cls == BPF_LDX && is_fp[in->src_reg]) || ((cls == BPF_STX || cls == BPF_ST) && is_fp[in->dst_reg]))
			at = (cls == BPF_LDX ? fp_off[in->src_reg] : fp_off[in->dst_reg]) + in->off;
		if (at < 0 && -at > f->depth)
			f->depth = -at;
		if (in->code == (BPF_ALU64 | BPF_MOV | BPF_X)) {
			is_fp[in->dst_reg] = is_fp[in->src_reg];
			fp_off[in->dst_reg] = fp_off[in->src_reg];
		} else if (in->code == (BPF_ALU64 | BPF_ADD | BPF_K) && is_fp[in->dst_reg] && in->dst_reg != BPF_REG_10) {
			fp_off[in->dst_reg] += in->imm;
			if (fp_off[in->dst_reg] < 0 && -fp_off[in->dst_reg] > f->depth)
				f->depth = -fp_off[in->dst_reg];
		} else if (in->code == (BPF_JMP | BPF_CALL)) {
			for (int i = 0; i <= BPF_REG_5; i++)
				is_fp[i] = false;
			if (in->src_reg == 0 && in->imm == BPF_FUNC_loop)
				loops = true;
			if (in->src_reg == BPF_PSEUDO_CALL && r && r->sym_type == STT_FUNC)
				add_edge(f, func_at(r->sym_sec, r->sym_value));
			else if (in->src_reg == BPF_PSEUDO_CALL && r)
				add_edge(f, func_at(r->sym_sec, r->sym_value + (in->imm + 1) * 8));
			else if (in->src_reg == BPF_PSEUDO_CALL)
				add_edge(f, func_at(f->sec, (first + k + 1 + in->imm) * 8));
		} else if (in->code == (BPF_LD | BPF_IMM | BPF_DW)) {
			/* A callback handed to bpf_loop or bpf_find_vma: it runs on top of this frame. */
			if (r && is_code(elf, r->sym_sec))
				add_edge(f, func_at(r->sym_sec, r->sym_value + (uint32_t)in->imm));
			is_fp[in->dst_reg] = false;
			k++;
		} else if (cls == BPF_ALU64 || cls == BPF_ALU || cls == BPF_LDX) {
			is_fp[in->dst_reg] = false;
		}
	}
	if (loops)
		f->depth += 3 * 8;	/* the inlined loop's counter, bound and context */
}

static int chain(int i)
{
	struct func *f = &funcs[i];
	int deepest = 0;

	if (f->chain >= 0)
		return f->chain;
	if (f->visiting)
		return 0;	/* recursion: the verifier refuses it anyway */
	f->visiting = true;
	for (int c = 0; c < f->ncallees; c++) {
		int d = chain(f->callee[c]);

		if (d > deepest) {
			deepest = d;
			f->next = f->callee[c];
		}
	}
	f->visiting = false;
	f->chain = ((f->depth > 0 ? f->depth : 1) + 31) / 32 * 32 + deepest;
	return f->chain;
}

static int check(Elf *elf, int budget, bool verbose)
{
	int over = 0;

	for (int i = 0; i < nfuncs; i++) {
		Elf_Scn *scn = elf_getscn(elf, funcs[i].sec);
		Elf_Data *d = scn ? elf_getdata(scn, NULL) : NULL;

		if (d)
			scan(elf, &funcs[i], d->d_buf);
	}
	for (int i = 0; i < nfuncs; i++) {
		int total;

		if (!funcs[i].prog)
			continue;
		total = chain(i);
		printf("%-4s %-22s %3d B:", total > budget ? "OVER" : "ok", funcs[i].name, total);
		for (int j = i; j >= 0; j = funcs[j].next)
			printf(" %s(%d)", funcs[j].name, funcs[j].depth);
		printf("\n");
		over += total > budget;
	}
	if (verbose)
		for (int i = 0; i < nfuncs; i++)
			printf("# %s: frame %d B, %d callees\n", funcs[i].name, funcs[i].depth, funcs[i].ncallees);
	return over;
}

int main(int argc, char **argv)
{
	int budget = 384, opt, fd, over;
	bool verbose = false;
	Elf *elf;

	while ((opt = getopt(argc, argv, "b:v")) != -1) {
		if (opt == 'b')
			budget = atoi(optarg);
		else if (opt == 'v')
			verbose = true;
		else
			return 2;
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: bpf_stack [-b BUDGET] [-v] OBJECT.bpf.o\n");
		return 2;
	}
	elf_version(EV_CURRENT);
	fd = open(argv[optind], O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "bpf_stack: cannot open %s: %s\n", argv[optind], strerror(errno));
		return 2;
	}
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf)
		return fail("read", argv[optind]);
	if (read_symbols(elf, argv[optind]) || read_relocations(elf))
		return 2;
	over = check(elf, budget, verbose);
	if (over)
		fprintf(stderr, "bpf_stack: %d program(s) over the %d-byte stack budget: move state to the "
				"working record (bpf/work.bpf.h)\n", over, budget);
	return over ? 1 : 0;
}
