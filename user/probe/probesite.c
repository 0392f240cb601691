// SPDX-License-Identifier: BSD-2-Clause
/*
 * Probe-site selection: an allocator's entry uprobe is put on a later instruction when the first
 * one would be single-stepped by the kernel and the later one is emulated, and only when the two
 * sites are provably equivalent for what the BPF program reads.
 *
 * Why: a uprobe traps (int3), runs the BPF program, then has to execute the instruction it
 * replaced. The x86 uprobe code emulates a few instructions itself (relative jmp/jcc/call, the
 * canonical nops, push of a register; arch/x86/kernel/uprobes.c, branch_setup_xol_ops and
 * push_setup_xol_ops) and, in recent kernels, turns a probe on a 5-byte nop into a call. Any other
 * instruction is copied to a page of its own and single-stepped: a second trap. glibc 2.36's free
 * begins with `test %rdi,%rdi`, which costs that second trap on every free; the `je` after it is
 * emulated.
 *
 * When are two sites equivalent? The entry probe fires once per call. A later site S fires once
 * per call if every path from the entry reaches S exactly once, and nothing else reaches S:
 *   - the instructions before S (the "prefix") are straight-line: no jump, call, return or trap,
 *     so every path from the entry goes through S;
 *   - no branch of the function (found by disassembling all of it, symbol size from the ELF)
 *     lands in (entry, S]: a loop back there would fire S twice, a jump from a later point
 *     would fire it without a call; nor does any rel32 branch anywhere in the executable
 *     segment (glibc's .cold parts live outside the function), nor another entry point;
 * and S sees what the entry saw if the prefix does not change it:
 *   - no write to the argument registers the entry programs read (rdi, rsi, rdx, rcx);
 *   - no write to rsp: the programs key nesting on it (sp > outer_sp marks a stale slot), and the
 *     return probe, which attaches to the same site, replaces the return address at [rsp];
 *   - no memory write at all (which could hit [rsp] or what a later argument points to).
 * The prefix is held to an allow-list of simple register/flags instructions (cmp, test, mov to a
 * register, lea, endbr64, ...) checked operand by operand, with the registers capstone says each
 * instruction writes implicitly (mul writes rdx). Anything unsure leaves the probe at the entry.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <capstone/capstone.h>

#include "probe/elfsym.h"
#include "probe/probesite.h"
#include "lib/util.h"

int probesite_mode = PROBESITE_AUTO;

/* A site further than this is not worth the proof: glibc's guards are one or two instructions. */
#define MAX_PREFIX_INSNS 4

int probesite__parse_mode(const char *s)
{
	if (!strcmp(s, "auto"))
		return PROBESITE_AUTO;
	if (!strcmp(s, "entry"))
		return PROBESITE_ENTRY;
	return -1;
}

const char *probesite__cost_name(enum probesite_cost c)
{
	static const char *const name[] = { "single-stepped", "emulated", "optimized" };

	return name[c];
}

/* The kernel's x86-64 nop table (the P6 nops): a probe on exactly these is emulated. */
static const uint8_t nops[9][8] = {
	{ 0 },
	{ 0x90 },
	{ 0x66, 0x90 },
	{ 0x0f, 0x1f, 0x00 },
	{ 0x0f, 0x1f, 0x40, 0x00 },
	{ 0x0f, 0x1f, 0x44, 0x00, 0x00 },
	{ 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00 },
	{ 0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00 },
	{ 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 },
};

static bool is_legacy_prefix(uint8_t b)
{
	return b == 0x66 || b == 0x67 || b == 0xf0 || b == 0xf2 || b == 0xf3 || b == 0x2e ||
	       b == 0x36 || b == 0x3e || b == 0x26 || b == 0x64 || b == 0x65;
}

static bool is_relative_branch(uint8_t op, uint8_t op2)
{
	return op == 0xeb || op == 0xe9 || op == 0xe8 || (op >= 0x70 && op <= 0x7f) ||
	       (op == 0x0f && op2 >= 0x80 && op2 <= 0x8f);
}

/*
 * The cost of a probe on the instruction b[0..n) at file offset off, by the kernel's rules. It
 * errs towards "single-stepped": that only leaves a probe where it was.
 */
