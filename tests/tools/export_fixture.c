// SPDX-License-Identifier: BSD-2-Clause
/* Writes every export of the fixture snapshot into a folder, for the independent readers to check. */
#include <stdio.h>
#include <stdlib.h>

#include "fixture.h"
#include "present/flamegraph.h"
#include "present/folded.h"
#include "present/pprof.h"

static int write_with(const char *dir, const char *name, int (*fn)(FILE *, enum mt_folded_value),
		      enum mt_folded_value v)
{
	char path[4096];
	FILE *f;
	int err;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f) {
		perror(path);
		return -1;
	}
	err = fn(f, v);
	return fclose(f) || err ? -1 : 0;
}

static int folded(FILE *f, enum mt_folded_value v)
{
	return folded__write(&fix_snapshot, f, v);
}

static int flamegraph(FILE *f, enum mt_folded_value v)
{
	(void)v;
	return flamegraph__write(&fix_snapshot, f);
}

int main(int argc, char **argv)
{
	char path[4096];
	int err = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	err |= write_with(argv[1], "outstanding.folded", folded, MT_FOLDED_OUTSTANDING);
	err |= write_with(argv[1], "allocated.folded", folded, MT_FOLDED_ALLOCATED);
	err |= write_with(argv[1], "blocks.folded", folded, MT_FOLDED_BLOCKS);
	err |= write_with(argv[1], "flamegraph.html", flamegraph, 0);
	snprintf(path, sizeof(path), "%s/profile.pb.gz", argv[1]);
	err |= pprof__write(&fix_snapshot, path);
	return err ? 1 : 0;
}
