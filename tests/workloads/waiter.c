// SPDX-License-Identifier: BSD-2-Clause
/*
 * For attaching with -p: allocates 5 x 4000 B in before_attach(), waits until GO_FILE exists,
 * then leaks 7 x 3000 B in after_attach() and frees 3 of the early blocks, then exits.
 * Expected from a trace attached while it waits: after_attach holds 21000 B in 7 blocks;
 * 3 frees of blocks from before the trace.
 * Usage: waiter GO_FILE
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void *volatile early[5], *volatile late[7];

__attribute__((noinline)) void before_attach(void)
{
	for (int i = 0; i < 5; i++)
		early[i] = malloc(4000);
}

__attribute__((noinline)) void after_attach(void)
{
	for (int i = 0; i < 7; i++)
		late[i] = malloc(3000);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	before_attach();
	printf("waiting\n");
	fflush(stdout);
	while (access(argv[1], F_OK))
		usleep(10000);
	after_attach();
	for (int i = 0; i < 3; i++)
		free(early[i]);
	return 0;
}