static enum probesite_cost cost_of(const uint8_t *b, size_t n, uint64_t off)
{
	bool has66 = false, rex = false;
	size_t i = 0;

	if (n <= 8 && !memcmp(b, nops[n], n))
		/* ELF segments keep offset and address congruent modulo the page size. */
		return n == 5 && (off & 4095) <= 4096 - 5 ? PROBESITE_OPTIMIZED : PROBESITE_EMULATED;
	for (; i < n && is_legacy_prefix(b[i]); i++)
		has66 |= b[i] == 0x66;
	if (i < n && (b[i] & 0xf0) == 0x40) {
		rex = true;
		i++;
	}
	if (i >= n)
		return PROBESITE_STEPPED;
	if (!rex && b[i] == 0x90)
		return PROBESITE_EMULATED;	/* prefixes + nop: the kernel treats it as nop */
	if (!has66 && is_relative_branch(b[i], i + 1 < n ? b[i + 1] : 0))
		return PROBESITE_EMULATED;	/* 66-prefixed branches are refused, not emulated */
	if ((n == 1 && b[0] >= 0x50 && b[0] <= 0x57) ||
	    (n == 2 && b[0] == 0x41 && b[1] >= 0x50 && b[1] <= 0x57))
		return PROBESITE_EMULATED;	/* push reg; only REX.B is handled */
	return PROBESITE_STEPPED;
}

/* Registers an entry program reads: the first four arguments, and the stack pointer. */
static bool is_watched_reg(unsigned reg)
{
	switch (reg) {
	case X86_REG_RDI: case X86_REG_EDI: case X86_REG_DI: case X86_REG_DIL:
	case X86_REG_RSI: case X86_REG_ESI: case X86_REG_SI: case X86_REG_SIL:
	case X86_REG_RDX: case X86_REG_EDX: case X86_REG_DX: case X86_REG_DL: case X86_REG_DH:
	case X86_REG_RCX: case X86_REG_ECX: case X86_REG_CX: case X86_REG_CL: case X86_REG_CH:
	case X86_REG_RSP: case X86_REG_ESP: case X86_REG_SP: case X86_REG_SPL:
	case X86_REG_RIP:
		return true;
	default:
		return false;
	}
}

/* Instructions that may stand between the entry and the site: no control flow, no side effect. */
static bool is_allowed_insn(unsigned id)
{
	switch (id) {
	case X86_INS_CMP: case X86_INS_TEST: case X86_INS_MOV: case X86_INS_MOVABS:
	case X86_INS_MOVZX: case X86_INS_MOVSX: case X86_INS_MOVSXD: case X86_INS_LEA:
	case X86_INS_ADD: case X86_INS_SUB: case X86_INS_AND: case X86_INS_OR: case X86_INS_XOR:
	case X86_INS_ENDBR64: case X86_INS_NOP:
		return true;
	default:
		return false;
	}
}

/* Does insn leave alone everything the probe reads at the site? NULL if so, else why not. */
static const char *prefix_problem(csh h, const cs_insn *insn)
{
	const cs_x86 *x = &insn->detail->x86;
	cs_regs rd, wr;
	uint8_t nrd = 0, nwr = 0;

	if (!is_allowed_insn(insn->id))
		return "not a plain register instruction";
	/* Belt and braces over the access flags: only cmp and test may name memory first. */
	if (x->op_count && x->operands[0].type == X86_OP_MEM && insn->id != X86_INS_CMP &&
	    insn->id != X86_INS_TEST)
		return "writes memory";
	for (uint8_t i = 0; i < x->op_count; i++) {
		const cs_x86_op *op = &x->operands[i];

		if (op->type == X86_OP_MEM && (op->access & CS_AC_WRITE))
			return "writes memory";
		if (op->type == X86_OP_REG && (op->access & CS_AC_WRITE) && is_watched_reg(op->reg))
			return "writes an argument register or rsp";
	}
	if (cs_regs_access(h, insn, rd, &nrd, wr, &nwr) != CS_ERR_OK)
		return "register use unknown";
	for (uint8_t i = 0; i < nwr; i++)
		if (is_watched_reg(wr[i]))
			return "writes an argument register or rsp";
	return NULL;
}

