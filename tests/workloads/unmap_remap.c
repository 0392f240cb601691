// SPDX-License-Identifier: BSD-2-Clause
/*
 * A library unloaded, and a data file mapped where its code was, before memtrace reads the
 * allocations made through it (tests/integration/frames_remap.sh keeps memtrace stopped
 * meanwhile): those frames must not be named after the data file.
 * Usage: unmap_remap DIR DATAFILE FLAGS: creates FLAGS/ready; once FLAGS/go exists, loads
 * DIR/libreload_a.so, allocates 10 blocks of 4242 bytes through it, unloads it, maps DATAFILE
 * read-only where its code was and creates FLAGS/done; exits once FLAGS/end exists. Exit 3: the
 * library did not load; 4: its code was not found, or the data file could not go there.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

typedef void *(*alloc_fn)(size_t);
void *volatile sink[10];

static void wait_for(const char *dir, const char *name)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	while (access(path, F_OK))
		usleep(10000);
}

static void create(const char *dir, const char *name)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	close(open(path, O_CREAT | O_WRONLY, 0644));
}

/* The library's executable mapping, from /proc/self/maps. */
static int code_of(const char *name, unsigned long *start, unsigned long *end)
{
	char line[4096], perms[8];
	FILE *f = fopen("/proc/self/maps", "r");
	int found = 0;

	while (f && !found && fgets(line, sizeof(line), f))
		found = strstr(line, name) && sscanf(line, "%lx-%lx %7s", start, end, perms) == 3 &&
			perms[2] == 'x';
	if (f)
		fclose(f);
	return found;
}

__attribute__((noinline)) void via_lib(alloc_fn f, int i)
{
	sink[i] = f(4242);
	sink[i] = sink[i];	/* work after the call: not a tail call */
}

int main(int argc, char **argv)
{
	unsigned long start, end;
	char path[4096];
	void *lib, *at;
	alloc_fn f;
	int fd;

	if (argc < 4)
		return 3;
	create(argv[3], "ready");
	wait_for(argv[3], "go");
	snprintf(path, sizeof(path), "%s/libreload_a.so", argv[1]);
	lib = dlopen(path, RTLD_NOW);
	f = lib ? (alloc_fn)dlsym(lib, "reload_alloc") : NULL;
	if (!f)
		return 3;
	if (!code_of("libreload_a.so", &start, &end))
		return 4;
	for (int i = 0; i < 10; i++)
		via_lib(f, i);
	dlclose(lib);
	fd = open(argv[2], O_RDONLY);
	at = fd < 0 ? MAP_FAILED : mmap((void *)start, end - start, PROT_READ,
					 MAP_PRIVATE | MAP_FIXED_NOREPLACE, fd, 0);
	if (at != (void *)start)
		return 4;
	create(argv[3], "done");
	wait_for(argv[3], "end");
	printf("unmap_remap done\n");
	return 0;
}
