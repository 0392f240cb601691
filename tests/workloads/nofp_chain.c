// SPDX-License-Identifier: BSD-2-Clause
/*
 * A call chain built the way distributions build: -O2 -fomit-frame-pointer (see the Makefile's
 * nofp_% rule), so only CFI can unwind it. tests/integration/unwind_nofp.sh holds the expected
 * stacks: change both together.
 *   main -> chain_a -> chain_b -> chain_c -> malloc     8 x 4000 B leaked
 *   main -> dup_caller -> strdup -> malloc              5 x 50 B leaked (libc without frame pointers)
 *   main -> deep(70) -> ... -> malloc                   1 x 7000 B leaked, 70 frames of recursion
 *   main -> signal_victim -> raise -> [signal] -> on_signal -> malloc   1 x 3000 B leaked:
 *     through the kernel's signal frame (__restore_rt) back into the interrupted libc code
 *   main -> touch_outer -> touch_inner -> memset     page faults on 64 pages of .bss (256 KiB),
 *     whose stacks start at the faulting instruction inside libc's memset
 * Each function keeps values live across its call so that rbp is used as a general register and
 * the frame is not a plain rsp + 8: a frame-pointer walk cannot get through.
 * Usage: nofp_chain   (prints "nofp_chain done")
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *volatile sink[32];
volatile long blackhole;
static int nsink;

__attribute__((noinline)) static void keep(void *p) { sink[nsink++ % 32] = p; }

/* Clobber rbp and other callee-saved registers with values needed after the call. */
#define BUSY(x) long r1 = (x) * 3, r2 = (x) ^ 0x55, r3 = (x) + 7, r4 = (x) * (x), r5 = (x) - 9, r6 = (x) << 2
#define SPEND() (blackhole = r1 + r2 + r3 + r4 + r5 + r6)

__attribute__((noinline)) void chain_c(long x)
{
	BUSY(x);
	keep(malloc(4000 + (x & 0)));
	SPEND();
}

__attribute__((noinline)) void chain_b(long x)
{
	BUSY(x);
	chain_c(x + 1);
	SPEND();
}

__attribute__((noinline)) void chain_a(long x)
{
	BUSY(x);
	chain_b(x + 1);
	SPEND();
}

__attribute__((noinline)) void dup_caller(const char *s)
{
	long x = (long)s;
	BUSY(x);
	keep(strdup(s));
	SPEND();
}

__attribute__((noinline)) void deep(int n)
{
	long x = n;
	BUSY(x);
	if (n > 1)
		deep(n - 1);
	else
		keep(malloc(7000));
	SPEND();
}

static void on_signal(int sig)
{
	keep(malloc(3000 + (sig & 0)));
}

__attribute__((noinline)) void signal_victim(long x)
{
	BUSY(x);
	raise(SIGUSR1);
	SPEND();
}

static char field[64 << 12];	/* untouched until touch_inner: 64 page faults */

__attribute__((noinline)) void touch_inner(long x)
{
	BUSY(x);
	memset(field, (int)x, sizeof(field));
	SPEND();
}

__attribute__((noinline)) void touch_outer(long x)
{
	BUSY(x);
	touch_inner(x + 1);
	SPEND();
}

int main(void)
{
	static const char s[50] = "forty-nine characters of text to duplicate ......";

	for (int i = 0; i < 8; i++)
		chain_a(i);
	for (int i = 0; i < 5; i++)
		dup_caller(s);
	deep(70);
	signal(SIGUSR1, on_signal);
	signal_victim(3);
	touch_outer(5);
	printf("nofp_chain done\n");
	return 0;
}
