// SPDX-License-Identifier: BSD-2-Clause
/* One malloc(4242) at the bottom of a 300-deep recursion: stacks are cut at 255 frames, counted. */
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
	recurse(300);
	return 0;
}
