// SPDX-License-Identifier: BSD-2-Clause
/* Probe-site selection on hand-assembled x86-64 code: where it moves, and every reason it stays. */
#include <string.h>

#include "probe/probesite.h"
#include "tap.h"

#define BASE 0x1000ull

/* The site chosen for a function that is all of code[0..n), at file offset BASE. */
static struct probesite site_of(const uint8_t *code, size_t n)
{
	struct probesite s;

	probesite__choose(code, BASE, n, BASE, n, NULL, 0, &s);
	return s;
}

static uint64_t delta_of(const uint8_t *code, size_t n)
{
	return site_of(code, n).delta;
}

/* glibc 2.36's free, shortened: test %rdi,%rdi; je <ret>; push %rbp; pop %rbp; ret. */
static const uint8_t free_like[] = { 0x48, 0x85, 0xff, 0x0f, 0x84, 0x02, 0x00, 0x00, 0x00,
				     0x55, 0x5d, 0xc3 };

static void test_moves(void)
{
	struct probesite s = site_of(free_like, sizeof(free_like));
	/* endbr64; push %rbp; pop %rbp; ret (a CET build's prologue) */
	static const uint8_t endbr[] = { 0xf3, 0x0f, 0x1e, 0xfa, 0x55, 0x5d, 0xc3 };
	/* cmpb $0,0x10(%rip); push %r12; pop %r12; ret (glibc's valloc guard, shortened) */
	static const uint8_t cmp_rip[] = { 0x80, 0x3d, 0x10, 0x00, 0x00, 0x00, 0x00,
					   0x41, 0x54, 0x41, 0x5c, 0xc3 };
	/* test; je; then a loop back to the very entry: the entry probe would fire again too */
	static const uint8_t loop_to_entry[] = { 0x48, 0x85, 0xff, 0x74, 0x02, 0xeb, 0xf9, 0xc3 };

	is_u64(s.delta, 3, "test %%rdi,%%rdi; je: probe the je at +3");
	is_u64(s.off, BASE + 3, "as a file offset");
	ok(s.entry_cost == PROBESITE_STEPPED && s.site_cost == PROBESITE_EMULATED,
	   "from single-stepped to emulated");
	is_str(s.entry_insn, "test", "entry mnemonic for the log");
	is_str(s.site_insn, "je", "site mnemonic for the log");
	is_u64(delta_of(endbr, sizeof(endbr)), 4, "endbr64 is stepped over to push %%rbp");
	is_u64(delta_of(cmp_rip, sizeof(cmp_rip)), 7, "a rip-relative compare is read-only");
	is_u64(delta_of(loop_to_entry, sizeof(loop_to_entry)), 3,
	       "a branch to the entry itself is no obstacle");
}

static void test_already_cheap(void)
{
	static const uint8_t push[] = { 0x55, 0x48, 0x85, 0xff, 0x5d, 0xc3 };
	static const uint8_t push_r12[] = { 0x41, 0x54, 0x41, 0x5c, 0xc3 };
	static const uint8_t jmp[] = { 0xe9, 0x00, 0x00, 0x00, 0x00, 0xc3 };
	static const uint8_t nop5[] = { 0x0f, 0x1f, 0x44, 0x00, 0x00, 0xc3 };
	static const uint8_t nop1[] = { 0x90, 0xc3 };
	struct probesite s = site_of(nop5, sizeof(nop5));

	is_u64(delta_of(push, sizeof(push)), 0, "push %%rbp first: stays at the entry");
	is_u64(delta_of(push_r12, sizeof(push_r12)), 0, "push %%r12 first: stays");
	is_u64(delta_of(jmp, sizeof(jmp)), 0, "jmp first: stays");
	is_u64(delta_of(nop1, sizeof(nop1)), 0, "nop first: stays");
	ok(s.delta == 0 && s.entry_cost == PROBESITE_OPTIMIZED, "a 5-byte nop is optimized in place");
	ok(site_of(push, sizeof(push)).why[0] == 0, "no reason given when nothing was to gain");
}

static void test_branch_targets(void)
{
	/* test; je +2; jmp back to the je (+3): the site would fire twice */
	static const uint8_t back_to_site[] = { 0x48, 0x85, 0xff, 0x74, 0x02, 0xeb, 0xfc, 0xc3 };
	/* test; cmp; je: a later jcc lands on the cmp inside the prefix */
	static const uint8_t into_prefix[] = { 0x48, 0x85, 0xff, 0x48, 0x39, 0xf7, 0x74, 0x02,
					       0x75, 0xf9, 0xc3 };
	/* test; je; jmp *%rax: an indirect jump could land anywhere */
	static const uint8_t indirect[] = { 0x48, 0x85, 0xff, 0x74, 0x02, 0xff, 0xe0, 0xc3 };
	/* test; je; push %rbp; jmp (rel32) back to the je at +3 */
	static const uint8_t far_back[] = { 0x48, 0x85, 0xff, 0x74, 0x06, 0x55,
					    0xe9, 0xf8, 0xff, 0xff, 0xff, 0xc3 };
	struct probesite s;

	is_u64(delta_of(back_to_site, sizeof(back_to_site)), 0, "a jump back to the site: entry");
	s = site_of(far_back, sizeof(far_back));
	ok(s.delta == 0 && strstr(s.why, "lands at +3"), "a rel32 jump back to the site: entry (%s)",
	   s.why);
	is_u64(delta_of(into_prefix, sizeof(into_prefix)), 0, "a jump into the prefix: entry");
	s = site_of(indirect, sizeof(indirect));
	ok(s.delta == 0 && strstr(s.why, "indirect"), "an indirect jump in the function: entry (%s)",
	   s.why);
}

