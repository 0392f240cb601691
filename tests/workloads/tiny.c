// SPDX-License-Identifier: BSD-2-Clause
/*
 * A short-lived process with a known leak, for runs of thousands (memtrace -a's bounded memory):
 * tiny_leak holds 3 x 1000 B when it exits. Usage: tiny
 */
#include <stdlib.h>

void *volatile sink[3];

__attribute__((noinline)) void tiny_leak(void)
{
	for (int i = 0; i < 3; i++)
		sink[i] = malloc(1000);
}

int main(void)
{
	tiny_leak();
	return 0;
}