struct disasm {
	csh h;
	cs_insn *insn;
	const uint8_t *text;
	uint64_t base;
	size_t len;
};

/* Decode the one instruction at file offset off (within [.., end)); false if it cannot be. */
static bool decode_at(struct disasm *d, uint64_t off, uint64_t end)
{
	const uint8_t *code;
	size_t left;
	uint64_t addr = off;

	if (off < d->base || off >= end || end > d->base + d->len)
		return false;
	code = d->text + (off - d->base);
	left = end - off;
	return cs_disasm_iter(d->h, &code, &left, &addr, d->insn);
}

/* A direct branch's target, if insn is one; indirect ones (jmp *%rax) report *indirect. */
static bool branch_target(const struct disasm *d, uint64_t *target, bool *indirect)
{
	const cs_x86 *x = &d->insn->detail->x86;

	*indirect = false;
	if (!cs_insn_group(d->h, d->insn, CS_GRP_JUMP) && !cs_insn_group(d->h, d->insn, CS_GRP_CALL))
		return false;
	if (x->op_count == 1 && x->operands[0].type == X86_OP_IMM) {
		*target = (uint64_t)x->operands[0].imm;
		return true;
	}
	*indirect = cs_insn_group(d->h, d->insn, CS_GRP_JUMP);
	return false;
}

/*
 * Every branch of the function, disassembled from its entry to its end: none may land in
 * (func, site]. A jump table's indirect jump cannot be followed, so it makes the proof fail too.
 */
static bool function_branches_clear(struct disasm *d, uint64_t func, uint64_t size, uint64_t site,
				    char *why, size_t whylen)
{
	for (uint64_t off = func; off < func + size; off += d->insn->size) {
		uint64_t t;
		bool indirect;

		if (!decode_at(d, off, func + size)) {
			snprintf(why, whylen, "cannot disassemble +%llu", (unsigned long long)(off - func));
			return false;
		}
		if (branch_target(d, &t, &indirect) && t > func && t <= site) {
			snprintf(why, whylen, "a branch at +%llu lands at +%llu",
				 (unsigned long long)(off - func), (unsigned long long)(t - func));
			return false;
		}
		if (indirect) {
			snprintf(why, whylen, "an indirect jump at +%llu", (unsigned long long)(off - func));
			return false;
		}
	}
	return true;
}

/*
 * Branches from outside the function (a .cold part, another function) are rel32 jumps or calls
 * somewhere in the segment. Any byte pattern that would be one landing in (func, site] fails the
 * proof: a false match only leaves the probe at the entry. (Short jumps reach 128 bytes; no
 * compiler jumps short into another function's middle.)
 */
struct window {
	uint64_t func, size, site;	/* a candidate: branches into (func, site] spoil it */
	bool hit;
};

static bool is_rel32_branch(const uint8_t *p)
{
	return p[0] == 0xe8 || p[0] == 0xe9 || (p[0] == 0x0f && p[1] >= 0x80 && p[1] <= 0x8f);
}

/* One pass over the segment for all candidates: it is the slow part (~1.5 MiB for libc). */
static void segment_scan(const struct disasm *d, struct window *w, size_t nw)
{
	for (size_t i = 0; i + 6 <= d->len; i++) {
		const uint8_t *p = d->text + i;
		size_t ilen = p[0] == 0x0f ? 6 : 5;
		uint64_t off = d->base + i, t;
		int32_t rel;

		if (!is_rel32_branch(p))
			continue;
		memcpy(&rel, p + ilen - 4, sizeof(rel));
		t = off + ilen + (int64_t)rel;
		for (size_t k = 0; k < nw; k++)
			w[k].hit |= t > w[k].func && t <= w[k].site &&
				    !(off >= w[k].func && off < w[k].func + w[k].size);
	}
}

static void copy_mnemonic(char *dst, size_t n, const cs_insn *insn)
{
	snprintf(dst, n, "%s", insn->mnemonic);
}

