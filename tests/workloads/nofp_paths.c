// SPDX-License-Identifier: BSD-2-Clause
/*
 * Two call paths that meet at one allocation with the same registers, built without frame
 * pointers (the Makefile's nofp_% rule). main calls via_a and via_b from the same loop, and
 * their frames are the same size, so inside grab() the return from malloc has the same ip and
 * sp either way; only the return address above grab's frame tells them apart. The BPF unwinder
 * replays walks kept by their start (bpf/walk.bpf.h): it must re-read that word, or one path's
 * blocks land on the other's stack. tests/integration/unwind_paths.sh holds the answer:
 *   main -> via_a -> grab -> malloc     A_CALLS x 24 B leaked
 *   main -> via_b -> grab -> malloc     B_CALLS x 24 B leaked
 * rbp holds data that differs at each call (BUSY): a walk is replayed all the same, because the
 * unwinder reads rbp's saved value only when a rule needs it.
 * Usage: nofp_paths   (prints "nofp_paths done")
 */
#include <stdio.h>
#include <stdlib.h>

#define A_CALLS 600
#define B_CALLS 200

void *volatile sink[A_CALLS + B_CALLS];
volatile long blackhole;
static int nsink;

#define BUSY(x) long r1 = (x) * 3, r2 = (x) ^ 0x55, r3 = (x) + 7, r4 = (x) * (x), r5 = (x) - 9
#define SPEND() (blackhole += r1 + r2 + r3 + r4 + r5)

__attribute__((noinline)) void grab(long x)
{
	BUSY(x);
	sink[nsink++] = malloc(24 + (x & 0));
	SPEND();
}

/* Alike but not identical, so that the compiler does not fold them into one function. */
__attribute__((noinline)) void via_a(long x)
{
	BUSY(x);
	grab(x);
	SPEND();
	blackhole ^= 1;
}

__attribute__((noinline)) void via_b(long x)
{
	BUSY(x);
	grab(x);
	SPEND();
	blackhole ^= 2;
}

int main(void)
{
	int a = 0, b = 0;

	/* Interleaved: each path's walk is met right after the other's. */
	for (long i = 0; a < A_CALLS || b < B_CALLS; i++) {
		if (i % 4 == 3 && b < B_CALLS) {
			via_b(i);
			b++;
		} else if (a < A_CALLS) {
			via_a(i);
			a++;
		}
	}
	printf("nofp_paths done\n");
	return 0;
}
