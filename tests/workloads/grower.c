// SPDX-License-Identifier: BSD-2-Clause
/*
 * For memtrace diff: leaks N x 1000 B at leak_site() (N from the command line), a fixed
 * 3 x 500 B at steady_site() whatever N, and churns 1000 blocks it frees. Two runs differ by
 * exactly (N2 - N1) x 1000 B in (N2 - N1) blocks, all at leak_site. tests/integration/record_*.sh
 * rely on these numbers. Usage: grower N [hold]   ("hold": then sleep until killed)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void *volatile sink[4096];
static int nsink;

__attribute__((noinline)) void leak_site(void)
{
	sink[nsink++ % 4096] = malloc(1000);
}

__attribute__((noinline)) void steady_site(void)
{
	sink[nsink++ % 4096] = malloc(500);
}

__attribute__((noinline)) void churn(void)
{
	for (int i = 0; i < 1000; i++) {
		void *p = malloc(32 + i % 32);

		sink[4095] = p;
		free(p);
	}
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 0;

	for (int i = 0; i < 3; i++)
		steady_site();
	for (int i = 0; i < n; i++)
		leak_site();
	churn();
	if (argc > 2 && !strcmp(argv[2], "hold")) {
		printf("holding\n");
		fflush(stdout);
		for (;;)
			pause();
	}
	return 0;
}
