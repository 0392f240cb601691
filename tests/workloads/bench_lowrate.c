// SPDX-License-Identifier: BSD-2-Clause
/*
 * Bench workload: a long-running program that mostly computes and allocates rarely, the way a
 * service idles between requests: ROUNDS rounds of fixed CPU work, each followed by 10
 * malloc+free pairs (exactly 20 * ROUNDS allocator calls after startup).
 * Usage: bench_lowrate ROUNDS [WORK]   (WORK: inner iterations per round, default 2000000)
 */
#include <stdio.h>
#include <stdlib.h>

static volatile unsigned long sink;

__attribute__((noinline)) static unsigned long work(long n, long round)
{
	unsigned long h = 1469598103934665603ul ^ (unsigned long)round;	/* not hoistable */

	for (long i = 0; i < n; i++)
		h = (h ^ (unsigned long)i) * 1099511628211ul;
	return h;
}

__attribute__((noinline)) static void serve(int round)
{
	void *volatile blocks[10];

	for (int i = 0; i < 10; i++)
		blocks[i] = malloc(64 + 32 * ((round + i) % 8));
	for (int i = 0; i < 10; i++)
		free(blocks[i]);
}

int main(int argc, char **argv)
{
	long rounds = argc > 1 ? atol(argv[1]) : 0, n = argc > 2 ? atol(argv[2]) : 2000000;

	if (rounds <= 0 || n < 0) {
		fprintf(stderr, "usage: bench_lowrate ROUNDS [WORK]\n");
		return 2;
	}
	for (long r = 0; r < rounds; r++) {
		sink += work(n, r);
		serve((int)r);
	}
	return 0;
}
