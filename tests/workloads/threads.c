// SPDX-License-Identifier: BSD-2-Clause
/*
 * Four threads each allocate 1000 blocks of 128 B in thread_alloc(); the main thread frees 750
 * of each thread's blocks after the threads have exited, so frees cross threads.
 * Expected: thread_alloc holds 4 x 250 x 128 = 128000 B in 1000 blocks.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define THREADS 4
#define BLOCKS 1000

static void *volatile blocks[THREADS][BLOCKS];

__attribute__((noinline)) void thread_alloc(int t)
{
	for (int i = 0; i < BLOCKS; i++)
		blocks[t][i] = malloc(128);
}

static void *worker(void *arg)
{
	thread_alloc((int)(long)arg);
	return NULL;
}

int main(void)
{
	pthread_t th[THREADS];

	for (long t = 0; t < THREADS; t++)
		pthread_create(&th[t], NULL, worker, (void *)t);
	for (int t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	for (int t = 0; t < THREADS; t++)
		for (int i = 0; i < BLOCKS * 3 / 4; i++)
			free(blocks[t][i]);
	printf("threads done\n");
	return 0;
}
