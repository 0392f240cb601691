// SPDX-License-Identifier: BSD-2-Clause
/*
 * Preloaded into bench workloads: appends "<comm> <pid> start|end <CLOCK_MONOTONIC ns>" to
 * $MT_STOPWATCH at load and at exit, so the bench can time the program itself, apart from what
 * each tool spends starting up, attaching, detaching and writing its report. Only processes named
 * $MT_STOPWATCH_COMM write (the tools around them may load it too). No malloc: it runs inside
 * the allocator tracers' subject.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void stamp(const char *what)
{
	const char *path = getenv("MT_STOPWATCH"), *comm = getenv("MT_STOPWATCH_COMM");
	char line[128], digits[24];
	struct timespec ts;
	size_t n = 0, d = 0;
	unsigned long long v;
	int fd;

	if (!path || !comm || strcmp(comm, program_invocation_short_name))
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	v = (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
	n = strlen(comm) < 32 ? strlen(comm) : 32;
	memcpy(line, comm, n);
	line[n++] = ' ';
	for (unsigned long long p = (unsigned long long)getpid(); d == 0 || p; p /= 10)
		digits[d++] = (char)('0' + p % 10);
	while (d)
		line[n++] = digits[--d];
	line[n++] = ' ';
	memcpy(line + n, what, strlen(what));
	n += strlen(what);
	line[n++] = ' ';
	do
		digits[d++] = (char)('0' + v % 10);
	while (v /= 10);
	while (d)
		line[n++] = digits[--d];
	line[n++] = '\n';
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0) {
		if (write(fd, line, n) < 0)
			(void)errno;	/* nothing to do: the bench then falls back to wall time */
		close(fd);
	}
}

__attribute__((constructor)) static void stopwatch_start(void) { stamp("start"); }
__attribute__((destructor)) static void stopwatch_end(void) { stamp("end"); }
