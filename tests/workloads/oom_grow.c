// SPDX-License-Identifier: BSD-2-Clause
/*
 * For the OOM-kill test: waits until GO_FILE exists, then grows without end in grow_until_killed():
 * malloc(BLOCK), say the count of blocks held so far, then touch every page of the block. Run in
 * a memory cgroup with a small limit, the kernel kills it while it touches a block, after saying
 * it: at the kill it holds exactly the last count said x BLOCK bytes, all from grow_until_killed.
 * It says so with write(2), on a descriptor opened before it grows (stdio would allocate).
 * Usage: oom_grow GO_FILE BLOCK_BYTES > COUNT_FILE
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *volatile held[1 << 16];

static void say(int n)
{
	char line[32];
	int len = snprintf(line, sizeof(line), "%d\n", n);

	write(1, line, len);
}

__attribute__((noinline)) void grow_until_killed(size_t block)
{
	for (int n = 1; n < 1 << 16; n++) {
		char *p = malloc(block);

		if (!p)
			return;
		held[n] = p;
		say(n);
		memset(p, n, block);	/* resident now: the kill comes here */
	}
}

int main(int argc, char **argv)
{
	size_t block = argc > 2 ? strtoul(argv[2], NULL, 0) : 0;

	if (!block)
		return 2;
	while (access(argv[1], F_OK))
		usleep(10000);
	grow_until_killed(block);
	return 1;	/* never killed: no limit was reached */
}
