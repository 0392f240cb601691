// SPDX-License-Identifier: BSD-2-Clause
/* /proc/PID/maps, read into a sorted array for address lookups. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "lib/procmaps.h"
#include "lib/util.h"

static int parse_line(char *line, struct pmap *m)
{
	unsigned int maj, min;
	int path_at = 0;

	if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %4s %" SCNx64 " %x:%x %" SCNu64 " %n", &m->start,
		   &m->end, m->perms, &m->offset, &maj, &min, &m->inode, &path_at) < 7)
		return -EINVAL;
	m->dev = makedev(maj, min);
	line[strcspn(line, "\n")] = 0;
	m->path = xstrdup(path_at ? line + path_at : "");
	return 0;
}

int procmaps__read(int pid, struct procmaps *out)
{
	char path[64], *line = NULL;
	size_t len = 0, cap = 0;
	FILE *f;

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	while (getline(&line, &len, f) > 0) {
		xgrow(&out->maps, &cap, out->n + 1, sizeof(*out->maps));
		if (parse_line(line, &out->maps[out->n]) == 0)
			out->n++;
	}
	free(line);
	fclose(f);
	return out->n ? 0 : -ESRCH;	/* a zombie's maps are empty: its memory is gone */
}

void procmaps__release(struct procmaps *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->maps[i].path);
	free(m->maps);
	memset(m, 0, sizeof(*m));
}

const struct pmap *procmaps__find(const struct procmaps *m, uint64_t addr)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (addr < m->maps[mid].start)
			hi = mid;
		else if (addr >= m->maps[mid].end)
			lo = mid + 1;
		else
			return &m->maps[mid];
	}
	return NULL;
}

uint64_t procmaps__rss_kb(int pid)
{
	char path[64], line[256];
	unsigned long long kb = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}
