// SPDX-License-Identifier: BSD-2-Clause
/*
 * A thread that ptrace cannot stop for a while: it vforked, and the kernel holds a vfork parent
 * (killable, not interruptible) until its child execs or exits, SECONDS later. For the leak
 * check's "a thread does not stop" path (tests/integration/leak_pid.sh).
 * Usage: vfork_wait SECONDS READY   (the child creates READY, then sleeps; exits 0 after it)
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static unsigned seconds;
static const char *ready;
void *volatile kept;

static void *vforker(void *arg)
{
	(void)arg;
	/* The child only makes system calls and _exits: all a vfork child may do. */
	if (vfork() == 0) {
		close(open(ready, O_WRONLY | O_CREAT | O_TRUNC, 0644));
		nanosleep(&(struct timespec){ seconds, 0 }, NULL);
		_exit(0);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t;

	if (argc != 3)
		return 2;
	seconds = (unsigned)atoi(argv[1]);
	ready = argv[2];
	kept = malloc(100);
	pthread_create(&t, NULL, vforker, NULL);
	pthread_join(t, NULL);
	return 0;
}
