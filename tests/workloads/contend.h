/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A thread that keeps taking the mm's lock for writing, as a program mapping memory, or a tracer
 * adding and removing probes, does: mmap and munmap of one page in a loop until contend_stop().
 */
#ifndef CONTEND_H
#define CONTEND_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/mman.h>

static atomic_bool contend_done;

static void *contend_loop(void *arg)
{
	long *n = arg;

	while (!atomic_load(&contend_done)) {
		void *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		munmap(p, 4096);
		++*n;
	}
	return NULL;
}

/* Start the thread; *n counts its mappings. */
static inline void contend_start(pthread_t *t, long *n)
{
	pthread_create(t, NULL, contend_loop, n);
}

static inline void contend_stop(pthread_t t)
{
	atomic_store(&contend_done, true);
	pthread_join(t, NULL);
}

#endif
