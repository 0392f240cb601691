// SPDX-License-Identifier: BSD-2-Clause
/* Prints where memtrace finds gc_collect_main in an interpreter object, by its symbol and by the
 * calls of PyGC_Collect, so a test can check the second against the first. Usage: pygc_find OBJECT */
#include <inttypes.h>
#include <stdio.h>

#include "probe/pygc.h"

int main(int argc, char **argv)
{
	uint64_t by_symbol = 0, by_calls = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: pygc_find OBJECT\n");
		return 2;
	}
	pygc__find(argv[1], true, &by_symbol);
	pygc__find(argv[1], false, &by_calls);
	printf("symbol 0x%" PRIx64 " calls 0x%" PRIx64 "\n", by_symbol, by_calls);
	return by_calls ? 0 : 1;
}
