// SPDX-License-Identifier: BSD-2-Clause
/*
 * Resident memory with known answers, one function each (tests/integration/resident_touch.sh):
 *  touch_mmap   mmaps 8 MiB anonymous and writes every page: 8 MiB resident, 8 MiB mapped
 *  touch_half   mallocs 16 MiB and writes the first 8 MiB: 8 MiB resident, 16 MiB heap
 *  touch_huge   writes a 2 MiB-aligned 4 MiB anonymous range advised MADV_HUGEPAGE: 4 MiB
 *               resident in 2 faults where transparent huge pages are available, 1024 if not
 *  read_zero    reads every page of 1 MiB never written: 256 faults; whether they allocate
 *               (or map the shared zero page) is the kernel's choice
 * Prints each function's growth of RssAnon by the kernel's own count, "NAME KIB", then "touch done".
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MiB (1024 * 1024)
#define PAGE 4096

void *volatile sink[4];
volatile char drain;

__attribute__((noinline)) void touch_mmap(void)
{
	char *p = mmap(NULL, 8 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	for (size_t i = 0; i < 8 * MiB; i += PAGE)
		((volatile char *)p)[i] = 1;
	sink[0] = p;
}

__attribute__((noinline)) void touch_half(void)
{
	char *p = malloc(16 * MiB);

	for (size_t i = 0; i < 8 * MiB; i += PAGE)
		((volatile char *)p)[i] = 1;
	sink[1] = p;
}

__attribute__((noinline)) void touch_huge(void)
{
	char *raw = mmap(NULL, 6 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *p = (char *)(((uintptr_t)raw + 2 * MiB - 1) & ~(uintptr_t)(2 * MiB - 1));

	madvise(p, 4 * MiB, MADV_HUGEPAGE);
	for (size_t i = 0; i < 4 * MiB; i += PAGE)
		((volatile char *)p)[i] = 1;
	sink[2] = raw;
}

__attribute__((noinline)) void read_zero(void)
{
	char *p = mmap(NULL, 1 * MiB, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	for (size_t i = 0; i < 1 * MiB; i += PAGE)
		drain += ((volatile char *)p)[i];
	sink[3] = p;
}

/* RssAnon in KiB, read without stdio so that no allocation muddles the heap being measured. */
static long rss_anon_kib(void)
{
	char buf[4096], *at;
	int fd = open("/proc/self/status", O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	at = strstr(buf, "RssAnon:");
	return at ? strtol(at + 8, NULL, 10) : -1;
}

int main(void)
{
	static const struct { const char *name; void (*fn)(void); } step[] = {
		{ "touch_mmap", touch_mmap }, { "touch_half", touch_half },
		{ "touch_huge", touch_huge }, { "read_zero", read_zero },
	};
	long grew[4];

	for (int i = 0; i < 4; i++) {
		long before = rss_anon_kib();

		step[i].fn();
		grew[i] = rss_anon_kib() - before;
	}
	for (int i = 0; i < 4; i++)
		printf("%s %ld\n", step[i].name, grew[i]);
	puts("touch done");
	return 0;
}
