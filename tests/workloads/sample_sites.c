// SPDX-License-Identifier: BSD-2-Clause
/*
 * Known heap per call site, for sampling mode (tests/integration/sample_*.sh hold the numbers:
 * change both together). Usage: sample_sites exact|volume [SCALE]  (prints "sample_sites done")
 *   exact:  a few hundred blocks: keep_small 100 x 48 B, keep_calloc 10 x 4 x 250 B, free_all
 *           1000 x 512 B all freed, realloc_grow 5 blocks of 100 B moved to 4000 B each.
 *   volume: ~200k blocks held at four sites of different sizes, and churn that frees everything:
 *           vol_tiny 100000 x 512 B, vol_small 40000 x 2 KiB, vol_medium 4000 x 24 KiB,
 *           vol_large 300 x 256 KiB, vol_churn 50000 x 1 KiB freed at once; each count
 *           times SCALE (default 1; the bench's accuracy check uses 8).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void **held;
static size_t nheld;
static int scale = 1;

static void hold(void *p)
{
	*(volatile char *)p = 1;
	held[nheld++] = p;
}

__attribute__((noinline)) void keep_small(void)
{
	for (int i = 0; i < 100; i++)
		hold(malloc(48));
}

__attribute__((noinline)) void keep_calloc(void)
{
	for (int i = 0; i < 10; i++)
		hold(calloc(4, 250));
}

__attribute__((noinline)) void free_all(void)
{
	for (int i = 0; i < 1000; i++) {
		char *volatile p = malloc(512);

		free(p);
	}
}

__attribute__((noinline)) void *realloc_start(void) { return malloc(100); }

__attribute__((noinline)) void realloc_grow(void)
{
	for (int i = 0; i < 5; i++) {
		char *p = realloc_start();
		char *gap = malloc(200);	/* so the realloc cannot grow in place */

		hold(realloc(p, 4000));
		free(gap);
	}
}

/* n blocks of size bytes, held to the end. */
__attribute__((noinline)) void vol_tiny(void) { for (int i = 0; i < 100000 * scale; i++) hold(malloc(512)); }
__attribute__((noinline)) void vol_small(void) { for (int i = 0; i < 40000 * scale; i++) hold(malloc(2048)); }
__attribute__((noinline)) void vol_medium(void) { for (int i = 0; i < 4000 * scale; i++) hold(malloc(24576)); }
__attribute__((noinline)) void vol_large(void) { for (int i = 0; i < 300 * scale; i++) hold(malloc(262144)); }

__attribute__((noinline)) void vol_churn(void)
{
	for (int i = 0; i < 50000 * scale; i++) {
		char *volatile p = malloc(1024);

		free(p);
	}
}

int main(int argc, char **argv)
{
	int volume = argc > 1 && !strcmp(argv[1], "volume");

	if (argc > 2 && atoi(argv[2]) > 0)
		scale = atoi(argv[2]);
	held = calloc(200000 * (size_t)scale, sizeof(*held));
	if (volume) {
		vol_tiny();
		vol_churn();
		vol_small();
		vol_medium();
		vol_large();
	} else {
		keep_small();
		keep_calloc();
		free_all();
		realloc_grow();
	}
	printf("sample_sites done\n");
	fflush(stdout);
	return 0;
}