/* A branch from another function (a .cold part) into free's prefix, seen in the segment. */
static void test_branch_from_outside(void)
{
	uint8_t text[32] = { 0 };
	uint64_t func = BASE + 16, avoid = func + 3;
	int32_t rel = (int32_t)((func + 3) - (BASE + 5));
	struct probesite s;

	text[0] = 0xe9;			/* jmp func+3, at BASE */
	memcpy(text + 1, &rel, 4);
	memcpy(text + 16, free_like, sizeof(free_like));
	probesite__choose(text, BASE, sizeof(text), func, sizeof(free_like), NULL, 0, &s);
	is_u64(s.delta, 0, "a rel32 jump from outside into (entry, site]: entry");
	text[0] = 0xc3;			/* gone: the site moves */
	probesite__choose(text, BASE, sizeof(text), func, sizeof(free_like), NULL, 0, &s);
	is_u64(s.delta, 3, "without it the site moves");
	probesite__choose(text, BASE, sizeof(text), func, sizeof(free_like), &avoid, 1, &s);
	is_u64(s.delta, 0, "another table entry point at the site: entry");
}

static void test_prefix_writes(void)
{
	/* mov %rsi,%rdi; je */
	static const uint8_t rdi[] = { 0x48, 0x89, 0xf7, 0x74, 0x00, 0xc3 };
	/* mov %esi,%ecx (a 32-bit write to an argument register); je */
	static const uint8_t ecx[] = { 0x89, 0xf1, 0x74, 0x00, 0xc3 };
	/* sub $8,%rsp; je */
	static const uint8_t rsp[] = { 0x48, 0x83, 0xec, 0x08, 0x74, 0x00, 0xc3 };
	/* mov %rax,(%rdi); je: a memory write */
	static const uint8_t store[] = { 0x48, 0x89, 0x07, 0x74, 0x00, 0xc3 };
	/* add %eax,(%rbx); je: read-modify-write of memory */
	static const uint8_t rmw[] = { 0x01, 0x03, 0x74, 0x00, 0xc3 };
	/* mul %rsi (writes rdx implicitly); je */
	static const uint8_t mul[] = { 0x48, 0xf7, 0xe6, 0x74, 0x00, 0xc3 };
	/* call *%rax (not emulated); je */
	static const uint8_t call[] = { 0xff, 0xd0, 0x74, 0x00, 0xc3 };
	/* mov $0xb,%eax; syscall; je */
	static const uint8_t sys[] = { 0xb8, 0x0b, 0x00, 0x00, 0x00, 0x0f, 0x05, 0x74, 0x00, 0xc3 };
	/* mov %rdi,%rbx (reads rdi, writes rbx: harmless); je */
	static const uint8_t harmless[] = { 0x48, 0x89, 0xfb, 0x74, 0x00, 0xc3 };

	is_u64(delta_of(rdi, sizeof(rdi)), 0, "rdi written before the site: entry");
	is_u64(delta_of(ecx, sizeof(ecx)), 0, "ecx written before the site: entry");
	is_u64(delta_of(rsp, sizeof(rsp)), 0, "rsp moved before the site: entry");
	is_u64(delta_of(store, sizeof(store)), 0, "a store before the site: entry");
	is_u64(delta_of(rmw, sizeof(rmw)), 0, "a memory add before the site: entry");
	is_u64(delta_of(mul, sizeof(mul)), 0, "an implicit rdx write (mul): entry");
	is_u64(delta_of(call, sizeof(call)), 0, "a call before the site: entry");
	is_u64(delta_of(sys, sizeof(sys)), 0, "a syscall before the site: entry");
	is_u64(delta_of(harmless, sizeof(harmless)), 3, "mov %%rdi,%%rbx is harmless: +3");
}

static void test_unsure(void)
{
	/* six harmless single-stepped instructions, then a je: too far to bother */
	static const uint8_t far[] = { 0x48, 0x85, 0xff, 0x48, 0x85, 0xff, 0x48, 0x85, 0xff,
				       0x48, 0x85, 0xff, 0x48, 0x85, 0xff, 0x48, 0x85, 0xff,
				       0x74, 0x00, 0xc3 };
	static const uint8_t cut[] = { 0x48, 0x85, 0xff, 0x0f, 0x84 };	/* je cut short */
	struct probesite s;

	is_u64(delta_of(far, sizeof(far)), 0, "no cheap instruction early on: entry");
	is_u64(delta_of(cut, sizeof(cut)), 0, "undecodable code: entry");
	probesite__choose(free_like, BASE, sizeof(free_like), BASE, 0, NULL, 0, &s);
	ok(s.delta == 0 && s.why[0], "no symbol size: entry (%s)", s.why);
	probesite_mode = PROBESITE_ENTRY;
	s = site_of(free_like, sizeof(free_like));
	ok(s.delta == 0 && strstr(s.why, "--probe-sites entry"), "--probe-sites entry: entry");
	probesite_mode = PROBESITE_AUTO;
	is_u64(probesite__parse_mode("auto"), PROBESITE_AUTO, "parses auto");
	is_u64(probesite__parse_mode("entry"), PROBESITE_ENTRY, "parses entry");
	ok(probesite__parse_mode("middle") < 0, "rejects anything else");
}

int main(void)
{
	test_moves();
	test_already_cheap();
	test_branch_targets();
	test_branch_from_outside();
	test_prefix_writes();
	test_unsure();
	return done_testing();
}
