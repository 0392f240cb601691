// SPDX-License-Identifier: BSD-2-Clause
/*
 * Major page faults with known answers (tests/integration/resident_major.sh): writes FILE of
 * MIB MiB (default 8), fsyncs it so its pages are clean, drops them from the page cache
 * (POSIX_FADV_DONTNEED), checks with mincore() that none is left, then maps it and reads every
 * page from read_file_pages(): the pages must come from the disk, so some faults are major.
 * Prints the kernel's own counts for that function (getrusage) and mincore()'s before and after:
 *   cached_before PAGES / majflt N / minflt N / cached_after PAGES / file_pages PAGES / majfault done
 * Exits 3, after "cannot drop: ...", when the page cache keeps the file (tmpfs, say): a test
 * must skip then, not pass.
 * Usage: majfault FILE [MIB]
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#define MiB (1024 * 1024)

volatile unsigned long drain;

static int write_file(const char *path, size_t size)
{
	static char chunk[MiB];
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);

	if (fd < 0)
		return -1;
	memset(chunk, 0x5a, sizeof(chunk));	/* not zeros: no file system may elide them */
	for (size_t done = 0; done < size; done += sizeof(chunk))
		if (write(fd, chunk, sizeof(chunk)) != (ssize_t)sizeof(chunk))
			return close(fd), -1;
	/* Dirty pages cannot be dropped: write them back first. */
	if (fsync(fd) || posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED))
		return close(fd), -1;
	return fd;
}

/* Pages of [p, p + size) in the page cache, by mincore(). */
static size_t cached_pages(void *p, size_t size, size_t page)
{
	size_t n = (size + page - 1) / page, in = 0;
	unsigned char *vec = malloc(n);

	if (!vec || mincore(p, size, vec))
		return free(vec), (size_t)-1;
	for (size_t i = 0; i < n; i++)
		in += vec[i] & 1;
	free(vec);
	return in;
}

/* One read per page: each page not yet mapped faults here. */
__attribute__((noinline)) void read_file_pages(const char *p, size_t size, size_t page)
{
	for (size_t i = 0; i < size; i += page)
		drain += ((const volatile char *)p)[i];
}

int main(int argc, char **argv)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), size, before;
	struct rusage r0, r1;
	int fd;
	char *p;

	if (argc < 2) {
		fprintf(stderr, "usage: majfault FILE [MIB]\n");
		return 2;
	}
	size = (argc > 2 ? strtoul(argv[2], NULL, 10) : 8) * MiB;
	fd = write_file(argv[1], size);
	p = fd < 0 ? MAP_FAILED : mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		perror("majfault: write, drop and map FILE");
		return 1;
	}
	before = cached_pages(p, size, page);
	printf("cached_before %zu\n", before);
	if (before) {	/* mincore() reports the page cache, not this process's page tables */
		printf("cannot drop: %zu of %zu pages stay in the page cache\n", before, size / page);
		return 3;
	}
	getrusage(RUSAGE_SELF, &r0);
	read_file_pages(p, size, page);
	getrusage(RUSAGE_SELF, &r1);
	printf("majflt %ld\nminflt %ld\n", r1.ru_majflt - r0.ru_majflt, r1.ru_minflt - r0.ru_minflt);
	printf("cached_after %zu\nfile_pages %zu\n", cached_pages(p, size, page), size / page);
	getrusage(RUSAGE_SELF, &r1);	/* the whole run's: a busy machine can evict libc's pages */
	printf("majflt_all %ld\n", r1.ru_majflt);
	puts("majfault done");
	return 0;
}
