// SPDX-License-Identifier: BSD-2-Clause
/*
 * Built at -O2 (the Makefile's inline_% rule): make_record(), a static inline helper from a
 * header, is inlined into build_table(), so the malloc it calls returns into build_table's own
 * code. Leaks 4 x 1000 = 4000 B from there. tests/integration/frames_inline.sh checks the frames.
 * Usage: inline_alloc   (prints "inline_alloc done" on stdout)
 */
#include <stdio.h>

#include "inline_alloc.h"

char *volatile sink[4];

__attribute__((noinline)) void build_table(void)
{
	for (int i = 0; i < 4; i++)
		sink[i] = make_record(1000);	/* the call's line (frames_inline.sh finds it) */
}

int main(void)
{
	build_table();
	puts("inline_alloc done");
	return 0;
}
