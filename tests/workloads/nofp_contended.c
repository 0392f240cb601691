// SPDX-License-Identifier: BSD-2-Clause
/*
 * Allocations unwound while another thread keeps taking the mm's lock for writing (mmap and munmap
 * in a loop, as a program mapping memory, or a tracer adding and removing probes, does):
 *  contended_c <- contended_b <- contended_a <- main   20000 malloc+free pairs of 100-107 bytes
 * Built without frame pointers: each stack needs the CFI unwinder, which must find each pc's
 * mapping while the lock is held. Prints "nofp_contended done" and how many times the other
 * thread mapped meanwhile.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#define CALLS 20000

static atomic_bool done;
void *volatile sink;

static void *remap(void *arg)
{
	long *n = arg;

	while (!atomic_load(&done)) {
		void *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		munmap(p, 4096);
		++*n;
	}
	return NULL;
}

/* The empty asm keeps each call from being a tail call: every frame stays on the stack. */
__attribute__((noinline)) void contended_c(int i)
{
	sink = malloc(100 + (size_t)(i & 7));
	free(sink);
}

__attribute__((noinline)) void contended_b(int i)
{
	contended_c(i);
	__asm__ volatile("");
}

__attribute__((noinline)) void contended_a(int i)
{
	contended_b(i);
	__asm__ volatile("");
}

int main(void)
{
	pthread_t t;
	long n = 0;

	pthread_create(&t, NULL, remap, &n);
	for (int i = 0; i < CALLS; i++)
		contended_a(i);
	atomic_store(&done, true);
	pthread_join(t, NULL);
	printf("nofp_contended done (%ld maps meanwhile)\n", n);
	return 0;
}
