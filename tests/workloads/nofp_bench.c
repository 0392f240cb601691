// SPDX-License-Identifier: BSD-2-Clause
/*
 * For scripts/bench-unwind: N mallocs made DEPTH frames deep in code without frame pointers,
 * timed from inside, so memtrace's start-up does not count. Prints "ns_per_call X".
 * Usage: nofp_bench [N [DEPTH]]   (defaults 20000, 20)
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

void *volatile sink;
volatile long blackhole;

__attribute__((noinline)) void allocate(long n)
{
	for (long i = 0; i < n; i++)
		sink = malloc(16);	/* leaked on purpose: a free would add its own probe's cost */
}

__attribute__((noinline)) void descend(int depth, long n)
{
	long keep = depth * 7;	/* live across the call: a real frame, no tail call */

	if (depth > 1)
		descend(depth - 1, n);
	else
		allocate(n);
	blackhole = keep;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 20000;
	int depth = argc > 2 ? atoi(argv[2]) : 20;
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	descend(depth, n);
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("ns_per_call %.1f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n);
	return 0;
}
