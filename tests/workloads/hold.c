// SPDX-License-Identifier: BSD-2-Clause
/*
 * For scrapes while a process lives: waits until GO_FILE exists, allocates N + 2 blocks of 1000 B
 * in hold_blocks() and frees 2 of them, then stays alive, holding N x 1000 B, until STOP_FILE
 * exists. Expected from a trace attached before GO: N + 2 allocations, 2 frees, N x 1000 B in N
 * blocks outstanding, (N + 2) x 1000 B allocated. It says "held" with write(2): stdio would
 * allocate a buffer of its own.
 * Usage: hold N GO_FILE STOP_FILE
 */
#include <stdlib.h>
#include <unistd.h>

static void *volatile held[1000];

__attribute__((noinline)) void hold_blocks(int n)
{
	for (int i = 0; i < n + 2; i++)
		held[i] = malloc(1000);
	free(held[n]);
	free(held[n + 1]);
}

static void wait_for(const char *path)
{
	while (access(path, F_OK))
		usleep(10000);
}

int main(int argc, char **argv)
{
	int n = argc > 3 ? atoi(argv[1]) : -1;

	if (n < 0 || n > 998)
		return 2;
	wait_for(argv[2]);
	hold_blocks(n);
	write(1, "held\n", 5);
	wait_for(argv[3]);
	return 0;
}
