// SPDX-License-Identifier: BSD-2-Clause
/* One malloc(4242) at the bottom of a 150-deep recursion: stacks are cut at 127 frames, counted. */
#include <stdlib.h>

void *volatile sink;

__attribute__((noinline)) void recurse(int n)
{
	if (n == 0)
		sink = malloc(4242);
	else
		recurse(n - 1);
	__asm__ volatile("" ::: "memory");	/* no tail call: every level keeps its frame */
}

int main(void)
{
	recurse(150);
	return 0;
}
