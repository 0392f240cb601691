// SPDX-License-Identifier: BSD-2-Clause
/*
 * Bench workload: a malloc/free microbenchmark over mixed small sizes, with a window of live
 * blocks so that frees are not always of the block just allocated. Each thread makes exactly
 * 2 * (PAIRS + WINDOW) allocator calls: WINDOW mallocs to fill, PAIRS free+malloc, WINDOW frees.
 * Usage: bench_malloc PAIRS [THREADS]   (THREADS 0 = one per online CPU; default 1)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define WINDOW 64

static const size_t sizes[] = { 16, 24, 32, 48, 64, 100, 128, 200, 256, 512, 1000, 4000 };
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

static long pairs;

static void *churn(void *arg)
{
	void *volatile live[WINDOW];	/* volatile: GCC may not drop a pair whose block is unused */
	unsigned seed = (unsigned)(long)arg;

	for (int i = 0; i < WINDOW; i++)
		live[i] = malloc(sizes[i % NSIZES]);
	for (long i = 0; i < pairs; i++) {
		seed = seed * 1103515245u + 12345u;
		free(live[i % WINDOW]);
		live[i % WINDOW] = malloc(sizes[(seed >> 16) % NSIZES]);
	}
	for (int i = 0; i < WINDOW; i++)
		free(live[i]);
	return NULL;
}

int main(int argc, char **argv)
{
	long nthreads = argc > 2 ? atol(argv[2]) : 1;
	pthread_t tid[256];

	if (argc < 2 || (pairs = atol(argv[1])) <= 0) {
		fprintf(stderr, "usage: bench_malloc PAIRS [THREADS]\n");
		return 2;
	}
	if (nthreads <= 0)
		nthreads = sysconf(_SC_NPROCESSORS_ONLN);
	if (nthreads > 256)
		nthreads = 256;
	if (nthreads == 1) {
		churn((void *)1L);
		return 0;
	}
	for (long t = 0; t < nthreads; t++)
		if (pthread_create(&tid[t], NULL, churn, (void *)(t + 1))) {
			perror("pthread_create");
			return 1;
		}
	for (long t = 0; t < nthreads; t++)
		pthread_join(tid[t], NULL);
	return 0;
}
