// SPDX-License-Identifier: BSD-2-Clause
/*
 * A library unloaded and another loaded at the same address (tests/workloads/reload_lib.c):
 * 100 blocks through libreload_a.so from via_a(), dlclose, then 100 through libreload_b.so
 * from via_b(). tests/integration/unwind_reload.sh holds the expectations.
 * Usage: nofp_reload DIR GO_A GO_B: waits for each file before allocating through that library,
 * so that memtrace has loaded its table. Exit 3: a library did not load; exit 4: b did not
 * load where a was (the test then proves nothing).
 */
#include <dlfcn.h>
#include <stdio.h>
#include <unistd.h>

typedef void *(*alloc_fn)(size_t);
void *volatile sink[256];
volatile int status;

static void wait_for(const char *path)
{
	while (access(path, F_OK))
		usleep(10000);
}

static alloc_fn load(const char *dir, const char *name, void **lib)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	*lib = dlopen(path, RTLD_NOW);
	return *lib ? (alloc_fn)dlsym(*lib, "reload_alloc") : NULL;
}

__attribute__((noinline)) void via_a(alloc_fn f, int i)
{
	sink[i] = f(100);
	status = i;	/* work after the call: not a tail call */
}

__attribute__((noinline)) void via_b(alloc_fn f, int i)
{
	sink[128 + i] = f(200);
	status = i;
}

int main(int argc, char **argv)
{
	void *lib;
	alloc_fn a, b;

	if (argc < 4 || !(a = load(argv[1], "libreload_a.so", &lib)))
		return 3;
	via_a(a, 0);	/* memtrace meets the library: it loads its table */
	wait_for(argv[2]);
	for (int i = 1; i <= 100; i++)
		via_a(a, i);
	dlclose(lib);
	if (!(b = load(argv[1], "libreload_b.so", &lib)))
		return 3;
	if (b != a)
		return 4;
	via_b(b, 0);
	wait_for(argv[3]);
	for (int i = 1; i <= 100; i++)
		via_b(b, i);
	printf("nofp_reload done\n");
	return 0;
}