/* The first instruction after a harmless straight-line prefix that is cheaper; 0 if none. */
static uint64_t find_candidate(struct disasm *d, uint64_t func, uint64_t size, struct probesite *out)
{
	uint64_t off = func;

	for (int k = 0; k <= MAX_PREFIX_INSNS; k++) {
		const char *problem;

		if (!decode_at(d, off, func + size)) {
			snprintf(out->why, sizeof(out->why), "nothing cheaper before +%llu",
				 (unsigned long long)(off - func));
			return 0;
		}
		if (k > 0 && cost_of(d->insn->bytes, d->insn->size, off) != PROBESITE_STEPPED) {
			out->site_cost = cost_of(d->insn->bytes, d->insn->size, off);
			copy_mnemonic(out->site_insn, sizeof(out->site_insn), d->insn);
			return off;
		}
		problem = prefix_problem(d->h, d->insn);
		if (problem) {
			snprintf(out->why, sizeof(out->why), "%s at +%llu %s", d->insn->mnemonic,
				 (unsigned long long)(off - func), problem);
			return 0;
		}
		off += d->insn->size;
	}
	snprintf(out->why, sizeof(out->why), "no emulated instruction in the first %d",
		 MAX_PREFIX_INSNS + 1);
	return 0;
}

static bool passes_other_entry(const uint64_t *avoid, size_t navoid, uint64_t func, uint64_t site)
{
	for (size_t i = 0; i < navoid; i++)
		if (avoid[i] > func && avoid[i] <= site)
			return true;
	return false;
}

static void stay_at_entry(struct probesite *out)
{
	out->off -= out->delta;
	out->delta = 0;
	out->site_cost = out->entry_cost;
	snprintf(out->site_insn, sizeof(out->site_insn), "%s", out->entry_insn);
}

/* Everything but the segment scan, which the caller does for one function or for a table. */
static void choose_with(struct disasm *d, uint64_t func, uint64_t size, const uint64_t *avoid,
			size_t navoid, struct probesite *out)
{
	uint64_t site;

	memset(out, 0, sizeof(*out));
	out->off = func;
	if (!size || !decode_at(d, func, func + size)) {
		snprintf(out->why, sizeof(out->why), "%s", size ? "cannot disassemble the entry" :
			 "the symbol has no size");
		return;
	}
	out->entry_cost = out->site_cost = cost_of(d->insn->bytes, d->insn->size, func);
	copy_mnemonic(out->entry_insn, sizeof(out->entry_insn), d->insn);
	copy_mnemonic(out->site_insn, sizeof(out->site_insn), d->insn);
	if (out->entry_cost != PROBESITE_STEPPED)
		return;		/* already cheap: nothing to gain */
	if (probesite_mode == PROBESITE_ENTRY) {
		snprintf(out->why, sizeof(out->why), "--probe-sites entry");
		return;
	}
	site = find_candidate(d, func, size, out);
	if (!site || !function_branches_clear(d, func, size, site, out->why, sizeof(out->why))) {
		stay_at_entry(out);
		return;
	}
	if (passes_other_entry(avoid, navoid, func, site)) {
		snprintf(out->why, sizeof(out->why), "another entry point lies before the site");
		stay_at_entry(out);
		return;
	}
	out->off = site;
	out->delta = site - func;
}

/* Candidates that a branch from elsewhere in the segment might enter go back to the entry. */
static void check_segment(const struct disasm *d, struct probesite *sites, const uint64_t *sizes,
			  size_t n)
{
	struct window *w = xcalloc(n ? n : 1, sizeof(*w));

	for (size_t i = 0; i < n; i++)
		w[i] = (struct window){ .func = sites[i].off - sites[i].delta, .size = sizes[i],
					.site = sites[i].delta ? sites[i].off : 0 };
	segment_scan(d, w, n);
	for (size_t i = 0; i < n; i++) {
		if (!w[i].hit)
			continue;
		snprintf(sites[i].why, sizeof(sites[i].why),
			 "a branch from outside may land before the site");
		stay_at_entry(&sites[i]);
	}
	free(w);
}

static bool disasm_open(struct disasm *d, const uint8_t *text, uint64_t base, size_t len)
{
	*d = (struct disasm){ .text = text, .base = base, .len = len };
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &d->h) != CS_ERR_OK)
		return false;
	cs_option(d->h, CS_OPT_DETAIL, CS_OPT_ON);
	d->insn = cs_malloc(d->h);
	if (!d->insn)
		cs_close(&d->h);
	return d->insn != NULL;
}

