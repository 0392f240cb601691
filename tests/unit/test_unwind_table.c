// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unwind tables from real objects: the -O2 -fomit-frame-pointer workload, the frame-pointer one,
 * and the system's libc. Checked against facts that hold whatever the compiler: every function
 * starts with CFA = rsp + 8, _start ends the stack, PLT stubs get the PLT rule, libc's signal
 * trampoline reads the kernel's ucontext (uc_mcontext.rsp is at offset 160).
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "probe/elfsym.h"
#include "tap.h"
#include "probe/unwind_table.h"

static const char *out_dir(void)
{
	const char *o = getenv("OUT");

	return o ? o : "build";
}

static bool sorted(const struct unwind_table *t)
{
	for (size_t i = 1; i < t->n; i++)
		if (t->rows[i].pc <= t->rows[i - 1].pc)
			return false;
	return true;
}

static size_t count_rule(const struct unwind_table *t, int rule)
{
	size_t n = 0;

	for (size_t i = 0; i < t->n; i++)
		n += t->rows[i].cfa_rule == rule;
	return n;
}

/* ELF address of a function (file offset back through the executable segment). */
static uint64_t func_vaddr(const char *path, const struct unwind_table *t, const char *name)
{
	uint64_t off = 0;

	return elfsym__offsets(path, &name, 1, &off) == 1 ? off + t->vaddr_adjust : 0;
}

/* The table of a workload (PATH, freed when it fails): a check of its own; the workloads are
 * built by `make tests`, and the checks on a table that is not there would only crash. */
static bool built(char *path, struct unwind_table *t)
{
	int err = unwind_table__build_file(path, t);

	if (ok(!err, "table of %s", path))
		return true;
	printf("#   %s (make tests builds the workloads)\n", strerror(-err));
	free(path);
	return false;
}

static void test_nofp(void)
{
	char *path = NULL;
	struct unwind_table t;
	uint64_t b, a;
	bool deep_frame = false, rbp_saved = false;

	if (asprintf(&path, "%s/workloads/nofp_chain", out_dir()) < 0)
		abort();
	if (!built(path, &t))
		return;
	ok(t.n > 10 && sorted(&t), "%zu rows, strictly sorted", t.n);
	ok(!t.has_fp, "-fomit-frame-pointer code is seen as lacking frame pointers");
	ok(!t.nunsupported, "every row of a plain C program is supported");
	for (int i = 0; i < 4; i++) {
		static const char *const fn[] = { "chain_a", "chain_b", "chain_c", "main" };
		uint64_t pc = func_vaddr(path, &t, fn[i]);
		const struct mt_unwind_row *r = pc ? unwind_table__find(&t, pc) : NULL;

		ok(r && r->cfa_rule == MT_CFA_RSP && r->cfa_offset == 8 && r->rbp_rule == MT_RBP_SAME,
		   "%s starts with CFA = rsp + 8, rbp unchanged", fn[i]);
	}
	/* chain_b saves rbp (it uses it as a general register) and grows its frame before calling. */
	b = func_vaddr(path, &t, "chain_b");
	a = func_vaddr(path, &t, "chain_a");
	for (uint64_t pc = b; b && pc < a; pc++) {
		const struct mt_unwind_row *r = unwind_table__find(&t, pc);

		deep_frame |= r->cfa_rule == MT_CFA_RSP && r->cfa_offset >= 24;
		rbp_saved |= r->rbp_rule == MT_RBP_AT_CFA && r->rbp_offset < 0;
	}
	ok(deep_frame && rbp_saved, "inside chain_b the CFA is rsp + 24 or more and rbp is saved below it");
	{
		const struct mt_unwind_row *r = unwind_table__find(&t, func_vaddr(path, &t, "_start") + 1);

		ok(r && r->cfa_rule == MT_CFA_END, "_start ends the stack (return address undefined)");
	}
	is_u64(count_rule(&t, MT_CFA_PLT), 1, "the PLT has the PLT rule");
	ok(!unwind_table__find(&t, t.rows[0].pc - 1), "no row before the first function");
	unwind_table__release(&t);
	free(path);
}

static void test_fp(void)
{
	char *path = NULL;
	struct unwind_table t;

	if (asprintf(&path, "%s/workloads/leaky", out_dir()) < 0)
		abort();
	if (!built(path, &t))
		return;
	ok(t.has_fp, "-fno-omit-frame-pointer code is seen as keeping frame pointers");
	ok(count_rule(&t, MT_CFA_RBP) > 5, "its functions switch the CFA to rbp");
	unwind_table__release(&t);
	free(path);
}

static void test_libc(void)
{
	static const char libc[] = "/lib/x86_64-linux-gnu/libc.so.6";
	struct unwind_table t;

	if (access(libc, R_OK)) {
		skip("no %s (not a Debian x86-64 libc)", libc);
		return;
	}
	is_u64(unwind_table__build_file(libc, &t), 0, "table of libc");
	ok(t.n > 1000 && sorted(&t), "libc: %zu rows, strictly sorted", t.n);
	ok(!t.has_fp, "Debian's libc has no frame pointers");
	ok(t.nunsupported < 20, "few unsupported rows (%u: longjmp, setcontext and the like)", t.nunsupported);
	is_u64(count_rule(&t, MT_CFA_SIGNAL), 1, "one signal trampoline (__restore_rt)");
	for (size_t i = 0; i < t.n; i++)
		if (t.rows[i].cfa_rule == MT_CFA_SIGNAL)
			ok(t.rows[i].cfa_offset == 160 && t.rows[i].rbp_offset == 120,
			   "signal frame reads rsp at 160 and rbp at 120 (struct ucontext, x86-64)");
	ok(count_rule(&t, MT_CFA_END) >= 1, "clone ends thread stacks");
	unwind_table__release(&t);
}

static void test_errors(void)
{
	struct unwind_table t;

	is_u64(unwind_table__build_file("/nonexistent/object", &t), (uint64_t)-ENOENT, "missing file");
	ok(unwind_table__build_file("/proc/self/status", &t) < 0 && t.n == 0, "not an ELF file");
}

int main(void)
{
	test_nofp();
	test_fp();
	test_libc();
	test_errors();
	return done_testing();
}
