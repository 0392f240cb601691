// SPDX-License-Identifier: BSD-2-Clause
/*
 * Scale bench workload (scripts/bench-scale): work that grows while what it holds does not, or
 * the other way round, each with an exact allocator call count.
 *
 *   bench_scale churn CALLS [STACKS] [LIVE] [SEED]
 *       A service's life: LIVE blocks held at all times, each call site one of STACKS distinct
 *       stacks; a free of a random held block then a malloc or calloc in its place, until CALLS
 *       allocator calls (the first LIVE fill the set; at the end a tenth of the set leaks and the
 *       rest is freed). Defaults: 2000 stacks, 10000 blocks, seed 1.
 *   bench_scale hold STACKS LIVE
 *       LIVE blocks of 32 B left allocated, spread over STACKS distinct stacks, then exit.
 *   bench_scale procs N CONC
 *       N short-lived processes, CONC alive at once: each is this program's file run again ("child"),
 *       which makes 30 calls at 3 stacks, says it is ready and waits; when all CONC of a wave
 *       are ready they are let go, they exit and the next wave starts. No timing involved.
 *
 * Distinct stacks come from a 17-level binary recursion: stack k calls step0 or step1 at each
 * level as the bits of k say, so up to 131072 different return-address chains, 20-odd frames.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define LEVELS 17

void *volatile sink;
static void *result;

typedef void step_fn(unsigned path, int depth, size_t size, int zeroed);
static step_fn step0, step1;
static step_fn *const steps[2] = { step0, step1 };

__attribute__((noinline)) static void leaf(size_t size, int zeroed)
{
	result = zeroed ? calloc(1, size) : malloc(size);
}

/* The two differ (the stores), so no optimizer folds them into one function. */
__attribute__((noinline)) static void step0(unsigned path, int depth, size_t size, int zeroed)
{
	if (depth)
		steps[path & 1](path >> 1, depth - 1, size, zeroed);
	else
		leaf(size, zeroed);
	sink = (void *)0;	/* not a tail call: each level keeps its frame */
}

__attribute__((noinline)) static void step1(unsigned path, int depth, size_t size, int zeroed)
{
	if (depth)
		steps[path & 1](path >> 1, depth - 1, size, zeroed);
	else
		leaf(size, zeroed);
	sink = (void *)1;
}

static void *alloc_at(unsigned stack, size_t size, int zeroed)
{
	step0(stack, LEVELS, size, zeroed);
	return result;
}

static uint64_t rng = 88172645463325252ull;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/*
 * Mostly small, some up to 4 KiB: a service's mix (bench_malloc's sizes). Most call sites
 * allocate one size (a struct); one in four any of them (strings, buffers). Every size at every
 * site would be no service, and Debian's heaptrack 1.4 runs out of memory on it: its
 * (size, trace) hash set clusters and grows without end (see bench/RESULTS.md).
 */
static const size_t sizes[] = { 16, 24, 32, 48, 64, 100, 128, 200, 256, 512, 1000, 4000 };
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))
static size_t size_of(unsigned stack, uint64_t r)
{
	return sizes[stack % 4 == 3 ? r % NSIZES : stack / 4 % NSIZES];
}

static int churn(long calls, unsigned stacks, long live)
{
	void **held = calloc((size_t)live, sizeof(*held));
	long done = 0;

	if (!held || live < 10 || calls < 2 * live)
		return 2;
	for (long i = 0; i < live; i++, done++) {
		unsigned st = (unsigned)(next() % stacks);

		held[i] = alloc_at(st, size_of(st, next()), 0);
	}
	/* what is left: the free of 9 in 10 held blocks at the end */
	while (done + 2 + (live - live / 10) <= calls) {
		uint64_t r = next();
		long j = (long)(r % (uint64_t)live);
		unsigned st = (unsigned)(next() % stacks);

		free(held[j]);
		held[j] = alloc_at(st, size_of(st, r >> 20), (r >> 40) % 7 == 0);
		done += 2;
	}
	for (long i = live / 10; i < live; i++, done++)
		free(held[i]);
	/* an odd count left over: one more malloc, leaked with the tenth */
	if (done < calls)
		sink = alloc_at(0, 64, 0);
	return 0;
}

static int hold(unsigned stacks, long live)
{
	for (long i = 0; i < live; i++)
		sink = alloc_at((unsigned)(i % stacks), 32, 0);
	return 0;
}

static int child(void)
{
	void *b[10];
	char c;

	for (int k = 0; k < 3; k++) {
		for (int i = 0; i < 10; i++)
			b[i] = alloc_at((unsigned)k, 64 + 16 * (size_t)i, 0);
		for (int i = 0; i < 10; i += 1 + (k == 2))
			free(b[i]);
	}
	if (write(3, "r", 1) != 1)	/* ready */
		return 1;
	while (read(4, &c, 1) > 0)	/* until the wave is let go: EOF */
		;
	return 0;
}

static int procs(const char *self, long n, long conc)
{
	while (n > 0) {
		long wave = n < conc ? n : conc;
		int ready[2], go[2];
		char c;

		if (pipe(ready) || pipe(go))
			return 1;
		for (long i = 0; i < wave; i++) {
			pid_t pid = fork();

			if (pid < 0)
				return 1;
			if (pid == 0) {
				dup2(ready[1], 3);
				dup2(go[0], 4);
				close(go[1]);
				execl(self, self, "child", (char *)NULL);
				_exit(127);
			}
		}
		close(ready[1]);
		close(go[0]);
		for (long i = 0; i < wave; i++)
			if (read(ready[0], &c, 1) != 1)
				return 1;
		close(go[1]);
		close(ready[0]);
		for (long i = 0; i < wave; i++)
			wait(NULL);
		n -= wave;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	if (!strcmp(mode, "churn") && argc >= 3) {
		if (argc > 5)
			rng ^= (uint64_t)atol(argv[5]) * 0x9e3779b97f4a7c15ull;
		return churn(atol(argv[2]), argc > 3 ? (unsigned)atol(argv[3]) : 2000,
			     argc > 4 ? atol(argv[4]) : 10000);
	}
	if (!strcmp(mode, "hold") && argc == 4)
		return hold((unsigned)atol(argv[2]), atol(argv[3]));
	if (!strcmp(mode, "procs") && argc == 4) {
		char self[4096];	/* the file itself: its name is the children's comm */
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

		if (n <= 0)
			return 1;
		self[n] = 0;
		return procs(self, atol(argv[2]), atol(argv[3]));
	}
	if (!strcmp(mode, "child"))
		return child();
	fprintf(stderr, "usage: bench_scale churn CALLS [STACKS] [LIVE] [SEED] | hold STACKS LIVE | procs N CONC\n");
	return 2;
}