static void disasm_close(struct disasm *d)
{
	cs_free(d->insn, 1);
	cs_close(&d->h);
}

void probesite__choose(const uint8_t *text, uint64_t base, size_t len, uint64_t func,
		       uint64_t size, const uint64_t *avoid, size_t navoid, struct probesite *out)
{
	struct disasm d;

	if (!disasm_open(&d, text, base, len)) {
		memset(out, 0, sizeof(*out));
		out->off = func;
		snprintf(out->why, sizeof(out->why), "capstone cannot disassemble x86-64");
		return;
	}
	choose_with(&d, func, size, avoid, navoid, out);
	check_segment(&d, out, &size, 1);
	disasm_close(&d);
}

static void log_choice(const char *name, const struct probesite *s)
{
	if (s->delta)
		mt_debug("%s: probing +%llu (%s, %s) instead of +0 (%s, %s)", name,
			 (unsigned long long)s->delta, s->site_insn, probesite__cost_name(s->site_cost),
			 s->entry_insn, probesite__cost_name(s->entry_cost));
	else
		mt_debug("%s: probing +0 (%s, %s)%s%s", name, s->entry_insn,
			 probesite__cost_name(s->entry_cost), s->why[0] ? ": " : "", s->why);
}

static void resolve(const char *obj, const char *const *names, const uint64_t *entries,
		    const uint64_t *sizes, size_t n, uint64_t *sites)
{
	struct elfsym_text text = { .bytes = NULL };
	struct probesite *s = xcalloc(n ? n : 1, sizeof(*s));
	struct disasm d;
	int err = -ENOENT;
	bool any = false;

	for (size_t i = 0; i < n; i++) {
		sites[i] = entries[i];
		any |= entries[i] != 0;
		if (err && entries[i])
			err = elfsym__read_text(obj, entries[i], &text);
	}
	if (!any)
		goto out;	/* no allocator function here: nothing to place */
	if (!err && !disasm_open(&d, text.bytes, text.off, text.len))
		err = -ENOSYS;
	if (err) {
		mt_debug("probe sites: entries only: cannot read the code of %s: %s", obj,
			 strerror(-err));
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		choose_with(&d, entries[i], sizes[i], entries, n, &s[i]);
	check_segment(&d, s, sizes, n);
	disasm_close(&d);
	for (size_t i = 0; i < n; i++) {
		if (!entries[i])
			continue;
		sites[i] = s[i].off;
		log_choice(names[i], &s[i]);
	}
out:
	elfsym__free_text(&text);
	free(s);
}

int probesite__offsets(const char *obj, const char *const *names, size_t n, uint64_t *sites)
{
	struct elfsym_func *funcs = xcalloc(n ? n : 1, sizeof(*funcs));
	uint64_t *entries = xcalloc(n ? n : 1, sizeof(*entries));
	uint64_t *sizes = xcalloc(n ? n : 1, sizeof(*sizes));
	int found = elfsym__funcs(obj, names, n, funcs);

	memset(sites, 0, n * sizeof(*sites));
	for (size_t i = 0; found > 0 && i < n; i++) {
		entries[i] = funcs[i].off;
		sizes[i] = funcs[i].size;
	}
	if (found > 0)
		resolve(obj, names, entries, sizes, n, sites);
	free(funcs);
	free(entries);
	free(sizes);
	return found;
}

void probesite__sites(const char *obj, const char *const *names, const uint64_t *entries, size_t n,
		      uint64_t *sites)
{
	struct elfsym_func *funcs = xcalloc(n ? n : 1, sizeof(*funcs));
	uint64_t *sizes = xcalloc(n ? n : 1, sizeof(*sizes));

	/* A size only where the name is the function at that entry: unknown size keeps the entry. */
	if (elfsym__funcs(obj, names, n, funcs) > 0)
		for (size_t i = 0; i < n; i++)
			sizes[i] = funcs[i].off == entries[i] ? funcs[i].size : 0;
	resolve(obj, names, entries, sizes, n, sites);
	free(funcs);
	free(sizes);
}
