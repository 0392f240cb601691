// SPDX-License-Identifier: BSD-2-Clause
/*
 * memtrace check: what this machine offers memtrace, capability by capability, then the BPF
 * programs loaded as a trace would load them, with the verifier's own statistics. The first thing
 * to run on a new box, and the first thing a bug report should hold.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "probe/allocator.h"
#include "session/check.h"
#include "probe/kfeat.h"
#include "probe/loader.h"
#include "memtrace.h"
#include "memtrace.skel.h"
#include "probe/unwind.h"
#include "lib/util.h"

/*
 * Every kernel allows a program's call chain 512 bytes of stack. The build checks each chain
 * against 384 (tests/tools/bpf_stack.c); here the verifier of this kernel reports each
 * subprogram's frame, and their sum -- more than any one chain -- must leave a 64-byte margin.
 */
#define MT_STACK_BUDGET 448
/* Each program's processed instructions: a quarter of the limit every kernel since 5.2 sets. */
#define MT_INSNS_BUDGET 250000

static void print_features(const struct mt_features *f)
{
	printf("%-20s %s (%s)\n", "kernel", f->release, f->machine);
	for (int x = 0; x < MT_FEAT__COUNT; x++) {
		const char *answer = !f->probed[x] ? "?" : f->have[x] ? "yes" : "no";

		if (!f->probed[x])
			printf("%-20s %-4s could not be asked without privileges\n", kfeat__name(x), answer);
		else if (f->have[x])
			printf("%-20s %-4s %s\n", kfeat__name(x), answer, kfeat__since(x));
		else
			printf("%-20s %-4s needs %s%s: %s\n", kfeat__name(x), answer, kfeat__since(x),
			       isdigit((unsigned char)kfeat__since(x)[0]) ? "+" : "", kfeat__without(x));
	}
}

static int stack_total(const struct prog_stats *s)
{
	int sum = 0;

	for (int i = 0; i < s->nstack; i++)
		sum += s->stack[i];
	return sum;
}

/* Each program as the verifier saw it, the larger of two loads; returns how many are over a budget. */
static int print_programs(struct prog_stats *st, int n)
{
	int over = 0;

	printf("%-20s %-6s %8s %6s  %s\n", "program", "loaded", "insns", "stack", "stack by subprogram");
	for (int i = 0; i < n; i++) {
		int total = stack_total(&st[i]);
		bool bad = st[i].loaded && (total > MT_STACK_BUDGET || st[i].insns > MT_INSNS_BUDGET);

		printf("%-20s %-6s %8ld %6d  ", st[i].name, st[i].loaded ? "yes" : "off", st[i].insns, total);
		for (int k = 0; k < st[i].nstack; k++)
			printf("%s%d", k ? "+" : "", st[i].stack[k]);
		printf("%s\n", bad ? "  OVER BUDGET" : "");
		over += bad;
	}
	printf("(as loaded for -p and for -a, the larger of each; budgets: all subprograms' stack "
	       "together <= %d bytes, <= %d instructions processed)\n", MT_STACK_BUDGET, MT_INSNS_BUDGET);
	return over;
}

static const char *mode_name(int mode)
{
	return mode == MT_UNWIND_DWARF ? "dwarf" : mode == MT_UNWIND_AUTO ? "auto" : "fp";
}

static int check_pid(int pid)
{
	struct alloc_plan plan = { 0 };
	int err = allocator__plan_pid(pid, &plan);

	if (err)
		return MT_EXIT_TARGET;	/* said by the planner, with a hint */
	printf("\npid %d: %s malloc, %zu allocator functions in %zu objects:\n", pid,
	       plan.family ? plan.family : "unknown", plan.nsites, plan.nobjs);
	for (size_t o = 0; o < plan.nobjs; o++) {
		size_t k = 0;

		for (size_t i = 0; i < plan.nsites; i++)
			k += plan.sites[i].obj == o;
		if (k)
			printf("  %s: %zu\n", plan.objs[o].path, k);
	}
	allocator__release(&plan);
	return 0;
}

/* Keep in into the larger of the two loads' figures. */
static void merge(struct prog_stats *into, const struct prog_stats *in)
{
	into->loaded = into->loaded || in->loaded;
	if (in->insns > into->insns)
		into->insns = in->insns;
	if (stack_total(in) > stack_total(into)) {
		into->nstack = in->nstack;
		memcpy(into->stack, in->stack, sizeof(in->stack));
	}
}

/*
 * Load as `-p PID` and as `-a` would: each leaves code of the other unverified (the pid filter's
 * lookup; the comm and cgroup filters, the exit mappings). Returns the programs' figures.
 */
static int load_both(const struct env *env, const struct mt_features *f, struct loaded *l,
		     struct prog_stats *st, int max)
{
	struct prog_stats more[64];
	int n = 0;

	for (int all = 0; all < 2; all++) {
		struct probe_opts o = { .unwind_mode = env->unwind, .faults = env->faults,
					.all = all, .stats = true, .quiet = true };
		struct memtrace *skel = NULL;
		int k;

		if (loader__load(&o, f, &skel, l))
			return -1;
		k = loader__stats(skel, all ? more : st, all ? 64 : max);
		memtrace__destroy(skel);
		if (!all)
			n = k;
		for (int i = 0; all && i < k && i < n; i++)
			merge(&st[i], &more[i]);
	}
	return n;
}

int check__run(const struct env *env)
{
	struct prog_stats st[64];
	struct mt_features f;
	struct loaded l;
	int rc = 0, over, n;

	kfeat__probe(&f);
	printf("memtrace check: what this machine offers memtrace\n\n");
	print_features(&f);
	printf("\n");
	n = load_both(env, &f, &l, st, 64);
	if (n < 0) {
		printf("\nverdict: memtrace cannot trace on this machine (above: why)\n");
		return MT_EXIT_ENV;
	}
	over = print_programs(st, n);
	for (int i = 0; l.steps[i]; i++)
		printf("stepped down: %s\n", l.steps[i]);
	for (int i = 0; i < env->npids && !rc; i++)
		rc = check_pid(env->pids[i]);
	printf("\nverdict: memtrace can trace here: unwinding %s (asked: %s), Python frames %s, "
	       "page faults %s, OOM kills %s%s\n", mode_name(l.unwind_mode), mode_name(env->unwind),
	       l.python ? "yes" : "no", !env->faults ? "not asked" : l.faults ? "yes" : "no",
	       l.oom ? "yes" : "no", over ? "; some program is over its budget (see above)" : "");
	return rc ? rc : over ? MT_EXIT_FAIL : 0;
}
