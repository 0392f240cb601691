// SPDX-License-Identifier: BSD-2-Clause
/*
 * A steady leak to watch in the live view: leak_grow() keeps 500 B every 50 ms, next to a
 * one-time 120000 B buffer (one_time_buffer(), bigger but never growing) and churn that frees
 * all it takes. On SIGUSR1 it stops allocating altogether, writes "stopped" to STATEFILE and
 * idles; it exits 0 on SIGINT/SIGTERM, or by itself after MAX_STEPS steps (default 2400: 2 min).
 * Usage: grow STATEFILE [MAX_STEPS]   (writes its pid to STATEFILE first)
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define LEAK_SIZE 500
#define BUFFER_SIZE 120000	/* below glibc's mmap threshold: a plain heap block */

void *volatile sink[4];
static volatile sig_atomic_t stop_leaking, quit;

static void on_usr1(int sig) { stop_leaking = sig; }
static void on_quit(int sig) { quit = sig; }

__attribute__((noinline)) void one_time_buffer(void)
{
	sink[0] = malloc(BUFFER_SIZE);
}

__attribute__((noinline)) void leak_grow(void)
{
	sink[1] = malloc(LEAK_SIZE);	/* the previous pointer is dropped: that is the leak */
}

__attribute__((noinline)) void churn(void)
{
	for (int i = 0; i < 20; i++) {
		sink[2] = malloc(64 + i);
		free(sink[2]);
	}
}

static void write_state(const char *path, const char *what)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(what, f);
		fclose(f);
	}
}

int main(int argc, char **argv)
{
	const struct timespec step = { 0, 50 * 1000 * 1000 };
	long max_steps = argc > 2 ? atol(argv[2]) : 2400;
	char pid[32];

	if (argc < 2) {
		fprintf(stderr, "usage: grow STATEFILE [MAX_STEPS]\n");
		return 2;
	}
	signal(SIGUSR1, on_usr1);
	signal(SIGINT, on_quit);
	signal(SIGTERM, on_quit);
	snprintf(pid, sizeof(pid), "%d\n", getpid());
	write_state(argv[1], pid);
	one_time_buffer();
	for (long i = 0; i < max_steps && !stop_leaking && !quit; i++) {
		leak_grow();
		churn();
		nanosleep(&step, NULL);
	}
	if (!stop_leaking)
		return 0;
	/* Signals blocked between the test of quit and the wait: a SIGINT landing in that gap would
	 * leave pause() waiting for good (and memtrace, which waits for its command, with it). */
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &old);
	write_state(argv[1], "stopped\n");
	while (!quit)
		sigsuspend(&old);
	return 0;
}
