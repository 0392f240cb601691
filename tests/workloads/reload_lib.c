// SPDX-License-Identifier: BSD-2-Clause
/*
 * Built twice (Makefile: libreload_a.so with FRAME 512, libreload_b.so with FRAME 4096): the same
 * instructions at the same offsets, so the call to malloc returns to the same pc in both, but
 * the caller's frame is found 512 or 4096 bytes up the stack. An unwinder that kept library a's
 * rule for that pc after b replaced it at the same address would lose b's callers (nofp_reload).
 */
#include <stdlib.h>

#ifndef FRAME
#define FRAME 512
#endif

__attribute__((noinline)) void *reload_alloc(size_t n)
{
	volatile char pad[FRAME];
	void *p;

	pad[0] = 1;
	p = malloc(n);
	pad[FRAME - 1] = pad[0];	/* work after the call: not a tail call */
	return p;
}
