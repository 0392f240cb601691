// SPDX-License-Identifier: BSD-2-Clause
/*
 * Memory that grows to a known peak, falls, and grows again to a smaller level
 * (tests/integration/resident_phases.sh):
 *   phase 1  grow_big 32 x 1 MiB, then grow_extra 8 x 1 MiB: peak heap exactly 40 MiB, all touched
 *   hold     HOLD_MS
 *   phase 2  everything freed
 *   phase 3  grow_again 10 x 1 MiB, touched, held HOLD_MS, still outstanding at exit
 * Nothing else allocates before the end. Prints CLOCK_MONOTONIC nanoseconds of the phase edges:
 * "grow_start NS", "peak_reached NS", "freed NS", then "phases done".
 * Usage: phases [HOLD_MS]   (default 400)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MiB (1024 * 1024)

void *volatile big[32], *volatile extra[8], *volatile again[10];

static unsigned long long now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000ull + t.tv_nsec;
}

static void *touch(char *p, size_t n)
{
	for (size_t i = 0; i < n; i += 4096)
		((volatile char *)p)[i] = 1;
	return p;
}

__attribute__((noinline)) void grow_big(void)
{
	for (int i = 0; i < 32; i++)
		big[i] = touch(malloc(MiB), MiB);
}

__attribute__((noinline)) void grow_extra(void)
{
	for (int i = 0; i < 8; i++)
		extra[i] = touch(malloc(MiB), MiB);
}

__attribute__((noinline)) void shrink(void)
{
	for (int i = 0; i < 32; i++)
		free(big[i]);
	for (int i = 0; i < 8; i++)
		free(extra[i]);
}

__attribute__((noinline)) void grow_again(void)
{
	for (int i = 0; i < 10; i++)
		again[i] = touch(malloc(MiB), MiB);
}

int main(int argc, char **argv)
{
	unsigned hold_us = (argc > 1 ? atoi(argv[1]) : 400) * 1000u;
	unsigned long long t[3];

	t[0] = now_ns();
	grow_big();
	grow_extra();
	t[1] = now_ns();
	usleep(hold_us);
	shrink();
	t[2] = now_ns();
	usleep(hold_us);
	grow_again();
	usleep(hold_us);
	printf("grow_start %llu\npeak_reached %llu\nfreed %llu\nphases done\n", t[0], t[1], t[2]);
	return 0;
}
