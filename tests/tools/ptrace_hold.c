// SPDX-License-Identifier: BSD-2-Clause
/*
 * Hold one thread with ptrace, as a debugger holds the threads it attached to, for SECONDS:
 * another tracer, for the tests of what memtrace does when it cannot stop a thread.
 * Usage: ptrace_hold TID SECONDS   (prints "held TID" once it holds it)
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int tid = argc == 3 ? atoi(argv[1]) : 0;

	if (tid <= 0) {
		fprintf(stderr, "usage: ptrace_hold TID SECONDS\n");
		return 2;
	}
	if (ptrace(PTRACE_SEIZE, tid, 0, 0)) {
		perror("ptrace_hold: PTRACE_SEIZE");
		return 1;
	}
	printf("held %d\n", tid);
	fflush(stdout);
	sleep((unsigned)atoi(argv[2]));
	return 0;	/* exiting lets it go */
}
