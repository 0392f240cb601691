// SPDX-License-Identifier: BSD-2-Clause
/*
 * Stacks of known depth for the frame-pointer walk (--unwind fp): one block leaked 10 calls
 * deep, one 300 calls deep (past memtrace's 255-frame limit), one from a second thread.
 * tests/integration/stack_walk.sh holds the expected frames: change both together.
 */
#include <pthread.h>
#include <stdlib.h>

void *volatile sink[4];
static volatile int depth_seen;

__attribute__((noinline)) void *recurse(int n, size_t size)
{
	void *p = n ? recurse(n - 1, size) : malloc(size);

	depth_seen++;	/* work after the call: no tail call, one frame per level */
	return p;
}

__attribute__((noinline)) static void *thread_main(void *arg)
{
	sink[2] = recurse(3, 3333);
	return arg;
}

int main(void)
{
	pthread_t t;

	sink[0] = recurse(10, 1111);
	sink[1] = recurse(300, 2222);
	if (pthread_create(&t, NULL, thread_main, NULL) == 0)
		pthread_join(t, NULL);
	return 0;
}
