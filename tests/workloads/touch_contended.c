// SPDX-License-Identifier: BSD-2-Clause
/*
 * Page faults while another thread keeps taking the mm's lock for writing (mmap and munmap in a
 * loop), as a process mapping memory, or a tracer's uprobes going away, does:
 *  touch_contended   mmaps 32 MiB anonymous and writes every page: 8192 faults, all anonymous
 * Prints "touch_contended done" and how many times the other thread mapped.
 */
#include <stdio.h>

#include "contend.h"

#define MiB (1024 * 1024)
#define PAGE 4096

void *volatile sink;

__attribute__((noinline)) void touch_contended(void)
{
	char *p = mmap(NULL, 32 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	madvise(p, 32 * MiB, MADV_NOHUGEPAGE);
	for (size_t i = 0; i < 32 * MiB; i += PAGE)
		((volatile char *)p)[i] = 1;
	sink = p;
}

int main(void)
{
	pthread_t t;
	long n = 0;

	contend_start(&t, &n);
	touch_contended();
	contend_stop(t);
	printf("touch_contended done (%ld maps meanwhile)\n", n);
	return 0;
}
