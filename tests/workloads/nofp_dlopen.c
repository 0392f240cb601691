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

/* Usage: nofp_dlopen [GO_FILE]: with GO_FILE, wait for it between the two opens. */
int main(int argc, char **argv)
{
	void *lib = dlopen("libsqlite3.so.0", RTLD_NOW);
	open_fn open_db = lib ? (open_fn)dlsym(lib, "sqlite3_open") : NULL;

	if (!open_db)
		return 3;
	first_open(open_db);	/* may race memtrace's loading of the new table */
	/* The test creates GO_FILE once memtrace says it loaded the new table: no guess at timing. */
	while (argc > 1 && access(argv[1], F_OK))
		usleep(10000);
	second_open(open_db);
	printf("nofp_dlopen done\n");
	return 0;
}
