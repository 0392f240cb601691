// SPDX-License-Identifier: BSD-2-Clause
/* What a snapshot owns, given back; and what one says of sampling. Built by symbolize/snapshot_build.c. */
#include <stdlib.h>
#include <string.h>

#include "model/snapshot.h"

static void resident_release(struct mt_resident *res)
{
	for (size_t i = 0; i < res->nstacks; i++)
		free((void *)res->stacks[i].frames);
	free((void *)res->stacks);
	free((void *)res->files);
	memset(res, 0, sizeof(*res));
}

void snapshot__free(struct mt_snapshot *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nprocs; i++) {
		for (size_t k = 0; k < s->procs[i].nstacks; k++)
			free((void *)s->procs[i].stacks[k].frames);
		free((void *)s->procs[i].stacks);
		resident_release((struct mt_resident *)&s->procs[i].resident);
		free((void *)s->procs[i].samples);
		if (s->procs[i].oom)	/* its stacks' frames are the process's own */
			free((void *)s->procs[i].oom->stacks);
		free((void *)s->procs[i].oom);
	}
	free((void *)s->procs);
	free(s);
}

uint64_t mt_snapshot_sample_bytes(const struct mt_snapshot *s)
{
	for (size_t i = 0; i < s->nprocs; i++)
		if (s->procs[i].sample_bytes)
			return s->procs[i].sample_bytes;
	return 0;
}
