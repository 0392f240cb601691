// SPDX-License-Identifier: BSD-2-Clause
/*
 * Preloaded into bench workloads: appends "<comm> <pid> start|end <monotonic ns> <cpu ns>" to
 * $MT_STOPWATCH at load and at exit, so the bench can time the program itself, apart from what
 * each tool spends starting up, attaching, detaching and writing its report. The process CPU time
 * (all threads; uprobe traps and BPF programs are charged to it) is what a busy machine disturbs
 * least. Only processes named $MT_STOPWATCH_COMM write (the tools around them may load it too).
 * No malloc: it runs inside the allocator tracers' subject.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static size_t put_u64(char *out, unsigned long long v)
{
	char digits[24];
	size_t n = 0, d = 0;

	do
		digits[d++] = (char)('0' + v % 10);
	while (v /= 10);
	while (d)
		out[n++] = digits[--d];
	return n;
}

static unsigned long long clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

static void stamp(const char *what)
{
	const char *path = getenv("MT_STOPWATCH"), *comm = getenv("MT_STOPWATCH_COMM");
	unsigned long long mono = clock_ns(CLOCK_MONOTONIC), cpu = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	char line[160];
	size_t n;
	int fd;

	if (!path || !comm || strcmp(comm, program_invocation_short_name))
		return;
	n = strlen(comm) < 32 ? strlen(comm) : 32;
	memcpy(line, comm, n);
	line[n++] = ' ';
	n += put_u64(line + n, (unsigned long long)getpid());
	line[n++] = ' ';
	memcpy(line + n, what, strlen(what));
	n += strlen(what);
	line[n++] = ' ';
	n += put_u64(line + n, mono);
	line[n++] = ' ';
	n += put_u64(line + n, cpu);
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
