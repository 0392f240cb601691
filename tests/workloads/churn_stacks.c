// SPDX-License-Identifier: BSD-2-Clause
/*
 * Allocation churn for benchmarks: N malloc/free pairs as fast as they go, from 64 distinct call
 * stacks (recursion depth 1..64), keeping one block in 16 so stacks hold memory and snapshots
 * have work to do. scripts/bench-live runs it. Usage: churn_stacks [N]   (default 200000)
 */
#include <stdlib.h>

void *volatile sink;
static void *volatile kept[1 << 16];
static unsigned nkept;

__attribute__((noinline)) static void alloc_at(int depth, long i)
{
	void *p;

	if (depth > 0) {
		alloc_at(depth - 1, i);
		sink = NULL;	/* not a tail call: each depth is its own stack */
		return;
	}
	p = malloc(32 + i % 256);
	sink = p;
	if (i % 16 == 0)
		kept[nkept++ % (1 << 16)] = p;	/* wraps after 1M pairs: older blocks leak for good */
	else
		free(p);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 200000;

	for (long i = 0; i < n; i++)
		alloc_at((int)(i % 64), i);
	return 0;
}
