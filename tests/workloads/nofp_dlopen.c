// SPDX-License-Identifier: BSD-2-Clause
/*
 * Allocations from a library loaded after start (dlopen of the system's libsqlite3, built
 * without frame pointers): once memtrace has loaded its table, its stacks must unwind whole.
 * tests/integration/unwind_dlopen.sh holds the expectations. Usage: nofp_dlopen (exit 3: no lib)
 */
#include <dlfcn.h>
#include <stdio.h>
#include <unistd.h>

typedef int (*open_fn)(const char *, void **);
void *volatile sink[4];
volatile int status;	/* stored after each call, so the calls are not tail calls */

__attribute__((noinline)) void first_open(open_fn open_db)
{
	status = open_db(":memory:", (void **)&sink[0]);
}

__attribute__((noinline)) void second_open(open_fn open_db)
{
	status = open_db(":memory:", (void **)&sink[1]);
}

int main(void)
{
	void *lib = dlopen("libsqlite3.so.0", RTLD_NOW);
	open_fn open_db = lib ? (open_fn)dlsym(lib, "sqlite3_open") : NULL;

	if (!open_db)
		return 3;
	first_open(open_db);	/* may race memtrace's loading of the new table */
	usleep(500 * 1000);	/* memtrace polls for unknown objects every 100 ms */
	second_open(open_db);
	printf("nofp_dlopen done\n");
	return 0;
}
