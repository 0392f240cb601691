// SPDX-License-Identifier: BSD-2-Clause
/* Where gc_collect_main is in an interpreter object: by its symbol, read by elfsym (0 when the
 * object has none), and as memtrace finds it without symbols, from PyGC_Collect's calls (pygc),
 * so a test can check the second against the first. Usage: pygc_find OBJECT */
#include <inttypes.h>
#include <stdio.h>

#include "probe/elfsym.h"
#include "probe/pygc.h"

int main(int argc, char **argv)
{
	const char *name = "gc_collect_main";
	uint64_t by_symbol = 0, by_calls = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: pygc_find OBJECT\n");
		return 2;
	}
	if (elfsym__offsets(argv[1], &name, 1, &by_symbol) < 0)
		by_symbol = 0;
	pygc__find(argv[1], false, &by_calls);
	printf("symbol 0x%" PRIx64 " calls 0x%" PRIx64 "\n", by_symbol, by_calls);
	return by_calls ? 0 : 1;
}
