// SPDX-License-Identifier: BSD-2-Clause
/*
 * For delta profiles (?seconds=N): allocates in two phases, each started by a file. After GO1:
 * before_window() allocates 20 x 1000 B and holds them, then says "before". After GO2:
 * in_window() allocates 50 x 2000 B and frees 10 of them, then says "window". Then it holds
 * everything until STOP exists. A delta that spans GO2 alone holds exactly in_window's 50
 * allocations (100000 B), 40 of them outstanding (80000 B), and nothing of before_window.
 * It says so with write(2): stdio would allocate a buffer of its own.
 * Usage: window GO1 GO2 STOP
 */
#include <stdlib.h>
#include <unistd.h>

static void *volatile held[100];

static void wait_for(const char *path)
{
	while (access(path, F_OK))
		usleep(10000);
}

__attribute__((noinline)) void before_window(void)
{
	for (int i = 0; i < 20; i++)
		held[i] = malloc(1000);
}

__attribute__((noinline)) void in_window(void)
{
	for (int i = 0; i < 50; i++)
		held[20 + i] = malloc(2000);
	for (int i = 0; i < 10; i++)
		free(held[20 + i]);
}

int main(int argc, char **argv)
{
	if (argc < 4)
		return 2;
	wait_for(argv[1]);
	before_window();
	write(1, "before\n", 7);
	wait_for(argv[2]);
	in_window();
	write(1, "window\n", 7);
	wait_for(argv[3]);
	return 0;
}
