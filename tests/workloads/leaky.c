// SPDX-License-Identifier: BSD-2-Clause
/*
 * Known leaks, one per function, through every allocator entry point; plus churn that frees
 * everything. tests/integration/core_leaky.sh holds the expected numbers: change both together.
 * Usage: leaky [EXIT_STATUS [nopvalloc]]   (prints "leaky done" on stdout)
 * "nopvalloc" leaves out pvalloc, which valgrind 3.19 does not support.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

void *volatile sink[64];
static int nsink;

static void keep(void *p) { sink[nsink++ % 60] = p; }

__attribute__((noinline)) void leak_malloc(void)	/* 10 x 1000 = 10000 B */
{
	for (int i = 0; i < 10; i++)
		keep(malloc(1000));
}

__attribute__((noinline)) void leak_calloc(void)	/* 4 x 7 x 300 = 8400 B */
{
	for (int i = 0; i < 4; i++)
		keep(calloc(7, 300));
}

__attribute__((noinline)) void leak_realloc(void)	/* 1 block of 20000 B, from the last realloc */
{
	char *p = malloc(100);

	p = realloc(p, 5000);
	p = realloc(p, 20000);
	keep(p);
}

__attribute__((noinline)) void leak_posix_memalign(void)	/* 3 x 3000 = 9000 B */
{
	for (int i = 0; i < 3; i++) {
		void *p;

		if (posix_memalign(&p, 64, 3000) == 0)
			keep(p);
	}
}

__attribute__((noinline)) void leak_aligned_alloc(void)	/* 2 x 2048 = 4096 B */
{
	for (int i = 0; i < 2; i++)
		keep(aligned_alloc(256, 2048));
}

static int use_pvalloc = 1;

__attribute__((noinline)) void leak_memalign(void)	/* memalign 500 + valloc 1000 + pvalloc 5000 -> 8192 */
{
	keep(memalign(32, 500));
	keep(valloc(1000));
	if (use_pvalloc)
		keep(pvalloc(5000));
}

__attribute__((noinline)) void leak_reallocarray(void)	/* 10 x 30 = 300 B */
{
	keep(reallocarray(NULL, 10, 30));
}

__attribute__((noinline)) void leak_strdup(void)	/* 6 x 100 = 600 B */
{
	static const char s[] = "0123456789012345678901234567890123456789012345678901234567890123456789"
				"01234567890123456789012345678";	/* 99 chars */
	for (int i = 0; i < 6; i++)
		keep(strdup(s));
}

__attribute__((noinline)) void leak_mmap(void)	/* 3 pages kept, 5 pages mapped and unmapped */
{
	void *p = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	void *q = mmap(NULL, 5 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	keep(p);
	munmap(q, 5 * 4096);
}

__attribute__((noinline)) void churn(void)	/* 20000 allocations, all freed; odd cases */
{
	for (int i = 0; i < 10000; i++) {
		void *p = malloc(64 + i % 64);
		void *q = calloc(1, 32);

		sink[63] = p;	/* a used block: the compiler may not elide the pair */
		sink[62] = q;
		free(p);
		free(q);
	}
	free(NULL);
	sink[61] = realloc(NULL, 50);
	sink[61] = realloc(sink[61], 80);
	free(sink[61]);	/* realloc(NULL) allocates; moved or not: 1 free + 1 alloc */
	sink[60] = malloc(10);
	if (realloc(sink[60], 0))	/* realloc(p, 0) frees p */
		abort();
}

int main(int argc, char **argv)
{
	use_pvalloc = !(argc > 2 && !strcmp(argv[2], "nopvalloc"));
	leak_malloc();
	leak_calloc();
	leak_realloc();
	leak_posix_memalign();
	leak_aligned_alloc();
	leak_memalign();
	leak_reallocarray();
	leak_strdup();
	leak_mmap();
	churn();
	printf("leaky done\n");
	return argc > 1 ? atoi(argv[1]) : 0;
}
