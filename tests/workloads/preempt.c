// SPDX-License-Identifier: BSD-2-Clause
/*
 * Two threads allocate at once, so that on one CPU of a preemptible kernel (preempt=full) each
 * preempts the other in the middle of memtrace's probes: thread A 20000 blocks of 64 B in
 * alloc_a(), thread B 20000 of 96 B in alloc_b(), all held.
 * Expected: alloc_a 1,280,000 B in 20000 blocks; alloc_b 1,920,000 B in 20000 blocks.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define BLOCKS 20000

static void *volatile kept[2][BLOCKS];

__attribute__((noinline)) void alloc_a(void)
{
	for (int i = 0; i < BLOCKS; i++)
		kept[0][i] = malloc(64);
}

__attribute__((noinline)) void alloc_b(void)
{
	for (int i = 0; i < BLOCKS; i++)
		kept[1][i] = malloc(96);
}

static void *run(void *arg)
{
	if (arg)
		alloc_b();
	else
		alloc_a();
	return NULL;
}

int main(void)
{
	pthread_t th[2];

	for (long t = 0; t < 2; t++)
		pthread_create(&th[t], NULL, run, (void *)t);
	for (int t = 0; t < 2; t++)
		pthread_join(th[t], NULL);
	printf("preempt done\n");
	return 0;
}
