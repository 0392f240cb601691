// SPDX-License-Identifier: BSD-2-Clause
/*
 * Allocations unwound while another thread keeps taking the mm's lock for writing (mmap and munmap
 * in a loop, as a program mapping memory, or a tracer adding and removing probes, does):
 *  contended_c <- contended_b <- contended_a <- main   20000 malloc+free pairs of 100-107 bytes
 * Built without frame pointers: each stack needs the CFI unwinder, which must find each pc's
 * mapping while the lock is held. Prints "nofp_contended done" and how many times the other
 * thread mapped meanwhile.
 */
#include <stdio.h>
#include <stdlib.h>

#include "contend.h"

#define CALLS 20000

void *volatile sink;

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

	contend_start(&t, &n);
	for (int i = 0; i < CALLS; i++)
		contended_a(i);
	contend_stop(t);
	printf("nofp_contended done (%ld maps meanwhile)\n", n);
	return 0;
}
